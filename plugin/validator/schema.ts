/**
 * The validator's rules as a valibot schema, for the typed parse of configs in TypeScript and as
 * the independent twin of the WebAssembly module in the differential test. Every issue's
 * message is the numeric {@linkcode Code} the module would report, so the two can be compared.
 *
 * Rules: see validator-wasm/assembly/ (the module) and README "Pre-flight validation".
 *
 * @module
 */

import * as v from "valibot";
import { Code } from "../../validator-wasm/assembly/codes.ts";
import { type Cidr, familyBits, mask, parseCidr, parseIp } from "./_net.ts";

const MAX_DEPTH = 10000;
const VERSIONS = new Set(["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]);
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/;

type Obj = Record<string, unknown>;
type AddIssue = (info: { message: string; path: v.IssuePathItem[] }) => void;

const m = (code: Code) => String(code);
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);
const present = (x: unknown) => x !== undefined && x !== null;

/** A path item for issues added by cross-field checks. */
function at(input: unknown, key: string | number, kind = "object"): v.IssuePathItem {
  return {
    type: kind,
    origin: "value",
    input,
    key,
    value: undefined,
  } as unknown as v.IssuePathItem;
}

/** A JSON object (not an array) with the given known keys; other keys pass. */
function object(entries: v.ObjectEntries): v.GenericSchema<unknown, Obj> {
  return v.pipe(
    v.custom<Obj>(isObj, m(Code.NotObject)),
    v.looseObject(entries, m(Code.Missing)),
  ) as unknown as v.GenericSchema<unknown, Obj>;
}

const str = v.nullish(v.string(m(Code.NotString)));
const bool = v.nullish(v.boolean(m(Code.NotBoolean)));

function integer(code: Code, min: number, max: number) {
  return v.nullish(v.custom<number>(
    (x) => typeof x === "number" && Number.isInteger(x) && x >= min && x <= max,
    m(code),
  ));
}
const int = integer(Code.NotInteger, -(2 ** 63), 2 ** 63);
const u32 = integer(Code.NotUint32, 0, 4294967295);
const u64 = integer(Code.NotUint64, 0, 2 ** 64);

const list = <S extends v.GenericSchema>(item: S) => v.nullish(v.array(item, m(Code.NotArray)));
const strList = list(v.nullable(v.string(m(Code.NotString))));

/** A map (`map[string]string` or `map[string]bool`); null values allowed. */
function map(ofBooleans: boolean) {
  return v.nullish(v.pipe(
    v.custom<Obj>(isObj, m(Code.NotObject)),
    v.rawCheck<Obj>(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      for (const [k, x] of Object.entries(dataset.value)) {
        const ok = x === null || typeof x === (ofBooleans ? "boolean" : "string");
        if (!ok) {
          (addIssue as AddIssue)({
            message: m(ofBooleans ? Code.NotBoolean : Code.NotString),
            path: [at(dataset.value, k, "map")],
          });
        }
      }
    }),
  ));
}

const ip = v.nullish(v.pipe(
  v.string(m(Code.NotString)),
  v.check((s) => s === "" || parseIp(s) !== undefined, m(Code.NotIp)),
));

const cidr = v.pipe(
  v.custom<unknown>(present, m(Code.Missing)),
  v.string(m(Code.NotString)),
  v.check((s) => parseCidr(s) !== undefined, m(Code.NotCidr)),
);

const hasHostBits = (c: Cidr) => (c.value & mask(c.family, c.prefix)) !== c.value;

/** A host-local subnet: a CIDR without host bits, large enough to allocate from. */
const subnet = v.pipe(
  cidr,
  v.check((s) => {
    const c = parseCidr(s);
    return !c || !hasHostBits(c);
  }, m(Code.HostBits)),
  v.check((s) => {
    const c = parseCidr(s);
    return !c || hasHostBits(c) || c.prefix <= familyBits(c.family) - 2;
  }, m(Code.SubnetTooSmall)),
);

function usableSubnet(x: unknown): Cidr | undefined {
  const c = typeof x === "string" ? parseCidr(x) : undefined;
  return c && !hasHostBits(c) && c.prefix <= familyBits(c.family) - 2 ? c : undefined;
}

