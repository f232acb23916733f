/**
 * A fake {@linkcode Exec} for unit tests: plugin binaries "exist" when their path is in a set,
 * every run is recorded (path, parsed stdin, the CNI_* environment) and answered from a script
 * (a result in the requested version, error JSON, garbage, a bare exit status, a timeout, an
 * output overflow, a signal, or a binary that cannot be started).
 *
 * @module
 */

import type { Exec, ExecRequest, ExecResult } from "../invoke/exec.ts";
import { convertResult } from "../protocol/result.ts";
import { type CniVersion, isSupportedVersion } from "../protocol/version.ts";

/** One recorded plugin execution. */
export interface FakeCall {
  path: string;
  /** The binary's file name (the plugin type). */
  type: string;
  command: string;
  containerId: string;
  netns: string;
  ifname: string;
  args: string;
  cniPath: string;
  env: Record<string, string>;
  /** stdin, parsed. */
  stdin: Record<string, unknown>;
  /** What the fake printed on stdout for a successful ADD, parsed. */
  result?: Record<string, unknown>;
}

/** How the fake answers one call. */
export type Answer =
  /** ADD: echo prevResult, or a fresh result in the requested version; others: exit 0. */
  | { kind: "ok" }
  /** A result written in 1.1.0, converted to `version` (default: the version asked for). */
  | { kind: "result"; result: Record<string, unknown>; version?: CniVersion }
  /** A CNI error JSON on stdout and exit 1. */
  | { kind: "error"; code: number; msg: string; details?: string }
  /** Arbitrary stdout with the given exit status. */
  | { kind: "garbage"; stdout: string; exitCode: number; stderr?: string }
  /** A non-zero exit without output. */
  | { kind: "exit"; exitCode: number; stderr?: string }
  | { kind: "timeout"; stderr?: string }
  | { kind: "overflow" }
  | { kind: "signaled"; signal: string }
  /** The binary cannot be started at all (`run` throws). */
  | { kind: "unstartable"; message: string };

/** When a scripted answer applies; unset fields match anything. */
export interface Rule {
  type?: string;
  command?: string;
  ifname?: string;
  containerId?: string;
  answer: Answer;
  /** How many calls the rule answers before it is used up; unlimited when unset. */
  times?: number;
}

/** The plugin directories of the fake node. */
export const BIN_DIR = "/fake/bin";
export const CNI_PATH_DIR = "/fake/path";

/** Plugin types installed in {@linkcode BIN_DIR}. */
export const INSTALLED = ["bridge", "portmap", "macvlan", "tuning", "ipvlan", "vlan", "ptp"];

function normalize(path: string): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}

const enc = new TextEncoder();

/**
 * The fresh 1.1.0 result the fake's n-th plugin ADD (without prevResult) produces.
 *
 * @param n the sequence number, from 0
 * @param ifname the interface it names
 * @param netns the sandbox
 */
export function freshResult(n: number, ifname: string, netns: string): Record<string, unknown> {
  return {
    cniVersion: "1.1.0",
    interfaces: [{
      name: ifname,
      mac: `0a:58:0a:00:${n.toString(16).padStart(2, "0")}:02`,
      sandbox: netns,
    }],
    ips: [{ address: `10.0.${n}.2/24`, gateway: `10.0.${n}.1`, interface: 0 }],
    routes: [{ dst: "0.0.0.0/0" }],
    dns: { nameservers: ["10.96.0.10"] },
  };
}

/** A fake Exec: plugins "exist" when their normalized path is installed; runs are scripted. */
export class FakeExec implements Exec {
  /** Absolute, normalized paths of the binaries that exist. */
  readonly installed = new Set<string>(INSTALLED.map((t) => `${BIN_DIR}/${t}`));
  readonly calls: FakeCall[] = [];
  readonly finds: { type: string; dirs: readonly string[] }[] = [];
  readonly rules: Rule[] = [];
  /** Called at the start of every run, before the answer is chosen. */
  onRun?: (call: FakeCall) => Promise<void> | void;
  private fresh = 0;

