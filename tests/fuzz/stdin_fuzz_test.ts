/**
 * Fuzzing the network config on stdin, in-process (`runPlugin` with the real core, `denoExec`
 * and fake delegates): random bytes, JSON-like token soup, truncated and mutated valid configs,
 * structural mutations (wrong types, duplicate keys, out-of-range numbers, prototype keys), deep
 * nesting, invalid UTF-8, a 10 MB config and one past the stdin limit. Each case must hold the
 * invariants of `_check.ts` (issue 8, "Fuzzing").
 *
 * `FUZZ_CASES` sets the number of random cases (CI: 600), `FUZZ_SEED` the seed.
 */

import { Rng } from "./_gen.ts";
import { withFuzzNode } from "./_bases.ts";
import { CATEGORY_WEIGHTS, deep, enc, generate } from "./_stdin.ts";
import { caseCount, runCase, seed } from "./_run.ts";

Deno.test("fuzz: every stdin gets one well-formed answer and a failure leaves nothing", async () => {
  await withFuzzNode(async ({ sb, tally, baseline, configs }) => {
    const s = seed(0x5eed1);
    const rng = new Rng(s);
    const env = (command: string, i: number) => sb.cniEnv(command, `fz${s}-${i}`);
    const first = configs[0]!;

    // Fixed cases: the input classes the issue names that random draws rarely reach.
    const fixed: [string, Uint8Array | undefined, number?][] = [
      ["empty", new Uint8Array(), 6],
      ["whitespace", enc.encode(" \n\t"), 6],
      ["json null", enc.encode("null"), 6],
      ["json list", enc.encode("[]"), 6],
      ["json string", enc.encode('"x"'), 6],
      ["over the stdin limit", undefined, 6],
      ["BOM then config", new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(JSON.stringify(first))])],
      ["NUL byte after config", enc.encode(JSON.stringify(first) + "\0"), 6],
      ["two documents", enc.encode(JSON.stringify(first) + JSON.stringify(first)), 6],
      ["objects 10k deep", enc.encode(deep(first, 10_000, '{"a":', "}"))],
      ["arrays 100k deep", enc.encode(deep(first, 100_000, "[", "]"))],
      ["arrays 1M deep", enc.encode(deep(first, 1_000_000, "[", "]"))],
      ["arrays 1M deep unclosed", enc.encode("[".repeat(1_000_000)), 6],
      [
        "10 MB config",
        enc.encode(JSON.stringify({
          ...first,
          delegates: [{ ...(first.delegates as object[])[0], pad: "x".repeat(10_000_000) }],
        })),
      ],
      [
        "10 MB of spaces around a config",
        enc.encode(" ".repeat(10_000_000) + JSON.stringify(first)),
      ],
      // Refused at once by the attachment limit (before it, the validator took over a minute).
      [
        "100k delegates",
        enc.encode(JSON.stringify({
          ...first,
          delegates: Array.from({ length: 100_000 }, (_, i) => ({ name: `n${i}`, type: "fz-ok" })),
        })),
        7,
      ],
      // Planned as a whole (validator, binaries) and refused before any delegate runs.
      [
        "1000 delegates, the last one invalid",
        enc.encode(JSON.stringify({
          ...first,
          delegates: Array.from({ length: 1000 }, (_, i) => ({
            name: `n${i}`,
            type: i === 999 ? "../fz-ok" : "fz-ok",
          })),
        })),
        7,
      ],
      ["lone surrogate name", enc.encode(JSON.stringify(first).replace('"main"', '"\\ud800"')), 7],
      [
        "__proto__ delegate",
        enc.encode(
          JSON.stringify(first).replace(
            '"delegates":[',
            '"__proto__":{"delegates":[{"name":"evil","type":"sh"}]},"delegates":[',
          ),
        ),
      ],
      [
        "__proto__ in plugin",
        enc.encode(
          JSON.stringify(first).replace(
            '"type":"fz-ok"',
            '"__proto__":{"type":"../../bin/sh"},"type":"fz-ok"',
          ),
        ),
      ],
    ];
    for (const [i, [what, stdin, code]] of fixed.entries()) {
      await runCase(sb, tally, `fixed ${what}`, "fixed", env("ADD", i), stdin, baseline, code);
    }

    const n = caseCount(600);
    const commands = { ADD: 8, DEL: 3, CHECK: 1, GC: 1, STATUS: 1 };
    for (let i = 0; i < n; i++) {
      const category = rng.weighted(CATEGORY_WEIGHTS);
      const command = rng.weighted(commands);
      const stdin = generate(rng, category, rng.pick(configs));
      const id = `seed ${s} case ${i} ${command}`;
      await runCase(sb, tally, id, category, env(command, 1000 + i), stdin, baseline);
    }
    tally.report("stdin fuzz");
  });
});
