/**
 * The validator's rules written in plain TypeScript over `JSON.parse` output: the same algorithm as
 * the WebAssembly module, kept for the benchmark (bench/validate.ts) and as a third opinion in
 * the differential test. The CNI path uses the WebAssembly module, not this file.
 *
 * @module
 */

import { Code } from "../../validator-wasm/assembly/codes.ts";
import { type Cidr, familyBits, mask, parseCidr, parseIp } from "./_net.ts";

/** One finding: code, JSON path, severity, the plan entry it belongs to. */
export interface PlainIssue {
  code: Code;
  path: string;
  severity: "error" | "warning";
  entry: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const MAX_DEPTH = 10000;
const VERSIONS = new Set(["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]);
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/;
const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

/** Go integer kinds of known fields. */
type IntKind = "int" | "u32" | "u64";

function isObj(v: Json | undefined): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Nesting depth of a parsed value, computed without recursion. */
export function depthOf(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (d > max) max = d;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, d + 1]);
    }
  }
  return max;
}

interface SubnetRef {
  cidr: Cidr;
  path: string;
}

interface Summary {
  subnets: SubnetRef[];
  v4?: string;
  v6?: string;
}

interface Range {
  usable: boolean;
  family: 4 | 6;
  start: bigint;
  end: bigint;
  path: string;
}

class Checker {
  issues: PlainIssue[] = [];
  summary: Summary = { subnets: [] };
  private segs: string[] = [];

  constructor(readonly entry: number) {}

  path(key?: string): string {
    let s = "";
    for (const seg of this.segs) s += seg.startsWith("[") || s === "" ? seg : "." + seg;
    if (key === undefined) return s;
    return s === "" ? key : `${s}.${key}`;
  }
  push(seg: string | number): void {
    this.segs.push(typeof seg === "number" ? `[${seg}]` : seg);
  }
  pop(): void {
    this.segs.pop();
  }
  report(code: Code, path = this.path()): void {
    this.issues.push({ code, path, severity: "error", entry: this.entry });
  }

  // ---- fields -------------------------------------------------------------------------------

