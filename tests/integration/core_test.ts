/**
 * ADD, CHECK and DEL of multi-network configs with Debian's real plugins, asserting on the pod's
 * addresses, the IPAM data dir and the cache dir (issue 2 §6).
 */

import { assert, assertCniError, assertEquals, assertOk, sh, TestNode } from "../_utils/mod.ts";
import {
  assertNothingLeft,
  bridgeNet,
  ipv4,
  type Json,
  macvlanTuning,
  metaConf,
  ptpTuning,
  runReferencePlugin,
} from "../_utils/networks.ts";

const HAS_PING = (await sh(["sh", "-c", "command -v ping"], { check: false })).code === 0;

/** The two-network config of the README: bridge master on eth0, macvlan + tuning on net1. */
function twoNetworks(node: TestNode, cniVersion = "1.0.0"): Json {
  return metaConf(node, {
    delegates: [
      bridgeNet(node, "main", "10.10.0.0/24"),
      macvlanTuning(node, "side", "vpar0", "10.20.0.0/24", "net1"),
    ],
  }, cniVersion);
}

async function sysctl(pod: string, key: string): Promise<string> {
  const name = pod.split("/").pop()!;
  return (await sh(["ip", "netns", "exec", name, "sysctl", "-n", key])).stdout.trim();
}

async function linkKind(pod: string, ifname: string): Promise<string | undefined> {
  const name = pod.split("/").pop()!;
  const r = await sh(["ip", "-n", name, "-j", "-d", "link", "show", ifname]);
  return (JSON.parse(r.stdout) as { linkinfo?: { info_kind?: string } }[])[0]?.linkinfo?.info_kind;
}

Deno.test("ADD attaches a bridge master on eth0 and a macvlan+tuning list on net1, DEL removes both", async () => {
  const node = await TestNode.create();
  try {
    await node.addVeth("vpar0");
    const pod = await node.addPod();
    const conf = twoNetworks(node);
    const args = { containerId: "c1", netns: pod, conf };

    const add = await node.invoke({ command: "ADD", ...args });
    assertOk(add, "ADD");
    assertEquals(await ipv4(node, pod), {
      eth0: ["10.10.0.2/24"],
      net1: ["10.20.0.2/24"],
    });
    assertEquals(await linkKind(pod, "net1"), "macvlan", "net1 kind");
    assertEquals(await sysctl(pod, "net.ipv4.conf.net1.arp_notify"), "1", "tuning sysctl");

    // The ADD result is the master's alone, in the meta config's version (1.0.0: no ips[].version).
    const res = add.json as { cniVersion: string; interfaces: Json[]; ips: Json[] };
    assertEquals(res.cniVersion, "1.0.0");
    assertEquals(res.ips, [{ address: "10.10.0.2/24", gateway: "10.10.0.1", interface: 2 }]);
    assertEquals(res.interfaces[2]?.name, "eth0");
    assertEquals(res.interfaces[2]?.sandbox, pod);

    assertEquals(await node.ipamReservations(), ["main/10.10.0.2", "side/10.20.0.2"]);
    const owner = await Deno.readTextFile(`${node.ipamDir}/main/10.10.0.2`);
    assert(owner.startsWith("c1"), `reservation owner: ${owner}`);

    // Written ahead and updated after each attachment; the lock file is gone once ADD returns.
    assertEquals(await node.cacheFiles(), ["c1"]);
    assertEquals((await Deno.stat(`${node.cniDir}/c1`)).mode! & 0o777, 0o600, "cache mode");
    const rec = await node.readCache("c1") as { attachments: Json[] };
    assertEquals(
      rec.attachments.map((a) => [a.network, a.ifname, a.state]),
      [["main", "eth0", "added"], ["side", "net1", "added"]],
    );

    assertOk(await node.invoke({ command: "CHECK", ...args }), "CHECK");

    assertOk(await node.invoke({ command: "DEL", ...args }), "DEL");
    await assertNothingLeft(node, [pod]);
    assertOk(await node.invoke({ command: "DEL", ...args }), "second DEL");
    await assertNothingLeft(node, [pod]);
  } finally {
    await node.close();
  }
});

Deno.test({
  name: "the pod reaches the bridge gateway in the node namespace",
  ignore: !HAS_PING,
  async fn() {
    const node = await TestNode.create();
    try {
      await node.addVeth("vpar0");
      const pod = await node.addPod();
      const args = { containerId: "ping1", netns: pod, conf: twoNetworks(node) };
      assertOk(await node.invoke({ command: "ADD", ...args }), "ADD");
      const podNs = pod.split("/").pop()!;
      await sh(["ip", "netns", "exec", podNs, "ping", "-c", "1", "-W", "2", "10.10.0.1"]);
      assertOk(await node.invoke({ command: "DEL", ...args }), "DEL");
      await assertNothingLeft(node, [pod]);
    } finally {
      await node.close();
    }
  },
});

