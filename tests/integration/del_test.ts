/**
 * DEL always cleans up: without a netns, from a damaged cache, after multicni was killed mid-ADD,
 * and for many containers at once (issue 3 §3, §4 and §8).
 */

import { assert, assertEquals, assertOk, sh, TestNode } from "../_utils/mod.ts";
import {
  assertNothingLeft,
  bridgeNet,
  ipv4,
  type Json,
  macvlanTuning,
  metaConf,
  ptpTuning,
} from "../_utils/networks.ts";

function threeNetworks(node: TestNode): Json {
  return metaConf(node, {
    delegates: [
      bridgeNet(node, "main", "10.10.0.0/24"),
      macvlanTuning(node, "side", "vpar0", "10.20.0.0/24", "net1"),
      ptpTuning(node, "p2p", "10.30.0.0/24", "c2:11:22:33:44:57"),
    ],
  });
}

Deno.test("DEL without CNI_NETNS frees the IPAM reservations and the cache", async () => {
  const node = await TestNode.create();
  try {
    await node.addVeth("vpar0");
    const pod = await node.addPod();
    const conf = threeNetworks(node);
    assertOk(await node.invoke({ command: "ADD", containerId: "nn1", netns: pod, conf }), "ADD");
    assertEquals(await node.ipamReservations(), [
      "main/10.10.0.2",
      "p2p/10.30.0.2",
      "side/10.20.0.2",
    ]);
    // The runtime has already removed the namespace and no longer passes it.
    await sh(["ip", "netns", "del", pod.split("/").pop()!]);
    assertOk(await node.invoke({ command: "DEL", containerId: "nn1", netns: "", conf }), "DEL");
    // tuning's DEL returns early without a netns and keeps its MAC backup file: its limitation.
    await assertNothingLeft(node, [], { tuningBackups: false });
    assertOk(await node.invoke({ command: "DEL", containerId: "nn1", conf }), "second DEL");
  } finally {
    await node.close();
  }
});

Deno.test("DEL cleans up from a truncated or garbled cache record and the stdin config", async () => {
  const node = await TestNode.create();
  try {
    await node.addVeth("vpar0");
    const conf = threeNetworks(node);
    const damage: [string, (text: string) => string][] = [
      // A torn write (the file system lost the end): the first attachments are still readable.
      ["truncated", (t) => t.slice(0, Math.floor(t.length * 0.6))],
      ["garbled", () => "\u0000\u0000 not json"],
    ];
    for (const [i, [what, spoil]] of damage.entries()) {
      const pod = await node.addPod();
      const args = { containerId: `dmg${i}`, netns: pod, conf };
      assertOk(await node.invoke({ command: "ADD", ...args }), `ADD ${what}`);
      const path = `${node.cniDir}/dmg${i}`;
      await Deno.writeTextFile(path, spoil(await Deno.readTextFile(path)));
      assertOk(await node.invoke({ command: "DEL", ...args }), `DEL ${what}`);
      await assertNothingLeft(node, [pod]);
    }
  } finally {
    await node.close();
  }
});

/** A plugin that never finishes ADD (DEL and CHECK succeed at once). */
const SLOW_PLUGIN = `#!/bin/sh
# multicni test plugin: ADD sleeps so that the test can kill multicni meanwhile.
if [ "$CNI_COMMAND" = ADD ]; then sleep 30; fi
exit 0
`;

