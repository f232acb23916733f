import type { Plan } from "../core/plan.ts";
import { parseDelegate } from "../core/delegate.ts";
import { K8sClient } from "./client.ts";
import { loadKubeconfig } from "./kubeconfig.ts";
import {
  addedInterfaceMessage,
  networkStatus,
  postEvent,
  STATUS_CONFLICT_RETRIES,
  writeNetworkStatus,
} from "./status.ts";
import { FakeApiServer } from "../../tests/_utils/fake_apiserver.ts";
import { assert, assertCniRejects, assertEquals, recordingLogger } from "./_testing.ts";

function plan(): Plan {
  const d = parseDelegate({ cniVersion: "1.0.0", name: "n", type: "bridge" }, "1.0.0", "t");
  const at = (index: number, network: string, ifname: string) => ({
    index,
    network,
    ifname,
    isDefault: index === 0,
    delegate: d,
    runtimeConfig: {},
    cniArgs: "",
  });
  return {
    containerId: "c1",
    netns: "/var/run/netns/p",
    ifname: "eth0",
    cniVersion: "1.0.0",
    attachments: [at(0, "cluster", "eth0"), at(1, "app/a", "net1"), at(2, "app/b", "fast0")],
  };
}

const RESULTS = [
  {
    version: "1.0.0" as const,
    result: {
      cniVersion: "1.0.0",
      interfaces: [
        { name: "cni0", mac: "aa:aa:aa:aa:aa:aa" },
        { name: "eth0", mac: "02:00:00:00:00:01", sandbox: "/var/run/netns/p" },
      ],
      ips: [{ address: "10.0.0.2/24", gateway: "10.0.0.1", interface: 1 }],
      routes: [{ dst: "0.0.0.0/0", gw: "10.0.0.1" }],
      dns: { nameservers: ["10.0.0.10"] },
    },
  },
  {
    version: "0.4.0" as const,
    result: {
      cniVersion: "0.4.0",
      interfaces: [{ name: "net1", mac: "02:00:00:00:00:02", sandbox: "/var/run/netns/p" }],
      ips: [{ version: "4", address: "10.1.0.2/24", interface: 0 }, {
        version: "6",
        address: "fd00::2/64",
        interface: 0,
      }],
    },
  },
  // A result without interfaces: a minimal entry.
  { version: "1.1.0" as const, result: { cniVersion: "1.1.0", ips: [{ address: "10.2.0.2/24" }] } },
];

Deno.test("networkStatus() writes one spec entry per attachment, default only on the master, ips with prefix", () => {
  assertEquals(networkStatus(plan(), RESULTS, new Map(), "spec"), [
    {
      name: "cluster",
      interface: "eth0",
      default: true,
      ips: ["10.0.0.2/24"],
      mac: "02:00:00:00:00:01",
      dns: { nameservers: ["10.0.0.10"] },
      "default-route": ["10.0.0.1"],
    },
    {
      name: "app/a",
      interface: "net1",
      default: false,
      ips: ["10.1.0.2/24", "fd00::2/64"],
      mac: "02:00:00:00:00:02",
    },
    { name: "app/b", interface: "fast0", default: false, ips: ["10.2.0.2/24"] },
  ]);
});

Deno.test("networkStatus() in multus format writes bare addresses and gateway, and default-route requests move the gateway", () => {
  const entries = networkStatus(plan(), RESULTS, new Map([[2, ["10.2.0.1"]]]), "multus");
  assertEquals(entries.map((e) => [e.ips, e.gateway, e["default-route"]]), [
    [["10.0.0.2"], undefined, undefined],
    [["10.1.0.2", "fd00::2"], undefined, undefined],
    [["10.2.0.2"], ["10.2.0.1"], undefined],
  ]);
  assertEquals(addedInterfaceMessage(entries[1]!), "Add net1 [10.1.0.2 fd00::2] from app/a");
});

async function withServer(fn: (api: FakeApiServer, c: K8sClient) => Promise<void>): Promise<void> {
  const api = await FakeApiServer.start();
  const c = new K8sClient(
    await loadKubeconfig(await api.kubeconfig()),
    { timeoutMs: 2000, deadlineMs: 5000 },
    recordingLogger(),
  );
  try {
    await fn(api, c);
  } finally {
    c.close();
    await api.close();
  }
}

const REF = { namespace: "app", name: "web" };

Deno.test("writeNetworkStatus() sets the annotation through pods/status and keeps other annotations", async () => {
  await withServer(async (api, c) => {
    api.addPod("app", "web", { keep: "me" });
    const entries = networkStatus(plan(), RESULTS, new Map(), "spec");
    await writeNetworkStatus(c, REF, entries, recordingLogger());
    const a = api.annotations("app", "web");
    assertEquals(a.keep, "me");
    assertEquals(JSON.parse(a["k8s.v1.cni.cncf.io/network-status"]!), entries);
    assertEquals(api.requests.map((r) => `${r.method} ${r.path}`), [
      "GET /api/v1/namespaces/app/pods/web",
      "PUT /api/v1/namespaces/app/pods/web/status",
    ]);
  });
});

Deno.test("writeNetworkStatus() re-reads the pod and retries when the write conflicts (409)", async () => {
  await withServer(async (api, c) => {
    api.addPod("app", "web");
    // Another writer changes the pod while our first write is on its way: a real
    // resourceVersion conflict. Then one injected 409.
    api.inject({ method: "PUT", delayMs: 150 });
    const touch = setTimeout(() => api.touchPod("app", "web"), 50);
    api.inject({ method: "PUT", status: 409 });
    try {
      await writeNetworkStatus(c, REF, [{ name: "n", default: true }], recordingLogger());
    } finally {
      clearTimeout(touch);
    }
    assertEquals(api.requests.map((r) => `${r.method} ${r.status}`), [
      "GET 200",
      "PUT 409",
      "GET 200",
      "PUT 409",
      "GET 200",
      "PUT 200",
    ]);
    assert(api.annotations("app", "web")["k8s.v1.cni.cncf.io/network-status"]);
  });
});

Deno.test("writeNetworkStatus() gives up after repeated conflicts and when the pod is gone", async () => {
  await withServer(async (api, c) => {
    api.addPod("app", "web");
    api.inject({ method: "PUT", status: 409, times: Infinity });
    await assertCniRejects(
      writeNetworkStatus(c, REF, [], recordingLogger()),
      11,
      "PUT pod app/web status",
    );
    assertEquals(
      api.requests.filter((r) => r.method === "PUT").length,
      STATUS_CONFLICT_RETRIES + 1,
    );
    await assertCniRejects(
      writeNetworkStatus(c, { namespace: "app", name: "gone" }, [], recordingLogger()),
      11,
      "the pod is gone",
    );
  });
});

Deno.test("postEvent() creates a core/v1 Event about the pod", async () => {
  await withServer(async (api, c) => {
    await postEvent(c, { name: "web", namespace: "app", uid: "u1" }, {
      reason: "AddedInterface",
      type: "Normal",
      message: "Add net1 [10.1.0.2/24] from app/a",
    }, new Date("2026-01-02T03:04:05.678Z"));
    const [ev] = api.events;
    assert(ev);
    assertEquals(ev.involvedObject, {
      apiVersion: "v1",
      kind: "Pod",
      name: "web",
      namespace: "app",
      uid: "u1",
    });
    assertEquals([ev.reason, ev.type, ev.message, ev.firstTimestamp], [
      "AddedInterface",
      "Normal",
      "Add net1 [10.1.0.2/24] from app/a",
      "2026-01-02T03:04:05Z",
    ]);
    assert(String(ev.metadata.name).startsWith("web."));
  });
});
