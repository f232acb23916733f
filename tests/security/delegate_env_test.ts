/**
 * SECURITY.md "What a delegate gets": the CNI variables the spec defines (CNI_COMMAND,
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS, CNI_PATH) set for that delegate, the rest of
 * the runtime's environment inherited (the spec's rule), no arguments, and on stdin its own
 * config with `name` and `cniVersion` injected, `capabilities` removed and only the runtime
 * config it declared.
 */

import { assert, assertEquals } from "../_utils/mod.ts";
import { type Json, Sandbox } from "../faults/_sandbox.ts";

async function inputs(sb: Sandbox, kind: "env" | "in" | "argc", command: string, type: string) {
  const names = await sb.markers(`${kind}.${command}.${type}.`);
  assertEquals(names.length, 1, `${kind} files of ${command} ${type}`);
  return await Deno.readTextFile(`${sb.marks}/${names[0]}`);
}

function envMap(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) m.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return m;
}

Deno.test("delegates get the spec's environment, no arguments and their own config", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("envy", { saveInput: true });
    await sb.fake("envy2", { saveInput: true });
    const ports = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }];
    const conf = sb.meta([
      {
        cniVersion: "1.0.0",
        name: "main",
        plugins: [{ type: "envy", capabilities: { portMappings: true, mac: true } }],
      },
      sb.net("side", "envy2", { capabilities: { portMappings: true } }),
    ], { runtimeConfig: { portMappings: ports } });
    const netns = `/var/run/netns/${sb.token}`;
    const env = sb.cniEnv("ADD", "e1", {
      CNI_NETNS: netns,
      CNI_ARGS: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0",
      CNI_PATH: `${sb.bin}:/nonexistent`,
      RUNTIME_SETTING: "inherited",
    });
    const r = await sb.runJson(env, conf);
    assertEquals(r.code, 0, r.stdout);
    for (const [type, ifname] of [["envy", "eth0"], ["envy2", "net1"]] as const) {
      const e = envMap(await inputs(sb, "env", "ADD", type));
      assertEquals(e.get("CNI_COMMAND"), "ADD", type);
      assertEquals(e.get("CNI_CONTAINERID"), "e1", type);
      assertEquals(e.get("CNI_NETNS"), netns, type);
      assertEquals(e.get("CNI_IFNAME"), ifname, type);
      // IgnoreUnknown=1 as Multus passes it, so plugins accept the K8S_* keys.
      assertEquals(
        e.get("CNI_ARGS"),
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0",
        type,
      );
      // binDir first, then CNI_PATH, without duplicates.
      assertEquals(e.get("CNI_PATH"), `${sb.bin}:/nonexistent`, type);
      assertEquals(e.get("RUNTIME_SETTING"), "inherited", `${type}: the runtime's environment`);
      assertEquals((await inputs(sb, "argc", "ADD", type)).trim(), "0", `${type}: arguments`);
    }
    const main = JSON.parse(await inputs(sb, "in", "ADD", "envy")) as Json;
    assertEquals(main.name, "main");
    assertEquals(main.cniVersion, "1.0.0");
    assert(!("capabilities" in main), "capabilities are not passed on");
    assertEquals(main.runtimeConfig, { portMappings: ports }, "only what it declared and got");
    const side = JSON.parse(await inputs(sb, "in", "ADD", "envy2")) as Json;
    // Runtime config goes to the default network only (multi-network spec).
    assert(!("runtimeConfig" in side), `secondary got runtime config: ${JSON.stringify(side)}`);

    // DEL without a netns: CNI_NETNS is empty, the ADD result is prevResult.
    const del = await sb.runJson({ ...env, CNI_COMMAND: "DEL", CNI_NETNS: "" }, conf);
    assertEquals(del.code, 0, del.stdout);
    const e = envMap(await inputs(sb, "env", "DEL", "envy"));
    assertEquals(e.get("CNI_COMMAND"), "DEL");
    assertEquals(e.get("CNI_NETNS"), "", "netns given as empty");
    const delIn = JSON.parse(await inputs(sb, "in", "DEL", "envy")) as Json;
    assertEquals((delIn.prevResult as Json).cniVersion, "1.0.0", "prevResult");
  } finally {
    await sb.close();
  }
});
