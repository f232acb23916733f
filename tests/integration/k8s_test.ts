/**
 * The whole Kubernetes path with Debian's real plugins in throwaway namespaces: multicni reads the
 * pod and its NetworkAttachmentDefinitions from the fake API server (real HTTPS, reached from
 * inside the node namespace through a relay), attaches every network, writes network-status and
 * events; DEL cleans up from the cache with the API server gone (issue 5 §5).
 */

import { assert, assertCniError, assertEquals, assertOk, sh, TestNode } from "../_utils/mod.ts";
import {
  assertNothingLeft,
  bridgeNet,
  hostLocal,
  ipv4,
  type Json,
  metaConf,
} from "../_utils/networks.ts";
import { FakeApiServer } from "../_utils/fake_apiserver.ts";
import { exposeInNetns, type NetnsRelay, podCniArgs } from "../_utils/k8s.ts";

const UID = "7d3c-uid";

/** A node, the fake API server reachable from it, and a kubeconfig for it. */
async function cluster(
  fn: (
    o: { node: TestNode; api: FakeApiServer; relay: NetnsRelay; kubeconfig: string },
  ) => Promise<void>,
): Promise<void> {
  const node = await TestNode.create();
  const api = await FakeApiServer.start();
  let relay: NetnsRelay | undefined;
  try {
    relay = await exposeInNetns(node, api.port);
    const kubeconfig = await api.kubeconfig({ server: `https://127.0.0.1:${relay.port}` });
    // The cluster network: a conf in confDir, with a default route through its bridge.
    const main = bridgeNet(node, "cluster", "10.40.0.0/24");
    main.ipam = { ...hostLocal(node, "10.40.0.0/24"), routes: [{ dst: "0.0.0.0/0" }] };
    await Deno.writeTextFile(`${node.confDir}/10-cluster.conf`, JSON.stringify(main));
    await fn({ node, api, relay, kubeconfig });
  } finally {
    await relay?.close();
    await api.close();
    await node.close();
  }
}

function conf(node: TestNode, kubeconfig: string, extra: Json = {}): Json {
  return metaConf(node, {
    clusterNetwork: "cluster",
    kubeconfig,
    apiTimeoutSeconds: 1,
    apiDeadlineSeconds: 3,
    ...extra,
  });
}

async function defaultRoutes(pod: string): Promise<Json[]> {
  const r = await sh(["ip", "-n", pod.split("/").pop()!, "-j", "-4", "route", "show", "default"]);
  return (JSON.parse(r.stdout) as Json[]).map((x) => ({ gateway: x.gateway, dev: x.dev }));
}

