/**
 * `readinessindicatorfile`: the default network's plugin writes this file when it is ready;
 * until then ADD and GC wait for it, within a bound (Multus waits without telling how long).
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { Logger } from "../log/types.ts";
import type { NetConf } from "./netconf.ts";

const POLL_MS = 100;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until the readiness indicator file exists (no-op when none is configured).
 *
 * @param conf the config (`readinessIndicatorFile`, `readinessTimeout` seconds)
 * @param log where a wait is reported
 * @throws {CniError} code 11 (try again later) when the file did not appear in time
 */
export async function waitForReadiness(conf: NetConf, log: Logger): Promise<void> {
  const path = conf.readinessIndicatorFile;
  if (!path || await exists(path)) return;
  log.verbose(`waiting up to ${conf.readinessTimeout} s for readiness indicator file "${path}"`);
  const deadline = Date.now() + conf.readinessTimeout * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
    if (await exists(path)) return;
  }
  throw new CniError(
    ErrorCode.TryAgainLater,
    "The default network is not ready",
    `readiness indicator file "${path}" did not appear within ${conf.readinessTimeout} s`,
  );
}
