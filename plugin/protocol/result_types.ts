/**
 * The shapes of a CNI ADD result in every spec version multicni speaks (CNI spec, "Success";
 * older shapes from the 0.2.0, 0.4.0 and 1.0.0 SPEC.md): their types, which fields each version
 * has in which order ({@linkcode KEYS}), and how each field is checked ({@linkcode Schema}).
 *
 * {@linkcode CurrentResult} (the 1.1.0 shape without `cniVersion`) is the one internal form; the
 * `Result*` types describe what a plugin prints for each version. `result.ts` converts between them
 * and is the public face: import from there. The values here are its building blocks.
 *
 * @module
 */

/** An interface a plugin created or configured (1.1.0 shape). */
export type Interface = {
  /** The interface name. */
  name: string;
  /** The hardware address. */
  mac?: string;
  /** The MTU (since 1.1.0). */
  mtu?: number;
  /** The path of the network namespace holding the interface; absent for host interfaces. */
  sandbox?: string;
  /** The socket path of a userspace interface, such as vhost-user (since 1.1.0). */
  socketPath?: string;
  /** The PCI address of the device backing the interface (since 1.1.0). */
  pciID?: string;
};

/** An IP address assigned by a plugin (1.0.0 and 1.1.0 shape). */
export type IpConfig = {
  /** The address with its prefix length, in CIDR notation. */
  address: string;
  /** The default gateway for this subnet, if one exists. */
  gateway?: string;
  /** Index into `interfaces` of the interface holding the address. */
  interface?: number;
};

/** A route a plugin installed (1.1.0 shape). */
export type Route = {
  /** The destination in CIDR notation. */
  dst: string;
  /** The next hop; absent means the gateway of the matching `ips` entry or the plugin default. */
  gw?: string;
  /** The route MTU (since 1.1.0). */
  mtu?: number;
  /** The advertised MSS (since 1.1.0). */
  advmss?: number;
  /** The route priority, or metric (since 1.1.0). */
  priority?: number;
  /** The routing table (since 1.1.0). */
  table?: number;
  /** The route scope (since 1.1.0). */
  scope?: number;
};

/** DNS settings; the same shape in every version. */
export type Dns = {
  /** Name server addresses in priority order. */
  nameservers?: string[];
  /** The local domain for short host name lookups. */
  domain?: string;
  /** Search domains in priority order. */
  search?: string[];
  /** Resolver options. */
  options?: string[];
};

/** The internal form of every result: the 1.1.0 result without `cniVersion`. */
export type CurrentResult = {
  /** Interfaces the plugins created. */
  interfaces?: Interface[];
  /** Assigned addresses. */
  ips?: IpConfig[];
  /** Installed routes. */
  routes?: Route[];
  /** DNS settings. */
  dns?: Dns;
};

/** A 1.1.0 result as printed. */
export type Result110 = { cniVersion: "1.1.0" } & CurrentResult;

/** An interface before 1.1.0: name, mac and sandbox only. */
export type Interface100 = Pick<Interface, "name" | "mac" | "sandbox">;

/** A route before 1.1.0: destination and gateway only. */
export type Route100 = Pick<Route, "dst" | "gw">;

/** A 1.0.0 result as printed: no `ips[].version`, no 1.1.0 fields. */
export type Result100 = {
  cniVersion: "1.0.0";
  interfaces?: Interface100[];
  ips?: IpConfig[];
  routes?: Route100[];
  dns?: Dns;
};

/** An address in a 0.3.x or 0.4.0 result: `version` is required and names the family. */
export type IpConfig040 = { version: "4" | "6" } & IpConfig;

/** A 0.3.0, 0.3.1 or 0.4.0 result as printed. */
export type Result040 = {
  cniVersion: "0.3.0" | "0.3.1" | "0.4.0";
  interfaces?: Interface100[];
  ips?: IpConfig040[];
  routes?: Route100[];
  dns?: Dns;
};

/** One address family of a 0.1.0 or 0.2.0 result. */
export type IpConfig020 = {
  /** The address in CIDR notation. */
  ip: string;
  /** The default gateway, if one exists. */
  gateway?: string;
  /** Routes of this address family. */
  routes?: Route100[];
};

/** A 0.1.0 or 0.2.0 result as printed: at most one address per family, no interfaces. */
export type Result020 = {
  cniVersion: "0.1.0" | "0.2.0";
  ip4?: IpConfig020;
  ip6?: IpConfig020;
  dns?: Dns;
};

/** A result of any supported version, as printed. */
export type AnyResult = Result020 | Result040 | Result100 | Result110;

// ---- fields: how each is checked, and which ones each version has, in printing order ----

/** A parsed JSON object. */
export type Obj = Record<string, unknown>;

/** Reads `o[key]`: undefined when absent or null, throws {@linkcode Malformed} when wrong. */
export type Field<T> = (o: Obj, key: string, path: string) => T | undefined;

/** One field reader per key of `T`. */
export type Schema<T> = { readonly [K in keyof T]-?: Field<Exclude<T[K], undefined>> };

/** A malformed field; `result.ts` turns it into a CniError (code 102) naming the version. */
export class Malformed extends Error {}

/** Throws {@linkcode Malformed}: the field at `path` has `problem`. */
export function bad(path: string, problem: string): never {
  throw new Malformed(`${path} ${problem}`);
}

/** Joins an object path and a key (`ips[0]` + `address`). */
export function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** A string. */
export const str: Field<string> = (o, key, path) => {
  const v = o[key];
  if (v == null || typeof v === "string") return v ?? undefined;
  return bad(at(path, key), `${show(v)} is not a string`);
};

