/**
 * Choosing a pod's networks: the master (default-network annotation, clusterNetwork or the first
 * inline delegate), the other inline delegates, defaultNetworks (not in systemNamespaces), then
 * the networks of the pod's `k8s.v1.cni.cncf.io/networks` annotation, with the namespace rules
 * (namespaceIsolation, globalNamespaces, multusNamespace) applied. NADs are fetched in parallel.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { NetworkSelection } from "../core/plan.ts";
import type { NetConf } from "../core/netconf.ts";
import { type DelegateConfig, loadNetwork, parseDelegate } from "../core/delegate.ts";
import {
  DEFAULT_NETWORK_ANNOTATION,
  ipFamily,
  NETWORKS_ANNOTATION,
  type NetworkSelectionElement,
  parseDefaultNetworkAnnotation,
  parseNetworksAnnotation,
  runtimeConfigOf,
} from "./annotations.ts";
import { delegateOfNad, type Nad, withCniArgs } from "./nad.ts";
import type { Pod } from "./pod.ts";

/** Reads a NAD; undefined when it does not exist. */
export type NadLookup = (namespace: string, name: string) => Promise<Nad | undefined>;

/** A pod's networks in attachment order, and what ADD does with them afterwards. */
export interface PodNetworks {
  selections: NetworkSelection[];
  /** `default-route` requests, by attachment index. */
  defaultRoutes: Map<number, string[]>;
}

/** A NAD that a pod names and that does not exist. */
export class MissingNetworkError extends CniError {
  /** The missing networks, `namespace/name`. */
  readonly missing: string[];

  /** @param missing the missing networks, `namespace/name` */
  constructor(missing: string[]) {
    super(
      ErrorCode.InvalidNetworkConfig,
      `Network${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")} ` +
        "not found",
      "no NetworkAttachmentDefinition of that name in that namespace",
    );
    this.missing = missing;
  }
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** One entry of the plan being built: a promise of its selection, or a missing NAD. */
type Pending = Promise<NetworkSelection | { missing: string }>;

/**
 * Resolves a network named by the config (clusterNetwork, defaultNetworks) the way Multus does:
 * a NAD of that name in multusNamespace, else a conf in confDir by `name`, else a path.
 */
async function byName(conf: NetConf, lookup: NadLookup, ref: string): Promise<NetworkSelection> {
  if (!ref.includes("/") && LABEL.test(ref) && ref.length <= 63) {
    const nad = await lookup(conf.multusNamespace, ref);
    if (nad) {
      return {
        delegate: await delegateOfNad(nad, conf.confDir, conf.cniVersion),
        network: `${nad.namespace}/${nad.name}`,
      };
    }
  }
  return { delegate: await loadNetwork(ref, conf.confDir, conf.cniVersion) };
}

/** Resolves a selection element: its NAD must exist. */
async function byElement(
  conf: NetConf,
  lookup: NadLookup,
  el: NetworkSelectionElement,
): Promise<NetworkSelection | { missing: string }> {
  const nad = await lookup(el.namespace, el.name);
  if (!nad) return { missing: `${el.namespace}/${el.name}` };
  let delegate: DelegateConfig = await delegateOfNad(nad, conf.confDir, conf.cniVersion);
  if (el.cniArgs) delegate = withCniArgs(delegate, el.cniArgs);
  const s: NetworkSelection = { delegate, network: `${el.namespace}/${el.name}` };
  if (el.interface !== undefined) s.ifname = el.interface;
  const rc = runtimeConfigOf(el);
  if (Object.keys(rc).length > 0) s.runtimeConfig = rc;
  return s;
}

/**
 * Refuses a network in another namespace when namespaceIsolation is on, unless that namespace
 * is global (Multus: "namespace isolation violation").
 */
function checkIsolation(conf: NetConf, podNamespace: string, el: NetworkSelectionElement): void {
  if (!conf.namespaceIsolation || el.namespace === podNamespace) return;
  if (conf.globalNamespaces.includes(el.namespace)) return;
  throw new CniError(
    ErrorCode.InvalidNetworkConfig,
    `Network "${el.namespace}/${el.name}" is not allowed for pods in namespace "${podNamespace}"`,
    `namespaceIsolation is on and "${el.namespace}" is not one of the global namespaces ` +
      `(${conf.globalNamespaces.map((n) => `"${n}"`).join(", ") || "none"})`,
  );
}

/**
 * Collects `default-route` requests: at most one IPv4 and one IPv6 gateway for the whole pod.
 *
 * @param els the elements
 * @returns gateways by element position
 * @throws {CniError} code 7 when more than one gateway of a family is asked for
 */
function defaultRoutesOf(els: readonly NetworkSelectionElement[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const seen = new Map<4 | 6, string>();
  els.forEach((el, i) => {
    for (const gw of el.defaultRoute ?? []) {
      const fam = ipFamily(gw)!;
      const other = seen.get(fam);
      if (other !== undefined) {
        throw new CniError(
          ErrorCode.InvalidNetworkConfig,
          `Invalid pod annotation "${NETWORKS_ANNOTATION}"`,
          `"default-route" asks for more than one IPv${fam} gateway (${other} and ${gw})`,
        );
      }
      seen.set(fam, gw);
    }
    if (el.defaultRoute?.length) out.set(i, el.defaultRoute);
  });
  return out;
}

/**
 * Computes a pod's networks.
 *
 * @param conf the meta config
 * @param pod the pod
 * @param lookup reads NADs
 * @returns the selections in attachment order and the default-route requests
 * @throws {MissingNetworkError} when a NAD the pod names does not exist
 * @throws {CniError} code 7 for invalid annotations, isolation violations and invalid configs;
 *   11 when the API fails
 */
export async function podNetworks(
  conf: NetConf,
  pod: Pod,
  lookup: NadLookup,
): Promise<PodNetworks> {
  const ns = pod.metadata.namespace;
  const annotations = pod.metadata.annotations ?? {};
  const pending: Pending[] = [];

  const override = annotations[DEFAULT_NETWORK_ANNOTATION];
  if (override !== undefined && override.trim() !== "") {
    const el = parseDefaultNetworkAnnotation(override, conf.multusNamespace);
    pending.push(byElement(conf, lookup, el));
  } else if (conf.clusterNetwork) {
    pending.push(byName(conf, lookup, conf.clusterNetwork));
  }
  if (!conf.clusterNetwork) {
    // Inline delegates: the first is the master unless the pod overrides it.
    conf.delegates.forEach((d, i) => {
      if (i === 0 && pending.length > 0) return;
      pending.push(
        Promise.resolve({ delegate: parseDelegate(d, conf.cniVersion, `delegates[${i}]`) }),
      );
    });
  }
  if (!conf.systemNamespaces.includes(ns)) {
    for (const name of conf.defaultNetworks) pending.push(byName(conf, lookup, name));
  }
  const els = parseNetworksAnnotation(annotations[NETWORKS_ANNOTATION] ?? "", ns);
  const routes = defaultRoutesOf(els);
  const first = pending.length;
  for (const el of els) {
    checkIsolation(conf, ns, el);
    pending.push(byElement(conf, lookup, el));
  }

  const settled = await Promise.all(pending);
  const missing = settled.flatMap((s) => "missing" in s ? [s.missing] : []);
  if (missing.length > 0) throw new MissingNetworkError(missing);
  const defaultRoutes = new Map<number, string[]>();
  for (const [i, gws] of routes) defaultRoutes.set(first + i, gws);
  return { selections: settled as NetworkSelection[], defaultRoutes };
}
