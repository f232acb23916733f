/**
 * The CNI environment as a table: which variable each command needs and how each is checked
 * (CNI spec, "Parameters"). Produces the {@linkcode CmdArgs} the commands run on.
 *
 * @module
 */

import { CniError, ErrorCode } from "./errors.ts";
import { containerIdProblem, ifNameProblem } from "./names.ts";

/** The commands of the CNI protocol. */
export const COMMANDS = ["ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS"] as const;
/** One of {@linkcode COMMANDS}. */
export type Command = typeof COMMANDS[number];

/** What a command runs on, taken from the environment. */
export interface CmdArgs {
  command: Command;
  /** CNI_CONTAINERID; empty for GC and STATUS. */
  containerId: string;
  /** CNI_NETNS; empty when the runtime gave none (allowed for DEL). */
  netns: string;
  /** CNI_IFNAME; empty for GC and STATUS. */
  ifname: string;
  /** CNI_ARGS as given (`K=V;K=V`). */
  args: string;
  /** CNI_ARGS parsed, in order. */
  argsMap: ReadonlyMap<string, string>;
  /** CNI_PATH split into directories. */
  path: string[];
}

type Need = "required" | "optional" | "ignored";

interface EnvVar {
  name: string;
  need: Partial<Record<Command, Need>>;
  /** Returns the reason the value is invalid, or undefined. */
  check?: (value: string) => string | undefined;
}

const ADD_DEL_CHECK = (del: Need): Partial<Record<Command, Need>> => ({
  ADD: "required",
  CHECK: "required",
  DEL: del,
});

/** The environment table; VERSION reads nothing, so that junk values never fail it. */
export const ENV_TABLE: readonly EnvVar[] = [
  { name: "CNI_CONTAINERID", need: ADD_DEL_CHECK("required"), check: containerIdProblem },
  { name: "CNI_NETNS", need: ADD_DEL_CHECK("optional"), check: netnsProblem },
  { name: "CNI_IFNAME", need: ADD_DEL_CHECK("required"), check: ifNameProblem },
  {
    name: "CNI_ARGS",
    need: { ADD: "optional", DEL: "optional", CHECK: "optional" },
    check: argsProblem,
  },
  {
    name: "CNI_PATH",
    need: {
      ADD: "required",
      DEL: "required",
      CHECK: "required",
      GC: "required",
      STATUS: "required",
    },
  },
];

function netnsProblem(value: string): string | undefined {
  if (!value.startsWith("/")) return "it must be an absolute path";
  if (value.includes("\0")) return "it may not contain a NUL byte";
  return undefined;
}

function argsProblem(value: string): string | undefined {
  try {
    parseCniArgs(value);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Parses CNI_ARGS (`K=V;K=V`): keys must be non-empty, a value may contain `=`.
 *
 * @param value the raw CNI_ARGS
 * @returns the pairs in order
 * @throws {Error} when a pair has no `=` or an empty key
 */
export function parseCniArgs(value: string): Map<string, string> {
  const out = new Map<string, string>();
  if (value === "") return out;
  for (const pair of value.split(";")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`pair ${JSON.stringify(pair)} is not of the form KEY=VALUE`);
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

/**
 * Reads CNI_COMMAND.
 *
 * @param env the process environment
 * @returns the command
 * @throws {CniError} code 4 when missing or unknown
 */
export function readCommand(env: Readonly<Record<string, string>>): Command {
  const c = env.CNI_COMMAND ?? "";
  if ((COMMANDS as readonly string[]).includes(c)) return c as Command;
  throw new CniError(
    ErrorCode.InvalidEnv,
    c ? `Unknown CNI_COMMAND "${c}"` : "CNI_COMMAND is not set",
    `expected one of ${COMMANDS.join(", ")}`,
  );
}

/**
 * Checks the environment for `command` against {@linkcode ENV_TABLE} and builds the CmdArgs.
 *
 * @param command the command being run
 * @param env the process environment
 * @returns the command's arguments
 * @throws {CniError} code 4 naming the first missing or invalid variable
 */
export function readCmdArgs(command: Command, env: Readonly<Record<string, string>>): CmdArgs {
  const values: Record<string, string> = {};
  for (const v of ENV_TABLE) {
    const need = v.need[command] ?? "ignored";
    if (need === "ignored") continue;
    const value = env[v.name] ?? "";
    if (value === "") {
      if (need === "required") {
        throw new CniError(ErrorCode.InvalidEnv, `${v.name} is required for ${command}`);
      }
      continue;
    }
    const problem = v.check?.(value);
    if (problem) {
      throw new CniError(
        ErrorCode.InvalidEnv,
        `Invalid ${v.name} ${JSON.stringify(value.slice(0, 200))}`,
        problem,
      );
    }
    values[v.name] = value;
  }
  const args = values.CNI_ARGS ?? "";
  return {
    command,
    containerId: values.CNI_CONTAINERID ?? "",
    netns: values.CNI_NETNS ?? "",
    ifname: values.CNI_IFNAME ?? "",
    args,
    argsMap: parseCniArgs(args),
    path: (values.CNI_PATH ?? "").split(":").filter((d) => d !== ""),
  };
}