  /** Adds a scripted answer; earlier rules win. */
  on(rule: Rule): this {
    this.rules.push(rule);
    return this;
  }

  /** Calls of one command, optionally of one plugin type. */
  callsOf(command: string, type?: string): FakeCall[] {
    return this.calls.filter((c) => c.command === command && (!type || c.type === type));
  }

  /** `type command ifname` of every call, for order assertions. */
  get trace(): string[] {
    return this.calls.map((c) => `${c.type} ${c.command} ${c.ifname}`);
  }

  find(type: string, dirs: readonly string[]): Promise<string | undefined> {
    this.finds.push({ type, dirs: [...dirs] });
    for (const dir of dirs) {
      const path = `${dir.replace(/\/+$/, "")}/${type}`;
      if (this.installed.has(normalize(path))) return Promise.resolve(path);
    }
    return Promise.resolve(undefined);
  }

  async run(req: ExecRequest): Promise<ExecResult> {
    const stdin = JSON.parse(req.stdin) as Record<string, unknown>;
    const call: FakeCall = {
      path: req.path,
      type: req.path.slice(req.path.lastIndexOf("/") + 1),
      command: req.env.CNI_COMMAND ?? "",
      containerId: req.env.CNI_CONTAINERID ?? "",
      netns: req.env.CNI_NETNS ?? "",
      ifname: req.env.CNI_IFNAME ?? "",
      args: req.env.CNI_ARGS ?? "",
      cniPath: req.env.CNI_PATH ?? "",
      env: req.env,
      stdin,
    };
    this.calls.push(call);
    await this.onRun?.(call);
    const answer = this.answerFor(call);
    const asked: CniVersion = isSupportedVersion(stdin.cniVersion) ? stdin.cniVersion : "1.1.0";
    const exited = (code: number, stdout = "", stderr = ""): ExecResult => ({
      outcome: { kind: "exited", code },
      stdout: enc.encode(stdout),
      stderr,
    });
    switch (answer.kind) {
      case "ok": {
        if (call.command !== "ADD") return exited(0);
        const prev = stdin.prevResult as Record<string, unknown> | undefined;
        const result = prev
          ? { ...prev, cniVersion: asked }
          : convertResult(freshResult(this.fresh++, call.ifname, call.netns), "1.1.0", asked);
        call.result = result;
        return exited(0, JSON.stringify(result));
      }
      case "result": {
        const result = convertResult(answer.result, "1.1.0", answer.version ?? asked);
        call.result = result;
        return exited(0, JSON.stringify(result));
      }
      case "error": {
        const e = {
          cniVersion: asked,
          code: answer.code,
          msg: answer.msg,
          details: answer.details,
        };
        return exited(1, JSON.stringify(e), "plugin said something on stderr");
      }
      case "garbage":
        return exited(answer.exitCode, answer.stdout, answer.stderr);
      case "exit":
        return exited(answer.exitCode, "", answer.stderr);
      case "timeout":
        return {
          outcome: { kind: "timeout" },
          stdout: new Uint8Array(),
          stderr: answer.stderr ?? "",
        };
      case "overflow":
        return { outcome: { kind: "overflow" }, stdout: enc.encode("{".repeat(64)), stderr: "" };
      case "signaled":
        return {
          outcome: { kind: "signaled", signal: answer.signal },
          stdout: new Uint8Array(),
          stderr: "",
        };
      case "unstartable":
        throw new Error(answer.message);
    }
  }

  private answerFor(c: FakeCall): Answer {
    for (const r of this.rules) {
      if (r.times !== undefined && r.times <= 0) continue;
      if (r.type !== undefined && r.type !== c.type) continue;
      if (r.command !== undefined && r.command !== c.command) continue;
      if (r.ifname !== undefined && r.ifname !== c.ifname) continue;
      if (r.containerId !== undefined && r.containerId !== c.containerId) continue;
      if (r.times !== undefined) r.times--;
      return r.answer;
    }
    return { kind: "ok" };
  }
}
