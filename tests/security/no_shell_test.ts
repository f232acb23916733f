/**
 * SECURITY.md "No shell": in the modules a CNI call can load, processes are started only by
 * `plugin/invoke/exec.ts` (a delegate: its absolute path, no arguments) and
 * `plugin/core/default_route.ts` (`nsenter ... ip ...` as an argument list); nothing names a
 * shell, and no module is a `node:` built-in. The module graph comes from `deno info`.
 */

import { assert, assertEquals, REPO, sh } from "../_utils/mod.ts";
import { defaultRouteCommands } from "../../plugin/core/default_route.ts";
import { parseDelegate } from "../../plugin/core/delegate.ts";

/** What `plugin()` in main.ts loads: the entry point minus the CLI. */
const CNI_ROOTS = [
  "plugin/protocol/dispatch.ts",
  "plugin/core/commands.ts",
  "plugin/invoke/exec.ts",
  "plugin/log/logger.ts",
  "plugin/log/_format.ts",
];

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string }[];
}

async function cniModules(): Promise<{ local: string[]; all: string[] }> {
  const all = new Set<string>();
  for (const root of CNI_ROOTS) {
    const r = await sh([Deno.execPath(), "info", "--json", "--config", `${REPO}/deno.json`, root], {
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: Deno.env.get("HOME") ?? "/" },
    });
    const info = JSON.parse(r.stdout) as { modules: InfoModule[] };
    for (const m of info.modules) {
      all.add(m.specifier);
      for (const d of m.dependencies ?? []) all.add(d.specifier);
    }
  }
  const local = [...all].filter((s) => s.startsWith(`file://${REPO}/`))
    .map((s) => s.slice(`file://${REPO}/`.length));
  return { local: local.sort(), all: [...all].sort() };
}

Deno.test("the CNI path starts processes only in exec.ts and default_route.ts, never a shell", async () => {
  const { local, all } = await cniModules();
  assert(local.includes("plugin/invoke/exec.ts") && local.includes("plugin/k8s/mod.ts"), "graph");
  assertEquals(all.filter((s) => s.startsWith("node:")), [], "node: built-ins in the CNI path");
  const spawners: string[] = [];
  for (const file of local) {
    const src = await Deno.readTextFile(`${REPO}/${file}`);
    if (/Deno\.(Command|run)\b|child_process/.test(src)) spawners.push(file);
    assert(!/["'`](\/bin\/)?(ba|da|z)?sh["'`]/.test(src), `${file} names a shell`);
    assert(!/["'`]-c["'`]/.test(src), `${file} passes -c`);
  }
  assertEquals(spawners, ["plugin/core/default_route.ts", "plugin/invoke/exec.ts"]);
  const exec = await Deno.readTextFile(`${REPO}/plugin/invoke/exec.ts`);
  const cmd = /new Deno\.Command\(([^,]+), \{([^}]*)\}\)/.exec(exec);
  assertEquals(cmd?.[1], "req.path", "delegates are run by their resolved path");
  assert(!/\bargs\b/.test(cmd?.[2] ?? "args"), `no arguments: ${cmd?.[2]}`);
});

Deno.test("default-route commands are argument lists starting with nsenter", () => {
  const delegate = parseDelegate({ name: "n", type: "ok" }, "1.0.0", "t");
  const plan = {
    containerId: "c",
    netns: "/var/run/netns/p; rm -rf /",
    ifname: "eth0",
    cniVersion: "1.0.0" as const,
    attachments: [{
      index: 0,
      network: "n",
      ifname: "net1",
      isDefault: false,
      delegate,
      runtimeConfig: {},
      cniArgs: "",
      defaultRoute: ["10.0.0.1", "fd00::1"],
    }],
  };
  const cmds = defaultRouteCommands(plan);
  assertEquals(cmds.length, 4);
  for (const c of cmds) {
    assertEquals(c.slice(0, 4), ["nsenter", "--net=/var/run/netns/p; rm -rf /", "--", "ip"]);
  }
});