interface Bounds {
  family: 4 | 6;
  start: bigint;
  end: bigint;
}

/**
 * Cross-field rules of one range: addresses in the subnet's family and inside it, start not
 * after end. Reports through `addIssue` when given; returns the range's bounds when usable.
 */
function rangeBounds(r: Obj, addIssue?: AddIssue): Bounds | undefined {
  const sub = usableSubnet(r.subnet);
  const addr: Record<string, bigint | undefined | null> = {};
  let broken = false;
  for (const key of ["rangeStart", "rangeEnd", "gateway"]) {
    const x = r[key];
    if (!present(x) || x === "") continue;
    const a = typeof x === "string" ? parseIp(x) : undefined;
    if (!a) {
      if (key !== "gateway") broken = true;
      continue;
    }
    if (!sub) {
      addr[key] = a.value;
      continue;
    }
    const code = a.family !== sub.family
      ? Code.FamilyMismatch
      : (a.value & mask(sub.family, sub.prefix)) !== sub.value
      ? Code.OutsideSubnet
      : undefined;
    if (code !== undefined) {
      addIssue?.({ message: m(code), path: [at(r, key)] });
      if (key !== "gateway") broken = true;
    } else addr[key] = a.value;
  }
  if (!sub || broken) return undefined;
  const all = (1n << BigInt(familyBits(sub.family))) - 1n;
  const start = addr.rangeStart ?? sub.value + 1n;
  const last = sub.value | (all & ~mask(sub.family, sub.prefix));
  const end = addr.rangeEnd ?? (sub.family === 4 ? last - 1n : last);
  if (start > end) {
    const key = addr.rangeStart !== undefined ? "rangeStart" : "rangeEnd";
    addIssue?.({ message: m(Code.StartAfterEnd), path: [at(r, key)] });
    return undefined;
  }
  return { family: sub.family, start, end };
}

const overlaps = (a: Bounds, b: Bounds) =>
  a.family === b.family && a.start <= b.end && b.start <= a.end;

const rangeKeys = { subnet, rangeStart: ip, rangeEnd: ip, gateway: ip };

const range = v.pipe(
  object(rangeKeys),
  v.rawCheck<Obj>(({ dataset, addIssue }) => {
    if (isObj(dataset.value)) rangeBounds(dataset.value, addIssue as AddIssue);
  }),
);

function setBounds(set: unknown): (Bounds | undefined)[] {
  return Array.isArray(set) ? set.map((r) => isObj(r) ? rangeBounds(r) : undefined) : [];
}

const rangeSet = v.pipe(
  v.array(range, m(Code.NotArray)),
  v.check((s) => s.length > 0, m(Code.RangeSetEmpty)),
  v.rawCheck<Obj[]>(({ dataset, addIssue }) => {
    const bounds = setBounds(dataset.value);
    let first: Bounds | undefined;
    bounds.forEach((b, j) => {
      if (!b) return;
      if (!first) first = b;
      else if (b.family !== first.family) {
        (addIssue as AddIssue)({ message: m(Code.RangeSetMixed), path: [at(bounds, j, "array")] });
      } else if (bounds.slice(0, j).some((q) => q && overlaps(q, b))) {
        (addIssue as AddIssue)({ message: m(Code.RangeOverlap), path: [at(bounds, j, "array")] });
      }
    });
  }),
);

const route = object({
  dst: cidr,
  gw: ip,
  mtu: int,
  advmss: int,
  priority: int,
  table: int,
  scope: int,
});

const dns = v.nullish(object({
  nameservers: strList,
  domain: str,
  search: strList,
  options: strList,
}));

const bareFileName = (s: string) => s !== "" && s !== "." && s !== ".." && !s.includes("/");

const ipamCommon = {
  type: v.nullish(v.pipe(
    v.string(m(Code.NotString)),
    v.check((s) => s === "" || bareFileName(s), m(Code.BadPluginType)),
  )),
};

