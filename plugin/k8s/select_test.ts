import { parseNetConf } from "../core/netconf.ts";
import type { NetworkSelection } from "../core/plan.ts";
import type { Nad } from "./nad.ts";
import type { Pod } from "./pod.ts";
import { MissingNetworkError, type NadLookup, podNetworks } from "./select.ts";
import { assert, assertCniRejects, assertEquals } from "./_testing.ts";

const bridge = (name?: string) => ({
  cniVersion: "1.0.0",
  ...(name ? { name } : {}),
  type: "bridge",
  ipam: { type: "host-local", subnet: "10.9.0.0/24" },
});

async function withConfDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "multicni-select-" });
  try {
    await Deno.writeTextFile(`${dir}/10-extra.conf`, JSON.stringify(bridge("extra")));
    await Deno.writeTextFile(`${dir}/20-fromfile.conf`, JSON.stringify(bridge("fromfile")));
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function conf(dir: string, extra: Record<string, unknown>) {
  return parseNetConf({
    cniVersion: "1.0.0",
    name: "multi",
    confDir: dir,
    clusterNetwork: "cluster",
    ...extra,
  }, "1.0.0");
}

function pod(namespace: string, annotations: Record<string, string> = {}): Pod {
  return { metadata: { name: "web", namespace, annotations } };
}

/** A NAD store; records lookups and the most lookups in flight at once. */
function store(nads: Record<string, unknown>) {
  const seen: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const lookup: NadLookup = async (ns, name) => {
    seen.push(`${ns}/${name}`);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    const key = `${ns}/${name}`;
    if (!(key in nads)) return undefined;
    const c = nads[key];
    const nad: Nad = {
      namespace: ns,
      name,
      config: c === undefined ? "" : typeof c === "string" ? c : JSON.stringify(c),
    };
    return nad;
  };
  return { lookup, seen, maxInFlight: () => maxInFlight };
}

const brief = (s: NetworkSelection) => ({
  network: s.network ?? s.delegate.name,
  ...(s.ifname ? { ifname: s.ifname } : {}),
  ...(s.runtimeConfig ? { rc: s.runtimeConfig } : {}),
});

Deno.test("podNetworks() orders cluster network, defaultNetworks, then annotation networks, fetching NADs in parallel", async () => {
  await withConfDir(async (dir) => {
    const s = store({
      "kube-system/cluster": bridge("cluster"),
      "app/a": bridge("a"),
      "app/b": bridge(),
      "shared/c": bridge("c"),
    });
    const nets = await podNetworks(
      conf(dir, { defaultNetworks: ["extra"] }),
      pod("app", {
        "k8s.v1.cni.cncf.io/networks":
          '[{"name":"a"},{"name":"b","interface":"fast0","ips":["10.9.0.9/24"]},' +
          '{"name":"c","namespace":"shared","default-route":["10.9.0.1"]}]',
      }),
      s.lookup,
    );
    assertEquals(nets.selections.map(brief), [
      { network: "kube-system/cluster" },
      { network: "extra" },
      { network: "app/a" },
      { network: "app/b", ifname: "fast0", rc: { ips: ["10.9.0.9/24"] } },
      { network: "shared/c" },
    ]);
    // A NAD config without a name gets the NAD's.
    assertEquals(nets.selections[3]?.delegate.name, "b");
    assertEquals([...nets.defaultRoutes], [[4, ["10.9.0.1"]]]);
    assert(s.maxInFlight() > 1, "NADs were fetched one at a time");
  });
});

Deno.test("podNetworks() falls back from a NAD to a conf in confDir for clusterNetwork and defaultNetworks", async () => {
  await withConfDir(async (dir) => {
    const s = store({});
    const nets = await podNetworks(
      conf(dir, { clusterNetwork: "fromfile", defaultNetworks: ["extra"] }),
      pod("app"),
      s.lookup,
    );
    assertEquals(nets.selections.map(brief), [{ network: "fromfile" }, { network: "extra" }]);
    assertEquals(s.seen.sort(), ["kube-system/extra", "kube-system/fromfile"]);
  });
});

Deno.test("podNetworks() looks up clusterNetwork NADs in multusNamespace", async () => {
  await withConfDir(async (dir) => {
    const s = store({ "infra/cluster": bridge("cluster") });
    const nets = await podNetworks(conf(dir, { multusNamespace: "infra" }), pod("app"), s.lookup);
    assertEquals(nets.selections.map(brief), [{ network: "infra/cluster" }]);
  });
});

Deno.test("podNetworks() reads an empty NAD spec from the conf in confDir named like the NAD", async () => {
  await withConfDir(async (dir) => {
    const s = store({ "kube-system/cluster": bridge("cluster"), "app/fromfile": undefined });
    const nets = await podNetworks(
      conf(dir, {}),
      pod("app", { "k8s.v1.cni.cncf.io/networks": "fromfile" }),
      s.lookup,
    );
    assertEquals(nets.selections.map(brief), [
      { network: "kube-system/cluster" },
      { network: "app/fromfile" },
    ]);
    assertEquals(nets.selections[1]?.delegate.name, "fromfile");
    const missing = store({ "kube-system/cluster": bridge("cluster"), "app/nofile": undefined });
    await assertCniRejects(
      podNetworks(
        conf(dir, {}),
        pod("app", { "k8s.v1.cni.cncf.io/networks": "nofile" }),
        missing.lookup,
      ),
      7,
      'NetworkAttachmentDefinition "app/nofile" has no spec.config',
    );
  });
});

Deno.test("podNetworks() gives pods in systemNamespaces no defaultNetworks", async () => {
  await withConfDir(async (dir) => {
    const s = store({ "kube-system/cluster": bridge("cluster") });
    const c = conf(dir, { defaultNetworks: ["extra"], systemNamespaces: ["kube-system", "infra"] });
    assertEquals((await podNetworks(c, pod("infra"), s.lookup)).selections.map(brief), [
      { network: "kube-system/cluster" },
    ]);
    assertEquals((await podNetworks(c, pod("app"), s.lookup)).selections.length, 2);
  });
});

Deno.test("podNetworks() with namespaceIsolation allows the pod's own and global namespaces only", async () => {
  await withConfDir(async (dir) => {
    const s = store({
      "kube-system/cluster": bridge("cluster"),
      "app/a": bridge("a"),
      "default/g": bridge("g"),
      "other/x": bridge("x"),
    });
    const c = conf(dir, { namespaceIsolation: true });
    const ok = await podNetworks(
      c,
      pod("app", { "k8s.v1.cni.cncf.io/networks": "a,default/g" }),
      s.lookup,
    );
    assertEquals(ok.selections.map(brief).slice(1), [{ network: "app/a" }, {
      network: "default/g",
    }]);
    await assertCniRejects(
      podNetworks(c, pod("app", { "k8s.v1.cni.cncf.io/networks": "other/x" }), s.lookup),
      7,
      'Network "other/x" is not allowed for pods in namespace "app"',
    );
    const globals = conf(dir, { namespaceIsolation: true, globalNamespaces: "default, other" });
    const allowed = await podNetworks(
      globals,
      pod("app", { "k8s.v1.cni.cncf.io/networks": "other/x" }),
      s.lookup,
    );
    assertEquals(allowed.selections.length, 2);
    // Without isolation any namespace may be named.
    const free = await podNetworks(
      conf(dir, {}),
      pod("app", { "k8s.v1.cni.cncf.io/networks": "other/x" }),
      s.lookup,
    );
    assertEquals(free.selections.length, 2);
  });
});

Deno.test("podNetworks() lets v1.multus-cni.io/default-network replace the cluster network or the first inline delegate", async () => {
  await withConfDir(async (dir) => {
    const s = store({ "kube-system/cluster": bridge("cluster"), "kube-system/alt": bridge("alt") });
    const annotations = { "v1.multus-cni.io/default-network": "alt" };
    assertEquals(
      (await podNetworks(conf(dir, {}), pod("app", annotations), s.lookup)).selections.map(brief),
      [{ network: "kube-system/alt" }],
    );
    const inline = conf(dir, {
      clusterNetwork: undefined,
      delegates: [bridge("d0"), bridge("d1")],
    });
    assertEquals((await podNetworks(inline, pod("app"), s.lookup)).selections.map(brief), [
      { network: "d0" },
      { network: "d1" },
    ]);
    assertEquals(
      (await podNetworks(inline, pod("app", annotations), s.lookup)).selections.map(brief),
      [{ network: "kube-system/alt" }, { network: "d1" }],
    );
  });
});

Deno.test("podNetworks() reports every missing NAD at once", async () => {
  await withConfDir(async (dir) => {
    const s = store({ "kube-system/cluster": bridge("cluster"), "app/a": bridge("a") });
    const e = await assertCniRejects(
      podNetworks(
        conf(dir, {}),
        pod("app", { "k8s.v1.cni.cncf.io/networks": "nope1,a,x/nope2" }),
        s.lookup,
      ),
      7,
      'Networks "app/nope1", "x/nope2" not found',
    );
    assert(e instanceof MissingNetworkError);
    assertEquals(e.missing, ["app/nope1", "x/nope2"]);
  });
});

Deno.test("podNetworks() refuses more than one default-route gateway per family", async () => {
  await withConfDir(async (dir) => {
    const s = store({ "kube-system/cluster": bridge("cluster"), "app/a": bridge("a") });
    const two = '[{"name":"a","default-route":["10.0.0.1"]},{"name":"a","interface":"n2",' +
      '"default-route":["10.0.1.1","fd00::1"]}]';
    await assertCniRejects(
      podNetworks(conf(dir, {}), pod("app", { "k8s.v1.cni.cncf.io/networks": two }), s.lookup),
      7,
      "more than one IPv4 gateway",
    );
    const v4v6 = '[{"name":"a","default-route":["10.0.0.1"]},{"name":"a","interface":"n2",' +
      '"default-route":["fd00::1"]}]';
    const nets = await podNetworks(
      conf(dir, {}),
      pod("app", { "k8s.v1.cni.cncf.io/networks": v4v6 }),
      s.lookup,
    );
    assertEquals([...nets.defaultRoutes], [[1, ["10.0.0.1"]], [2, ["fd00::1"]]]);
  });
});

Deno.test("podNetworks() merges cni-args into args.cni of every plugin of the NAD", async () => {
  await withConfDir(async (dir) => {
    const list = {
      cniVersion: "1.0.0",
      name: "l",
      plugins: [{ type: "bridge", args: { cni: { keep: 1, over: 1 } } }, { type: "tuning" }],
    };
    const s = store({ "kube-system/cluster": bridge("cluster"), "app/l": list });
    const nets = await podNetworks(
      conf(dir, {}),
      pod("app", { "k8s.v1.cni.cncf.io/networks": '[{"name":"l","cni-args":{"over":2,"new":3}}]' }),
      s.lookup,
    );
    const d = nets.selections[1]!.delegate;
    assert(d.kind === "conflist");
    assertEquals(d.plugins.map((p) => p.args), [
      { cni: { keep: 1, over: 2, new: 3 } },
      { cni: { over: 2, new: 3 } },
    ]);
  });
});
