/**
 * The CLI face of the real entry point, run as a process: help and exit codes, the examples
 * (each checked by `multicni validate` and planned by `multicni plan`), doctor pointing at a
 * broken delegate, and inspect of a real ADD (issue 6 §2, §4, §5).
 */

import { load as loadYaml } from "js-yaml";
import { parseNetworksAnnotation } from "../../plugin/k8s/annotations.ts";
import {
  assert,
  assertEquals,
  assertOk,
  CNI_BIN,
  pluginCommand,
  REPO,
  sh,
  TestNode,
} from "../_utils/mod.ts";
import { bridgeNet, metaConf } from "../_utils/networks.ts";

/** Runs `multicni ARGS` (no CNI_COMMAND: the CLI) with a clean environment. */
function cli(args: string[], env: Record<string, string> = {}) {
  const base: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    ...env,
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) base.DENO_DIR = denoDir;
  return sh([...pluginCommand(), ...args], { check: false, env: base });
}

const COMMANDS = ["validate", "plan", "inspect", "install", "uninstall", "doctor"];
const NODE_EXAMPLES = ["00-multicni.conflist", "00-multicni-chain.conflist"].map(
  (f) => `${REPO}/examples/node/${f}`,
);

Deno.test("help goes to stdout with exit 0, unknown commands and bad options exit 2 on stderr", async () => {
  const help = await cli(["--help"]);
  assertEquals([help.code, help.stderr], [0, ""]);
  for (const c of COMMANDS) {
    assert(help.stdout.includes(`multicni ${c}`), `top-level help lists ${c}`);
    const h = await cli([c, "--help"]);
    assertEquals([h.code, h.stderr], [0, ""], `${c} --help`);
    assert(h.stdout.startsWith(`usage: multicni ${c}`), `${c} --help: ${h.stdout}`);
  }
  const unknown = await cli(["frobnicate"]);
  assertEquals([unknown.code, unknown.stdout], [2, ""]);
  assert(unknown.stderr.includes('unknown command "frobnicate"'), unknown.stderr);
  for (const args of [["plan"], ["inspect", "--nope"], ["doctor", "--format", "yaml"]]) {
    const r = await cli(args);
    assertEquals([r.code, r.stdout], [2, ""], args.join(" "));
    assert(r.stderr.startsWith(`multicni ${args[0]}: `), r.stderr);
  }
});

Deno.test("version --format json reports version, commit and CNI versions", async () => {
  const r = await cli(["version", "--format", "json"]);
  assertEquals(r.code, 0, r.stderr);
  const v = JSON.parse(r.stdout) as { version: string; commit: string; cniVersions: string[] };
  assert(/^\d+\.\d+\.\d+/.test(v.version), v.version);
  assert(v.cniVersions.includes("1.1.0"), r.stdout);
});

Deno.test("every plain-node example passes multicni validate", async () => {
  const r = await cli(["validate", ...NODE_EXAMPLES]);
  assertEquals(r.code, 0, `${r.stdout}${r.stderr}`);
});

