/**
 * Schema checks of a network config (conf or conflist): version, name, plugin `type`, and the
 * JSON types of the known keys of the reference plugins (containernetworking/plugins).
 *
 * @module
 */

import { Code } from "./codes";
import {
  beginChars,
  get,
  K_ARR,
  K_NULL,
  K_OBJ,
  K_STR,
  K_TRUE,
  nextChar,
  nodeEnd,
  nodeKind,
  nodeSkip,
  nodeStart,
  strEquals,
  strIsEmpty,
} from "./json";
import { pathWith, pop, pushIndex, pushKey, report, reportKey } from "./issues";
import {
  eachObject,
  INT,
  optBool,
  optInt,
  optMap,
  optObject,
  optString,
  optStringArray,
  U32,
  U64,
} from "./fields";
import { checkDhcp, checkDns, checkHostLocal, checkStatic } from "./ipam";
import { addDefaultRoute, current } from "./summary";

function isKnownVersion(n: i32): bool {
  return strEquals(n, "1.1.0") || strEquals(n, "1.0.0") || strEquals(n, "0.4.0") ||
    strEquals(n, "0.3.1") || strEquals(n, "0.3.0") || strEquals(n, "0.2.0") ||
    strEquals(n, "0.1.0");
}

/** `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$` (CNI network name). */
function isValidName(n: i32): bool {
  beginChars(n);
  let first = true;
  while (true) {
    const c = nextChar();
    if (c < 0) return !first;
    const alnum = (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
    if (!alnum && (first || (c != 0x5f && c != 0x2e && c != 0x2d))) return false;
    first = false;
  }
}

/** A bare file name: not empty, no `/`, not `.` or `..`. */
function isBareFileName(n: i32): bool {
  if (strIsEmpty(n) || strEquals(n, ".") || strEquals(n, "..")) return false;
  beginChars(n);
  while (true) {
    const c = nextChar();
    if (c < 0) return true;
    if (c == 0x2f) return false;
  }
}

function checkVersion(obj: i32): void {
  const list = get(obj, "cniVersions");
  const hasList = list >= 0 && nodeKind(list) != K_NULL;
  if (hasList) {
    if (nodeKind(list) != K_ARR) {
      reportKey(Code.NotArray, "cniVersions", list);
    } else {
      pushKey("cniVersions");
      let known = false;
      let allStrings = true;
      let i = 0;
      const end = nodeSkip(list);
      for (let c = list + 1; c < end; c = nodeSkip(c)) {
        if (nodeKind(c) != K_STR) {
          pushIndex(i);
          report(Code.NotString, c);
          pop();
          allStrings = false;
        } else if (isKnownVersion(c)) known = true;
        i++;
      }
      pop();
      if (allStrings && !known) reportKey(Code.NoKnownVersion, "cniVersions", list);
    }
  }
  const v = get(obj, "cniVersion");
  if (v < 0 || nodeKind(v) == K_NULL) return;
  if (nodeKind(v) != K_STR) reportKey(Code.NotString, "cniVersion", v);
  else if (!hasList && !strIsEmpty(v) && !isKnownVersion(v)) {
    reportKey(Code.UnknownVersion, "cniVersion", v);
  }
}

function checkName(obj: i32): void {
  const v = get(obj, "name");
  if (v < 0) reportKey(Code.Missing, "name", -1);
  else if (nodeKind(v) != K_STR) reportKey(Code.NotString, "name", v);
  else if (!isValidName(v)) reportKey(Code.BadName, "name", v);
}

function checkVlanTrunk(o: i32): void {
  optInt(o, "minID", INT);
  optInt(o, "maxID", INT);
  optInt(o, "id", INT);
}

function checkBridge(p: i32): void {
  optString(p, "bridge");
  optBool(p, "isGateway");
  optBool(p, "forceAddress");
  optBool(p, "ipMasq");
  optString(p, "ipMasqBackend");
  optInt(p, "mtu", INT);
  optBool(p, "hairpinMode");
  optBool(p, "promiscMode");
  optInt(p, "vlan", INT);
  const trunk = get(p, "vlanTrunk");
  if (trunk >= 0 && nodeKind(trunk) != K_NULL) {
    if (nodeKind(trunk) != K_ARR) reportKey(Code.NotArray, "vlanTrunk", trunk);
    else eachObject(trunk, "vlanTrunk", checkVlanTrunk);
  }
  optBool(p, "preserveDefaultVlan");
  optBool(p, "macspoofchk");
  optBool(p, "enabledad");
  optBool(p, "disableContainerInterface");
  optBool(p, "portIsolation");
}

function checkPluginKeys(p: i32, t: i32): void {
  if (strEquals(t, "bridge")) checkBridge(p);
  else if (strEquals(t, "macvlan")) {
    optString(p, "master");
    optString(p, "mode");
    optInt(p, "mtu", INT);
    optString(p, "mac");
    optBool(p, "linkInContainer");
    optInt(p, "bcqueuelen", U32);
  } else if (strEquals(t, "ipvlan")) {
    optString(p, "master");
    optString(p, "mode");
    optInt(p, "mtu", INT);
    optBool(p, "linkInContainer");
  } else if (strEquals(t, "ptp")) {
    optBool(p, "ipMasq");
    optString(p, "ipMasqBackend");
    optInt(p, "mtu", INT);
  } else if (strEquals(t, "host-device")) {
    optString(p, "device");
    optString(p, "hwaddr");
    optString(p, "kernelpath");
    optString(p, "pciBusID");
  } else if (strEquals(t, "vlan")) {
    optString(p, "master");
    optInt(p, "vlanId", INT);
    optInt(p, "mtu", INT);
    optBool(p, "linkInContainer");
  } else if (strEquals(t, "tuning")) {
    optMap(p, "sysctl", false);
    optString(p, "mac");
    optBool(p, "promisc");
    optInt(p, "mtu", INT);
    optBool(p, "allmulti");
    optInt(p, "txQLen", INT);
  } else if (strEquals(t, "portmap")) {
    optBool(p, "snat");
    optInt(p, "markMasqBit", INT);
    optString(p, "externalSetMarkChain");
    optStringArray(p, "conditionsV4");
    optStringArray(p, "conditionsV6");
    optString(p, "backend");
  } else if (strEquals(t, "bandwidth")) {
    optInt(p, "ingressRate", U64);
    optInt(p, "ingressBurst", U64);
    optInt(p, "egressRate", U64);
    optInt(p, "egressBurst", U64);
    optStringArray(p, "shapedSubnets");
    optStringArray(p, "unshapedSubnets");
  } else if (strEquals(t, "firewall")) {
    optString(p, "backend");
    optString(p, "iptablesAdminChainName");
    optString(p, "firewalldZone");
    optString(p, "ingressPolicy");
  } else if (strEquals(t, "sbr")) {
    optInt(p, "table", INT);
  } else if (strEquals(t, "vrf")) {
    optString(p, "vrfname");
    optInt(p, "table", U32);
  }
}

/** True when the plugin may get its ranges at run time (`ipRanges` capability). */
function rangesFromRuntime(p: i32): bool {
  const caps = get(p, "capabilities");
  if (caps < 0 || nodeKind(caps) != K_OBJ) return false;
  const r = get(caps, "ipRanges");
  return r >= 0 && nodeKind(r) == K_TRUE;
}

function checkIpam(p: i32): void {
  const ipam = optObject(p, "ipam");
  if (ipam < 0) return;
  pushKey("ipam");
  const t = optString(ipam, "type");
  if (t >= 0) {
    if (!strIsEmpty(t) && !isBareFileName(t)) reportKey(Code.BadPluginType, "type", t);
    else if (strEquals(t, "host-local")) checkHostLocal(ipam, rangesFromRuntime(p));
    else if (strEquals(t, "static")) checkStatic(ipam);
    else if (strEquals(t, "dhcp")) checkDhcp(ipam);
  }
  pop();
}

/** Checks one plugin object: the conf itself, or an element of a conflist's `plugins`. */
function checkPlugin(p: i32, inList: bool): void {
  const t = get(p, "type");
  let typeOk = false;
  if (t < 0) reportKey(Code.Missing, "type", -1);
  else if (nodeKind(t) != K_STR) reportKey(Code.NotString, "type", t);
  else if (!isBareFileName(t)) reportKey(Code.BadPluginType, "type", t);
  else typeOk = true;
  if (inList) {
    // libcni injects the list's name and cniVersion into every plugin.
    optString(p, "name");
    optString(p, "cniVersion");
  }
  optMap(p, "capabilities", true);
  checkDns(p);
  optObject(p, "prevResult");
  const subnetsBefore = current.subnets.length;
  checkIpam(p);
  if (!typeOk) return;
  checkPluginKeys(p, t);
  if (strEquals(t, "bridge")) {
    const dgw = optBool(p, "isDefaultGateway");
    if (dgw >= 0) {
      // bridge adds a default route via the gateway of every family its IPAM hands out.
      const path = pathWith("isDefaultGateway");
      for (let i = subnetsBefore; i < current.subnets.length; i++) {
        const family = unchecked(current.subnets[i]).family;
        addDefaultRoute(family, path, nodeStart(dgw), nodeEnd(dgw) - nodeStart(dgw));
      }
    }
  }
}

/** Checks the parsed document whose root is node 0. */
export function checkConfig(): void {
  const root = 0;
  if (nodeKind(root) != K_OBJ) {
    report(Code.RootNotObject, root);
    return;
  }
  checkVersion(root);
  checkName(root);
  const plugins = get(root, "plugins");
  if (plugins < 0) {
    checkPlugin(root, false);
    return;
  }
  if (nodeKind(plugins) != K_ARR) {
    reportKey(Code.NotArray, "plugins", plugins);
    return;
  }
  pushKey("plugins");
  const end = nodeSkip(plugins);
  let i = 0;
  for (let c = plugins + 1; c < end; c = nodeSkip(c)) {
    pushIndex(i);
    if (nodeKind(c) != K_OBJ) report(Code.NotObject, c);
    else checkPlugin(c, true);
    pop();
    i++;
  }
  pop();
  if (i == 0) reportKey(Code.EmptyPlugins, "plugins", plugins);
}