/** Pids of processes whose command line mentions `text` (the test's unique temp dir). */
async function pidsMentioning(text: string): Promise<number[]> {
  const r = await sh(["pgrep", "-f", text], { check: false });
  return r.stdout.split("\n").filter(Boolean).map(Number);
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("DEL after multicni was killed mid-ADD removes what the first attachment made", async () => {
  const node = await TestNode.create();
  const killed: number[] = [];
  try {
    await node.writePlugin("slowplug", SLOW_PLUGIN);
    const pod = await node.addPod();
    const conf = metaConf(node, {
      delegates: [
        bridgeNet(node, "main", "10.10.0.0/24"),
        { cniVersion: "1.0.0", name: "slow", type: "slowplug" },
      ],
    });
    const args = { containerId: "kill1", netns: pod, conf };
    const child = await node.spawn({ command: "ADD", ...args });
    await waitFor("attachment 0 to be recorded as added", async () => {
      const rec = await node.readCache("kill1") as { attachments?: Json[] } | undefined;
      return rec?.attachments?.[0]?.state === "added";
    });
    await waitFor("slowplug to run", async () => (await pidsMentioning(node.binDir)).length > 0);
    child.kill("SIGKILL");
    await child.status;
    // The plugin runs in its own process group; kill it too, as a node reboot would.
    for (const pid of await pidsMentioning(node.binDir)) {
      killed.push(pid);
      try {
        Deno.kill(-pid, "SIGKILL");
      } catch {
        Deno.kill(pid, "SIGKILL");
      }
    }

    // What the killed ADD left: eth0 with its address, the reservation, the cache (and lock).
    assertEquals(await ipv4(node, pod), { eth0: ["10.10.0.2/24"] });
    assertEquals(await node.ipamReservations(), ["main/10.10.0.2"]);
    assert((await node.cacheFiles()).includes("kill1"), "cache record kept");

    assertOk(await node.invoke({ command: "DEL", ...args }), "DEL");
    await assertNothingLeft(node, [pod]);
    assertEquals(await pidsMentioning(node.binDir), [], "plugin processes left");
  } finally {
    for (const pid of await pidsMentioning(node.binDir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await node.close();
  }
});

Deno.test("twenty containers ADD and DEL concurrently on one bridge network without leaks", async () => {
  const node = await TestNode.create();
  const COUNT = 20;
  try {
    const conf = metaConf(node, { delegates: [bridgeNet(node, "main", "10.10.0.0/24")] });
    const pods = await Promise.all(Array.from({ length: COUNT }, () => node.addPod()));
    const adds = await Promise.all(
      pods.map((pod, i) =>
        node.invoke({ command: "ADD", containerId: `par${i}`, netns: pod, conf })
      ),
    );
    adds.forEach((r, i) => assertOk(r, `ADD par${i}`));
    const addrs = await Promise.all(pods.map((p) => ipv4(node, p)));
    const eth0 = addrs.map((a) => a.eth0?.[0]);
    assert(eth0.every((a) => a && /^10\.10\.0\.\d+\/24$/.test(a)), `addresses ${eth0}`);
    assertEquals(new Set(eth0).size, COUNT, `addresses not distinct: ${eth0}`);
    assertEquals((await node.ipamReservations()).length, COUNT, "reservations");
    assertEquals((await node.cacheFiles()).length, COUNT, "cache records");

    const dels = await Promise.all(
      pods.map((pod, i) =>
        node.invoke({ command: "DEL", containerId: `par${i}`, netns: pod, conf })
      ),
    );
    dels.forEach((r, i) => assertOk(r, `DEL par${i}`));
    await assertNothingLeft(node, pods);
  } finally {
    await node.close();
  }
});

Deno.test("ADD and DEL racing on one container id are serialized: the node ends clean or fully attached", async () => {
  const node = await TestNode.create();
  try {
    const pod = await node.addPod();
    await node.addVeth("vup0");
    const conf = metaConf(node, {
      delegates: [
        bridgeNet(node, "main", "10.10.0.0/24"),
        macvlanTuning(node, "side", "vup0", "10.20.0.0/24", "net1"),
      ],
    });
    const args = { containerId: "race", netns: pod, conf };
    for (let round = 0; round < 3; round++) {
      // A runtime retrying: two ADDs and a DEL for the same id at once.
      const [a1, d, a2] = await Promise.all([
        node.invoke({ command: "ADD", ...args }),
        node.invoke({ command: "DEL", ...args }),
        node.invoke({ command: "ADD", ...args }),
      ]);
      assertOk(d, "DEL");
      // At most one ADD can hold attachments; the other is refused with 103 or ran after DEL.
      for (const r of [a1, a2]) {
        assert(r.code === 0 || r.json?.code === 103, `ADD: ${r.stdout}`);
      }
      const links = await node.links(pod);
      const cached = (await node.cacheFiles()).filter((f) => !f.startsWith("."));
      if (cached.length === 0) {
        assertEquals(links, ["lo"], "no record, so nothing attached");
      } else {
        // Whatever ADD won is complete: both interfaces, both reservations, CHECK passes.
        assertEquals(links, ["eth0", "lo", "net1"], "a complete attachment");
        assertEquals((await node.ipamReservations()).length, 2, "reservations");
        assertOk(await node.invoke({ command: "CHECK", ...args }), "CHECK");
      }
      assertOk(await node.invoke({ command: "DEL", ...args }), "final DEL");
      await assertNothingLeft(node, [pod]);
    }
  } finally {
    await node.close();
  }
});