Deno.test("the Kubernetes example's NAD configs pass multicni validate and the pod annotation names them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "multicni-nad-" });
  try {
    const nads = loadYaml as (s: string) => unknown;
    const docs = (await Deno.readTextFile(`${REPO}/examples/kubernetes/networks.yaml`))
      .split(/^---$/m).map((d) =>
        nads(d) as {
          kind: string;
          metadata: { name: string; namespace: string };
          spec: { config: string };
        }
      );
    assertEquals(docs.map((d) => d.kind), [
      "NetworkAttachmentDefinition",
      "NetworkAttachmentDefinition",
    ]);
    const files: string[] = [];
    for (const d of docs) {
      const conf = JSON.parse(d.spec.config) as { name: string; plugins?: unknown };
      assertEquals(conf.name, d.metadata.name, "spec.config name matches the NAD");
      const file = `${dir}/${d.metadata.name}.${conf.plugins ? "conflist" : "conf"}`;
      await Deno.writeTextFile(file, d.spec.config);
      files.push(file);
    }
    const r = await cli(["validate", ...files]);
    assertEquals(r.code, 0, `${r.stdout}${r.stderr}`);

    const pod = nads(await Deno.readTextFile(`${REPO}/examples/kubernetes/pod.yaml`)) as {
      metadata: { namespace: string; annotations: Record<string, string> };
    };
    const value = pod.metadata.annotations["k8s.v1.cni.cncf.io/networks"]!;
    const selected = parseNetworksAnnotation(value, pod.metadata.namespace);
    assertEquals(
      selected.map((s) => `${s.namespace}/${s.name}`),
      docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plan prints the examples' plans and touches nothing", async () => {
  const chain = await cli(["plan", NODE_EXAMPLES[1]!, "--cni-path", CNI_BIN]);
  assertEquals(chain.code, 0, `${chain.stdout}${chain.stderr}`);
  assert(chain.stdout.includes("eth0   cluster  (default network)"), chain.stdout);
  assert(
    chain.stdout.includes("conflist: bridge (ipam host-local) -> portmap -> tuning"),
    chain.stdout,
  );
  assert(chain.stdout.includes("net1   fast"), chain.stdout);
  assert(chain.stdout.includes("Verdict: valid"), chain.stdout);

  const node = await TestNode.create();
  try {
    const conf = metaConf(node, { delegates: [bridgeNet(node, "main", "10.61.0.0/24")] });
    const file = await node.writeConf("00-multi.conf", conf, node.dir);
    await Deno.remove(node.cniDir);
    const j = await cli(["plan", file, "--cni-path", CNI_BIN, "--format", "json"]);
    assertEquals(j.code, 0, j.stderr);
    const report = JSON.parse(j.stdout) as { valid: boolean; attachments: { ifname: string }[] };
    assertEquals([report.valid, report.attachments.map((a) => a.ifname)], [true, ["eth0"]]);
    assert(!(await Deno.stat(node.cniDir).then(() => true, () => false)), "no cache dir made");
    const links = (await sh(["ip", "-j", "link"])).stdout;
    assert(!links.includes('"mcbr0"'), "no bridge made");
    assertEquals(await node.ipamReservations(), []);
  } finally {
    await node.close();
  }
});

Deno.test("plan explains why ADD would refuse a config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/bad.conf`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        cniVersion: "1.0.0",
        name: "multi",
        type: "multicni",
        delegates: [
          {
            cniVersion: "1.0.0",
            name: "a",
            type: "bridge",
            ipam: { type: "host-local", subnet: "10.5.0.0/16" },
          },
          {
            cniVersion: "1.0.0",
            name: "b",
            type: "bridge",
            ipam: { type: "host-local", subnet: "10.5.1.0/24" },
          },
        ],
      }),
    );
    const r = await cli(["plan", file, "--cni-path", CNI_BIN]);
    assertEquals(r.code, 1, r.stdout);
    assert(r.stdout.includes("net1   b"), "the plan is still shown");
    assert(r.stdout.includes("Verdict: ADD would refuse this (CNI error 7)"), r.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("doctor passes on an installed node and points at a broken delegate name", async () => {
  const root = await Deno.makeTempDir({ prefix: "multicni-doctor-" });
  try {
    const [bin, conf, cache] = [`${root}/bin`, `${root}/net.d`, `${root}/cache`];
    await Deno.mkdir(conf);
    const primary = (type: string) =>
      JSON.stringify({
        cniVersion: "1.0.0",
        name: "cbr0",
        plugins: [{ type, bridge: "cni0", ipam: { type: "host-local", subnet: "10.9.0.0/24" } }],
      });
    await Deno.writeTextFile(`${conf}/10-cbr0.conflist`, primary("bridge"));
    // doctor checks the binary is there, not what it is: a stand-in keeps this test independent
    // of dist/.
    await Deno.writeTextFile(`${root}/build`, "#!/bin/sh\n", { mode: 0o755 });
    const install = ["install", "--bin-dir", bin, "--conf-dir", conf, "--cni-dir", cache];
    install.push("--source", `${root}/build`);
    assertOk({ ...(await cli(install)), json: undefined }, "install");
    const doctor = ["doctor", "--conf-dir", conf];
    const env = { CNI_PATH: `${bin}:${CNI_BIN}` };
    const good = await cli(doctor, env);
    assertEquals(good.code, 0, good.stdout);
    assert(good.stdout.includes("all checks passed"), good.stdout);

    await Deno.writeTextFile(`${conf}/10-cbr0.conflist`, primary("brdige"));
    assertEquals((await cli([...install, "--skip-binary"])).code, 0);
    const bad = await cli([...doctor, "--format", "json"], env);
    assertEquals(bad.code, 1, bad.stdout);
    const report = JSON.parse(bad.stdout) as {
      ok: boolean;
      checks: { name: string; status: string; fix?: string }[];
    };
    const failed = report.checks.filter((c) => c.status === "fail");
    assertEquals(failed[0]?.name, 'plugin "brdige" of network "cbr0"');
    assert(failed[0]?.fix?.includes('correct "type" in network "cbr0"'), JSON.stringify(failed));
    const text = await cli(doctor, env);
    assert(text.stdout.includes('[FAIL] plugin "brdige" of network "cbr0"'), text.stdout);
    assertEquals((await cli(["uninstall", "--conf-dir", conf])).code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("inspect shows a real ADD's attachments and nothing after DEL", async () => {
  const node = await TestNode.create();
  try {
    const pod = await node.addPod();
    const conf = metaConf(node, {
      delegates: [bridgeNet(node, "main", "10.62.0.0/24", { bridge: "mcbri0" })],
    });
    const args = { containerId: "insp1", netns: pod, conf };
    assertOk(await node.invoke({ command: "ADD", ...args }), "ADD");
    const list = await cli(["inspect", "--cni-dir", node.cniDir, "--format", "json"]);
    assertEquals(list.code, 0, list.stderr);
    assertEquals(
      JSON.parse(list.stdout).map((
        r: { containerId: string; state: string },
      ) => [r.containerId, r.state]),
      [["insp1", "added"]],
    );
    const one = await cli(["inspect", "insp1", "--cni-dir", node.cniDir]);
    assert(one.stdout.includes("addresses  10.62.0.2/24"), one.stdout);
    assertOk(await node.invoke({ command: "DEL", ...args }), "DEL");
    const after = await cli(["inspect", "--cni-dir", node.cniDir]);
    assertEquals(after.stdout, `No attachments recorded in "${node.cniDir}"\n`);
  } finally {
    await node.close();
  }
});

Deno.test("the DaemonSet's install --watch runs as written and removes its config on SIGTERM", async () => {
  const docs = (await Deno.readTextFile(`${REPO}/deploy/multicni.yaml`)).split(/^---$/m)
    .map((d) => loadYaml(d) as Record<string, unknown>);
  const role = docs.find((d) => d.kind === "ClusterRole") as {
    rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  };
  // Least privilege: exactly what the plugin does with the API.
  assertEquals(
    role.rules.map((r) =>
      `${r.apiGroups.join(",")}/${r.resources.join(",")}: ${r.verbs.join(",")}`
    ),
    [
      "/pods: get",
      "/pods/status: update",
      "k8s.cni.cncf.io/network-attachment-definitions: get",
      "/events: create",
    ],
  );
  const ds = docs.find((d) => d.kind === "DaemonSet") as {
    spec: { template: { spec: { containers: { args: string[] }[] } } };
  };
  const args = ds.spec.template.spec.containers[0]!.args;
  assertEquals(args.slice(0, 2), ["install", "--watch"]);

  const root = await Deno.makeTempDir({ prefix: "multicni-ds-" });
  try {
    await Deno.mkdir(`${root}/etc/cni/net.d`, { recursive: true });
    await Deno.writeTextFile(
      `${root}/etc/cni/net.d/10-cbr0.conflist`,
      JSON.stringify({ cniVersion: "1.0.0", name: "cbr0", plugins: [{ type: "bridge" }] }),
    );
    await Deno.writeTextFile(`${root}/build`, "#!/bin/sh\n", { mode: 0o755 });
    const child = new Deno.Command(pluginCommand()[0]!, {
      args: [
        ...pluginCommand().slice(1),
        ...args.map((a) => a.startsWith("--host-root=") ? `--host-root=${root}` : a),
        "--source",
        `${root}/build`,
        "--interval",
        "0.1",
      ],
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: Deno.env.get("HOME") ?? "/" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const conf = `${root}/etc/cni/net.d/00-multicni.conflist`;
    const exists = () => Deno.stat(conf).then(() => true, () => false);
    const deadline = Date.now() + 10_000;
    while (!(await exists()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert(await exists(), "the config was written");
    assert(await Deno.stat(`${root}/opt/cni/bin/multicni`).then(() => true), "binary installed");
    child.kill("SIGTERM");
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assert(stdout.includes(`removed /etc/cni/net.d/00-multicni.conflist`), stdout);
    assert(!(await exists()), "--cleanup-on-exit removed the config on SIGTERM");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
