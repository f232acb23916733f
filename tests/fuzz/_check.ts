/**
 * The invariants every fuzz case must hold, whatever its input: exit code 0 or 1; stdout exactly
 * one JSON document (a result, or a CNI error with a code from the spec or multicni's own
 * 100-103, never 999 and never a stack trace); nothing written to stdout besides it; done within a
 * bound; and, when the command failed, nothing left on the node.
 *
 * @module
 */

import type { Sandbox } from "../faults/_sandbox.ts";

/** Codes multicni may answer with for inputs it is given (delegates in the fuzzers behave). */
export const ALLOWED_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 11, 50, 51, 100, 101, 102, 103]);

/** A failed invariant. */
export interface Violation {
  what: string;
  detail: string;
}

/**
 * Checks a command's output.
 *
 * @param command the CNI command run
 * @param exitCode its exit code
 * @param stdout its stdout
 * @param realPlugins true when real plugins ran: their own codes (Go plugins print 999 for
 *   untyped errors) are passed on unchanged, in an error that names the plugin
 * @returns the violations (empty when all hold)
 */
export function checkOutput(
  command: string,
  exitCode: number,
  stdout: string,
  realPlugins = false,
): Violation[] {
  const v: Violation[] = [];
  if (exitCode !== 0 && exitCode !== 1) v.push({ what: "exit code", detail: String(exitCode) });
  if (/\n\s+at .+:\d+:\d+/.test(stdout)) v.push({ what: "stack trace on stdout", detail: stdout });
  const quietOk = exitCode === 0 && ["DEL", "CHECK", "GC", "STATUS"].includes(command);
  if (quietOk) {
    if (stdout !== "") v.push({ what: "stdout of a quiet success", detail: stdout.slice(0, 300) });
    return v;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    v.push({ what: "stdout is not exactly one JSON document", detail: stdout.slice(0, 300) });
    return v;
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    v.push({ what: "stdout is not a JSON object", detail: stdout.slice(0, 300) });
    return v;
  }
  const o = doc as Record<string, unknown>;
  if (typeof o.cniVersion !== "string") v.push({ what: "no cniVersion", detail: stdout });
  if (exitCode === 1) {
    const passedOn = realPlugins && typeof o.msg === "string" && o.msg.includes(': plugin "');
    if (typeof o.code !== "number" || !(ALLOWED_CODES.has(o.code) || passedOn)) {
      v.push({ what: "error code", detail: stdout.slice(0, 500) });
    }
    if (typeof o.msg !== "string" || o.msg === "") v.push({ what: "error msg", detail: stdout });
    if (/\bat (?:file|async|new |Object\.)|\.ts:\d+:\d+/.test(`${o.msg} ${o.details ?? ""}`)) {
      v.push({ what: "stack trace in error", detail: stdout.slice(0, 500) });
    }
  } else if ("code" in o && command !== "VERSION") {
    v.push({ what: "success with an error document", detail: stdout });
  }
  return v;
}

/**
 * The files (not directories) below the sandbox, except the marker and bin dirs: the state a
 * failed command must leave unchanged.
 */
export async function nodeFiles(sb: Sandbox): Promise<string[]> {
  const out: string[] = [];
  const skip = new Set([sb.marks, sb.bin]);
  const walk = async (d: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      if (skip.has(p)) continue;
      if (e.isDirectory) await walk(p);
      else out.push(p.slice(sb.dir.length + 1));
    }
  };
  await walk(sb.dir);
  return out.sort();
}

/**
 * Runs `fn` under a time bound, and fails when it writes anything to stdout through `console` or
 * `Deno.stdout` (in-process runs: the CNI result is the caller's to print, logs go to stderr).
 */
export async function guarded<T>(ms: number, fn: () => Promise<T>): Promise<{
  value?: T;
  timedOut: boolean;
  stdoutWrites: string[];
}> {
  const writes: string[] = [];
  const c = console as unknown as Record<string, (...a: unknown[]) => void>;
  const saved = { log: c.log!, info: c.info!, debug: c.debug! };
  const out = Deno.stdout as unknown as Record<string, unknown>;
  const savedWrite = out.write;
  const savedWriteSync = out.writeSync;
  for (const k of ["log", "info", "debug"] as const) {
    c[k] = (...a: unknown[]) => writes.push(`console.${k}: ${a.join(" ")}`);
  }
  out.writeSync = (b: Uint8Array) => {
    writes.push(new TextDecoder().decode(b));
    return b.length;
  };
  out.write = (b: Uint8Array) => {
    writes.push(new TextDecoder().decode(b));
    return Promise.resolve(b.length);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms));
    const r = await Promise.race([fn(), timeout]);
    if (r === "timeout") return { timedOut: true, stdoutWrites: writes };
    return { value: r as T, timedOut: false, stdoutWrites: writes };
  } finally {
    clearTimeout(timer);
    Object.assign(c, saved);
    out.write = savedWrite;
    out.writeSync = savedWriteSync;
  }
}

/** Collects violations per case and renders a report. */
export class Tally {
  readonly cases = new Map<string, number>();
  readonly failures: string[] = [];
  run = 0;

  count(category: string): void {
    this.run++;
    this.cases.set(category, (this.cases.get(category) ?? 0) + 1);
  }

  fail(caseId: string, v: Violation[]): void {
    for (const x of v) this.failures.push(`${caseId}: ${x.what}: ${x.detail.slice(0, 400)}`);
  }

  summary(name: string): string {
    const cats = [...this.cases].map(([k, n]) => `${k}=${n}`).join(" ");
    return `${name}: ${this.run} cases (${cats}), ${this.failures.length} violations`;
  }

  /**
   * Prints the summary (with `extra` after it) on stderr and fails when any case violated an
   * invariant, listing every violation.
   */
  report(name: string, extra = ""): void {
    console.error(`${this.summary(name)}${extra}`);
    if (this.failures.length > 0) {
      throw new Error(`${this.failures.length} violations:\n${this.failures.join("\n")}`);
    }
  }
}