Deno.test("ADD attaches the cluster network and two NADs of the pod annotation, network-status lists all three, DEL with the API down cleans up", async () => {
  await cluster(async ({ node, api, relay, kubeconfig }) => {
    await node.addVeth("vpar0");
    const pod = await node.addPod();
    api.addNad("default", "storage", {
      cniVersion: "1.0.0",
      type: "macvlan",
      master: "vpar0",
      mode: "bridge",
      ipam: hostLocal(node, "10.41.0.0/24"),
    });
    // No name in the NAD config: the NAD's is used.
    const fast = bridgeNet(node, "fast", "10.42.0.0/24");
    delete fast.name;
    api.addNad("default", "fast", fast);
    api.addPod("default", "web", {
      "k8s.v1.cni.cncf.io/networks":
        '[{"name":"storage"},{"name":"fast","interface":"fast0","default-route":["10.42.0.1"]}]',
    }, UID);
    const args = {
      containerId: "k1",
      netns: pod,
      conf: conf(node, kubeconfig),
      cniArgs: podCniArgs("default", "web", UID),
    };

    const add = await node.invoke({ command: "ADD", ...args });
    assertOk(add, "ADD");
    assertEquals(await node.links(pod), ["eth0", "fast0", "lo", "net1"]);
    const v4 = await ipv4(node, pod);
    assertEquals([v4.eth0, v4.net1, v4.fast0], [["10.40.0.2/24"], ["10.41.0.2/24"], [
      "10.42.0.2/24",
    ]]);
    // default-route moved the pod's default route from eth0 to fast0.
    assertEquals(await defaultRoutes(pod), [{ gateway: "10.42.0.1", dev: "fast0" }]);

    const status = JSON.parse(
      api.annotations("default", "web")["k8s.v1.cni.cncf.io/network-status"]!,
    );
    assertEquals(
      status.map((e: Json) => [e.name, e.interface, e.default, e.ips, e["default-route"]]),
      [
        ["cluster", "eth0", true, ["10.40.0.2/24"], undefined],
        ["default/storage", "net1", false, ["10.41.0.2/24"], undefined],
        ["default/fast", "fast0", false, ["10.42.0.2/24"], ["10.42.0.1"]],
      ],
    );
    assert(status.every((e: Json) => typeof e.mac === "string"), "every entry has a mac");
    assertEquals(api.events.map((e) => [e.reason, e.message]).sort(), [
      ["AddedInterface", "Add eth0 [10.40.0.2/24] from cluster"],
      ["AddedInterface", "Add fast0 [10.42.0.2/24] from default/fast"],
      ["AddedInterface", "Add net1 [10.41.0.2/24] from default/storage"],
    ]);
    const rec = await node.readCache("k1") as { attachments: Json[] };
    assertEquals(rec.attachments.map((a) => [a.network, a.ifname, a.state]), [
      ["cluster", "eth0", "added"],
      ["default/storage", "net1", "added"],
      ["default/fast", "fast0", "added"],
    ]);

    // The API server goes away: DEL needs only the cache.
    await relay.close();
    const t0 = Date.now();
    assertOk(await node.invoke({ command: "DEL", ...args }), "DEL");
    assert(Date.now() - t0 < 15_000, "DEL waited for the API");
    await assertNothingLeft(node, [pod]);
  });
});

Deno.test("ADD with the API server hanging fails with code 11 naming the call, and leaves nothing on the node", async () => {
  await cluster(async ({ node, api, kubeconfig }) => {
    const pod = await node.addPod();
    api.addPod("default", "web", {}, UID);
    api.inject({ hang: true, times: Infinity });
    const args = {
      containerId: "k2",
      netns: pod,
      conf: conf(node, kubeconfig, { apiTimeoutSeconds: 0.5, apiDeadlineSeconds: 1.5 }),
      cniArgs: podCniArgs("default", "web", UID),
    };
    const t0 = Date.now();
    const err = assertCniError(await node.invoke({ command: "ADD", ...args }), 11);
    assert(Date.now() - t0 < 15_000, "the deadline was not honoured");
    assertEquals(err.msg, 'Kubernetes API call "GET pod default/web" failed');
    assert(String(err.details).includes("apiTimeoutSeconds"), String(err.details));
    await assertNothingLeft(node, [pod]);
    // DEL without a cache and without the API: the config's own network is deleted, best effort.
    assertOk(await node.invoke({ command: "DEL", ...args }), "DEL");
    await assertNothingLeft(node, [pod]);
  });
});

Deno.test("ADD naming a NAD that does not exist fails with code 7, posts NoNetworkFound and leaves nothing", async () => {
  await cluster(async ({ node, api, kubeconfig }) => {
    const pod = await node.addPod();
    api.addPod("default", "web", { "k8s.v1.cni.cncf.io/networks": "nope" }, UID);
    const err = assertCniError(
      await node.invoke({
        command: "ADD",
        containerId: "k3",
        netns: pod,
        conf: conf(node, kubeconfig),
        cniArgs: podCniArgs("default", "web", UID),
      }),
      7,
    );
    assertEquals(err.msg, 'Network "default/nope" not found');
    assertEquals(api.events.map((e) => e.reason), ["NoNetworkFound"]);
    await assertNothingLeft(node, [pod]);
  });
});
