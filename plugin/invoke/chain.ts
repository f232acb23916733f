/**
 * Running one delegate network with libcni's semantics: a conf is a chain of one plugin; a
 * conflist runs its plugins in order on ADD/CHECK (each gets the previous result as
 * `prevResult`) and in reverse on DEL, continuing past errors (CNI spec, "Network configuration
 * lists").
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import { type CniVersion, compareVersions, isSupportedVersion } from "../protocol/version.ts";
import { convertResult, parseResult } from "../protocol/result.ts";
import { pluginTypeProblem } from "../protocol/names.ts";
import { type DelegateConfig, type PluginConf, pluginsOf } from "../core/delegate.ts";
import type { Exec, ExecResult } from "./exec.ts";

/** A result as a delegate printed it, with the version it is in. */
export interface RawResult {
  version: CniVersion;
  result: Record<string, unknown>;
}

/** The commands a delegate is run with. */
export type DelegateCommand = "ADD" | "DEL" | "CHECK" | "GC" | "STATUS";

/** Everything needed to run a delegate. */
export interface DelegateCall {
  command: DelegateCommand;
  delegate: DelegateConfig;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS for the delegate. */
  cniArgs: string;
  /** Directories searched for plugin binaries, in order (binDir, then CNI_PATH). */
  pluginDirs: readonly string[];
  /** The runtime config offered to this delegate; each plugin gets what it declares. */
  runtimeConfig: Readonly<Record<string, unknown>>;
  /** For DEL and CHECK: the result ADD produced. */
  prevResult?: RawResult | undefined;
  /** For GC: the attachments that are still in use. */
  validAttachments?: readonly { containerID: string; ifname: string }[];
  /** The environment the delegate inherits. */
  baseEnv: Readonly<Record<string, string>>;
  timeoutMs: number;
}

/** The most a delegate may print on stdout. */
export const MAX_DELEGATE_STDOUT = 8 * 1024 * 1024;

/**
 * Refuses a plugin type that is not a bare file name. Checked before every lookup, not only by
 * the validator: `find` joins the type to each directory, so "../cni/bridge" would run a binary
 * outside binDir and CNI_PATH (DEL from the cache and GC look plugins up without a plan).
 */
function checkType(d: DelegateConfig, p: PluginConf): void {
  const problem = pluginTypeProblem(p.type);
  if (problem) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `Invalid plugin type ${JSON.stringify(p.type)} in network "${d.name}"`,
      problem,
    );
  }
}

/**
 * Finds the binary of every plugin of a delegate, so that a missing one is found before anything
 * runs.
 *
 * @param exec the exec implementation
 * @param d the delegate
 * @param dirs search directories
 * @returns type → path
 * @throws {CniError} code 7 naming the first plugin type that is not a bare file name or is not
 *   found
 */
export async function resolvePlugins(
  exec: Exec,
  d: DelegateConfig,
  dirs: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const p of pluginsOf(d)) {
    if (found.has(p.type)) continue;
    checkType(d, p);
    const path = await exec.find(p.type, dirs);
    if (!path) {
      throw new CniError(
        ErrorCode.InvalidNetworkConfig,
        `Cannot invoke delegate "${p.type}" of network "${d.name}"`,
        `binary not found in ${dirs.map((x) => `"${x}"`).join(", ") || "an empty plugin path"}`,
      );
    }
    found.set(p.type, path);
  }
  return found;
}

/**
 * Builds the config one plugin of a chain receives: the list's `name` and `cniVersion`, the
 * previous result, and the runtime config its `capabilities` ask for (CNI spec, "Deriving
 * runtimeConfig"); `capabilities` itself is not passed on.
 */
