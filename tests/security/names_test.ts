/**
 * SECURITY.md "Names": container ids, interface names and network names are checked against the
 * spec's rules before they are used in a file name, an environment variable or a netlink call,
 * whichever source they come from (the runtime's environment, a config, a Kubernetes selection).
 */

import { assertEquals } from "../_utils/mod.ts";
import { cniError, Sandbox } from "../faults/_sandbox.ts";
import { nodeFiles } from "../fuzz/_check.ts";
import { parseNetConf } from "../../plugin/core/netconf.ts";
import { planFor } from "../../plugin/core/plan.ts";
import { parseDelegate } from "../../plugin/core/delegate.ts";
import { CniError } from "../../plugin/protocol/errors.ts";

Deno.test("container ids and interface names from the runtime are refused before any use", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("ok");
    const conf = sb.meta([sb.net("main", "ok")]);
    const before = await nodeFiles(sb);
    const ids = ["../x", "..", ".", "a/b", ".lock.x", ".tmp.x", "-x", "x".repeat(201), "a b"];
    const ifnames = ["../x", "..", "a/b", "a:b", "a b", "e".repeat(16), "é".repeat(8), "\t"];
    const cases: [string, Record<string, string>][] = [
      ...ids.map((id): [string, Record<string, string>] => [`id ${id}`, { CNI_CONTAINERID: id }]),
      ...ifnames.map((n): [string, Record<string, string>] => [`ifname ${n}`, { CNI_IFNAME: n }]),
    ];
    for (const [what, vars] of cases) {
      for (const command of ["ADD", "CHECK", "DEL"]) {
        const r = await sb.runJson({ ...sb.cniEnv(command, "ok1"), ...vars }, conf);
        assertEquals(cniError(r.stdout, `${command} ${what}`).code, 4, `${command} ${what}`);
      }
    }
    assertEquals(await sb.calls(), [], "no delegate ran");
    assertEquals(await nodeFiles(sb), before, "no file created");
  } finally {
    await sb.close();
  }
});

function code(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof CniError ? e.code : -1;
  }
}

Deno.test("interface names from other sources and network names are checked too", () => {
  const conf = parseNetConf({
    cniVersion: "1.0.0",
    name: "multi",
    delegates: [{ name: "main", type: "ok" }],
  }, "1.0.0");
  const main = parseDelegate({ name: "main", type: "ok" }, "1.0.0", "test");
  const side = parseDelegate({ name: "side", type: "ok" }, "1.0.0", "test");
  const input = { conf, containerId: "c1", netns: "/x", ifname: "eth0", cniArgs: "" };
  // A Kubernetes selection may ask for an interface name (`interface` in the annotation).
  for (const ifname of ["../x", "a/b", "a b", "e".repeat(16), "..", "eth0"]) {
    const selections = [{ delegate: main }, { delegate: side, ifname }];
    assertEquals(code(() => planFor(input, selections)), 7, `selection ifname ${ifname}`);
  }
  for (const name of ["../x", "a/b", "-x", "", ".x", "a b"]) {
    assertEquals(code(() => parseDelegate({ name, type: "ok" }, "1.0.0", "t")), 7, `net ${name}`);
    const meta = { cniVersion: "1.0.0", name, delegates: [{ name: "main", type: "ok" }] };
    assertEquals(code(() => parseNetConf(meta, "1.0.0")), 7, `meta ${name}`);
  }
});
