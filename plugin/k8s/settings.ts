/**
 * The Kubernetes keys of the meta config that the core's NetConf does not carry: API time limits
 * and the network-status format. Read from the raw config, with defaults.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { ApiLimits } from "./client.ts";
import type { StatusFormat } from "./status.ts";

/** The Kubernetes settings. */
export interface K8sSettings {
  limits: ApiLimits;
  statusFormat: StatusFormat;
}

/** Defaults: 10 s per request, 30 s for all requests of a phase, the spec's status format. */
export const K8S_DEFAULTS = {
  apiTimeoutSeconds: 10,
  apiDeadlineSeconds: 30,
  networkStatusFormat: "spec",
} as const;

function seconds(raw: Record<string, unknown>, key: string, dflt: number): number {
  const v = raw[key];
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || v > 3600) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      "Invalid multicni config",
      `${key}: must be a number of seconds above 0 and at most 3600`,
    );
  }
  return v;
}

/**
 * Reads `apiTimeoutSeconds`, `apiDeadlineSeconds` and `networkStatusFormat`.
 *
 * @param raw the meta config as given on stdin
 * @returns the settings
 * @throws {CniError} code 7 for a value of the wrong type or range
 */
export function k8sSettings(raw: Record<string, unknown>): K8sSettings {
  const timeout = seconds(raw, "apiTimeoutSeconds", K8S_DEFAULTS.apiTimeoutSeconds);
  const deadline = seconds(raw, "apiDeadlineSeconds", K8S_DEFAULTS.apiDeadlineSeconds);
  const fmt = raw.networkStatusFormat ?? K8S_DEFAULTS.networkStatusFormat;
  if (fmt !== "spec" && fmt !== "multus") {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      "Invalid multicni config",
      'networkStatusFormat: must be "spec" or "multus"',
    );
  }
  return { limits: { timeoutMs: timeout * 1000, deadlineMs: deadline * 1000 }, statusFormat: fmt };
}
