/**
 * NetworkAttachmentDefinitions (`k8s.cni.cncf.io/v1`): reading one, and turning it into a
 * delegate config. An empty `spec.config` means "the conf file in confDir whose `name` is the
 * NAD's name"; a config without `name` gets the NAD's.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { CniVersion } from "../protocol/version.ts";
import { type DelegateConfig, loadNetwork, parseDelegate } from "../core/delegate.ts";
import type { K8sClient } from "./client.ts";

/** A NAD as read from the API: where it is and its config text (empty when not given). */
export interface Nad {
  namespace: string;
  name: string;
  config: string;
}

/** The REST path of a NAD. */
export function nadPath(namespace: string, name: string): string {
  return `/apis/k8s.cni.cncf.io/v1/namespaces/${encodeURIComponent(namespace)}/` +
    `network-attachment-definitions/${encodeURIComponent(name)}`;
}

/**
 * Reads a NAD.
 *
 * @param client the API client
 * @param namespace its namespace
 * @param name its name
 * @returns the NAD, or undefined when there is none (404)
 * @throws {CniError} code 11 when the API fails, 7 when the object is malformed
 */
export async function getNad(
  client: K8sClient,
  namespace: string,
  name: string,
): Promise<Nad | undefined> {
  const res = await client.request({
    what: `GET network-attachment-definition ${namespace}/${name}`,
    method: "GET",
    path: nadPath(namespace, name),
    expect: [404],
  });
  if (res.status === 404) return undefined;
  const obj = res.body as { spec?: { config?: unknown } } | undefined;
  const config = obj?.spec?.config;
  if (config !== undefined && config !== null && typeof config !== "string") {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `Invalid NetworkAttachmentDefinition "${namespace}/${name}"`,
      "spec.config is not a string",
    );
  }
  return { namespace, name, config: config ?? "" };
}

/**
 * The delegate a NAD describes.
 *
 * @param nad the NAD
 * @param confDir where a NAD with an empty config is looked up by name
 * @param inheritVersion the version for a config that names none
 * @returns the delegate
 * @throws {CniError} code 7 when the config is not valid JSON or not a valid delegate
 */
export async function delegateOfNad(
  nad: Nad,
  confDir: string,
  inheritVersion: CniVersion,
): Promise<DelegateConfig> {
  const where = `NetworkAttachmentDefinition "${nad.namespace}/${nad.name}"`;
  if (nad.config.trim() === "") {
    try {
      return await loadNetwork(nad.name, confDir, inheritVersion);
    } catch (e) {
      throw (e as CniError).withPrefix(`${where} has no spec.config`);
    }
  }
  let obj: unknown;
  try {
    obj = JSON.parse(nad.config);
  } catch (e) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `Invalid ${where}`,
      `spec.config is not valid JSON: ${(e as Error).message}`,
    );
  }
  if (obj !== null && typeof obj === "object" && !Array.isArray(obj) && !("name" in obj)) {
    // The spec lets the NAD's name stand in for the config's.
    obj = { ...obj, name: nad.name };
  }
  return parseDelegate(obj, inheritVersion, where);
}

/**
 * Merges a selection's `cni-args` into `args.cni` of the delegate's plugins (every plugin of a
 * conflist), the selection's values winning.
 *
 * @param d the delegate
 * @param cniArgs the selection's `cni-args`
 * @returns a new delegate
 */
export function withCniArgs(d: DelegateConfig, cniArgs: Record<string, unknown>): DelegateConfig {
  const merge = <T extends Record<string, unknown>>(p: T): T => {
    const args = p.args !== null && typeof p.args === "object"
      ? p.args as Record<string, unknown>
      : {};
    const cni = args.cni !== null && typeof args.cni === "object"
      ? args.cni as Record<string, unknown>
      : {};
    return { ...p, args: { ...args, cni: { ...cni, ...cniArgs } } };
  };
  return d.kind === "conf"
    ? { ...d, conf: merge(d.conf) }
    : { ...d, plugins: d.plugins.map(merge) };
}
