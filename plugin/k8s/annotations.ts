/**
 * The pod annotations that choose networks (multi-network spec v1.2/v1.3 and Multus):
 * `k8s.v1.cni.cncf.io/networks` in its JSON and text forms, and
 * `v1.multus-cni.io/default-network`.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";

/** The annotation listing a pod's additional networks. */
export const NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks";
/** The annotation replacing the cluster network of one pod (Multus). */
export const DEFAULT_NETWORK_ANNOTATION = "v1.multus-cni.io/default-network";
/** The annotation multicni writes after ADD. */
export const STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status";

/** One network a pod asks for: a NetworkSelectionElement of the spec, checked. */
export interface NetworkSelectionElement {
  name: string;
  namespace: string;
  /** `interface`: the interface name inside the pod. */
  interface?: string;
  ips?: string[];
  mac?: string;
  infinibandGuid?: string;
  portMappings?: Record<string, unknown>[];
  bandwidth?: Record<string, unknown>;
  deviceID?: string;
  /** `cni-args`: merged into the delegate's `args.cni`. */
  cniArgs?: Record<string, unknown>;
  /** `default-route`: gateways whose default routes go through this interface. */
  defaultRoute?: string[];
  /** `ipam-claim-reference` (spec v1.3). */
  ipamClaimReference?: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function invalid(why: string): CniError {
  return new CniError(
    ErrorCode.InvalidNetworkConfig,
    `Invalid pod annotation "${NETWORKS_ANNOTATION}"`,
    why,
  );
}

function checkLabel(value: string, what: string, mk: (why: string) => CniError): void {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw mk(
      `${what} ${JSON.stringify(value)} is not a DNS-1123 label (lower case letters, digits ` +
        "and '-', starting and ending with a letter or digit, at most 63 characters)",
    );
  }
}

/** True when `s` is an IPv4 or IPv6 address. */
export function isIp(s: string): boolean {
  return ipFamily(s) !== undefined;
}

/**
 * The family of an address (no prefix).
 *
 * @param s the text
 * @returns 4, 6, or undefined when it is not an address
 */
export function ipFamily(s: string): 4 | 6 | undefined {
  if (/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s)) {
    return 4;
  }
  if (!s.includes(":") || /[^0-9a-fA-F:.]/.test(s)) return undefined;
  try {
    new URL(`http://[${s}]/`);
    return 6;
  } catch {
    return undefined;
  }
}

