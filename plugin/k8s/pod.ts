/**
 * The pod a CNI call is for: which one CNI_ARGS names, reading it, and checking it is the same
 * pod the runtime means (K8S_POD_UID).
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { K8sClient } from "./client.ts";

/** The pod named by CNI_ARGS. */
export interface PodRef {
  namespace: string;
  name: string;
  /** K8S_POD_UID, when the runtime passes it. */
  uid?: string;
}

/** The parts of a core/v1 Pod multicni reads; the rest of the object is kept as is. */
export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * The pod of a call, from CNI_ARGS.
 *
 * @param argsMap CNI_ARGS parsed
 * @returns the reference, or undefined when K8S_POD_NAMESPACE or K8S_POD_NAME is missing
 */
export function podRefOf(argsMap: ReadonlyMap<string, string>): PodRef | undefined {
  const namespace = argsMap.get("K8S_POD_NAMESPACE");
  const name = argsMap.get("K8S_POD_NAME");
  if (!namespace || !name) return undefined;
  const uid = argsMap.get("K8S_POD_UID");
  return uid ? { namespace, name, uid } : { namespace, name };
}

/** The REST path of a pod (or, with `sub`, of its subresource). */
export function podPath(ref: Pick<PodRef, "namespace" | "name">, sub = ""): string {
  return `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods/` +
    `${encodeURIComponent(ref.name)}${sub ? `/${sub}` : ""}`;
}

/**
 * Reads a pod.
 *
 * @param client the API client
 * @param ref which pod
 * @returns the pod, or undefined when it does not exist (404)
 * @throws {CniError} code 11 when the API fails
 */
export async function getPod(client: K8sClient, ref: PodRef): Promise<Pod | undefined> {
  const res = await client.request({
    what: `GET pod ${ref.namespace}/${ref.name}`,
    method: "GET",
    path: podPath(ref),
    expect: [404],
  });
  if (res.status === 404) return undefined;
  const pod = res.body as Pod | undefined;
  if (!pod || typeof pod !== "object" || typeof pod.metadata !== "object" || !pod.metadata) {
    throw new CniError(
      ErrorCode.TryAgainLater,
      `Kubernetes API call "GET pod ${ref.namespace}/${ref.name}" failed`,
      "the answer is not a Pod object",
    );
  }
  return pod;
}

/**
 * True for a static pod (from a file or URL on the node): its API object is a mirror whose UID
 * differs from the one the kubelet gives the runtime.
 *
 * @param pod the pod
 * @returns whether the UID check must be skipped
 */
export function isStaticPod(pod: Pod): boolean {
  const a = pod.metadata.annotations ?? {};
  const source = a["kubernetes.io/config.source"];
  return source === "file" || source === "http" || "kubernetes.io/config.mirror" in a;
}

/**
 * Describes a UID mismatch: the pod was deleted and re-created under the same name, so the API
 * object is not the one this sandbox belongs to.
 *
 * @param pod the pod read from the API
 * @param ref the pod the runtime named
 * @returns the problem, or undefined when the pod is the right one
 */
export function podUidProblem(pod: Pod, ref: PodRef): string | undefined {
  if (!ref.uid || isStaticPod(pod) || pod.metadata.uid === undefined) return undefined;
  if (pod.metadata.uid === ref.uid) return undefined;
  return `the runtime asks for UID "${ref.uid}" but the API has UID "${pod.metadata.uid}" ` +
    "(the pod was re-created)";
}
