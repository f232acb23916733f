/**
 * The attachment plan: which networks a container gets, on which interface, with which delegate
 * config and runtime config. It is plain data, computed and checked before anything runs, cached
 * before the first delegate starts, executed by ADD and replayed in reverse by DEL.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { CniVersion } from "../protocol/version.ts";
import { ifNameProblem } from "../protocol/names.ts";
import { type DelegateConfig, loadNetwork, parseDelegate, pluginsOf } from "./delegate.ts";
import type { NetConf } from "./netconf.ts";

/** One network to attach. */
export interface Attachment {
  /** Position in the plan; the default network is 0. */
  index: number;
  /** The network's name (the delegate's `name`). */
  network: string;
  /** Interface name inside the container. */
  ifname: string;
  /** True for the default network (the master, eth0). */
  isDefault: boolean;
  delegate: DelegateConfig;
  /** Runtime config offered to the delegate's plugins. */
  runtimeConfig: Record<string, unknown>;
  /** CNI_ARGS given to the delegate. */
  cniArgs: string;
  /** Gateways the container's default routes go through once every attachment is added. */
  defaultRoute?: string[];
}

/** Everything one container gets. */
export interface Plan {
  containerId: string;
  netns: string;
  /** The default network's interface name (CNI_IFNAME). */
  ifname: string;
  /** The version the caller speaks; the ADD result is converted to it. */
  cniVersion: CniVersion;
  attachments: Attachment[];
}

/**
 * One network chosen for a container, before interface names are assigned: from the config
 * (inline delegates, clusterNetwork, defaultNetworks) or from Kubernetes (annotations, NADs).
 */
export interface NetworkSelection {
  delegate: DelegateConfig;
  /** The name reported for it (`namespace/name` for a NAD); default: the delegate's `name`. */
  network?: string;
  /** The interface the selection asks for; default: CNI_IFNAME for the first, else `net<i>`. */
  ifname?: string;
  /** Runtime config for this attachment (the default network also gets the runtime's). */
  runtimeConfig?: Record<string, unknown>;
  /** Gateways the pod's default route of their family should go through (multi-net spec). */
  defaultRoute?: string[];
}

/** What a plan is computed from. */
export interface PlanInput {
  conf: NetConf;
  containerId: string;
  netns: string;
  ifname: string;
  /** CNI_ARGS as the runtime gave them. */
  cniArgs: string;
}

/**
 * Multus passes `IgnoreUnknown=1` so that plugins accept CNI_ARGS keys they do not know
 * (K8S_POD_NAME and friends); without it, some reference plugins reject them.
 */
export function delegateCniArgs(args: string): string {
  const pairs = args.split(";").filter((p) => p !== "");
  if (pairs.some((p) => p.startsWith("IgnoreUnknown="))) return pairs.join(";");
  return ["IgnoreUnknown=1", ...pairs].join(";");
}

/** A runtime-config value that asks for something (empty lists and objects ask for nothing). */
function isRequested(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

/**
 * Fails when the runtime asks for a capability that no plugin of the delegate declares: the
 * request would be silently dropped otherwise (CNI spec, "Deriving runtimeConfig").
 */
export function checkCapabilities(a: Attachment): void {
  const declared = new Set<string>();
  for (const p of pluginsOf(a.delegate)) {
    const caps = p.capabilities;
    if (caps && typeof caps === "object") {
      for (const [k, on] of Object.entries(caps)) if (on === true) declared.add(k);
    }
  }
  const missing = Object.entries(a.runtimeConfig)
    .filter(([k, val]) => isRequested(val) && !declared.has(k))
    .map(([k]) => k);
  if (missing.length > 0) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `Network "${a.network}" (${a.ifname}) cannot honour the runtime config`,
      `no plugin declares the ${missing.map((k) => `"${k}"`).join(", ")} capabilit${
        missing.length === 1 ? "y" : "ies"
      }`,
    );
  }
}

/**
 * Loads the delegates a config names, in attachment order: the master (clusterNetwork or the
 * first inline delegate), the other inline delegates, then defaultNetworks.
 *
 * @param conf the meta-plugin config
 * @returns the delegates
 * @throws {CniError} code 7 (or 1) for a network that cannot be loaded
 */
export async function loadDelegates(conf: NetConf): Promise<DelegateConfig[]> {
  const out: DelegateConfig[] = [];
  if (conf.clusterNetwork) {
    // clusterNetwork wins over inline delegates, as in Multus.
    out.push(await loadNetwork(conf.clusterNetwork, conf.confDir, conf.cniVersion));
  } else {
    conf.delegates.forEach((d, i) => {
      out.push(parseDelegate(d, conf.cniVersion, `delegates[${i}]`));
    });
  }
  for (const name of conf.defaultNetworks) {
    out.push(await loadNetwork(name, conf.confDir, conf.cniVersion));
  }
  return out;
}

/** The most attachments one container may get (the default network included). */
export const MAX_ATTACHMENTS = 1024;

/**
 * Computes the plan for an ADD from the selected networks.
 *
 * @param input the container and the config
 * @param selections the networks in attachment order (the first is the default network)
 * @returns the plan
 * @throws {CniError} code 7 for duplicate or invalid interface names, capability mismatches and
 *   more than {@linkcode MAX_ATTACHMENTS} networks
 */
export function planFor(input: PlanInput, selections: readonly NetworkSelection[]): Plan {
  if (selections.length > MAX_ATTACHMENTS) {
    // Checking and running a plan costs time per attachment (the validator's plan rules more than
    // linear): a config listing 100k delegates stalled ADD for over a minute before this limit.
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `Too many networks for one container: ${selections.length}`,
      `at most ${MAX_ATTACHMENTS} attachments are supported`,
    );
  }
  const cniArgs = delegateCniArgs(input.cniArgs);
  const attachments = selections.map((s, index): Attachment => ({
    index,
    network: s.network ?? s.delegate.name,
    // The default network always takes CNI_IFNAME: the runtime names it.
    ifname: index === 0 ? input.ifname : s.ifname ?? `net${index}`,
    isDefault: index === 0,
    delegate: s.delegate,
    // Runtime config from the runtime goes to the default network only (multi-net spec).
    runtimeConfig: index === 0
      ? { ...s.runtimeConfig, ...input.conf.runtimeConfig }
      : { ...s.runtimeConfig },
    cniArgs,
    ...(s.defaultRoute?.length ? { defaultRoute: s.defaultRoute } : {}),
  }));
  const seen = new Map<string, string>();
  for (const a of attachments) {
    const problem = ifNameProblem(a.ifname);
    if (problem) {
      throw new CniError(
        ErrorCode.InvalidNetworkConfig,
        `Invalid interface name "${a.ifname}" for network "${a.network}"`,
        problem,
      );
    }
    const other = seen.get(a.ifname);
    if (other !== undefined) {
      throw new CniError(
        ErrorCode.InvalidNetworkConfig,
        `Interface name "${a.ifname}" is used twice`,
        `networks "${other}" and "${a.network}" both ask for it`,
      );
    }
    seen.set(a.ifname, a.network);
    checkCapabilities(a);
  }
  return {
    containerId: input.containerId,
    netns: input.netns,
    ifname: input.ifname,
    cniVersion: input.conf.cniVersion,
    attachments,
  };
}