Deno.test("ADD prints the master's result converted to the meta config's cniVersion", async () => {
  const node = await TestNode.create();
  try {
    await node.addVeth("vpar0");
    const cases: [string, (r: Json) => void][] = [
      ["0.2.0", (r) => {
        const ip4 = r.ip4 as { ip: string; gateway: string };
        assert(/^10\.10\.0\.\d+\/24$/.test(ip4.ip), `ip4.ip ${ip4.ip}`);
        assertEquals(ip4.gateway, "10.10.0.1");
        assert(!("ips" in r) && !("interfaces" in r), "0.2.0 result has 0.3 fields");
      }],
      ["0.4.0", (r) => {
        const ips = r.ips as Json[];
        assertEquals(ips.length, 1, "only the master's address");
        assertEquals(ips[0]?.version, "4");
        assertEquals(ips[0]?.gateway, "10.10.0.1");
      }],
      ["1.1.0", (r) => {
        const ips = r.ips as Json[];
        assertEquals(ips.length, 1, "only the master's address");
        assert(!("version" in ips[0]!), "1.1.0 ips have no version");
      }],
    ];
    // Different containers run fully in parallel.
    await Promise.all(cases.map(async ([version, expect], i) => {
      const pod = await node.addPod();
      const conf = twoNetworks(node, version);
      const args = { containerId: `v${i}`, netns: pod, conf };
      const add = await node.invoke({ command: "ADD", ...args });
      assertOk(add, `ADD ${version}`);
      assertEquals(add.json?.cniVersion, version, "result version");
      expect(add.json!);
      assertOk(await node.invoke({ command: "DEL", ...args }), `DEL ${version}`);
    }));
    await assertNothingLeft(node, node.pods.map((p) => `/var/run/netns/${p}`));
  } finally {
    await node.close();
  }
});

Deno.test("a ptp+tuning conflist delegate gets its address, host route and MAC", async () => {
  const node = await TestNode.create();
  try {
    const pod = await node.addPod();
    const mac = "c2:11:22:33:44:55";
    const conf = metaConf(node, {
      delegates: [
        bridgeNet(node, "main", "10.10.0.0/24"),
        ptpTuning(node, "p2p", "10.30.0.0/24", mac),
      ],
    });
    const args = { containerId: "ptp1", netns: pod, conf };
    assertOk(await node.invoke({ command: "ADD", ...args }), "ADD");
    const addrs = await ipv4(node, pod);
    assertEquals(addrs.net1, ["10.30.0.2/24"]);
    const podNs = pod.split("/").pop()!;
    const link = JSON.parse((await sh(["ip", "-n", podNs, "-j", "link", "show", "net1"])).stdout);
    assertEquals(link[0].address, mac, "tuning set the MAC");
    // ptp puts the gateway address on its host end, in the node namespace.
    const nodeAddrs = await ipv4(node, node.path);
    assert(
      Object.values(nodeAddrs).some((l) => l.includes("10.30.0.1/32")),
      `no ptp host end: ${JSON.stringify(nodeAddrs)}`,
    );
    assertEquals(await node.ipamReservations(), ["main/10.10.0.2", "p2p/10.30.0.2"]);
    if (HAS_PING) {
      await sh(["ip", "netns", "exec", podNs, "ping", "-c", "1", "-W", "2", "10.30.0.1"]);
    }
    assertOk(await node.invoke({ command: "CHECK", ...args }), "CHECK");
    assertOk(await node.invoke({ command: "DEL", ...args }), "DEL");
    await assertNothingLeft(node, [pod]);
  } finally {
    await node.close();
  }
});

Deno.test("CHECK fails with the delegate's code and names the network after an address is removed", async () => {
  const node = await TestNode.create();
  try {
    await node.addVeth("vpar0");
    const pod = await node.addPod();
    const args = { containerId: "chk1", netns: pod, conf: twoNetworks(node) };
    assertOk(await node.invoke({ command: "ADD", ...args }), "ADD");
    assertOk(await node.invoke({ command: "CHECK", ...args }), "CHECK before");

    const podNs = pod.split("/").pop()!;
    await sh(["ip", "-n", podNs, "addr", "del", "10.20.0.2/24", "dev", "net1"]);
    // What macvlan itself answers (an untyped Go error: 999); multicni must pass that code on.
    const rec = await node.readCache("chk1") as { attachments: { result: { result: Json } }[] };
    const side = macvlanTuning(node, "side", "vpar0", "10.20.0.0/24", "net1");
    const expected = await runReferencePlugin(node, "macvlan", {
      ...(side.plugins as Json[])[0],
      name: "side",
      cniVersion: "1.0.0",
      prevResult: rec.attachments[1]!.result.result,
    }, { command: "CHECK", containerId: "chk1", netns: pod, ifname: "net1" });

    const chk = await node.invoke({ command: "CHECK", ...args });
    const err = assertCniError(chk, expected.code as number);
    assert(
      String(err.msg).includes('network "side"') && String(err.msg).includes("net1"),
      `message does not name the network: ${err.msg}`,
    );
    // CHECK changes nothing: the cache still records both attachments.
    assertEquals(await node.cacheFiles(), ["chk1"]);

    assertOk(await node.invoke({ command: "DEL", ...args }), "DEL");
    await assertNothingLeft(node, [pod]);
  } finally {
    await node.close();
  }
});
