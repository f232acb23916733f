/**
 * The protocol boundary: environment and stdin in, one JSON document and an exit code out.
 * It knows nothing of delegates; the commands are handed in as {@linkcode Handlers}.
 *
 * @module
 */

import { CniError, ErrorCode } from "./errors.ts";
import { type CmdArgs, type Command, readCmdArgs, readCommand } from "./env.ts";
import {
  type CniVersion,
  CURRENT_VERSION,
  isSupportedVersion,
  negotiateVersion,
  requireVersionFor,
  SUPPORTED_VERSIONS,
} from "./version.ts";

/** The largest network config multicni reads from stdin. */
export const MAX_STDIN_BYTES = 16 * 1024 * 1024;

/** What a command receives besides its CmdArgs. */
export interface Request {
  args: CmdArgs;
  /** The config from stdin, parsed. */
  conf: Record<string, unknown>;
  /** The config's negotiated version; results and errors are printed in it. */
  version: CniVersion;
}

/** The commands, as the core implements them. */
export interface Handlers {
  add(req: Request): Promise<Record<string, unknown>>;
  del(req: Request): Promise<void>;
  check(req: Request): Promise<void>;
  gc(req: Request): Promise<void>;
  status(req: Request): Promise<void>;
}

/** What the plugin reads. */
export interface PluginInput {
  env: Readonly<Record<string, string>>;
  /** stdin; `undefined` when it was larger than {@linkcode MAX_STDIN_BYTES}. */
  stdin: Uint8Array | undefined;
}

/** What the plugin prints and how it exits. */
export interface PluginOutput {
  /** Exactly one JSON document, or empty for a successful DEL/CHECK/GC/STATUS. */
  stdout: string;
  exitCode: 0 | 1;
  /** The error, when the command failed, so the caller can log it. */
  error?: CniError;
  /** A non-CNI exception that was turned into code 999 (a bug), for the log. */
  unexpected?: unknown;
}

/**
 * Runs one CNI invocation.
 *
 * @param input environment and stdin
 * @param loadHandlers gives the command implementations; called only for commands that need them
 * @returns stdout text and exit code; never throws
 */
export async function runPlugin(
  input: PluginInput,
  loadHandlers: () => Promise<Handlers>,
): Promise<PluginOutput> {
  let version: CniVersion = CURRENT_VERSION;
  try {
    const command = readCommand(input.env);
    if (command === "VERSION") return ok(versionInfo(input.stdin));
    const args = readCmdArgs(command, input.env);
    const conf = decodeConfig(input.stdin);
    version = negotiateVersion(conf);
    requireVersionFor(command, version);
    const handlers = await loadHandlers();
    const req: Request = { args, conf, version };
    return await run(command, handlers, req);
  } catch (e) {
    const err = e instanceof CniError ? e : new CniError(
      ErrorCode.Internal,
      "Internal error",
      e instanceof Error ? e.message : String(e),
    );
    const out: PluginOutput = { stdout: errorJson(err, version), exitCode: 1, error: err };
    if (!(e instanceof CniError)) out.unexpected = e;
    return out;
  }
}

async function run(command: Command, h: Handlers, req: Request): Promise<PluginOutput> {
  switch (command) {
    case "ADD":
      return ok(JSON.stringify(await h.add(req)));
    case "DEL":
      await h.del(req);
      return ok("");
    case "CHECK":
      await h.check(req);
      return ok("");
    case "GC":
      await h.gc(req);
      return ok("");
    case "STATUS":
      await h.status(req);
      return ok("");
    case "VERSION":
      return ok(versionInfo(undefined));
  }
}

function ok(stdout: string): PluginOutput {
  return { stdout, exitCode: 0 };
}

/**
 * The VERSION answer: it reads no environment variable but CNI_COMMAND and accepts any stdin,
 * answering in the version stdin asked for when multicni supports it.
 */
function versionInfo(stdin: Uint8Array | undefined): string {
  let asked: unknown;
  try {
    if (stdin && stdin.length > 0) {
      asked = (JSON.parse(new TextDecoder().decode(stdin)) as { cniVersion?: unknown })?.cniVersion;
    }
  } catch {
    // Junk stdin is allowed for VERSION.
  }
  return JSON.stringify({
    cniVersion: isSupportedVersion(asked) ? asked : CURRENT_VERSION,
    supportedVersions: SUPPORTED_VERSIONS,
  });
}

/**
 * Decodes the network config: UTF-8 (strict) JSON holding an object.
 *
 * @param stdin the raw bytes
 * @returns the config object
 * @throws {CniError} code 6 when the bytes are not such a document
 */
export function decodeConfig(stdin: Uint8Array | undefined): Record<string, unknown> {
  if (stdin === undefined) {
    throw new CniError(
      ErrorCode.DecodeFailure,
      "Network config on stdin is too large",
      `the limit is ${MAX_STDIN_BYTES} bytes`,
    );
  }
  if (stdin.length === 0) {
    throw new CniError(ErrorCode.DecodeFailure, "Network config on stdin is empty");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(stdin);
  } catch {
    throw new CniError(ErrorCode.DecodeFailure, "Network config on stdin is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CniError(
      ErrorCode.DecodeFailure,
      "Network config on stdin is not valid JSON",
      (e as Error).message,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CniError(ErrorCode.DecodeFailure, "Network config on stdin is not a JSON object");
  }
  return value as Record<string, unknown>;
}

/**
 * Renders the CNI error JSON.
 *
 * @param err the error
 * @param version the version to state in it
 * @returns the JSON text
 */
export function errorJson(err: CniError, version: CniVersion): string {
  return JSON.stringify({ cniVersion: version, ...err.toJSON() });
}
