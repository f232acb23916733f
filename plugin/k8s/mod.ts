/**
 * Kubernetes: networks from pod annotations and NetworkAttachmentDefinitions, and the
 * network-status annotation after ADD. (Placeholder until the Kubernetes issue lands: it selects
 * nothing, so the config's own networks are used.)
 *
 * @module
 */

import type { RawResult } from "../invoke/chain.ts";
import type { NetworkSelection, Plan } from "../core/plan.ts";
import type { K8sContext } from "../core/sources.ts";

/**
 * Chooses the pod's networks.
 *
 * @param _ctx the call
 * @returns the networks, or undefined to use the config's own
 */
export function selectNetworks(_ctx: K8sContext): Promise<NetworkSelection[] | undefined> {
  return Promise.resolve(undefined);
}

/**
 * Writes the pod's network-status annotation and events.
 *
 * @param _ctx the call
 * @param _plan the executed plan
 * @param _results the results by attachment index
 */
export function reportAdded(
  _ctx: K8sContext,
  _plan: Plan,
  _results: readonly RawResult[],
): Promise<void> {
  return Promise.resolve();
}
