/**
 * Where delegates come from besides inline `delegates`: `clusterNetwork` as a conf name in
 * `confDir`, a directory or a file path, and `defaultNetworks` from `confDir` (issue 2 §3).
 */

import { assertEquals, assertOk, TestNode } from "../_utils/mod.ts";
import {
  assertNothingLeft,
  bridgeNet,
  hostLocal,
  ipv4,
  type Json,
  metaConf,
  ptpTuning,
} from "../_utils/networks.ts";

/** Runs ADD, returns the pod's IPv4 addresses and the reservations, then DELs. */
async function attach(
  node: TestNode,
  containerId: string,
  conf: Json,
): Promise<{ addrs: Record<string, string[]>; reserved: string[] }> {
  const pod = await node.addPod();
  const args = { containerId, netns: pod, conf };
  assertOk(await node.invoke({ command: "ADD", ...args }), `ADD ${containerId}`);
  const addrs = await ipv4(node, pod);
  const reserved = await node.ipamReservations();
  assertOk(await node.invoke({ command: "DEL", ...args }), `DEL ${containerId}`);
  await assertNothingLeft(node, [pod]);
  return { addrs, reserved };
}

Deno.test("clusterNetwork is found by conf name, as a directory and as a file path", async () => {
  const node = await TestNode.create();
  try {
    // The conf dir holds three networks in the three file kinds libcni reads, and a stray file.
    await node.writeConf("10-alpha.conf", bridgeNet(node, "alpha", "10.41.0.0/24"));
    await node.writeConf("20-beta.conflist", {
      cniVersion: "1.0.0",
      name: "beta",
      plugins: [{
        type: "bridge",
        bridge: "mcbr1",
        isGateway: true,
        ipam: hostLocal(node, "10.42.0.0/24"),
      }],
    });
    await node.writeConf("30-gamma.json", bridgeNet(node, "gamma", "10.43.0.0/24"));
    await node.writeConf("00-notes.txt", bridgeNet(node, "notes", "10.49.0.0/24"));
    // A directory whose files are out of creation order: "a.conf" is alphabetically first.
    const other = `${node.dir}/other`;
    await node.writeConf("b.conf", bridgeNet(node, "bnet", "10.45.0.0/24"), other);
    await node.writeConf("a.conf", bridgeNet(node, "anet", "10.44.0.0/24"), other);

    const cases: [string, string, string][] = [
      ["by name (a .conflist)", "beta", "10.42.0.2/24"],
      ["by name (a .json)", "gamma", "10.43.0.2/24"],
      ["as a directory", other, "10.44.0.2/24"],
      ["as a file path", `${other}/b.conf`, "10.45.0.2/24"],
      ["as a file path in confDir", `${node.confDir}/10-alpha.conf`, "10.41.0.2/24"],
    ];
    for (const [i, [what, ref, addr]] of cases.entries()) {
      const conf = metaConf(node, { clusterNetwork: ref });
      const { addrs } = await attach(node, `cn${i}`, conf);
      assertEquals(addrs, { eth0: [addr] }, `clusterNetwork ${what}`);
    }
  } finally {
    await node.close();
  }
});

Deno.test("defaultNetworks from confDir are attached as net1 and net2 after the master", async () => {
  const node = await TestNode.create();
  try {
    await node.writeConf(
      "50-blue.conflist",
      ptpTuning(node, "blue", "10.51.0.0/24", "c2:00:00:00:51:02"),
    );
    await node.writeConf(
      "40-green.conf",
      bridgeNet(node, "green", "10.52.0.0/24"),
    );
    const conf = metaConf(node, {
      delegates: [bridgeNet(node, "main", "10.10.0.0/24")],
      // Listed order wins over file order: blue (50-) is net1, green (40-) net2.
      defaultNetworks: ["blue", "green"],
    });
    const { addrs, reserved } = await attach(node, "dn1", conf);
    assertEquals(addrs, {
      eth0: ["10.10.0.2/24"],
      net1: ["10.51.0.2/24"],
      net2: ["10.52.0.2/24"],
    });
    assertEquals(reserved, ["blue/10.51.0.2", "green/10.52.0.2", "main/10.10.0.2"]);
  } finally {
    await node.close();
  }
});

Deno.test("clusterNetwork plus defaultNetworks: the conf-dir master on eth0, defaults after it", async () => {
  const node = await TestNode.create();
  try {
    await node.writeConf("10-alpha.conf", bridgeNet(node, "alpha", "10.41.0.0/24"));
    await node.writeConf(
      "20-green.conf",
      bridgeNet(node, "green", "10.52.0.0/24"),
    );
    const conf = metaConf(node, { clusterNetwork: "alpha", defaultNetworks: ["green"] });
    const { addrs } = await attach(node, "cd1", conf);
    assertEquals(addrs, { eth0: ["10.41.0.2/24"], net1: ["10.52.0.2/24"] });
  } finally {
    await node.close();
  }
});
