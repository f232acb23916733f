/**
 * Kubernetes: networks from pod annotations and NetworkAttachmentDefinitions, and the
 * network-status annotation, events and requested default routes after ADD. Loaded by
 * `core/sources.ts` only when Kubernetes is configured and the runtime names a pod.
 *
 * It never runs a delegate: it produces plan inputs and consumes results.
 *
 * @module
 */

import type { RawResult } from "../invoke/chain.ts";
import type { NetworkSelection, Plan } from "../core/plan.ts";
import type { K8sContext } from "../core/sources.ts";
import { K8sClient } from "./client.ts";
import { type ClusterAccess, inClusterAccess, loadKubeconfig } from "./kubeconfig.ts";
import { getNad } from "./nad.ts";
import { getPod, podRefOf, podUidProblem } from "./pod.ts";
import { MissingNetworkError, podNetworks } from "./select.ts";
import { k8sSettings } from "./settings.ts";
import { addedInterfaceMessage, networkStatus, postEvent, writeNetworkStatus } from "./status.ts";
import { CniError, ErrorCode } from "../protocol/errors.ts";

function access(ctx: K8sContext): Promise<ClusterAccess> {
  return ctx.conf.kubeconfig ? loadKubeconfig(ctx.conf.kubeconfig) : inClusterAccess(ctx.env);
}

/**
 * Chooses the pod's networks. For DEL (reached only when nothing is cached) every failure, a
 * missing pod or a re-created pod yields undefined: the config's own networks are then deleted,
 * best effort, and DEL never waits on a broken API longer than the deadline.
 *
 * @param ctx the call
 * @returns the networks, or undefined to use the config's own
 * @throws {CniError} code 11 when the API cannot be asked or the pod is not the runtime's, 7 for
 *   invalid annotations, missing NADs and namespace violations
 */
export async function selectNetworks(ctx: K8sContext): Promise<NetworkSelection[] | undefined> {
  const ref = podRefOf(ctx.req.args.argsMap);
  if (!ref) return undefined;
  const isDel = ctx.req.args.command === "DEL";
  const fields = { containerId: ctx.req.args.containerId, pod: `${ref.namespace}/${ref.name}` };
  let client: K8sClient | undefined;
  try {
    const settings = k8sSettings(ctx.req.conf);
    client = new K8sClient(await access(ctx), settings.limits, ctx.log);
    const api = client;
    const pod = await getPod(api, ref);
    if (!pod) {
      if (isDel) return undefined;
      throw new CniError(
        ErrorCode.TryAgainLater,
        `Pod "${ref.namespace}/${ref.name}" not found`,
        "the Kubernetes API has no such pod",
      );
    }
    const uidProblem = podUidProblem(pod, ref);
    if (uidProblem) {
      if (isDel) return undefined;
      throw new CniError(
        ErrorCode.TryAgainLater,
        `Pod "${ref.namespace}/${ref.name}" is not the one being set up`,
        uidProblem,
      );
    }
    try {
      const nets = await podNetworks(ctx.conf, pod, (ns, name) => getNad(api, ns, name));
      ctx.log.verbose(`Kubernetes selected ${nets.selections.length} network(s)`, fields);
      return nets.selections.map((s, i) => {
        const gws = nets.defaultRoutes.get(i);
        return gws ? { ...s, defaultRoute: gws } : s;
      });
    } catch (e) {
      if (e instanceof MissingNetworkError && !isDel) {
        await Promise.all(e.missing.map((m) => {
          const [ns, name] = m.split("/");
          return postEvent(api, pod.metadata, {
            reason: "NoNetworkFound",
            type: "Warning",
            message: `cannot find a network-attachment-definition (${name}) in namespace (${ns})`,
          }, new Date()).catch((err) =>
            ctx.log.error(`cannot post NoNetworkFound event: ${(err as Error).message}`, fields)
          );
        }));
      }
      throw e;
    }
  } catch (e) {
    if (!isDel) throw e;
    ctx.log.error(
      `DEL without cache cannot ask Kubernetes, using the config's networks: ${
        (e as Error).message
      }`,
      fields,
    );
    return undefined;
  } finally {
    client?.close();
  }
}

/**
 * After a successful ADD (default routes already moved by the core): writes the pod's
 * network-status annotation and posts an `AddedInterface` event per interface. Failures are
 * logged, never thrown: a working pod network is not undone for a report.
 *
 * @param ctx the call
 * @param plan the executed plan
 * @param results the results by attachment index
 */
export async function reportAdded(
  ctx: K8sContext,
  plan: Plan,
  results: readonly RawResult[],
): Promise<void> {
  const ref = podRefOf(ctx.req.args.argsMap);
  if (!ref) return;
  const fields = { containerId: plan.containerId, pod: `${ref.namespace}/${ref.name}` };
  const routes = new Map<number, string[]>();
  for (const a of plan.attachments) if (a.defaultRoute) routes.set(a.index, a.defaultRoute);
  const problem = (what: string) => (e: unknown) =>
    ctx.log.error(`${what}: ${(e as Error).message}`, fields);
  let client: K8sClient | undefined;
  try {
    const settings = k8sSettings(ctx.req.conf);
    client = new K8sClient(await access(ctx), settings.limits, ctx.log);
    const api = client;
    const entries = networkStatus(plan, results, routes, settings.statusFormat);
    const meta = { name: ref.name, namespace: ref.namespace, ...(ref.uid ? { uid: ref.uid } : {}) };
    const now = new Date();
    await Promise.all([
      writeNetworkStatus(api, ref, entries, ctx.log).catch(problem("cannot write network-status")),
      ...entries.map((e) =>
        postEvent(api, meta, {
          reason: "AddedInterface",
          type: "Normal",
          message: addedInterfaceMessage(e),
        }, now).catch(problem("cannot post AddedInterface event"))
      ),
    ]);
  } catch (e) {
    problem("cannot report to Kubernetes")(e);
  } finally {
    client?.close();
  }
}
