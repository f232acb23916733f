import type { Request } from "../protocol/dispatch.ts";
import { parseCniArgs } from "../protocol/env.ts";
import { parseNetConf } from "../core/netconf.ts";
import { planFor } from "../core/plan.ts";
import type { K8sContext } from "../core/sources.ts";
import { reportAdded, selectNetworks } from "./mod.ts";
import { FakeApiServer } from "../../tests/_utils/fake_apiserver.ts";
import { assert, assertCniRejects, assertEquals, recordingLogger } from "./_testing.ts";

const bridge = (name: string) => ({ cniVersion: "1.0.0", name, type: "bridge" });

async function setup(
  fn: (
    api: FakeApiServer,
    ctx: (o?: CtxOpts) => Promise<K8sContext & { lines: string[] }>,
  ) => Promise<void>,
): Promise<void> {
  const api = await FakeApiServer.start();
  try {
    api.addNad("kube-system", "cluster", bridge("cluster"));
    api.addNad("app", "a", bridge("a"));
    await fn(api, async (o = {}) => {
      const log = recordingLogger();
      const raw = {
        cniVersion: "1.0.0",
        name: "multi",
        type: "multicni",
        clusterNetwork: "cluster",
        kubeconfig: await api.kubeconfig(o.token ? { token: o.token, file: "kc2" } : {}),
        apiTimeoutSeconds: 0.5,
        apiDeadlineSeconds: 1.5,
        ...o.conf,
      };
      const args = o.args ?? "K8S_POD_NAMESPACE=app;K8S_POD_NAME=web;K8S_POD_UID=uid-1";
      const req: Request = {
        args: {
          command: o.command ?? "ADD",
          containerId: "c1",
          netns: "/var/run/netns/x",
          ifname: "eth0",
          args,
          argsMap: parseCniArgs(args),
          path: [],
        },
        conf: raw,
        version: "1.0.0",
      };
      return { conf: parseNetConf(raw, "1.0.0"), req, env: {}, log, lines: log.lines };
    });
  } finally {
    await api.close();
  }
}

interface CtxOpts {
  command?: "ADD" | "DEL";
  args?: string;
  conf?: Record<string, unknown>;
  token?: string;
}

const NETS = { "k8s.v1.cni.cncf.io/networks": "a@fast0" };

Deno.test("selectNetworks() returns the cluster network and the pod's NADs", async () => {
  await setup(async (api, ctx) => {
    api.addPod("app", "web", NETS, "uid-1");
    const sel = await selectNetworks(await ctx());
    assertEquals(sel?.map((s) => [s.network, s.ifname]), [
      ["kube-system/cluster", undefined],
      ["app/a", "fast0"],
    ]);
  });
});

Deno.test("selectNetworks() refuses an ADD for a missing or re-created pod, but not for a static pod", async () => {
  await setup(async (api, ctx) => {
    await assertCniRejects(selectNetworks(await ctx()), 11, 'Pod "app/web" not found');
    api.addPod("app", "web", NETS, "uid-2");
    const e = await assertCniRejects(selectNetworks(await ctx()), 11, "is not the one");
    assert(e.details.includes("uid-1") && e.details.includes("uid-2"), e.details);
    api.addPod("app", "web", { ...NETS, "kubernetes.io/config.source": "file" }, "uid-2");
    assertEquals((await selectNetworks(await ctx()))?.length, 2);
    // Without K8S_POD_UID nothing is checked.
    api.addPod("app", "web", NETS, "uid-3");
    assertEquals(
      (await selectNetworks(await ctx({ args: "K8S_POD_NAMESPACE=app;K8S_POD_NAME=web" })))?.length,
      2,
    );
  });
});

Deno.test("selectNetworks() fails on a missing NAD with code 7 and posts a NoNetworkFound event", async () => {
  await setup(async (api, ctx) => {
    api.addPod("app", "web", { "k8s.v1.cni.cncf.io/networks": "a,nope" }, "uid-1");
    await assertCniRejects(selectNetworks(await ctx()), 7, '"app/nope" not found');
    assertEquals(api.events.map((e) => [e.reason, e.type, e.message]), [[
      "NoNetworkFound",
      "Warning",
      "cannot find a network-attachment-definition (nope) in namespace (app)",
    ]]);
  });
});