  optString(o: Obj, key: string): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") return void this.report(Code.NotString, this.path(key));
    return v;
  }
  optBool(o: Obj, key: string): boolean {
    const v = o[key];
    if (v === undefined || v === null) return false;
    if (typeof v === "boolean") return v;
    this.report(Code.NotBoolean, this.path(key));
    return false;
  }
  optInt(o: Obj, key: string, kind: IntKind): void {
    const v = o[key];
    if (v === undefined || v === null) return;
    const ok = typeof v === "number" && Number.isInteger(v) &&
      (kind === "u32"
        ? v >= 0 && v <= 4294967295
        : kind === "u64"
        ? v >= 0 && v <= TWO_64
        : v >= -TWO_63 && v <= TWO_63);
    if (!ok) {
      this.report(
        kind === "u32" ? Code.NotUint32 : kind === "u64" ? Code.NotUint64 : Code.NotInteger,
        this.path(key),
      );
    }
  }
  optObject(o: Obj, key: string): Obj | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) return void this.report(Code.NotObject, this.path(key));
    return v;
  }
  optArray(o: Obj, key: string): Json[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return void this.report(Code.NotArray, this.path(key));
    return v;
  }
  optStringArray(o: Obj, key: string): void {
    const a = this.optArray(o, key);
    if (!a) return;
    a.forEach((el, i) => {
      if (el !== null && typeof el !== "string") {
        this.report(Code.NotString, `${this.path(key)}[${i}]`);
      }
    });
  }
  optMap(o: Obj, key: string, ofBooleans: boolean): void {
    const m = this.optObject(o, key);
    if (!m) return;
    for (const [k, v] of Object.entries(m)) {
      const ok = v === null || (ofBooleans ? typeof v === "boolean" : typeof v === "string");
      if (!ok) {
        this.report(
          ofBooleans ? Code.NotBoolean : Code.NotString,
          `${this.path(key)}[${JSON.stringify(k)}]`,
        );
      }
    }
  }
  optIp(o: Obj, key: string): void {
    const s = this.optString(o, key);
    if (s === undefined || s === "") return;
    if (!parseIp(s)) this.report(Code.NotIp, this.path(key));
  }
  reqCidr(o: Obj, key: string): Cidr | undefined {
    const v = o[key];
    if (v === undefined || v === null) return void this.report(Code.Missing, this.path(key));
    if (typeof v !== "string") return void this.report(Code.NotString, this.path(key));
    const c = parseCidr(v);
    if (!c) this.report(Code.NotCidr, this.path(key));
    return c;
  }
  eachObject(a: Json[], key: string, each: (o: Obj) => void): void {
    this.push(key);
    a.forEach((el, i) => {
      this.push(i);
      if (!isObj(el)) this.report(Code.NotObject);
      else each(el);
      this.pop();
    });
    this.pop();
  }

  // ---- ipam ---------------------------------------------------------------------------------

  address(o: Obj, key: string, sub: Cidr | undefined): { state: 0 | 1 | 2; value: bigint } {
    const v = o[key];
    if (v === undefined || v === null) return { state: 0, value: 0n };
    if (typeof v !== "string") {
      return this.report(Code.NotString, this.path(key)), { state: 2, value: 0n };
    }
    if (v === "") return { state: 0, value: 0n };
    const ip = parseIp(v);
    if (!ip) return this.report(Code.NotIp, this.path(key)), { state: 2, value: 0n };
    if (!sub) return { state: 1, value: ip.value };
    if (ip.family !== sub.family) {
      return this.report(Code.FamilyMismatch, this.path(key)), { state: 2, value: 0n };
    }
    const m = mask(sub.family, sub.prefix);
    if ((ip.value & m) !== sub.value) {
      return this.report(Code.OutsideSubnet, this.path(key)), { state: 2, value: 0n };
    }
    return { state: 1, value: ip.value };
  }

  range(o: Obj): Range {
    const r: Range = { usable: false, family: 4, start: 0n, end: 0n, path: this.path() };
    const c = this.reqCidr(o, "subnet");
    let sub: Cidr | undefined;
    if (c) {
      const m = mask(c.family, c.prefix);
      if ((c.value & m) !== c.value) this.report(Code.HostBits, this.path("subnet"));
      else if (c.prefix > familyBits(c.family) - 2) {
        this.report(Code.SubnetTooSmall, this.path("subnet"));
      } else {
        sub = c;
        this.summary.subnets.push({ cidr: c, path: this.path("subnet") });
      }
    }
    const start = this.address(o, "rangeStart", sub);
    const end = this.address(o, "rangeEnd", sub);
    this.address(o, "gateway", sub);
    if (!sub || start.state === 2 || end.state === 2) return r;
    const m = mask(sub.family, sub.prefix);
    const all = (1n << BigInt(familyBits(sub.family))) - 1n;
    let s = sub.value + 1n;
    let e = sub.value | (all & ~m);
    if (sub.family === 4) e -= 1n;
    if (start.state === 1) s = start.value;
    if (end.state === 1) e = end.value;
    if (s > e) {
      this.report(Code.StartAfterEnd, this.path(start.state === 1 ? "rangeStart" : "rangeEnd"));
      return r;
    }
    return { usable: true, family: sub.family, start: s, end: e, path: r.path };
  }

  rangeSet(set: Json[]): Range[] {
    const out: Range[] = [];
    set.forEach((el, k) => {
      this.push(k);
      if (!isObj(el)) this.report(Code.NotObject);
      else out.push(this.range(el));
      this.pop();
    });
    if (set.length === 0) this.report(Code.RangeSetEmpty);
    let first: Range | undefined;
    for (let j = 0; j < out.length; j++) {
      const r = out[j]!;
      if (!r.usable) continue;
      if (!first) {
        first = r;
        continue;
      }
      if (r.family !== first.family) {
        this.report(Code.RangeSetMixed, r.path);
        continue;
      }
      if (out.slice(0, j).some((q) => q.usable && overlaps(q, r))) {
        this.report(Code.RangeOverlap, r.path);
      }
    }
    return out;
  }

  hostLocal(ipam: Obj, fromRuntime: boolean): void {
    this.optString(ipam, "dataDir");
    this.optString(ipam, "resolvConf");
    this.routes(ipam);
    const sets: Range[][] = [];
    const setPaths: string[] = [];
    const legacy = ipam.subnet !== undefined && ipam.subnet !== null;
    if (legacy) {
      sets.push([this.range(ipam)]);
      setPaths.push(this.path());
    } else {
      this.optIp(ipam, "rangeStart");
      this.optIp(ipam, "rangeEnd");
      this.optIp(ipam, "gateway");
    }
    const ranges = this.optArray(ipam, "ranges");
    if (ranges) {
      this.push("ranges");
      ranges.forEach((set, s) => {
        this.push(s);
        if (!Array.isArray(set)) this.report(Code.NotArray);
        else {
          sets.push(this.rangeSet(set));
          setPaths.push(this.path());
        }
        this.pop();
      });
      this.pop();
    }
    const rv = ipam.ranges;
    const noList = rv === undefined || rv === null || (Array.isArray(rv) && rv.length === 0);
    if (!legacy && noList && !fromRuntime) this.report(Code.NoRanges);
    for (let b = 1; b < sets.length; b++) {
      for (let a = 0; a < b; a++) {
        if (sets[a]!.some((x) => x.usable && sets[b]!.some((y) => y.usable && overlaps(x, y)))) {
          this.report(Code.RangeSetOverlap, setPaths[b]);
          break;
        }
      }
    }
  }

  routes(ipam: Obj): void {
    const routes = this.optArray(ipam, "routes");
    if (!routes) return;
    this.eachObject(routes, "routes", (r) => {
      const dst = this.reqCidr(r, "dst");
      if (dst && dst.prefix === 0 && (r.table === undefined || r.table === null)) {
        const key = dst.family === 4 ? "v4" : "v6";
        this.summary[key] ??= this.path("dst");
      }
      this.optIp(r, "gw");
      for (const k of ["mtu", "advmss", "priority", "table", "scope"]) this.optInt(r, k, "int");
    });
  }

  dns(o: Obj): void {
    const dns = this.optObject(o, "dns");
    if (!dns) return;
    this.push("dns");
    this.optStringArray(dns, "nameservers");
    this.optString(dns, "domain");
    this.optStringArray(dns, "search");
    this.optStringArray(dns, "options");
    this.pop();
  }

  ipam(p: Obj): void {
    const ipam = this.optObject(p, "ipam");
    if (!ipam) return;
    this.push("ipam");
    const t = this.optString(ipam, "type");
    if (t !== undefined) {
      if (t !== "" && !isBareFileName(t)) this.report(Code.BadPluginType, this.path("type"));
      else if (t === "host-local") {
        const caps = p.capabilities;
        this.hostLocal(ipam, isObj(caps) && caps.ipRanges === true);
      } else if (t === "static") {
        const a = this.optArray(ipam, "addresses");
        if (a) {
          this.eachObject(a, "addresses", (o) => {
            this.reqCidr(o, "address");
            this.optIp(o, "gateway");
          });
        }
        this.routes(ipam);
        this.dns(ipam);
      } else if (t === "dhcp") {
        this.optString(ipam, "daemonSocketPath");
        const req = this.optArray(ipam, "request");
        if (req) {
          this.eachObject(req, "request", (o) => {
            this.optBool(o, "skipDefault");
            this.optString(o, "option");
          });
        }
        const prov = this.optArray(ipam, "provide");
        if (prov) {
          this.eachObject(prov, "provide", (o) => {
            for (const k of ["option", "value", "fromArg"]) this.optString(o, k);
          });
        }
      }
    }
    this.pop();
  }

  // ---- plugins ------------------------------------------------------------------------------

  pluginKeys(p: Obj, t: string): void {
    const spec = PLUGIN_KEYS[t];
    if (!spec) return;
    for (const [key, kind] of spec) {
      if (kind === "s") this.optString(p, key);
      else if (kind === "b") this.optBool(p, key);
      else if (kind === "sa") this.optStringArray(p, key);
      else if (kind === "smap") this.optMap(p, key, false);
      else if (kind === "trunk") {
        const a = this.optArray(p, key);
        if (a) {
          this.eachObject(
            a,
            key,
            (o) => ["minID", "maxID", "id"].forEach((k) => this.optInt(o, k, "int")),
          );
        }
      } else this.optInt(p, key, kind);
    }
  }

  plugin(p: Obj, inList: boolean): void {
    const t = p.type;
    let typeOk = false;
    if (t === undefined) this.report(Code.Missing, this.path("type"));
    else if (typeof t !== "string") this.report(Code.NotString, this.path("type"));
    else if (!isBareFileName(t)) this.report(Code.BadPluginType, this.path("type"));
    else typeOk = true;
    if (inList) {
      this.optString(p, "name");
      this.optString(p, "cniVersion");
    }
    this.optMap(p, "capabilities", true);
    this.dns(p);
    this.optObject(p, "prevResult");
    const before = this.summary.subnets.length;
    this.ipam(p);
    if (!typeOk) return;
    this.pluginKeys(p, t as string);
    if (t === "bridge" && this.optBool(p, "isDefaultGateway")) {
      for (const s of this.summary.subnets.slice(before)) {
        const key = s.cidr.family === 4 ? "v4" : "v6";
        this.summary[key] ??= this.path("isDefaultGateway");
      }
    }
  }

  version(o: Obj): void {
    const list = o.cniVersions;
    const hasList = list !== undefined && list !== null;
    if (hasList) {
      if (!Array.isArray(list)) this.report(Code.NotArray, "cniVersions");
      else {
        let known = false;
        let allStrings = true;
        list.forEach((v, i) => {
          if (typeof v !== "string") {
            this.report(Code.NotString, `cniVersions[${i}]`);
            allStrings = false;
          } else if (VERSIONS.has(v)) known = true;
        });
        if (allStrings && !known) this.report(Code.NoKnownVersion, "cniVersions");
      }
    }
    const v = o.cniVersion;
    if (v === undefined || v === null) return;
    if (typeof v !== "string") this.report(Code.NotString, "cniVersion");
    else if (!hasList && v !== "" && !VERSIONS.has(v)) {
      this.report(Code.UnknownVersion, "cniVersion");
    }
  }

  config(root: Json): void {
    if (!isObj(root)) return this.report(Code.RootNotObject, "");
    this.version(root);
    const name = root.name;
    if (name === undefined) this.report(Code.Missing, "name");
    else if (typeof name !== "string") this.report(Code.NotString, "name");
    else if (!NAME.test(name)) this.report(Code.BadName, "name");
    if (!("plugins" in root)) return this.plugin(root, false);
    const plugins = root.plugins;
    if (!Array.isArray(plugins)) return this.report(Code.NotArray, "plugins");
    this.push("plugins");
    plugins.forEach((p, i) => {
      this.push(i);
      if (!isObj(p)) this.report(Code.NotObject);
      else this.plugin(p, true);
      this.pop();
    });
    this.pop();
    if (plugins.length === 0) this.report(Code.EmptyPlugins, "plugins");
  }
}

