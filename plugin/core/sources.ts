/**
 * Where a container's networks come from: the config alone (inline delegates, clusterNetwork,
 * defaultNetworks) or, when Kubernetes is configured and the runtime names the pod, the pod's
 * annotations and NetworkAttachmentDefinitions (`plugin/k8s/`, loaded only then).
 *
 * @module
 */

import type { Request } from "../protocol/dispatch.ts";
import type { RawResult } from "../invoke/chain.ts";
import type { Logger } from "../log/types.ts";
import type { CoreDeps } from "./deps.ts";
import type { NetConf } from "./netconf.ts";
import { loadDelegates, type NetworkSelection, type Plan } from "./plan.ts";

/** What the Kubernetes module is given. */
export interface K8sContext {
  conf: NetConf;
  req: Request;
  /** The environment (KUBERNETES_SERVICE_HOST/PORT for in-cluster access). */
  env: Readonly<Record<string, string>>;
  log: Logger;
}

/** True when this call should consult Kubernetes: a kubeconfig or in-cluster access, and a pod. */
export function usesKubernetes(conf: NetConf, req: Request, env: Readonly<Record<string, string>>) {
  const inCluster = !!env.KUBERNETES_SERVICE_HOST && !!env.KUBERNETES_SERVICE_PORT;
  const pod = req.args.argsMap.get("K8S_POD_NAME") && req.args.argsMap.get("K8S_POD_NAMESPACE");
  return (conf.kubeconfig !== "" || inCluster) && !!pod;
}

/**
 * Chooses the networks of a container.
 *
 * @param deps dependencies
 * @param conf the meta config
 * @param req the request
 * @param log the log
 * @returns the networks in attachment order
 * @throws {CniError} when a network cannot be loaded or Kubernetes cannot be asked
 */
export async function selectNetworks(
  deps: CoreDeps,
  conf: NetConf,
  req: Request,
  log: Logger,
): Promise<NetworkSelection[]> {
  if (usesKubernetes(conf, req, deps.baseEnv)) {
    const k8s = await import("../k8s/mod.ts");
    const selected = await k8s.selectNetworks({ conf, req, env: deps.baseEnv, log });
    if (selected) return selected;
  }
  return (await loadDelegates(conf)).map((delegate) => ({ delegate }));
}

/**
 * Reports a finished ADD where the networks came from (Kubernetes: the pod's network-status
 * annotation and events). Never throws: a working pod network is not undone for a report.
 *
 * @param deps dependencies
 * @param conf the meta config
 * @param req the request
 * @param log the log
 * @param plan the executed plan
 * @param results the results, by attachment index
 */
export async function reportAdded(
  deps: CoreDeps,
  conf: NetConf,
  req: Request,
  log: Logger,
  plan: Plan,
  results: readonly RawResult[],
): Promise<void> {
  if (!usesKubernetes(conf, req, deps.baseEnv)) return;
  try {
    const k8s = await import("../k8s/mod.ts");
    await k8s.reportAdded({ conf, req, env: deps.baseEnv, log }, plan, results);
  } catch (e) {
    log.error(`cannot report the attachments to Kubernetes: ${(e as Error).message}`, {
      containerId: plan.containerId,
    });
  }
}