function hostLocal(legacy: boolean, fromRuntime: boolean) {
  const legacyKeys = legacy ? rangeKeys : { rangeStart: ip, rangeEnd: ip, gateway: ip };
  return v.pipe(
    object({
      ...ipamCommon,
      ...legacyKeys,
      dataDir: str,
      resolvConf: str,
      routes: list(route),
      ranges: list(rangeSet),
    }),
    v.rawCheck<Obj>(({ dataset, addIssue }) => {
      const ipam = dataset.value;
      if (!isObj(ipam)) return;
      if (legacy) rangeBounds(ipam, addIssue as AddIssue);
      const r = ipam.ranges;
      const noList = !present(r) || (Array.isArray(r) && r.length === 0);
      if (!legacy && noList && !fromRuntime) {
        (addIssue as AddIssue)({ message: m(Code.NoRanges), path: [] });
      }
      const sets: { bounds: (Bounds | undefined)[]; path: v.IssuePathItem[] }[] = [];
      if (legacy) sets.push({ bounds: [rangeBounds(ipam)], path: [] });
      if (Array.isArray(r)) {
        r.forEach((set, s) => {
          if (Array.isArray(set)) {
            sets.push({ bounds: setBounds(set), path: [at(ipam, "ranges"), at(r, s, "array")] });
          }
        });
      }
      for (let b = 1; b < sets.length; b++) {
        const clash = sets.slice(0, b).some((a) =>
          a.bounds.some((x) => x && sets[b]!.bounds.some((y) => y && overlaps(x, y)))
        );
        if (clash) {
          (addIssue as AddIssue)({ message: m(Code.RangeSetOverlap), path: sets[b]!.path });
        }
      }
    }),
  );
}

const staticIpam = object({
  ...ipamCommon,
  addresses: list(object({ address: cidr, gateway: ip })),
  routes: list(route),
  dns,
});

const dhcpIpam = object({
  ...ipamCommon,
  daemonSocketPath: str,
  request: list(object({ skipDefault: bool, option: str })),
  provide: list(object({ option: str, value: str, fromArg: str })),
});

const genericIpam = object(ipamCommon);

function ipamFor(plugin: Obj) {
  return v.nullish(v.lazy((ipam: unknown): v.GenericSchema => {
    if (!isObj(ipam)) return genericIpam;
    const t = ipam.type;
    if (t === "host-local") {
      const caps = plugin.capabilities;
      return hostLocal(present(ipam.subnet), isObj(caps) && caps.ipRanges === true);
    }
    if (t === "static") return staticIpam;
    if (t === "dhcp") return dhcpIpam;
    return genericIpam;
  }));
}

/** Known keys of the reference plugins (containernetworking/plugins) and their JSON types. */
export const PLUGIN_ENTRIES: Readonly<Record<string, v.ObjectEntries>> = {
  bridge: {
    bridge: str,
    isGateway: bool,
    isDefaultGateway: bool,
    forceAddress: bool,
    ipMasq: bool,
    ipMasqBackend: str,
    mtu: int,
    hairpinMode: bool,
    promiscMode: bool,
    vlan: int,
    vlanTrunk: list(object({ minID: int, maxID: int, id: int })),
    preserveDefaultVlan: bool,
    macspoofchk: bool,
    enabledad: bool,
    disableContainerInterface: bool,
    portIsolation: bool,
  },
  macvlan: { master: str, mode: str, mtu: int, mac: str, linkInContainer: bool, bcqueuelen: u32 },
  ipvlan: { master: str, mode: str, mtu: int, linkInContainer: bool },
  ptp: { ipMasq: bool, ipMasqBackend: str, mtu: int },
  "host-device": { device: str, hwaddr: str, kernelpath: str, pciBusID: str },
  vlan: { master: str, vlanId: int, mtu: int, linkInContainer: bool },
  tuning: { sysctl: map(false), mac: str, promisc: bool, mtu: int, allmulti: bool, txQLen: int },
  portmap: {
    snat: bool,
    markMasqBit: int,
    externalSetMarkChain: str,
    conditionsV4: strList,
    conditionsV6: strList,
    backend: str,
  },
  bandwidth: {
    ingressRate: u64,
    ingressBurst: u64,
    egressRate: u64,
    egressBurst: u64,
    shapedSubnets: strList,
    unshapedSubnets: strList,
  },
  firewall: { backend: str, iptablesAdminChainName: str, firewalldZone: str, ingressPolicy: str },
  sbr: { table: int },
  vrf: { vrfname: str, table: u32 },
};

