/**
 * IPAM checks: host-local ranges (legacy single range and range sets), static addresses, dhcp
 * options, and routes. Range rules follow host-local's `Range.Canonicalize` and its overlap checks.
 *
 * @module
 */

import { Code, Severity } from "./codes";
import {
  decodeShort,
  get,
  K_ARR,
  K_NULL,
  K_OBJ,
  K_STR,
  nodeEnd,
  nodeKind,
  nodeSkip,
  nodeStart,
  strIsEmpty,
} from "./json";
import { cmp128, familyBits, ipFamily, ipHi, ipLo, maskHi, maskLo, parseIp, prefixLen } from "./ip";
import {
  currentPath,
  Issue,
  Path,
  pathWith,
  pop,
  pushIndex,
  pushKey,
  relate,
  report,
  reportAt,
  reportKey,
} from "./issues";
import {
  eachObject,
  INT,
  optArray,
  optBool,
  optInt,
  optIp,
  optObject,
  optString,
  optStringArray,
  reqCidr,
} from "./fields";
import { addDefaultRoute, current, SubnetRef } from "./summary";

/** A range after checking; `usable` when it takes part in overlap checks. */
class Range {
  usable: bool = false;
  family: i32 = 0;
  startHi: u64 = 0;
  startLo: u64 = 0;
  endHi: u64 = 0;
  endLo: u64 = 0;
  path: Path | null = null;
}

function relateNode(issue: Issue, path: Path | null, node: i32): void {
  relate(issue, issue.entry, path, nodeStart(node), nodeEnd(node) - nodeStart(node));
}

/** Checks one range object (a `ranges` element, or the ipam object for the legacy form). */
function checkRange(obj: i32): Range {
  const r = new Range();
  r.path = currentPath();
  const sub = reqCidr(obj, "subnet");
  let subnetOk = false;
  let family = 0;
  let prefix = 0;
  let netHi: u64 = 0;
  let netLo: u64 = 0;
  let mHi: u64 = 0;
  let mLo: u64 = 0;
  if (sub >= 0) {
    family = ipFamily;
    prefix = prefixLen;
    mHi = maskHi(family, prefix);
    mLo = maskLo(family, prefix);
    netHi = ipHi & mHi;
    netLo = ipLo & mLo;
    if (netHi != ipHi || netLo != ipLo) reportKey(Code.HostBits, "subnet", sub);
    else if (prefix > familyBits(family) - 2) reportKey(Code.SubnetTooSmall, "subnet", sub);
    else {
      subnetOk = true;
      const ref = new SubnetRef();
      ref.family = family;
      ref.hi = netHi;
      ref.lo = netLo;
      ref.prefix = prefix;
      ref.path = pathWith("subnet");
      ref.offset = nodeStart(sub);
      ref.length = nodeEnd(sub) - nodeStart(sub);
      current.subnets.push(ref);
    }
  }
  // Each of rangeStart, rangeEnd, gateway: 0 absent, 1 valid, 2 reported.
  const start = checkAddress(obj, "rangeStart", subnetOk, family, netHi, netLo, mHi, mLo, sub);
  const sHi = ipHi;
  const sLo = ipLo;
  const end = checkAddress(obj, "rangeEnd", subnetOk, family, netHi, netLo, mHi, mLo, sub);
  const eHi = ipHi;
  const eLo = ipLo;
  checkAddress(obj, "gateway", subnetOk, family, netHi, netLo, mHi, mLo, sub);
  if (!subnetOk || start == 2 || end == 2) return r;
  // Defaults as host-local sets them: start = network + 1, end = last address (IPv4: minus one).
  let startHi = netHi;
  let startLo = netLo + 1;
  if (startLo == 0) startHi++;
  if (start == 1) {
    startHi = sHi;
    startLo = sLo;
  }
  let endHi = netHi | ~mHi;
  let endLo = netLo | ~mLo;
  if (family == 4) {
    endHi = 0;
    endLo = (endLo & 0xffffffff) - 1;
  }
  if (end == 1) {
    endHi = eHi;
    endLo = eLo;
  }
  if (cmp128(startHi, startLo, endHi, endLo) > 0) {
    const startNode = get(obj, "rangeStart");
    const endNode = get(obj, "rangeEnd");
    if (start == 1) {
      const issue = reportKey(Code.StartAfterEnd, "rangeStart", startNode);
      if (end == 1) relateNode(issue, pathWith("rangeEnd"), endNode);
    } else {
      const issue = reportKey(Code.StartAfterEnd, "rangeEnd", endNode);
      relateNode(issue, pathWith("subnet"), sub);
    }
    return r;
  }
  r.usable = true;
  r.family = family;
  r.startHi = startHi;
  r.startLo = startLo;
  r.endHi = endHi;
  r.endLo = endLo;
  return r;
}

