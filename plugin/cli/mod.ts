/**
 * The command-line face of multicni (when `CNI_COMMAND` is not set). Every subcommand is
 * imported lazily so that the plugin path never loads CLI code.
 *
 * @module
 */

import { BUILD_INFO } from "../build_info.ts";
import { SUPPORTED_VERSIONS } from "../protocol/version.ts";
import { UsageError } from "./_args.ts";
import type { CliIo } from "./_io.ts";

export type { CliIo } from "./_io.ts";

const HELP =
  `multicni ${BUILD_INFO.version}: a CNI meta-plugin that attaches several networks to a container

As a CNI plugin (CNI_COMMAND set), it reads the network config on stdin and runs its delegates.
As a command:

  multicni version [--format json]   print version, commit and supported CNI versions
  multicni validate PATH...           check network config files (.conf, .conflist, .json, JSONC)
  multicni plan CONFIG                dry run: the attachment plan an ADD would execute
  multicni inspect [CONTAINER_ID]     the attachments recorded in the cache on this node
  multicni install                    copy the binary and write the node's multicni config
  multicni uninstall                  remove what install wrote
  multicni doctor                     check this node's setup, one line per check
  multicni help                       this text

Every command takes --help; most take --format json.
Exit codes: 0 success, 1 failure, 2 usage error.
`;

function defaultIo(): CliIo {
  const enc = new TextEncoder();
  const write = (fd: typeof Deno.stdout | typeof Deno.stderr, s: string) => {
    const bytes = enc.encode(s);
    let at = 0;
    while (at < bytes.length) at += fd.writeSync(bytes.subarray(at));
  };
  return {
    stdout: (s) => write(Deno.stdout, s),
    stderr: (s) => write(Deno.stderr, s),
  };
}

function version(args: string[], io: CliIo): number {
  const json = args.includes("--format=json") ||
    (args[0] === "--format" && args[1] === "json");
  const rest = args.filter((a) => !["--format", "json", "--format=json"].includes(a));
  if (rest.length > 0 || (args.includes("--format") && !json)) {
    io.stderr(`multicni version: unexpected argument "${rest[0] ?? args.join(" ")}"\n`);
    return 2;
  }
  const info = { ...BUILD_INFO, cniVersions: SUPPORTED_VERSIONS };
  io.stdout(
    json
      ? `${JSON.stringify(info)}\n`
      : `multicni ${info.version} (commit ${info.commit})\nCNI versions: ${
        SUPPORTED_VERSIONS.join(", ")
      }\n`,
  );
  return 0;
}

type Command = (args: string[], io: CliIo) => Promise<number>;

/** The subcommands, each loaded only when it runs. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: async () => (await import("./validate.ts")).validateCommand,
  plan: async () => (await import("./plan.ts")).planCommand,
  inspect: async () => (await import("./inspect.ts")).inspectCommand,
  install: async () => (await import("./install.ts")).installCommand,
  uninstall: async () => (await import("./uninstall.ts")).uninstallCommand,
  doctor: async () => (await import("./doctor.ts")).doctorCommand,
};

/**
 * Runs the CLI.
 *
 * @param args command-line arguments
 * @param io output channels
 * @returns the exit code: 0 success, 1 failure, 2 usage error
 */
export async function main(args: string[], io: CliIo = defaultIo()): Promise<number> {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case undefined:
    case "help":
    case "-h":
    case "--help":
      io.stdout(HELP);
      return 0;
    case "version":
    case "--version":
      return version(rest, io);
  }
  const load = COMMANDS[cmd];
  if (!load) {
    io.stderr(`multicni: unknown command "${cmd}" (see multicni --help)\n`);
    return 2;
  }
  try {
    return await (await load())(rest, io);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`multicni ${cmd}: ${e.message} (see multicni ${cmd} --help)\n`);
    return 2;
  }
}
