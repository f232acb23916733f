/**
 * Pre-flight validation of delegate configs and of whole attachment plans, by the embedded
 * WebAssembly module (validator-wasm/). Synchronous and cheap: the module is compiled on first
 * use, once per process, and each check copies the config's UTF-8 bytes into it.
 *
 * @example
 * ```ts
 * import { issuesToError, validateConfig } from "./mod.ts";
 * const issues = validateConfig("side", '{"cniVersion":"1.0.0","name":"side","type":"../x"}');
 * const err = issuesToError(issues); // CniError code 7 naming `type`
 * ```
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import { Severity } from "../../validator-wasm/assembly/codes.ts";
import { describe, type ValueRef } from "./_messages.ts";
import { discardInstance, type RawIssue, runConfig, runPlan, STATUS_BAD_INPUT } from "./_module.ts";

/** One finding about a config or a plan. */
export interface ValidationIssue {
  /** `error` refuses the config; `warning` is reported and let through. */
  severity: "error" | "warning";
  /** The network (attachment) the issue belongs to. */
  network: string;
  /** JSON path inside that network's config, e.g. `plugins[0].ipam.ranges[0][1].rangeEnd`. */
  path: string;
  /** UTF-8 byte offset of the offending value (or syntax error) in the config text. */
  offset?: number;
  /** What is wrong, naming the path and the value. */
  message: string;
}

/** One attachment of a plan, as the validator sees it. */
export interface PlanEntry {
  /** Network name, used in messages. */
  network: string;
  /** Interface name inside the container. */
  ifname: string;
  /** The exact JSON text of the delegate conf or conflist. */
  config: string;
}

const encoder = new TextEncoder();

function toIssue(
  raw: RawIssue,
  networks: readonly string[],
  configs: readonly Uint8Array[],
  ifnames: readonly string[] = [],
): ValidationIssue {
  const network = networks[raw.entry] ?? "";
  const at: ValueRef = {
    bytes: configs[raw.entry] ?? new Uint8Array(),
    offset: raw.offset,
    length: raw.length,
    path: raw.path,
  };
  const ifname = ifnames[raw.entry];
  if (ifname !== undefined) at.ifname = ifname;
  let related: ValueRef | undefined;
  if (raw.relatedEntry >= 0) {
    related = {
      bytes: configs[raw.relatedEntry] ?? new Uint8Array(),
      offset: raw.relatedOffset,
      length: raw.relatedLength,
      path: raw.relatedPath,
    };
    if (raw.relatedEntry !== raw.entry) related.network = networks[raw.relatedEntry] ?? "";
  }
  const issue: ValidationIssue = {
    severity: raw.severity === Severity.Warning ? "warning" : "error",
    network,
    path: raw.path,
    message: describe(raw.code, at, related),
  };
  if (raw.offset >= 0) issue.offset = raw.offset;
  return issue;
}

function trapped(network: string, e: unknown): ValidationIssue[] {
  // A trap is a validator bug (or memory exhaustion): start afresh next time, and do not refuse
  // a config only because the validator failed on it.
  discardInstance();
  const reason = e instanceof Error ? e.message : String(e);
  return [{ severity: "warning", network, path: "", message: `validator failed: ${reason}` }];
}

/**
 * Checks one delegate config (conf or conflist): JSON syntax, netconf schema, IPAM ranges.
 *
 * @param network the network name, used in messages
 * @param config the exact JSON text
 * @returns the issues found, empty when the config is fine
 */
export function validateConfig(network: string, config: string): ValidationIssue[] {
  const bytes = encoder.encode(config);
  try {
    const { issues } = runConfig(bytes);
    return issues.map((r) => toIssue(r, [network], [bytes]));
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError || e instanceof RangeError)) throw e;
    return trapped(network, e);
  }
}

/**
 * Checks every config of a plan and the rules across attachments: overlapping host-local
 * subnets (an error unless `allowSubnetOverlap`), duplicate interface names, more than one
 * default route per IP family.
 *
 * @param entries the attachments in plan order
 * @param opts `allowSubnetOverlap` turns subnet overlaps into warnings
 * @returns the issues found, empty when the plan is fine
 */
export function validatePlan(
  entries: PlanEntry[],
  opts: { allowSubnetOverlap: boolean },
): ValidationIssue[] {
  const configs = entries.map((e) => encoder.encode(e.config));
  const networks = entries.map((e) => e.network);
  try {
    const { status, issues } = runPlan(
      entries.map((e, i) => ({ ifname: encoder.encode(e.ifname), config: configs[i]! })),
      opts.allowSubnetOverlap,
    );
    if (status === STATUS_BAD_INPUT) throw new Error("plan records rejected by the validator");
    const ifnames = entries.map((e) => e.ifname);
    return issues.map((r) => toIssue(r, networks, configs, ifnames));
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError || e instanceof RangeError)) throw e;
    return trapped(networks[0] ?? "", e);
  }
}

/**
 * Turns issues into the CNI error to print: code 7, `msg` naming the network, the JSON path and
 * the reason of the first error, `details` listing every further issue.
 *
 * @param issues what {@linkcode validateConfig} or {@linkcode validatePlan} returned
 * @returns the error, or undefined when no issue is an error
 */
export function issuesToError(issues: ValidationIssue[]): CniError | undefined {
  const first = issues.find((i) => i.severity === "error");
  if (!first) return undefined;
  const rest = issues.filter((i) => i !== first).map((i) =>
    `${i.severity === "warning" ? "warning: " : ""}network ${
      JSON.stringify(i.network)
    }: ${i.message}`
  );
  return new CniError(
    ErrorCode.InvalidNetworkConfig,
    `Invalid network config ${JSON.stringify(first.network)}: ${first.message}`,
    rest.join("\n"),
  );
}