function checkAddress(
  obj: i32,
  key: string,
  subnetOk: bool,
  family: i32,
  netHi: u64,
  netLo: u64,
  mHi: u64,
  mLo: u64,
  sub: i32,
): i32 {
  const v = get(obj, key);
  if (v < 0 || nodeKind(v) == K_NULL) return 0;
  if (nodeKind(v) != K_STR) {
    reportKey(Code.NotString, key, v);
    return 2;
  }
  if (strIsEmpty(v)) return 0;
  if (!decodeShort(v) || !parseIp()) {
    reportKey(Code.NotIp, key, v);
    return 2;
  }
  if (!subnetOk) return 1;
  if (ipFamily != family) {
    relateNode(reportKey(Code.FamilyMismatch, key, v), pathWith("subnet"), sub);
    return 2;
  }
  if ((ipHi & mHi) != netHi || (ipLo & mLo) != netLo) {
    relateNode(reportKey(Code.OutsideSubnet, key, v), pathWith("subnet"), sub);
    return 2;
  }
  return 1;
}

function overlaps(a: Range, b: Range): bool {
  return a.family == b.family &&
    cmp128(a.startHi, a.startLo, b.endHi, b.endLo) <= 0 &&
    cmp128(b.startHi, b.startLo, a.endHi, a.endLo) <= 0;
}

/** Checks a range set (an array of range objects) and returns its ranges. */
function checkRangeSet(set: i32): Range[] {
  const out: Range[] = [];
  const end = nodeSkip(set);
  let k = 0;
  for (let c = set + 1; c < end; c = nodeSkip(c)) {
    pushIndex(k);
    if (nodeKind(c) != K_OBJ) report(Code.NotObject, c);
    else out.push(checkRange(c));
    pop();
    k++;
  }
  if (k == 0) report(Code.RangeSetEmpty, set);
  // host-local refuses a set mixing families, and overlapping ranges inside a set.
  let firstFamily = 0;
  let firstPath: Path | null = null;
  for (let j = 0; j < out.length; j++) {
    const r = unchecked(out[j]);
    if (!r.usable) continue;
    if (firstFamily == 0) {
      firstFamily = r.family;
      firstPath = r.path;
    } else if (r.family != firstFamily) {
      const issue = reportPath(Code.RangeSetMixed, r.path);
      relate(issue, issue.entry, firstPath, -1, 0);
      continue;
    }
    for (let i = 0; i < j; i++) {
      const q = unchecked(out[i]);
      if (q.usable && overlaps(q, r)) {
        const issue = reportPath(Code.RangeOverlap, r.path);
        relate(issue, issue.entry, q.path, -1, 0);
        break;
      }
    }
  }
  return out;
}

function reportPath(code: i32, path: Path | null): Issue {
  return reportAt(code, -1, path, Severity.Error);
}

/**
 * Checks a host-local ipam object (current path at `ipam`).
 *
 * @param rangesFromRuntime the plugin may receive ranges at run time (ipRanges capability)
 */