export function pluginStdin(
  d: DelegateConfig,
  plugin: PluginConf,
  runtimeConfig: Readonly<Record<string, unknown>>,
  prev: RawResult | undefined,
  extra: Record<string, unknown> = {},
): string {
  const { capabilities, ...rest } = plugin;
  const conf: Record<string, unknown> = { ...rest, name: d.name, cniVersion: d.cniVersion };
  const rc: Record<string, unknown> = {};
  if (capabilities && typeof capabilities === "object") {
    for (const [cap, on] of Object.entries(capabilities as Record<string, unknown>)) {
      if (on === true && cap in runtimeConfig) rc[cap] = runtimeConfig[cap];
    }
  }
  if (Object.keys(rc).length > 0) conf.runtimeConfig = rc;
  else delete conf.runtimeConfig;
  if (prev) {
    conf.prevResult = prev.version === d.cniVersion
      ? prev.result
      : convertResult(prev.result, prev.version, d.cniVersion);
  }
  return JSON.stringify({ ...conf, ...extra });
}

/**
 * Turns a failed execution into a CniError: the plugin's own error JSON when it printed one
 * (code and message kept), else what is known (exit status, signal, stderr).
 */
export function execFailure(type: string, r: ExecResult, timeoutMs: number): CniError {
  const prefix = `plugin "${type}"`;
  switch (r.outcome.kind) {
    case "timeout":
      return new CniError(
        ErrorCode.DelegateTimeout,
        `${prefix}: did not finish within ${timeoutMs / 1000} s and was killed`,
        r.stderr.trim(),
      );
    case "overflow":
      return new CniError(
        ErrorCode.DelegateBadOutput,
        `${prefix}: printed more than ${MAX_DELEGATE_STDOUT} bytes and was killed`,
      );
    case "signaled":
      return new CniError(
        ErrorCode.DelegateFailed,
        `${prefix}: killed by signal ${r.outcome.signal}`,
        r.stderr.trim(),
      );
    case "exited": {
      const reported = parseErrorJson(r.stdout);
      if (reported) return reported.withPrefix(prefix);
      const why = r.stderr.trim() || new TextDecoder().decode(r.stdout).trim().slice(0, 2000);
      return new CniError(
        ErrorCode.DelegateFailed,
        `${prefix}: exited with status ${r.outcome.code}${why ? "" : " and printed no error"}`,
        why,
      );
    }
  }
}

function parseErrorJson(stdout: Uint8Array): CniError | undefined {
  try {
    const e = JSON.parse(new TextDecoder().decode(stdout));
    if (e && typeof e === "object" && typeof e.code === "number" && Number.isInteger(e.code)) {
      const msg = typeof e.msg === "string" && e.msg ? e.msg : "failed without a message";
      return new CniError(e.code, msg, typeof e.details === "string" ? e.details : "");
    }
  } catch {
    // Not JSON: the caller falls back to stderr.
  }
  return undefined;
}

function parseResultJson(type: string, stdout: Uint8Array, fallback: CniVersion): RawResult {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(stdout));
  } catch {
    throw new CniError(
      ErrorCode.DelegateBadOutput,
      `plugin "${type}": printed a result that is not JSON`,
      new TextDecoder().decode(stdout.subarray(0, 500)),
    );
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new CniError(
      ErrorCode.DelegateBadOutput,
      `plugin "${type}": result is not a JSON object`,
    );
  }
  const result = value as Record<string, unknown>;
  const v = result.cniVersion;
  const version = isSupportedVersion(v) ? v : fallback;
  try {
    parseResult(result, version);
  } catch (e) {
    throw (e as CniError).withPrefix(`plugin "${type}"`);
  }
  return { version, result };
}

function cniEnv(call: DelegateCall): Record<string, string> {
  return {
    ...call.baseEnv,
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifname,
    CNI_ARGS: call.cniArgs,
    CNI_PATH: call.pluginDirs.join(":"),
  };
}