Deno.test("selectNetworks() for DEL falls back to the config's networks when the pod is gone, re-created or the API fails", async () => {
  await setup(async (api, ctx) => {
    assertEquals(await selectNetworks(await ctx({ command: "DEL" })), undefined);
    api.addPod("app", "web", NETS, "uid-other");
    assertEquals(await selectNetworks(await ctx({ command: "DEL" })), undefined);
    api.addPod("app", "web", NETS, "uid-1");
    assertEquals((await selectNetworks(await ctx({ command: "DEL" })))?.length, 2);
    api.inject({ status: 500, times: Infinity });
    const c = await ctx({ command: "DEL" });
    const t0 = Date.now();
    assertEquals(await selectNetworks(c), undefined);
    assert(Date.now() - t0 < 2500, "DEL waited past the deadline");
    assert(
      c.lines.some((l) => l.includes("DEL without cache cannot ask Kubernetes")),
      c.lines.join("\n"),
    );
  });
});

Deno.test("selectNetworks() fails an ADD with code 11 on an auth failure and logs no token", async () => {
  await setup(async (api, ctx) => {
    api.addPod("app", "web", NETS, "uid-1");
    const c = await ctx({ token: "not-the-token-xyz" });
    await assertCniRejects(selectNetworks(c), 11, "GET pod app/web");
    assert(!c.lines.join("\n").includes("not-the-token-xyz"), "token logged");
    assert(!c.lines.join("\n").includes(api.token), "token logged");
  });
});

Deno.test("selectNetworks() refuses invalid API limits with code 7", async () => {
  await setup(async (_api, ctx) => {
    await assertCniRejects(
      selectNetworks(await ctx({ conf: { apiTimeoutSeconds: 0 } })),
      7,
      "apiTimeoutSeconds",
    );
    await assertCniRejects(
      selectNetworks(await ctx({ conf: { networkStatusFormat: "x" } })),
      7,
      "networkStatusFormat",
    );
  });
});

function planOf(c: K8sContext, sel: Awaited<ReturnType<typeof selectNetworks>>) {
  return planFor({
    conf: c.conf,
    containerId: "c1",
    netns: "/var/run/netns/x",
    ifname: "eth0",
    cniArgs: "",
  }, sel!);
}

const RESULTS = [
  {
    version: "1.0.0" as const,
    result: {
      cniVersion: "1.0.0",
      interfaces: [{ name: "eth0", sandbox: "/var/run/netns/x" }],
      ips: [{ address: "10.0.0.2/24", interface: 0 }],
    },
  },
  {
    version: "1.0.0" as const,
    result: {
      cniVersion: "1.0.0",
      interfaces: [{ name: "fast0", sandbox: "/var/run/netns/x" }],
      ips: [{ address: "10.1.0.2/24", interface: 0 }],
    },
  },
];

Deno.test("reportAdded() writes network-status and one AddedInterface event per interface", async () => {
  await setup(async (api, ctx) => {
    api.addPod("app", "web", NETS, "uid-1");
    const c = await ctx({ conf: { networkStatusFormat: "multus" } });
    const plan = planOf(c, await selectNetworks(c));
    await reportAdded(c, plan, RESULTS);
    const status = JSON.parse(api.annotations("app", "web")["k8s.v1.cni.cncf.io/network-status"]!);
    assertEquals(status, [
      { name: "kube-system/cluster", interface: "eth0", default: true, ips: ["10.0.0.2"] },
      { name: "app/a", interface: "fast0", default: false, ips: ["10.1.0.2"] },
    ]);
    assertEquals(api.events.map((e) => e.message).sort(), [
      "Add eth0 [10.0.0.2] from kube-system/cluster",
      "Add fast0 [10.1.0.2] from app/a",
    ]);
  });
});

Deno.test("reportAdded() logs but does not throw when the API fails", async () => {
  await setup(async (api, ctx) => {
    api.addPod("app", "web", NETS, "uid-1");
    const c = await ctx();
    const plan = planOf(c, await selectNetworks(c));
    api.inject({ status: 500, times: Infinity });
    await reportAdded(c, plan, RESULTS);
    assert(c.lines.some((l) => l.includes("cannot write network-status")), c.lines.join("\n"));
    assertEquals(api.annotations("app", "web")["k8s.v1.cni.cncf.io/network-status"], undefined);
  });
});