export function checkHostLocal(ipam: i32, rangesFromRuntime: bool): void {
  optString(ipam, "dataDir");
  optString(ipam, "resolvConf");
  checkRoutes(ipam);
  const sets: Range[][] = [];
  const setPaths: (Path | null)[] = [];
  const legacy = get(ipam, "subnet");
  let setsFromLegacy = 0;
  if (legacy >= 0 && nodeKind(legacy) != K_NULL) {
    setsFromLegacy = 1;
    sets.push([checkRange(ipam)]);
    setPaths.push(currentPath());
  } else {
    optIp(ipam, "rangeStart");
    optIp(ipam, "rangeEnd");
    optIp(ipam, "gateway");
  }
  const ranges = optArray(ipam, "ranges");
  if (ranges >= 0) {
    pushKey("ranges");
    const end = nodeSkip(ranges);
    let s = 0;
    for (let c = ranges + 1; c < end; c = nodeSkip(c)) {
      pushIndex(s);
      if (nodeKind(c) != K_ARR) {
        report(Code.NotArray, c);
      } else {
        sets.push(checkRangeSet(c));
        setPaths.push(currentPath());
      }
      pop();
      s++;
    }
    pop();
  }
  // "no IP ranges specified": no legacy subnet and no (or an empty) ranges list.
  const rangesNode = get(ipam, "ranges");
  const noRangesList = rangesNode < 0 || nodeKind(rangesNode) == K_NULL ||
    (nodeKind(rangesNode) == K_ARR && nodeSkip(rangesNode) == rangesNode + 1);
  if (setsFromLegacy == 0 && noRangesList && !rangesFromRuntime) report(Code.NoRanges, -1);
  // host-local: "range set %d overlaps with %d".
  for (let b = 1; b < sets.length; b++) {
    for (let a = 0; a < b; a++) {
      if (setsOverlap(unchecked(sets[a]), unchecked(sets[b]))) {
        const issue = reportPath(Code.RangeSetOverlap, unchecked(setPaths[b]));
        relate(issue, issue.entry, unchecked(setPaths[a]), -1, 0);
        break;
      }
    }
  }
}

function setsOverlap(a: Range[], b: Range[]): bool {
  for (let i = 0; i < a.length; i++) {
    const x = unchecked(a[i]);
    if (!x.usable) continue;
    for (let j = 0; j < b.length; j++) {
      const y = unchecked(b[j]);
      if (y.usable && overlaps(x, y)) return true;
    }
  }
  return false;
}

function checkRoute(route: i32): void {
  const dst = reqCidr(route, "dst");
  if (dst >= 0 && prefixLen == 0) {
    // A default route in the main table; policy routes (table set) do not clash.
    if (get(route, "table") < 0 || nodeKind(get(route, "table")) == K_NULL) {
      addDefaultRoute(ipFamily, pathWith("dst"), nodeStart(dst), nodeEnd(dst) - nodeStart(dst));
    }
  }
  optIp(route, "gw");
  optInt(route, "mtu", INT);
  optInt(route, "advmss", INT);
  optInt(route, "priority", INT);
  optInt(route, "table", INT);
  optInt(route, "scope", INT);
}

/** Checks `routes` of an ipam object. */
export function checkRoutes(ipam: i32): void {
  const routes = optArray(ipam, "routes");
  if (routes >= 0) eachObject(routes, "routes", checkRoute);
}

/** Checks a `dns` object (types.DNS). */
export function checkDns(obj: i32): void {
  const dns = optObject(obj, "dns");
  if (dns < 0) return;
  pushKey("dns");
  optStringArray(dns, "nameservers");
  optString(dns, "domain");
  optStringArray(dns, "search");
  optStringArray(dns, "options");
  pop();
}

function checkStaticAddress(addr: i32): void {
  reqCidr(addr, "address");
  optIp(addr, "gateway");
}

/** Checks a static ipam object. */
export function checkStatic(ipam: i32): void {
  const addresses = optArray(ipam, "addresses");
  if (addresses >= 0) eachObject(addresses, "addresses", checkStaticAddress);
  checkRoutes(ipam);
  checkDns(ipam);
}

function checkDhcpRequest(o: i32): void {
  optBool(o, "skipDefault");
  optString(o, "option");
}

function checkDhcpProvide(o: i32): void {
  optString(o, "option");
  optString(o, "value");
  optString(o, "fromArg");
}

/** Checks a dhcp ipam object. */
export function checkDhcp(ipam: i32): void {
  optString(ipam, "daemonSocketPath");
  const request = optArray(ipam, "request");
  if (request >= 0) eachObject(request, "request", checkDhcpRequest);
  const provide = optArray(ipam, "provide");
  if (provide >= 0) eachObject(provide, "provide", checkDhcpProvide);
}
