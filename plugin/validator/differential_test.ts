/**
 * Differential test: the WebAssembly module, the valibot schema and the plain-TypeScript rules
 * must agree on every generated config (same issue codes at the same JSON paths). A
 * disagreement is a bug in one of them. Fixed seed, so failures reproduce.
 */

import { assertEquals } from "../../tests/_utils/mod.ts";
import { Code } from "../../validator-wasm/assembly/codes.ts";
import { adversarial, generateConfig, mutate, mutateText, Rng } from "./_fuzz.ts";
import { runConfig, runPlan } from "./_module.ts";
import { plainValidateConfig, plainValidatePlan } from "./plain.ts";
import { schemaValidate } from "./schema.ts";

const SEED = 0x5eed_cafe;
const CONFIGS = 3000;
const PLANS = 400;
const encoder = new TextEncoder();

/**
 * Syntax codes collapse to one: `JSON.parse` does not say which syntax error it met (and text
 * both broken and too deep is one or the other depending on which is noticed first).
 */
function norm(code: number, path: string): string {
  const c = code <= Code.SyntaxTrailing ? Code.SyntaxUnexpectedChar : code;
  // Map keys are data: the module quotes them as written, valibot re-encodes them.
  return `${c}@${path.replace(/\["(?:[^"\\]|\\.)*"\]/g, "[*]")}`;
}

function verdicts(text: string) {
  const wasm = runConfig(encoder.encode(text)).issues.map((i) => norm(i.code, i.path)).sort();
  const schema = schemaValidate(text).map((i) => norm(i.code, i.path)).sort();
  const plain = plainValidateConfig(text).map((i) => norm(i.code, i.path)).sort();
  return { wasm, schema, plain };
}

function cases(): string[] {
  const r = new Rng(SEED);
  const out: string[] = [];
  for (let i = 0; i < CONFIGS; i++) {
    const config = generateConfig(r);
    const kind = r.int(10);
    if (kind < 3) out.push(JSON.stringify(config, null, r.chance(0.5) ? 2 : undefined));
    else if (kind < 9) out.push(JSON.stringify(mutate(r, config)));
    else out.push(mutateText(r, JSON.stringify(config)));
  }
  return out;
}

Deno.test("the module, the valibot schema and the plain rules agree on generated configs", () => {
  const all = cases();
  let withIssues = 0;
  for (const [i, text] of all.entries()) {
    const v = verdicts(text);
    if (v.wasm.length > 0) withIssues++;
    assertEquals(v.schema, v.wasm, `case ${i}: ${text.slice(0, 400)}`);
    assertEquals(v.plain, v.wasm, `case ${i}: ${text.slice(0, 400)}`);
  }
  // The generator must exercise both sides of the rules.
  if (withIssues < all.length / 4 || withIssues > all.length * 0.95) {
    throw new Error(`unbalanced corpus: ${withIssues} of ${all.length} cases have issues`);
  }
});

Deno.test("the three implementations agree on adversarial configs", () => {
  for (const [i, text] of adversarial().entries()) {
    const v = verdicts(text);
    assertEquals(v.schema, v.wasm, `adversarial ${i}: ${text.slice(0, 200)}`);
    assertEquals(v.plain, v.wasm, `adversarial ${i}: ${text.slice(0, 200)}`);
  }
});

Deno.test("the module and the plain rules agree on generated plans", () => {
  const r = new Rng(SEED + 1);
  for (let i = 0; i < PLANS; i++) {
    const entries = [];
    for (let n = 1 + r.int(5); n > 0; n--) {
      const config = generateConfig(r);
      entries.push({
        ifname: r.pick(["eth0", "net1", "net2", "net3", "net4"]),
        config: JSON.stringify(r.chance(0.3) ? mutate(r, config) : config),
      });
    }
    const allow = r.chance(0.5);
    const wasm = runPlan(
      entries.map((e) => ({ ifname: encoder.encode(e.ifname), config: encoder.encode(e.config) })),
      allow,
    ).issues.map((x) => `${x.entry}:${x.severity}:${norm(x.code, x.path)}`).sort();
    const plain = plainValidatePlan(entries, allow)
      .map((x) => `${x.entry}:${x.severity === "warning" ? 1 : 0}:${norm(x.code, x.path)}`)
      .sort();
    assertEquals(plain, wasm, `plan ${i}: ${JSON.stringify(entries).slice(0, 600)}`);
  }
});
