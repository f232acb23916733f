/**
 * CNI results: validating what a delegate prints and converting between spec versions.
 *
 * Every version converts through one internal form, {@linkcode CurrentResult}, using the explicit
 * `CONVERTERS` table below: one row per version, nothing registers itself elsewhere. The rules
 * follow libcni's converters: going down drops fields the older version lacks, and 0.1.0/0.2.0
 * keep only the first address of each family (CNI spec, "Version considerations").
 *
 * @module
 */

import { CniError, ErrorCode } from "./errors.ts";
import type { CniVersion } from "./version.ts";
import {
  bad,
  cidrFamily,
  type CurrentResult,
  DNS,
  type Dns,
  familyOf,
  INTERFACE,
  IP,
  type IpConfig,
  type IpConfig020,
  isObject,
  KEYS,
  LEGACY_IP,
  list,
  Malformed,
  nested,
  type Obj,
  record,
  required,
  type Result020,
  ROUTE,
  type Route,
  show,
  str,
} from "./result_types.ts";

export type {
  AnyResult,
  CurrentResult,
  Dns,
  Interface,
  Interface100,
  IpConfig,
  IpConfig020,
  IpConfig040,
  Result020,
  Result040,
  Result100,
  Result110,
  Route,
  Route100,
} from "./result_types.ts";

/** Reads one version's results into the internal form and writes the internal form back. */
type Converter = {
  /** Validates a result of this version (throws code 102) and returns the internal form. */
  toCurrent(result: unknown): CurrentResult;
  /** Writes a result of this version, `cniVersion` first, spec fields only. */
  fromCurrent(result: CurrentResult): Record<string, unknown>;
};

/** How a list-shaped (0.3.0 and later) version differs from 1.1.0. */
type ListShape = {
  version: "0.3.0" | "0.3.1" | "0.4.0" | "1.0.0" | "1.1.0";
  /** `ips[].version` is required (0.3.x, 0.4.0). */
  ipVersion: boolean;
  /** The 1.1.0 interface and route fields exist. */
  extended: boolean;
};

const CONVERTERS: Readonly<Record<CniVersion, Converter>> = {
  "0.1.0": legacy("0.1.0"),
  "0.2.0": legacy("0.2.0"),
  "0.3.0": listShaped({ version: "0.3.0", ipVersion: true, extended: false }),
  "0.3.1": listShaped({ version: "0.3.1", ipVersion: true, extended: false }),
  "0.4.0": listShaped({ version: "0.4.0", ipVersion: true, extended: false }),
  "1.0.0": listShaped({ version: "1.0.0", ipVersion: false, extended: false }),
  "1.1.0": listShaped({ version: "1.1.0", ipVersion: false, extended: true }),
};

/**
 * Validates a result of `version` (as a delegate prints it) and returns the internal form.
 * Unknown keys, including fields newer than `version`, are ignored; `null` counts as absent,
 * as it does for Go plugins.
 *
 * @param json the parsed result
 * @param version the version the result is written in (see {@linkcode resultVersion})
 * @returns the result in the 1.1.0 shape, holding only spec fields
 * @throws {CniError} code 102 naming the first malformed field
 * @example
 * ```ts
 * const r = parseResult({ cniVersion: "1.0.0", ips: [{ address: "10.1.0.5/16" }] }, "1.0.0");
 * if (r.ips?.[0]?.address !== "10.1.0.5/16") throw new Error();
 * ```
 */
export function parseResult(json: unknown, version: CniVersion): CurrentResult {
  return CONVERTERS[version].toCurrent(json);
}

/**
 * Writes an internal-form result as a result of `version`.
 *
 * @param result a valid result, as {@linkcode parseResult} returns
 * @param version the version to write
 * @returns the result object, `cniVersion` first, spec fields only, sharing no lists with `result`
 * @throws {CniError} code 1 when `version` is 0.1.0/0.2.0 and the result has no IP address
 */
export function formatResult(result: CurrentResult, version: CniVersion): Record<string, unknown> {
  return CONVERTERS[version].fromCurrent(result);
}

/**
 * Converts a result from one spec version to another through the internal form.
 *
 * @param result the parsed result of version `from`
 * @param from the version `result` is written in
 * @param to the version wanted
 * @returns the result written for `to`, with `cniVersion: to` first
 * @throws {CniError} code 102 when `result` is not valid for `from`; code 1 when `to` is
 * 0.1.0/0.2.0 and the result has no IP address
 * @example
 * ```ts
 * const result = { cniVersion: "1.1.0", ips: [{ address: "10.1.0.5/16" }] };
 * const old = convertResult(result, "1.1.0", "0.4.0");
 * // {"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.0.5/16"}]}
 * if (JSON.stringify(old.ips) !== '[{"version":"4","address":"10.1.0.5/16"}]') throw new Error();
 * ```
 */
export function convertResult(
  result: unknown,
  from: CniVersion,
  to: CniVersion,
): Record<string, unknown> {
  return CONVERTERS[to].fromCurrent(CONVERTERS[from].toCurrent(result));
}

/**
 * Reads the `cniVersion` a result declares, without validating anything else.
 *
 * @param json the parsed result
 * @returns the declared version, or undefined when `json` has no string `cniVersion`
 */
export function resultVersion(json: unknown): string | undefined {
  if (!isObject(json)) return undefined;
  return typeof json.cniVersion === "string" ? json.cniVersion : undefined;
}

// ---- the rows of the table ----