function isIpOrCidr(s: string): boolean {
  const [ip, prefix, ...rest] = s.split("/");
  if (rest.length > 0 || ip === undefined) return false;
  const fam = ipFamily(ip);
  if (fam === undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (fam === 4 ? 32 : 128);
}

/**
 * Parses one text item `[namespace/]name[@interface]` (whitespace around each part trimmed).
 *
 * @param item the item
 * @param defaultNamespace the namespace when the item names none
 * @param mk builds the error
 * @returns the element
 */
function parseTextItem(
  item: string,
  defaultNamespace: string,
  mk: (why: string) => CniError,
): NetworkSelectionElement {
  const slash = item.split("/");
  if (slash.length > 2) throw mk(`${JSON.stringify(item)} has more than one "/"`);
  const nsPart = slash.length === 2 ? slash[0]!.trim() : undefined;
  const rest = slash[slash.length - 1]!;
  const at = rest.split("@");
  if (at.length > 2) throw mk(`${JSON.stringify(item)} has more than one "@"`);
  const name = at[0]!.trim();
  const ifname = at.length === 2 ? at[1]!.trim() : undefined;
  if (name === "") throw mk(`${JSON.stringify(item)} names no network`);
  checkLabel(name, "network name", mk);
  if (nsPart !== undefined) checkLabel(nsPart, "namespace", mk);
  if (ifname === "") throw mk(`${JSON.stringify(item)} has an empty interface name after "@"`);
  const el: NetworkSelectionElement = { name, namespace: nsPart ?? defaultNamespace };
  if (ifname !== undefined) el.interface = ifname;
  return el;
}

function field<T>(
  o: Record<string, unknown>,
  key: string,
  at: string,
  check: (v: unknown) => v is T,
  type: string,
): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) throw invalid(`${at}: "${key}" must be ${type}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isObjectList = (v: unknown): v is Record<string, unknown>[] =>
  Array.isArray(v) && v.every(isObject);

/** Reads one element of the JSON form. */
function parseJsonElement(
  raw: unknown,
  index: number,
  defaultNamespace: string,
): NetworkSelectionElement {
  const at = `element ${index}`;
  if (!isObject(raw)) throw invalid(`${at} is not an object`);
  const name = field(raw, "name", at, isString, "a string");
  if (name === undefined || name === "") throw invalid(`${at} has no "name"`);
  checkLabel(name, `${at}: name`, invalid);
  const namespace = field(raw, "namespace", at, isString, "a string") || defaultNamespace;
  checkLabel(namespace, `${at}: namespace`, invalid);
  const el: NetworkSelectionElement = { name, namespace };
  const iface = field(raw, "interface", at, isString, "a string");
  if (iface) el.interface = iface;
  const ips = field(raw, "ips", at, isStringList, "a list of strings");
  if (ips) {
    const bad = ips.find((ip) => !isIpOrCidr(ip));
    if (bad !== undefined) throw invalid(`${at}: "ips" entry ${JSON.stringify(bad)} is not an IP`);
    el.ips = ips;
  }
  const mac = field(raw, "mac", at, isString, "a string");
  if (mac) el.mac = mac;
  const guid = field(raw, "infiniband-guid", at, isString, "a string");
  if (guid) el.infinibandGuid = guid;
  const pm = field(raw, "portMappings", at, isObjectList, "a list of objects");
  if (pm) el.portMappings = pm;
  const bw = field(raw, "bandwidth", at, isObject, "an object");
  if (bw) el.bandwidth = bw;
  const dev = field(raw, "deviceID", at, isString, "a string");
  if (dev) el.deviceID = dev;
  const args = field(raw, "cni-args", at, isObject, "an object");
  if (args) el.cniArgs = args;
  const gws = field(raw, "default-route", at, isStringList, "a list of strings");
  if (gws) {
    const bad = gws.find((g) => !isIp(g));
    if (bad !== undefined) {
      throw invalid(`${at}: "default-route" entry ${JSON.stringify(bad)} is not an IP address`);
    }
    if (gws.length > 0) el.defaultRoute = gws;
  }
  const claim = field(raw, "ipam-claim-reference", at, isString, "a string");
  if (claim) el.ipamClaimReference = claim;
  return el;
}

/**
 * Parses `k8s.v1.cni.cncf.io/networks`. A value containing `[`, `{` or `"` is JSON and must be a
 * list of selection elements; anything else is the text form, items `[ns/]name[@ifname]`
 * separated by commas. A missing namespace is the pod's.
 *
 * @param value the annotation value
 * @param podNamespace the pod's namespace
 * @returns the elements in order (empty for an empty value)
 * @throws {CniError} code 7 saying what is wrong
 * @example
 * ```ts
 * const els = parseNetworksAnnotation("a, other/b@fast0", "default");
 * // [{name: "a", namespace: "default"}, {name: "b", namespace: "other", interface: "fast0"}]
 * if (els[1]?.interface !== "fast0") throw new Error();
 * ```
 */
export function parseNetworksAnnotation(
  value: string,
  podNamespace: string,
): NetworkSelectionElement[] {
  if (value.trim() === "") return [];
  if (/[[{"]/.test(value)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (e) {
      throw invalid(`not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw invalid("the JSON form must be a list");
    return parsed.map((raw, i) => parseJsonElement(raw, i, podNamespace));
  }
  return value.split(",").map((item) => parseTextItem(item.trim(), podNamespace, invalid));
}

/**
 * Parses `v1.multus-cni.io/default-network`: one network, `[ns/]name`, whose namespace defaults
 * to `multusNamespace`. The JSON form (one element, or a list of one) is accepted too.
 *
 * @param value the annotation value
 * @param multusNamespace where the NAD is looked up when the value names no namespace
 * @returns the element
 * @throws {CniError} code 7 saying what is wrong
 */
export function parseDefaultNetworkAnnotation(
  value: string,
  multusNamespace: string,
): NetworkSelectionElement {
  const mk = (why: string) =>
    new CniError(
      ErrorCode.InvalidNetworkConfig,
      `Invalid pod annotation "${DEFAULT_NETWORK_ANNOTATION}"`,
      why,
    );
  const v = value.trim();
  let els: NetworkSelectionElement[];
  if (/[[{"]/.test(v)) {
    const wrapped = v.startsWith("{") ? `[${v}]` : v;
    try {
      els = parseNetworksAnnotation(wrapped, multusNamespace);
    } catch (e) {
      throw mk((e as CniError).details);
    }
  } else {
    els = v === "" ? [] : v.split(",").map((i) => parseTextItem(i.trim(), multusNamespace, mk));
  }
  const [first, ...more] = els;
  if (!first || more.length > 0) throw mk("it must name exactly one network");
  if (first.interface !== undefined) {
    throw mk('the default network always uses the runtime\'s interface name: remove "@"');
  }
  return first;
}

/**
 * The runtime config a selection element asks for, under the CNI capability names.
 *
 * @param el the element
 * @returns `ips`, `mac`, `infinibandGUID`, `portMappings`, `bandwidth`, `deviceID` as given
 */
export function runtimeConfigOf(el: NetworkSelectionElement): Record<string, unknown> {
  const rc: Record<string, unknown> = {};
  if (el.ips) rc.ips = el.ips;
  if (el.mac) rc.mac = el.mac;
  if (el.infinibandGuid) rc.infinibandGUID = el.infinibandGuid;
  if (el.portMappings) rc.portMappings = el.portMappings;
  if (el.bandwidth) rc.bandwidth = el.bandwidth;
  if (el.deviceID) rc.deviceID = el.deviceID;
  return rc;
}
