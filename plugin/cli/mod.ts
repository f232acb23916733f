/**
 * The command-line face of multicni (when `CNI_COMMAND` is not set). Every subcommand is
 * imported lazily so that the plugin path never loads CLI code.
 *
 * @module
 */

import { BUILD_INFO } from "../build_info.ts";
import { SUPPORTED_VERSIONS } from "../protocol/version.ts";

/** Output channels, injectable for tests. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const HELP =
  `multicni ${BUILD_INFO.version}: a CNI meta-plugin that attaches several networks to a container

As a CNI plugin (CNI_COMMAND set), it reads the network config on stdin and runs its delegates.
As a command:

  multicni version [--format json]   print version, commit and supported CNI versions
  multicni validate PATH...           check network config files (.conf, .conflist, .json, JSONC)
  multicni help                       this text

Exit codes: 0 success, 1 failure, 2 usage error.
`;

function defaultIo(): CliIo {
  const enc = new TextEncoder();
  return {
    stdout: (s) => Deno.stdout.writeSync(enc.encode(s)),
    stderr: (s) => Deno.stderr.writeSync(enc.encode(s)),
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

/**
 * Runs the CLI.
 *
 * @param args command-line arguments
 * @param io output channels
 * @returns the exit code
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
    case "validate": {
      const { validateCommand } = await import("./validate.ts");
      return await validateCommand(rest, io);
    }
    default:
      io.stderr(`multicni: unknown command "${cmd}" (see multicni --help)\n`);
      return 2;
  }
}