const pluginType = v.pipe(
  v.custom<unknown>((x) => x !== undefined, m(Code.Missing)),
  v.string(m(Code.NotString)),
  v.check(bareFileName, m(Code.BadPluginType)),
);

function plugin(inList: boolean): v.GenericSchema<unknown, Obj> {
  return v.lazy((p: unknown): v.GenericSchema<unknown, Obj> => {
    if (!isObj(p)) return object({});
    const t = p.type;
    const own = typeof t === "string" && bareFileName(t) ? PLUGIN_ENTRIES[t] ?? {} : {};
    return object({
      ...own,
      type: pluginType,
      ...(inList ? { name: str, cniVersion: str } : {}),
      capabilities: map(true),
      dns,
      prevResult: v.nullish(v.custom<Obj>(isObj, m(Code.NotObject))),
      ipam: ipamFor(p),
    });
  });
}

const top = {
  name: v.pipe(v.string(m(Code.NotString)), v.regex(NAME, m(Code.BadName))),
  cniVersion: str,
  cniVersions: list(v.string(m(Code.NotString))),
};

const versionRules = v.rawCheck<Obj>(({ dataset, addIssue }) => {
  const o = dataset.value;
  if (!isObj(o)) return;
  const listed = o.cniVersions;
  if (Array.isArray(listed) && listed.every((x) => typeof x === "string")) {
    if (!listed.some((x) => VERSIONS.has(x as string))) {
      (addIssue as AddIssue)({ message: m(Code.NoKnownVersion), path: [at(o, "cniVersions")] });
    }
  }
  const ver = o.cniVersion;
  if (!present(listed) && typeof ver === "string" && ver !== "" && !VERSIONS.has(ver)) {
    (addIssue as AddIssue)({ message: m(Code.UnknownVersion), path: [at(o, "cniVersion")] });
  }
});

const conflist: v.GenericSchema<unknown, Obj> = v.pipe(
  object({
    ...top,
    plugins: v.pipe(
      v.array(plugin(true), m(Code.NotArray)),
      v.check((a) => a.length > 0, m(Code.EmptyPlugins)),
    ),
  }),
  versionRules,
);

const conf: v.GenericSchema<unknown, Obj> = v.pipe(
  v.intersect([object(top), plugin(false)]) as unknown as v.GenericSchema<unknown, Obj>,
  versionRules,
);

/** A network config: a conflist when it has a `plugins` key, else a single plugin's conf. */
export const NetworkConfigSchema: v.GenericSchema<unknown, Obj> = v.lazy(
  (x: unknown): v.GenericSchema<unknown, Obj> =>
    !isObj(x) ? v.custom<Obj>(isObj, m(Code.RootNotObject)) : "plugins" in x ? conflist : conf,
);

/** An issue from the schema: the module's code and the JSON path in the module's format. */
export interface SchemaIssue {
  code: Code;
  path: string;
}

function formatPath(path: readonly v.IssuePathItem[] | undefined): string {
  let s = "";
  for (const item of path ?? []) {
    const key = item.key as string | number;
    if ((item.type as string) === "map") s += `[${JSON.stringify(key)}]`;
    else if (typeof key === "number") s += `[${key}]`;
    else s += s === "" ? key : `.${key}`;
  }
  return s;
}

/** Nesting depth of a parsed value, without recursion. */
function depthOf(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (typeof x !== "object" || x === null) continue;
    if (d > max) max = d;
    for (const c of Array.isArray(x) ? x : Object.values(x)) stack.push([c, d + 1]);
  }
  return max;
}

/**
 * Checks a config text with the schema: `JSON.parse`, the depth limit of Go's encoding/json,
 * then {@linkcode NetworkConfigSchema}.
 *
 * @param text the config
 * @returns the issues (a JSON syntax error is reported as code 1 with an empty path)
 */
export function schemaValidate(text: string): SchemaIssue[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [{ code: Code.SyntaxUnexpectedChar, path: "" }];
  }
  if (depthOf(value) > MAX_DEPTH) return [{ code: Code.SyntaxTooDeep, path: "" }];
  const result = v.safeParse(NetworkConfigSchema, value);
  if (result.success) return [];
  return result.issues.map((i) => ({ code: Number(i.message) as Code, path: formatPath(i.path) }));
}