/** A non-negative integer. */
export const uint: Field<number> = (o, key, path) => {
  const v = o[key];
  if (v == null || (Number.isSafeInteger(v) && (v as number) >= 0)) {
    return (v ?? undefined) as number;
  }
  return bad(at(path, key), `${show(v)} is not a non-negative integer`);
};

/** An address with prefix length, IPv4 or IPv6. */
export const cidr: Field<string> = (o, key, path) => {
  const v = str(o, key, path);
  return v === undefined || cidrFamily(v) ? v : bad(at(path, key), `${show(v)} is not a CIDR`);
};

/** A bare IPv4 or IPv6 address. */
export const addr: Field<string> = (o, key, path) => {
  const v = str(o, key, path);
  return v === undefined || ipFamily(v) ? v : bad(at(path, key), `${show(v)} is not an IP address`);
};

/** Makes `field` fail when absent. */
export function required<T>(field: Field<T>): Field<T> {
  return (o, key, path) => field(o, key, path) ?? bad(at(path, key), "is missing");
}

/** A list whose items `item` reads; item paths are `key[i]`. */
export function list<T>(item: (v: unknown, path: string) => T): Field<T[]> {
  return (o, key, path) => {
    const v = o[key];
    if (v == null) return undefined;
    if (!Array.isArray(v)) bad(at(path, key), `${show(v)} is not a list`);
    return v.map((x, i) => item(x, `${at(path, key)}[${i}]`));
  };
}

/** Reads an object holding the fields `keys` of `schema`, in that order; ignores other keys. */
export function record<T, K extends keyof T>(schema: Schema<T>, keys: readonly K[]) {
  return (v: unknown, path: string): Pick<T, K> => {
    if (!isObject(v)) bad(path, `${show(v)} is not an object`);
    const out: Obj = {};
    for (const k of keys) {
      const value = schema[k](v, String(k), path);
      if (value !== undefined) out[String(k)] = value;
    }
    return out as Pick<T, K>;
  };
}

/** An object field read with {@linkcode record}. */
export function nested<T, K extends keyof T>(
  schema: Schema<T>,
  keys: readonly K[],
): Field<Pick<T, K>> {
  const read = record(schema, keys);
  return (o, key, path) => (o[key] == null ? undefined : read(o[key], at(path, key)));
}

/** A list of strings. */
export const strings = list((
  v,
  path,
) => (typeof v === "string" ? v : bad(path, `${show(v)} is not a string`)));

/** Interface fields (1.1.0). */
export const INTERFACE: Schema<Interface> = {
  name: required(str),
  mac: str,
  mtu: uint,
  sandbox: str,
  socketPath: str,
  pciID: str,
};
/** Address fields. */
export const IP: Schema<IpConfig> = { address: required(cidr), gateway: addr, interface: uint };
/** Route fields (1.1.0). */
export const ROUTE: Schema<Route> = {
  dst: required(cidr),
  gw: addr,
  mtu: uint,
  advmss: uint,
  priority: uint,
  table: uint,
  scope: uint,
};
/** DNS fields. */
export const DNS: Schema<Dns> = {
  nameservers: strings,
  domain: str,
  search: strings,
  options: strings,
};

/** Field order of every object, and which fields exist before 1.1.0 (`base`). */
export const KEYS = {
  interface: {
    base: ["name", "mac", "sandbox"],
    extended: ["name", "mac", "mtu", "sandbox", "socketPath", "pciID"],
  },
  route: {
    base: ["dst", "gw"],
    extended: ["dst", "gw", "mtu", "advmss", "priority", "table", "scope"],
  },
  ip: ["address", "gateway", "interface"],
  dns: ["nameservers", "domain", "search", "options"],
} as const;

/** Fields of `ip4`/`ip6` in 0.1.0 and 0.2.0. */
export const LEGACY_IP: Schema<IpConfig020> = {
  ip: required(cidr),
  gateway: addr,
  routes: list(record(ROUTE, KEYS.route.base)),
};

// ---- values ----

/** Tells whether `v` is a JSON object (not null, not a list). */
export function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `v` as short JSON for an error message. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * The family of an address already validated: only IPv6 text contains a colon. Unlike libcni
 * (Go's `To4`), an IPv4-mapped `::ffff:a.b.c.d` counts as IPv6: it is written as one, and
 * `ips[].version` must agree with how the address reads.
 */
export function familyOf(address: string): 4 | 6 {
  return address.includes(":") ? 6 : 4;
}

const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => OCTET.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  let body = s;
  if (s.includes(".")) {
    // A dotted IPv4 tail (::ffff:10.0.0.1) stands for the last two groups.
    const cut = s.lastIndexOf(":") + 1;
    if (cut === 0 || !isIPv4(s.slice(cut))) return false;
    body = `${s.slice(0, cut)}0:0`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === "" ? [] : h.split(":")));
  if (!groups.every((g) => HEXTET.test(g))) return false;
  return halves.length === 2 ? groups.length <= 7 : groups.length === 8;
}

function ipFamily(s: string): 4 | 6 | undefined {
  return isIPv4(s) ? 4 : isIPv6(s) ? 6 : undefined;
}

/** The family of a CIDR, or undefined when `s` is not one. */
export function cidrFamily(s: string): 4 | 6 | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const family = ipFamily(s.slice(0, slash));
  const prefix = s.slice(slash + 1);
  if (!family || !/^[0-9]{1,3}$/.test(prefix)) return undefined;
  return Number(prefix) <= (family === 4 ? 32 : 128) ? family : undefined;
}