type KeyKind = "s" | "b" | "sa" | "smap" | "trunk" | IntKind;

/** Known keys of the reference plugins and their Go types. */
export const PLUGIN_KEYS: Readonly<Record<string, readonly (readonly [string, KeyKind])[]>> = {
  bridge: [
    ["bridge", "s"],
    ["isGateway", "b"],
    ["forceAddress", "b"],
    ["ipMasq", "b"],
    ["ipMasqBackend", "s"],
    ["mtu", "int"],
    ["hairpinMode", "b"],
    ["promiscMode", "b"],
    ["vlan", "int"],
    ["vlanTrunk", "trunk"],
    ["preserveDefaultVlan", "b"],
    ["macspoofchk", "b"],
    ["enabledad", "b"],
    ["disableContainerInterface", "b"],
    ["portIsolation", "b"],
  ],
  macvlan: [
    ["master", "s"],
    ["mode", "s"],
    ["mtu", "int"],
    ["mac", "s"],
    ["linkInContainer", "b"],
    ["bcqueuelen", "u32"],
  ],
  ipvlan: [["master", "s"], ["mode", "s"], ["mtu", "int"], ["linkInContainer", "b"]],
  ptp: [["ipMasq", "b"], ["ipMasqBackend", "s"], ["mtu", "int"]],
  "host-device": [["device", "s"], ["hwaddr", "s"], ["kernelpath", "s"], ["pciBusID", "s"]],
  vlan: [["master", "s"], ["vlanId", "int"], ["mtu", "int"], ["linkInContainer", "b"]],
  tuning: [
    ["sysctl", "smap"],
    ["mac", "s"],
    ["promisc", "b"],
    ["mtu", "int"],
    ["allmulti", "b"],
    ["txQLen", "int"],
  ],
  portmap: [
    ["snat", "b"],
    ["markMasqBit", "int"],
    ["externalSetMarkChain", "s"],
    ["conditionsV4", "sa"],
    ["conditionsV6", "sa"],
    ["backend", "s"],
  ],
  bandwidth: [
    ["ingressRate", "u64"],
    ["ingressBurst", "u64"],
    ["egressRate", "u64"],
    ["egressBurst", "u64"],
    ["shapedSubnets", "sa"],
    ["unshapedSubnets", "sa"],
  ],
  firewall: [
    ["backend", "s"],
    ["iptablesAdminChainName", "s"],
    ["firewalldZone", "s"],
    ["ingressPolicy", "s"],
  ],
  sbr: [["table", "int"]],
  vrf: [["vrfname", "s"], ["table", "u32"]],
};

