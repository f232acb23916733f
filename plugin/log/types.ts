/**
 * The logger interface every layer receives; the implementation lives in `logger.ts`.
 *
 * @module
 */

/** Log levels from most to least verbose (Multus's names). */
export type LogLevel = "debug" | "verbose" | "error" | "panic";

/** Context attached to one log line. */
export interface LogFields {
  containerId?: string;
  network?: string;
  ifname?: string;
  [key: string]: unknown;
}

/** A sink for log lines; never throws. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  verbose(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  panic(msg: string, fields?: LogFields): void;
}

/** A logger that drops everything (tests, and before the config is read). */
export const nullLogger: Logger = {
  debug() {},
  verbose() {},
  error() {},
  panic() {},
};
