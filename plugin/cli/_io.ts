/**
 * What every subcommand is given: output channels and the environment, injectable for tests.
 *
 * @module
 */

/** Output channels and environment of the CLI. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** The environment; default: the process's. */
  env?: Readonly<Record<string, string>>;
  /** Aborted to stop a long-running command (`install --watch`); default: SIGTERM/SIGINT. */
  signal?: AbortSignal;
}

/**
 * The environment a command sees.
 *
 * @param io the channels
 * @returns `io.env`, or the process environment
 */
export function envOf(io: CliIo): Readonly<Record<string, string>> {
  return io.env ?? Deno.env.toObject();
}

/** Marks of doctor and inspect lines (plain ASCII, so logs and terminals agree). */
export const MARK = { pass: "[ok]  ", fail: "[FAIL]", skip: "[--]  " } as const;