/** A bare file name: not empty, no `/`, not `.` or `..`. */
export function isBareFileName(s: string): boolean {
  return s !== "" && s !== "." && s !== ".." && !s.includes("/");
}

function overlaps(a: Range, b: Range): boolean {
  return a.family === b.family && a.start <= b.end && b.start <= a.end;
}

function checkText(text: string, entry: number): Checker {
  const c = new Checker(entry);
  let root: Json;
  try {
    root = JSON.parse(text);
  } catch {
    c.report(Code.SyntaxUnexpectedChar, "");
    return c;
  }
  if (depthOf(root) > MAX_DEPTH) {
    c.report(Code.SyntaxTooDeep, "");
    return c;
  }
  c.config(root);
  return c;
}

/**
 * Checks one config text. Any JSON syntax error is reported as {@linkcode Code.SyntaxUnexpectedChar}
 * (`JSON.parse` does not say which).
 *
 * @param text the config
 * @returns the issues found
 */
export function plainValidateConfig(text: string): PlainIssue[] {
  return checkText(text, 0).issues;
}

/**
 * Checks a plan: every config, then the rules across attachments.
 *
 * @param entries interface name and config text per attachment
 * @param allowSubnetOverlap report overlapping subnets as warnings
 * @returns the issues found
 */
export function plainValidatePlan(
  entries: readonly { ifname: string; config: string }[],
  allowSubnetOverlap: boolean,
): PlainIssue[] {
  const checkers = entries.map((e, i) => checkText(e.config, i));
  const issues = checkers.flatMap((c) => c.issues);
  checkers.forEach((c, j) => {
    if (entries.slice(0, j).some((e) => e.ifname === entries[j]!.ifname)) {
      issues.push({ code: Code.DuplicateIfname, path: "", severity: "error", entry: j });
    }
    for (const y of c.summary.subnets) {
      const clash = checkers.slice(0, j).some((a) =>
        a.summary.subnets.some((x) => subnetsOverlap(x.cidr, y.cidr))
      );
      if (clash) {
        issues.push({
          code: Code.SubnetOverlap,
          path: y.path,
          severity: allowSubnetOverlap ? "warning" : "error",
          entry: j,
        });
      }
    }
    for (const key of ["v4", "v6"] as const) {
      const mine = c.summary[key];
      if (mine !== undefined && checkers.slice(0, j).some((a) => a.summary[key] !== undefined)) {
        issues.push({ code: Code.MultipleDefaultRoutes, path: mine, severity: "error", entry: j });
      }
    }
  });
  return issues;
}

function subnetsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const m = mask(a.family, Math.min(a.prefix, b.prefix));
  return (a.value & m) === (b.value & m);
}
