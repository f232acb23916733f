/**
 * Pre-flight validation end to end: a plan with a bad IPAM range is refused before any delegate
 * runs, so the node is untouched, although the first delegate alone is valid.
 */

import { assert, assertCniError, TestNode } from "../_utils/mod.ts";
import { assertNothingLeft, bridgeNet, metaConf } from "../_utils/networks.ts";

Deno.test("a rangeEnd outside its subnet in the second delegate is refused before the first runs", async () => {
  const node = await TestNode.create();
  try {
    const pod = await node.addPod();
    await node.addVeth("vup0");
    const side = {
      cniVersion: "1.0.0",
      name: "side",
      plugins: [{
        type: "macvlan",
        master: "vup0",
        ipam: {
          type: "host-local",
          dataDir: node.ipamDir,
          ranges: [[{ subnet: "10.41.0.0/24", rangeStart: "10.41.0.10", rangeEnd: "10.41.1.20" }]],
        },
      }],
    };
    const conf = metaConf(node, { delegates: [bridgeNet(node, "main", "10.40.0.0/24"), side] });
    const r = await node.invoke({ command: "ADD", containerId: "val-1", netns: pod, conf });
    const err = assertCniError(r, 7);
    const msg = String(err.msg);
    assert(msg.includes('"side"'), `message names the network: ${msg}`);
    assert(
      msg.includes("plugins[0].ipam.ranges[0][0].rangeEnd") && msg.includes("10.41.1.20"),
      `message names the field and value: ${msg}`,
    );
    // The bridge delegate never ran: no bridge, no veth, no address, no IPAM file, no cache.
    const nodeLinks = await node.links(node.path);
    assert(!nodeLinks.includes("br-main"), `bridge was created: ${nodeLinks}`);
    await assertNothingLeft(node, [pod]);
  } finally {
    await node.close();
  }
});

Deno.test("overlapping subnets across attachments are refused unless allowSubnetOverlap is set", async () => {
  const node = await TestNode.create();
  try {
    const pod = await node.addPod();
    const delegates = [
      bridgeNet(node, "main", "10.42.0.0/16"),
      bridgeNet(node, "other", "10.42.7.0/24"),
    ];
    const refused = await node.invoke({
      command: "ADD",
      containerId: "val-2",
      netns: pod,
      conf: metaConf(node, { delegates }),
    });
    const err = assertCniError(refused, 7);
    assert(/overlap/i.test(`${err.msg} ${err.details ?? ""}`), `says overlap: ${refused.stdout}`);
    await assertNothingLeft(node, [pod]);

    const conf = metaConf(node, { delegates, allowSubnetOverlap: true });
    const ok = await node.invoke({ command: "ADD", containerId: "val-2", netns: pod, conf });
    assert(ok.code === 0, `ADD with allowSubnetOverlap failed: ${ok.stdout}`);
    const del = await node.invoke({ command: "DEL", containerId: "val-2", netns: pod, conf });
    assert(del.code === 0, `DEL failed: ${del.stdout}`);
    await assertNothingLeft(node, [pod]);
  } finally {
    await node.close();
  }
});
