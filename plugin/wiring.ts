/**
 * The plugin's real dependencies: delegates run as child processes, the log the config asks
 * for. `main.ts` loads this lazily (VERSION never needs it); tests that run the real core
 * in-process use it too.
 *
 * @module
 */

import type { Handlers } from "./protocol/dispatch.ts";
import { handlers } from "./core/commands.ts";
import { denoExec } from "./invoke/exec.ts";
import { createLogger, type LoggerSink } from "./log/logger.ts";

/**
 * The core's command handlers on the real operating system.
 *
 * @param env the environment delegates inherit
 * @param sink where log lines for stderr go (default: the process's stderr)
 * @returns the handlers
 */
export function realHandlers(env: Readonly<Record<string, string>>, sink?: LoggerSink): Handlers {
  return handlers({
    exec: denoExec,
    openLog: (conf) =>
      createLogger({
        logFile: conf.logFile,
        logLevel: conf.logLevel,
        logToStderr: conf.logToStderr,
        logOptions: conf.logOptions,
      }, sink),
    baseEnv: env,
    now: () => new Date(),
  });
}