async function runPlugin(
  exec: Exec,
  call: DelegateCall,
  path: string,
  plugin: PluginConf,
  stdin: string,
): Promise<Uint8Array> {
  let r: ExecResult;
  try {
    r = await exec.run({
      path,
      stdin,
      env: cniEnv(call),
      timeoutMs: call.timeoutMs,
      maxStdoutBytes: MAX_DELEGATE_STDOUT,
    });
  } catch (e) {
    throw new CniError(
      ErrorCode.IoFailure,
      `plugin "${plugin.type}": cannot be started`,
      (e as Error).message,
      { cause: e },
    );
  }
  if (r.outcome.kind === "exited" && r.outcome.code === 0) return r.stdout;
  throw execFailure(plugin.type, r, call.timeoutMs);
}

function versionAtLeast(v: CniVersion, min: string): boolean {
  return compareVersions(v, min) >= 0;
}

/**
 * Runs a delegate for one command.
 *
 * @param exec the exec implementation
 * @param call what to run
 * @returns for ADD the chain's final result; otherwise undefined
 * @throws {CniError} the first plugin error (ADD, CHECK, STATUS) or all of them (DEL, GC), the
 *   plugin's code kept
 */
export async function runDelegate(exec: Exec, call: DelegateCall): Promise<RawResult | undefined> {
  const d = call.delegate;
  const plugins = pluginsOf(d);
  const list = d.kind === "conflist" ? d.list : {};
  switch (call.command) {
    case "ADD": {
      const paths = await resolvePlugins(exec, d, call.pluginDirs);
      let prev: RawResult | undefined;
      for (const p of plugins) {
        const stdin = pluginStdin(d, p, call.runtimeConfig, prev);
        const out = await runPlugin(exec, call, paths.get(p.type) ?? "", p, stdin);
        prev = parseResultJson(p.type, out, d.cniVersion);
      }
      return prev;
    }
    case "CHECK": {
      if (list.disableCheck === true || !versionAtLeast(d.cniVersion, "0.4.0")) return undefined;
      const paths = await resolvePlugins(exec, d, call.pluginDirs);
      for (const p of plugins) {
        const stdin = pluginStdin(d, p, call.runtimeConfig, call.prevResult);
        await runPlugin(exec, call, paths.get(p.type) ?? "", p, stdin);
      }
      return undefined;
    }
    case "STATUS": {
      if (!versionAtLeast(d.cniVersion, "1.1.0")) return undefined;
      const paths = await resolvePlugins(exec, d, call.pluginDirs);
      for (const p of plugins) {
        await runPlugin(exec, call, paths.get(p.type) ?? "", p, pluginStdin(d, p, {}, undefined));
      }
      return undefined;
    }
    case "DEL":
    case "GC": {
      if (call.command === "GC") {
        if (list.disableGC === true || !versionAtLeast(d.cniVersion, "1.1.0")) return undefined;
      }
      const prev = call.command === "DEL" && versionAtLeast(d.cniVersion, "0.4.0")
        ? call.prevResult
        : undefined;
      const extra = call.command === "GC"
        ? { "cni.dev/valid-attachments": call.validAttachments ?? [] }
        : {};
      const errors: CniError[] = [];
      for (const p of [...plugins].reverse()) {
        try {
          checkType(d, p);
          const path = await exec.find(p.type, call.pluginDirs);
          if (!path) {
            throw new CniError(
              ErrorCode.InvalidNetworkConfig,
              `plugin "${p.type}": binary not found`,
              `searched ${call.pluginDirs.join(", ")}`,
            );
          }
          await runPlugin(exec, call, path, p, pluginStdin(d, p, call.runtimeConfig, prev, extra));
        } catch (e) {
          errors.push(e as CniError);
        }
      }
      const first = errors[0];
      if (first) {
        const rest = errors.slice(1).map((e) => `${e.msg}${e.details ? `: ${e.details}` : ""}`);
        throw new CniError(
          first.code,
          first.msg,
          [first.details, ...rest].filter(Boolean).join("; "),
        );
      }
      return undefined;
    }
  }
}