function legacy(version: "0.1.0" | "0.2.0"): Converter {
  return {
    toCurrent: (json) => checked(json, version, readLegacy),
    fromCurrent: (r) => writeLegacy(r, version),
  };
}

function listShaped(shape: ListShape): Converter {
  return {
    toCurrent: (json) => checked(json, shape.version, (o) => readListShaped(o, shape)),
    fromCurrent: (r) => writeListShaped(r, shape),
  };
}

// ---- reading ----

function checked(json: unknown, version: string, read: (o: Obj) => CurrentResult): CurrentResult {
  try {
    if (!isObject(json)) throw new Malformed(`expected a JSON object, got ${show(json)}`);
    if (json.cniVersion != null && json.cniVersion !== version) {
      bad("cniVersion", `${show(json.cniVersion)} is not "${version}"`);
    }
    return read(json);
  } catch (e) {
    if (!(e instanceof Malformed)) throw e;
    throw new CniError(
      ErrorCode.DelegateBadOutput,
      `Result is not valid for cniVersion ${version}`,
      e.message,
    );
  }
}

function readListShaped(o: Obj, shape: ListShape): CurrentResult {
  const size = shape.extended ? "extended" : "base";
  const interfaces = list(record(INTERFACE, KEYS.interface[size]))(o, "interfaces", "");
  const readIp = record(IP, KEYS.ip);
  const ips = list((v, path) => {
    const ip = readIp(v, path);
    if (shape.ipVersion) {
      const version = required(str)(v as Obj, "version", path);
      if (version !== String(cidrFamily(ip.address))) {
        bad(`${path}.version`, `${show(version)} does not match address ${show(ip.address)}`);
      }
    }
    const count = interfaces?.length ?? 0;
    if (ip.interface !== undefined && ip.interface >= count) {
      bad(
        `${path}.interface`,
        `${ip.interface} does not index the interfaces list (length ${count})`,
      );
    }
    return ip;
  })(o, "ips", "");
  return pruned<CurrentResult>({
    interfaces,
    ips,
    routes: list(record(ROUTE, KEYS.route[size]))(o, "routes", ""),
    dns: nested(DNS, KEYS.dns)(o, "dns", ""),
  });
}

function readLegacy(o: Obj): CurrentResult {
  const ips: IpConfig[] = [];
  const routes: Route[] = [];
  for (const [key, family] of [["ip4", 4], ["ip6", 6]] as const) {
    const c = nested(LEGACY_IP, ["ip", "gateway", "routes"])(o, key, "");
    if (!c) continue;
    if (cidrFamily(c.ip) !== family) bad(`${key}.ip`, `${show(c.ip)} is not an IPv${family} CIDR`);
    ips.push(pruned<IpConfig>({ address: c.ip, gateway: c.gateway, interface: undefined }));
    routes.push(...c.routes ?? []);
  }
  return pruned<CurrentResult>({
    interfaces: undefined,
    ips: ips.length ? ips : undefined,
    routes: routes.length ? routes : undefined,
    dns: nested(DNS, KEYS.dns)(o, "dns", ""),
  });
}

// ---- writing ----

function writeListShaped(r: CurrentResult, shape: ListShape): Record<string, unknown> {
  const size = shape.extended ? "extended" : "base";
  const ips = r.ips?.map((ip) => {
    const out = pick(ip, KEYS.ip);
    return shape.ipVersion ? { version: String(familyOf(ip.address)), ...out } : out;
  });
  return pruned<{ cniVersion: string; interfaces?: Obj[]; ips?: Obj[]; routes?: Obj[]; dns?: Dns }>(
    {
      cniVersion: shape.version,
      interfaces: r.interfaces?.map((i) => pick(i, KEYS.interface[size])),
      ips,
      routes: r.routes?.map((rt) => pick(rt, KEYS.route[size])),
      dns: r.dns && pick(r.dns, KEYS.dns),
    },
  );
}

function writeLegacy(r: CurrentResult, version: "0.1.0" | "0.2.0"): Result020 {
  const family = (family: 4 | 6): IpConfig020 | undefined => {
    const ip = r.ips?.find((c) => familyOf(c.address) === family);
    if (!ip) return undefined;
    // Routes follow the family of their destination; a family without an address loses its routes.
    const routes = r.routes?.filter((rt) => familyOf(rt.dst) === family)
      .map((rt) => pick(rt, KEYS.route.base));
    return pruned<IpConfig020>({
      ip: ip.address,
      gateway: ip.gateway,
      routes: routes?.length ? routes : undefined,
    });
  };
  const ip4 = family(4);
  const ip6 = family(6);
  if (!ip4 && !ip6) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `Cannot convert result to cniVersion ${version}`,
      "it has no IP address, and that version needs ip4 or ip6",
    );
  }
  return pruned<Result020>({ cniVersion: version, ip4, ip6, dns: r.dns && pick(r.dns, KEYS.dns) });
}

/** Copies the defined fields `keys` of `o` in that order; lists are copied, not shared. */
function pick<T, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) {
    const v = o[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? [...v] as T[K] : v;
  }
  return out as Pick<T, K>;
}

/**
 * Drops the keys whose value is undefined, keeping key order. Listing every key (`-?`) makes the
 * compiler catch a field forgotten in a reader or writer.
 */
function pruned<T>(o: { [K in keyof T]-?: T[K] | undefined }): T {
  const rec = o as Record<string, unknown>;
  for (const k of Object.keys(rec)) if (rec[k] === undefined) delete rec[k];
  return o as T;
}
