/**
 * `deno task demo`: a real ADD, CHECK and DEL of a two-network config (bridge + host-local on
 * eth0, macvlan + tuning on net1) in throwaway network namespaces, printing what happens.
 * Needs root, iproute2 and Debian's CNI plugins (`bash .ci/setup` installs them).
 *
 * @module
 */

import { CNI_BIN, sh, TestNode } from "../tests/_utils/mod.ts";

function banner(text: string): void {
  console.log(`\n\x1b[1m== ${text}\x1b[0m`);
}

async function showAddrs(pod: string): Promise<void> {
  const name = pod.split("/").pop()!;
  console.log((await sh(["ip", "-n", name, "-br", "addr"])).stdout.trimEnd());
}

if (Deno.uid() !== 0) {
  console.error("demo: needs root (network namespaces); run: sudo .ci/deno task demo");
  Deno.exit(1);
}
try {
  await Deno.stat(`${CNI_BIN}/bridge`);
} catch {
  console.error(`demo: no CNI plugins in ${CNI_BIN}; run: sudo bash .ci/setup`);
  Deno.exit(1);
}

const node = await TestNode.create();
try {
  const pod = await node.addPod();
  await node.addVeth("uplink0");
  const conf = {
    cniVersion: "1.0.0",
    name: "demo",
    type: "multicni",
    cniDir: node.cniDir,
    delegates: [
      {
        cniVersion: "1.0.0",
        name: "cluster",
        type: "bridge",
        bridge: "demobr0",
        isGateway: true,
        ipam: { type: "host-local", subnet: "10.88.0.0/24", dataDir: node.ipamDir },
      },
      {
        cniVersion: "1.0.0",
        name: "storage",
        plugins: [
          {
            type: "macvlan",
            master: "uplink0",
            mode: "bridge",
            ipam: { type: "host-local", subnet: "192.168.77.0/24", dataDir: node.ipamDir },
          },
          { type: "tuning", mtu: 1400 },
        ],
      },
    ],
  };
  console.log(`node namespace ${node.ns}, pod namespace ${pod}`);
  banner("network config on stdin");
  console.log(JSON.stringify(conf, null, 2));

  const run = async (command: string) => {
    banner(`CNI_COMMAND=${command} CNI_IFNAME=eth0 multicni`);
    const t = performance.now();
    const r = await node.invoke({ command, containerId: "demo-1", netns: pod, conf });
    const ms = Math.round(performance.now() - t);
    console.log(`exit ${r.code} in ${ms} ms`);
    if (r.stdout) console.log(JSON.stringify(r.json ?? r.stdout, null, 2));
    if (r.stderr) console.log(r.stderr.trimEnd());
    if (r.code !== 0) throw new Error(`${command} failed`);
  };

  await run("ADD");
  banner("ip addr in the pod namespace");
  await showAddrs(pod);
  banner("cached attachment plan");
  for (const f of await node.cacheFiles()) {
    const rec = JSON.parse(await Deno.readTextFile(`${node.cniDir}/${f}`));
    for (const a of rec.attachments) console.log(`${a.ifname}\t${a.network}\t${a.state}`);
  }
  await run("CHECK");
  await run("DEL");
  banner("ip addr in the pod namespace after DEL");
  await showAddrs(pod);
  const left = [...await node.ipamReservations(), ...await node.cacheFiles()];
  console.log(left.length === 0 ? "no IPAM reservation or cache file left" : `left: ${left}`);
  if (left.length > 0) Deno.exitCode = 1;
} finally {
  await node.close();
}
