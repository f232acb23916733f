/**
 * After ADD: the `k8s.v1.cni.cncf.io/network-status` annotation, written through the pod's status
 * subresource and retried on conflict, and the `AddedInterface` / `NoNetworkFound` events.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import { convertResult } from "../protocol/result.ts";
import type { CurrentResult } from "../protocol/result.ts";
import type { RawResult } from "../invoke/chain.ts";
import type { Plan } from "../core/plan.ts";
import type { Logger } from "../log/types.ts";
import type { K8sClient } from "./client.ts";
import { STATUS_ANNOTATION } from "./annotations.ts";
import { getPod, type Pod, podPath, type PodRef } from "./pod.ts";

/**
 * How network-status entries are written. `spec`: addresses with prefix, gateways under
 * `default-route` (the multi-network spec). `multus`: bare addresses, gateways under `gateway`
 * (what Multus writes and some consumers parse).
 */
export type StatusFormat = "spec" | "multus";

/** One entry of the network-status annotation. */
export interface NetworkStatusEntry {
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  mtu?: number;
  default: boolean;
  dns?: Record<string, unknown>;
  "device-info"?: Record<string, unknown>;
  "default-route"?: string[];
  gateway?: string[];
}

/** How often a conflicting status write is retried (each time on a freshly read pod). */
export const STATUS_CONFLICT_RETRIES = 5;

function isDefaultDst(dst: string): boolean {
  return dst === "0.0.0.0/0" || dst === "::/0";
}

/**
 * The network-status entries of an executed plan: one per interface a result places in the
 * sandbox, and a minimal one for a result that names no such interface.
 *
 * @param plan the plan
 * @param results the results, by attachment index
 * @param gateways default-route requests by attachment index; they replace the gateways the
 *   results give for that family on every other attachment
 * @param format the entry format
 * @returns the entries in attachment order
 */
export function networkStatus(
  plan: Plan,
  results: readonly (RawResult | undefined)[],
  gateways: ReadonlyMap<number, readonly string[]>,
  format: StatusFormat,
): NetworkStatusEntry[] {
  const moved = new Set([...gateways.values()].flat().map((g) => g.includes(":") ? 6 : 4));
  const out: NetworkStatusEntry[] = [];
  for (const a of plan.attachments) {
    const raw = results[a.index];
    const r: CurrentResult = raw ? convertResult(raw.result, raw.version, "1.1.0") : {};
    const ifaces = (r.interfaces ?? []).map((iface, i) => ({ iface, i }))
      .filter(({ iface }) => !!iface.sandbox);
    const requested = gateways.get(a.index);
    const resultGws = (r.routes ?? []).filter((rt) => isDefaultDst(rt.dst) && rt.gw)
      .map((rt) => rt.gw!)
      .filter((gw) => !moved.has(gw.includes(":") ? 6 : 4));
    const gws = requested ? [...requested] : [...new Set(resultGws)];
    const entry = (ifaceIndex: number | undefined, name: string, mac?: string, mtu?: number) => {
      const e: NetworkStatusEntry = { name: a.network, interface: name, default: a.isDefault };
      const ips = (r.ips ?? [])
        .filter((ip) =>
          ifaceIndex === undefined || ip.interface === undefined ||
          ip.interface === ifaceIndex
        )
        .map((ip) => format === "spec" ? ip.address : ip.address.split("/")[0]!);
      if (ips.length > 0) e.ips = ips;
      if (mac) e.mac = mac;
      if (mtu) e.mtu = mtu;
      if (r.dns && Object.keys(r.dns).length > 0) e.dns = { ...r.dns };
      if (gws.length > 0) e[format === "spec" ? "default-route" : "gateway"] = gws;
      return e;
    };
    if (ifaces.length === 0) out.push(entry(undefined, a.ifname));
    for (const { iface, i } of ifaces) out.push(entry(i, iface.name, iface.mac, iface.mtu));
  }
  return out;
}

/**
 * Writes the network-status annotation: reads the pod, sets the annotation, and PUTs it to the
 * `status` subresource with the pod's resourceVersion; a 409 (someone else wrote in between) is
 * retried on a fresh read.
 *
 * @param client the API client
 * @param ref the pod
 * @param entries the entries
 * @param log the log
 * @throws {CniError} code 11 when the pod is gone, the API fails, or conflicts persist
 */
export async function writeNetworkStatus(
  client: K8sClient,
  ref: PodRef,
  entries: readonly NetworkStatusEntry[],
  log: Logger,
): Promise<void> {
  const value = JSON.stringify(entries, null, 2);
  const what = `PUT pod ${ref.namespace}/${ref.name} status`;
  for (let attempt = 0; attempt <= STATUS_CONFLICT_RETRIES; attempt++) {
    const pod = await getPod(client, ref);
    if (!pod) {
      throw new CniError(
        ErrorCode.TryAgainLater,
        `Kubernetes API call "${what}" failed`,
        "the pod is gone",
      );
    }
    const updated: Pod = {
      ...pod,
      metadata: {
        ...pod.metadata,
        annotations: { ...pod.metadata.annotations, [STATUS_ANNOTATION]: value },
      },
    };
    const res = await client.request({
      what,
      method: "PUT",
      path: podPath(ref, "status"),
      body: updated,
      expect: [409],
    });
    if (res.status !== 409) return;
    log.verbose(`network-status write conflicted (attempt ${attempt + 1}); retrying`);
  }
  throw new CniError(
    ErrorCode.TryAgainLater,
    `Kubernetes API call "${what}" failed`,
    `the pod kept changing: ${STATUS_CONFLICT_RETRIES + 1} writes conflicted (409)`,
  );
}

/** A core/v1 Event about a pod. */
export interface PodEvent {
  reason: "AddedInterface" | "NoNetworkFound" | string;
  message: string;
  type: "Normal" | "Warning";
}

/**
 * Creates an event about the pod (what `kubectl describe pod` shows).
 *
 * @param client the API client
 * @param pod the pod (name, namespace, uid)
 * @param ev reason, message and type
 * @param now the time
 * @throws {CniError} code 11 when the API fails
 */
export async function postEvent(
  client: K8sClient,
  pod: Pick<Pod["metadata"], "name" | "namespace" | "uid">,
  ev: PodEvent,
  now: Date,
): Promise<void> {
  const suffix = Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const time = now.toISOString().replace(/\.\d+Z$/, "Z");
  const involved: Record<string, unknown> = {
    apiVersion: "v1",
    kind: "Pod",
    name: pod.name,
    namespace: pod.namespace,
  };
  if (pod.uid) involved.uid = pod.uid;
  await client.request({
    what: `POST event ${ev.reason} for pod ${pod.namespace}/${pod.name}`,
    method: "POST",
    path: `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/events`,
    body: {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${pod.name}.${suffix}`, namespace: pod.namespace },
      involvedObject: involved,
      reason: ev.reason,
      message: ev.message,
      type: ev.type,
      source: { component: "multicni" },
      reportingComponent: "multicni",
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    },
  });
}

/**
 * The `AddedInterface` message of one entry, as Multus words it: `Add net1 [10.1.0.5/24] from
 * default/storage`.
 *
 * @param e the status entry
 * @returns the message
 */
export function addedInterfaceMessage(e: NetworkStatusEntry): string {
  return `Add ${e.interface ?? ""} [${(e.ips ?? []).join(" ")}] from ${e.name}`;
}
