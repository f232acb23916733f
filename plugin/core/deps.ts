/**
 * What the core needs from the outside, handed in by `main.ts` (or a test).
 *
 * @module
 */

import type { Exec } from "../invoke/exec.ts";
import type { Logger } from "../log/types.ts";
import type { NetConf } from "./netconf.ts";

/** The core's dependencies. */
export interface CoreDeps {
  exec: Exec;
  /** Opens the log the config asks for (logFile, logLevel, ...). */
  openLog: (conf: NetConf) => Logger;
  /** The environment delegates inherit (CNI_* are overridden per call). */
  baseEnv: Readonly<Record<string, string>>;
  now: () => Date;
}
