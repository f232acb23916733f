/**
 * Network configs for integration tests, built on Debian's reference plugins, and the check that
 * a test left nothing behind. Every IPAM section points at the test's own data dir, so parallel
 * tests never share reservations.
 *
 * @module
 */

import { assert, assertEquals, CNI_BIN, sh, type TestNode } from "./mod.ts";

/** A JSON object, as configs and results are. */
export type Json = Record<string, unknown>;

/** Where tuning keeps its backups of what it changed (restored and removed on DEL). */
export function tuningDir(node: TestNode): string {
  return `${node.dir}/tuning`;
}

/** host-local IPAM on `subnet`, storing its reservations in the test's IPAM dir. */
export function hostLocal(node: TestNode, subnet: string): Json {
  return { type: "host-local", subnet, dataDir: node.ipamDir };
}

/**
 * A bridge conf with host-local IPAM; the bridge (inside the node namespace, named after the
 * network unless given) is the gateway.
 */
export function bridgeNet(
  node: TestNode,
  name: string,
  subnet: string,
  o: { bridge?: string; cniVersion?: string } = {},
): Json {
  return {
    cniVersion: o.cniVersion ?? "1.0.0",
    name,
    type: "bridge",
    bridge: o.bridge ?? `br-${name}`.slice(0, 15),
    isGateway: true,
    ipam: hostLocal(node, subnet),
  };
}

/**
 * A conflist: macvlan on `master` with host-local IPAM, then tuning setting
 * `net.ipv4.conf.<ifname>.arp_notify=1` (a sysctl the test can read back).
 */
export function macvlanTuning(
  node: TestNode,
  name: string,
  master: string,
  subnet: string,
  ifname: string,
): Json {
  return {
    cniVersion: "1.0.0",
    name,
    plugins: [
      { type: "macvlan", master, mode: "bridge", ipam: hostLocal(node, subnet) },
      {
        type: "tuning",
        sysctl: { [`net.ipv4.conf.${ifname}.arp_notify`]: "1" },
        dataDir: tuningDir(node),
      },
    ],
  };
}

/** A conflist: ptp with host-local IPAM, then tuning setting the interface's MAC address. */
export function ptpTuning(node: TestNode, name: string, subnet: string, mac: string): Json {
  return {
    cniVersion: "1.0.0",
    name,
    plugins: [
      { type: "ptp", ipMasq: false, ipam: hostLocal(node, subnet) },
      { type: "tuning", mac, dataDir: tuningDir(node) },
    ],
  };
}

/**
 * The multicni config: cache and conf dir in the test's temp dir, `binDir` the test's fake
 * plugin dir (so nothing in the host's /opt/cni/bin is ever picked up).
 */
export function metaConf(node: TestNode, extra: Json, cniVersion = "1.0.0"): Json {
  return {
    cniVersion,
    name: "multi",
    type: "multicni",
    cniDir: node.cniDir,
    confDir: node.confDir,
    binDir: node.binDir,
    ...extra,
  };
}

/** IPv4 addresses per interface in a namespace, as `ifname → ["a.b.c.d/len", ...]`. */
export async function ipv4(node: TestNode, netnsPath: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const a of await node.addrs(netnsPath)) {
    if (a.family === "inet") (out[a.ifname] ??= []).push(`${a.local}/${a.prefixlen}`);
  }
  return out;
}

/**
 * Asserts that nothing multicni or its delegates made is left: every pod holds only `lo` (with
 * only loopback addresses), no IPAM reservation, no cache or lock file, no veth end in the node
 * namespace and no tuning backup (unless `tuningBackups: false`).
 */
export async function assertNothingLeft(
  node: TestNode,
  pods: readonly string[],
  o: { tuningBackups?: boolean } = {},
): Promise<void> {
  for (const pod of pods) {
    assertEquals(await node.links(pod), ["lo"], `links left in ${pod}`);
    const addrs = (await node.addrs(pod)).filter((a) => a.family !== "");
    assert(
      addrs.every((a) => a.ifname === "lo"),
      `addresses left in ${pod}: ${JSON.stringify(addrs)}`,
    );
  }
  assertEquals(await node.ipamReservations(), [], "IPAM reservations left");
  assertEquals(await node.cacheFiles(), [], "cache or lock files left");
  const veths = (await node.links(node.path)).filter((l) => l.startsWith("veth"));
  assertEquals(veths, [], "veth ends left in the node namespace");
  if (o.tuningBackups === false) return;
  const backups: string[] = [];
  try {
    for await (const e of Deno.readDir(tuningDir(node))) backups.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  assertEquals(backups, [], "tuning backups left");
}

/**
 * Runs one reference plugin directly inside the node namespace (no multicni), to learn what the
 * plugin itself answers, for example the error code multicni must pass on unchanged.
 */
export async function runReferencePlugin(
  node: TestNode,
  type: string,
  conf: Json,
  env: { command: string; containerId: string; netns: string; ifname: string },
): Promise<Json> {
  const r = await sh(["ip", "netns", "exec", node.ns, `${CNI_BIN}/${type}`], {
    check: false,
    stdin: JSON.stringify(conf),
    env: {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: env.command,
      CNI_CONTAINERID: env.containerId,
      CNI_NETNS: env.netns,
      CNI_IFNAME: env.ifname,
      CNI_PATH: CNI_BIN,
    },
  });
  return JSON.parse(r.stdout) as Json;
}
