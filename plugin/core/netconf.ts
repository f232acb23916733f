/**
 * The meta-plugin's own config (Multus-compatible keys, REFERENCE §3), parsed with valibot and
 * completed with defaults.
 *
 * @module
 */

import * as v from "valibot";
import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { CniVersion } from "../protocol/version.ts";
import { networkNameProblem } from "../protocol/names.ts";

const JsonObject = v.record(v.string(), v.unknown());

const LogOptions = v.object({
  maxAge: v.exactOptional(v.number()),
  maxSize: v.exactOptional(v.number()),
  maxBackups: v.exactOptional(v.number()),
  compress: v.exactOptional(v.boolean()),
});

const PositiveSeconds = v.pipe(v.number(), v.minValue(0.001), v.maxValue(86400));

/** The keys multicni reads; unknown keys are kept and ignored, as Multus does. */
const NetConfSchema = v.looseObject({
  name: v.pipe(
    v.string(),
    v.check(
      (s) => networkNameProblem(s) === undefined,
      "must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$",
    ),
  ),
  type: v.optional(v.string()),
  delegates: v.optional(v.array(JsonObject)),
  clusterNetwork: v.optional(v.string()),
  defaultNetworks: v.optional(v.array(v.string())),
  confDir: v.optional(v.string()),
  cniDir: v.optional(v.string()),
  binDir: v.optional(v.string()),
  kubeconfig: v.optional(v.string()),
  logFile: v.optional(v.string()),
  logLevel: v.optional(v.picklist(["debug", "verbose", "error", "panic", ""])),
  logToStderr: v.optional(v.boolean()),
  logOptions: v.optional(LogOptions),
  readinessindicatorfile: v.optional(v.string()),
  readinessTimeout: v.optional(PositiveSeconds),
  namespaceIsolation: v.optional(v.boolean()),
  globalNamespaces: v.optional(v.string()),
  systemNamespaces: v.optional(v.array(v.string())),
  multusNamespace: v.optional(v.string()),
  retryDeleteOnError: v.optional(v.boolean()),
  runtimeConfig: v.optional(JsonObject),
  capabilities: v.optional(v.record(v.string(), v.boolean())),
  delegateTimeout: v.optional(PositiveSeconds),
  allowSubnetOverlap: v.optional(v.boolean()),
  parallel: v.optional(v.boolean()),
  maxParallel: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64))),
});

/** The meta-plugin's config with defaults applied. */
export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  delegates: Record<string, unknown>[];
  clusterNetwork: string;
  defaultNetworks: string[];
  confDir: string;
  cniDir: string;
  binDir: string;
  kubeconfig: string;
  logFile: string;
  logLevel: "debug" | "verbose" | "error" | "panic";
  logToStderr: boolean;
  logOptions: { maxAge?: number; maxSize?: number; maxBackups?: number; compress?: boolean };
  readinessIndicatorFile: string;
  /** Seconds to wait for the readiness indicator file. */
  readinessTimeout: number;
  namespaceIsolation: boolean;
  globalNamespaces: string[];
  systemNamespaces: string[];
  multusNamespace: string;
  retryDeleteOnError: boolean;
  runtimeConfig: Record<string, unknown>;
  /** Seconds one delegate plugin may run before it is killed. */
  delegateTimeout: number;
  allowSubnetOverlap: boolean;
  parallel: boolean;
  /** In parallel mode, at most this many delegates run at once. */
  maxParallel: number;
}

/** Defaults of the keys whose default is not empty (Multus's values). */
export const DEFAULTS = {
  confDir: "/etc/cni/multus/net.d",
  cniDir: "/var/lib/cni/multus",
  binDir: "/opt/cni/bin",
  delegateTimeout: 60,
  readinessTimeout: 45,
  maxParallel: 4,
} as const;

function describeIssue(issue: v.BaseIssue<unknown>): string {
  const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Parses the meta-plugin config read from stdin.
 *
 * @param raw the decoded stdin object
 * @param version its negotiated version
 * @returns the config with defaults
 * @throws {CniError} code 7 naming the first invalid key
 */
export function parseNetConf(raw: Record<string, unknown>, version: CniVersion): NetConf {
  const r = v.safeParse(NetConfSchema, raw);
  if (!r.success) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `Invalid multicni config${typeof raw.name === "string" ? ` "${raw.name}"` : ""}`,
      r.issues.map(describeIssue).join("; "),
    );
  }
  const c = r.output;
  if ((c.delegates ?? []).length === 0 && !c.clusterNetwork) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `Invalid multicni config "${c.name}"`,
      "one of delegates or clusterNetwork is required",
    );
  }
  return withDefaults(c, version);
}

/**
 * The config DEL uses when the one on stdin does not parse: DEL must still clean up what the
 * cache records, so the keys it needs are taken where they have the right type and the rest
 * defaults.
 *
 * @param raw the decoded stdin object
 * @param version its negotiated version
 * @returns a config with no delegates
 */
export function fallbackNetConf(raw: Record<string, unknown>, version: CniVersion): NetConf {
  const pick = <K extends "cniDir" | "binDir" | "logFile">(k: K) =>
    typeof raw[k] === "string" ? { [k]: raw[k] as string } : {};
  return withDefaults({
    name: "invalid",
    ...pick("cniDir"),
    ...pick("binDir"),
    ...pick("logFile"),
    ...(typeof raw.retryDeleteOnError === "boolean"
      ? { retryDeleteOnError: raw.retryDeleteOnError }
      : {}),
  }, version);
}

function withDefaults(c: v.InferOutput<typeof NetConfSchema>, version: CniVersion): NetConf {
  return {
    cniVersion: version,
    name: c.name,
    delegates: c.delegates ?? [],
    clusterNetwork: c.clusterNetwork ?? "",
    defaultNetworks: c.defaultNetworks ?? [],
    confDir: c.confDir || DEFAULTS.confDir,
    cniDir: c.cniDir || DEFAULTS.cniDir,
    binDir: c.binDir || DEFAULTS.binDir,
    kubeconfig: c.kubeconfig ?? "",
    logFile: c.logFile ?? "",
    logLevel: c.logLevel || "panic",
    logToStderr: c.logToStderr ?? true,
    logOptions: c.logOptions ?? {},
    readinessIndicatorFile: c.readinessindicatorfile ?? "",
    readinessTimeout: c.readinessTimeout ?? DEFAULTS.readinessTimeout,
    namespaceIsolation: c.namespaceIsolation ?? false,
    globalNamespaces: (c.globalNamespaces ?? "default").split(",").map((s) => s.trim()).filter(
      Boolean,
    ),
    systemNamespaces: c.systemNamespaces ?? ["kube-system"],
    multusNamespace: c.multusNamespace || "kube-system",
    retryDeleteOnError: c.retryDeleteOnError ?? false,
    runtimeConfig: c.runtimeConfig ?? {},
    delegateTimeout: c.delegateTimeout ?? DEFAULTS.delegateTimeout,
    allowSubnetOverlap: c.allowSubnetOverlap ?? false,
    parallel: c.parallel ?? false,
    maxParallel: c.maxParallel ?? DEFAULTS.maxParallel,
  };
}
