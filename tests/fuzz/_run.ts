/**
 * Running one fuzz case in-process and checking it: the output invariants of `_check.ts`, then
 * the node: a failed command leaves no file and no live interface; a successful ADD is undone by
 * a DEL with the same input, which must succeed and leave nothing either.
 *
 * @module
 */

import type { Sandbox } from "../faults/_sandbox.ts";
import { checkOutput, guarded, nodeFiles, type Tally, type Violation } from "./_check.ts";

/** Per-case bound: the fake delegates answer at once, so anything near this is a hang. */
export const CASE_BOUND_MS = 10_000;

/** The number of random cases: `FUZZ_CASES` from the environment, else `ciDefault`. */
export function caseCount(ciDefault: number): number {
  const n = Number(Deno.env.get("FUZZ_CASES") ?? "");
  return Number.isInteger(n) && n > 0 ? n : ciDefault;
}

/** The seed: `FUZZ_SEED` from the environment, else `ciDefault` (fixed, so CI is repeatable). */
export function seed(ciDefault: number): number {
  const n = Number(Deno.env.get("FUZZ_SEED") ?? "");
  return Number.isInteger(n) ? n : ciDefault;
}

async function removeStrayFiles(sb: Sandbox, baseline: readonly string[]): Promise<void> {
  for (const f of await nodeFiles(sb)) {
    if (!baseline.includes(f)) await Deno.remove(`${sb.dir}/${f}`).catch(() => {});
  }
  for (const f of await sb.liveIfs()) await Deno.remove(`${sb.live}/${f}`).catch(() => {});
}

/**
 * Runs one case in-process and records its violations in `tally`.
 *
 * @param sb the sandbox (its files at the start are `baseline`)
 * @param tally where counts and violations go
 * @param id the case's name, printed with a violation (seed and index)
 * @param category the input class
 * @param env the CNI environment
 * @param stdin the bytes on stdin (`undefined`: more than the stdin limit)
 * @param baseline the sandbox files every case must leave
 * @param expectCode when set, the error code the case must fail with
 * @returns the exit code, or undefined when the case hung
 */
export async function runCase(
  sb: Sandbox,
  tally: Tally,
  id: string,
  category: string,
  env: Record<string, string>,
  stdin: Uint8Array | undefined,
  baseline: readonly string[],
  expectCode?: number,
): Promise<number | undefined> {
  tally.count(category);
  const command = env.CNI_COMMAND ?? "";
  const v: Violation[] = [];
  const g = await guarded(CASE_BOUND_MS, () => sb.inProcess(env, stdin));
  const r = g.value;
  if (g.timedOut || !r) {
    tally.fail(id, [{ what: "no answer within bound", detail: `${CASE_BOUND_MS} ms` }]);
    return undefined;
  }
  v.push(...g.stdoutWrites.map((w) => ({ what: "write to stdout", detail: w })));
  v.push(...checkOutput(command, r.exitCode, r.stdout));
  if (r.exitCode === 1 && r.error?.code === 999) {
    v.push({ what: "999", detail: String(r.unexpected instanceof Error ? r.unexpected.stack : r) });
  }
  if (expectCode !== undefined && (r.exitCode !== 1 || r.error?.code !== expectCode)) {
    v.push({ what: `expected code ${expectCode}`, detail: r.stdout.slice(0, 300) });
  }
  if (r.exitCode === 0 && command === "ADD") {
    const del = await guarded(
      CASE_BOUND_MS,
      () => sb.inProcess({ ...env, CNI_COMMAND: "DEL" }, stdin),
    );
    if (!del.value || del.value.exitCode !== 0) {
      v.push({
        what: "DEL after a successful ADD failed",
        detail: del.value?.stdout ?? "timed out",
      });
    }
  }
  if (r.exitCode === 1 && command === "ADD" && r.stdout.includes("rollback incomplete")) {
    // A delegate's DEL failed during the rollback (under load, a short delegateTimeout can
    // fire): the record is kept on purpose, and the runtime's DEL must then clean up.
    tally.count("rollback-incomplete");
    const del = await guarded(
      CASE_BOUND_MS,
      () => sb.inProcess({ ...env, CNI_COMMAND: "DEL" }, stdin),
    );
    if (!del.value) v.push({ what: "DEL after an incomplete rollback hung", detail: r.stdout });
  }
  const files = await nodeFiles(sb);
  const extra = files.filter((f) => !baseline.includes(f));
  if (extra.length > 0) {
    v.push({ what: "files left on the node", detail: `${extra.join(", ")} after ${r.stdout}` });
  }
  const live = await sb.liveIfs();
  if (live.length > 0) v.push({ what: "interfaces left", detail: live.join(", ") });
  if (v.length > 0) {
    const shown = Object.entries(env).map(([k, x]) => `${k}=${JSON.stringify(x.slice(0, 80))}`);
    tally.fail(`${id} [${category}] ${shown.join(" ")}`, v);
    await removeStrayFiles(sb, baseline);
  }
  return r.exitCode;
}
