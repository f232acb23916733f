import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import type { AttachmentState, CacheRecord } from "../core/cache.ts";
import { runCli } from "./_testing.ts";

function record(id: string, states: AttachmentState[]): CacheRecord {
  return {
    kind: "multicni-plan",
    format: 1,
    metaNetwork: "multi",
    containerId: id,
    netns: `/var/run/netns/${id}`,
    ifname: "eth0",
    cniVersion: "1.0.0",
    created: "2026-01-02T03:04:05.000Z",
    attachments: states.map((state, index) => ({
      index,
      network: index === 0 ? "cluster" : `side${index}`,
      ifname: index === 0 ? "eth0" : `net${index}`,
      isDefault: index === 0,
      config: '{"cniVersion":"1.0.0","name":"x","type":"bridge"}',
      runtimeConfig: {},
      cniArgs: "IgnoreUnknown=1",
      state,
      ...(state === "added"
        ? {
          result: {
            version: "1.0.0",
            result: { cniVersion: "1.0.0", ips: [{ address: `10.0.0.${index + 2}/24` }] },
          },
        }
        : {}),
      ...(state === "failed" ? { error: { code: 7, msg: "boom" } } : {}),
    })),
  } as CacheRecord;
}

Deno.test("inspect lists every record with a state that tells a crashed ADD from a finished one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const write = (id: string, body: string) => Deno.writeTextFile(`${dir}/${id}`, body);
    await write("ok1", JSON.stringify(record("ok1", ["added", "added"])));
    await write("crashed", JSON.stringify(record("crashed", ["added", "planned"])));
    await write("failed", JSON.stringify(record("failed", ["added", "failed"])));
    await write("delpending", JSON.stringify(record("delpending", ["deleted", "added"])));
    await write("torn", JSON.stringify(record("torn", ["added"])).slice(0, 300));
    await write(".lock.ok1", ""); // lock files are not records
    const r = await runCli(["inspect", "--cni-dir", dir, "--format", "json"]);
    assertEquals(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { containerId: string; state: string }[];
    assertEquals(list.map((x) => [x.containerId, x.state]), [
      ["crashed", "half-done"],
      ["delpending", "del-pending"],
      ["failed", "failed"],
      ["ok1", "added"],
      ["torn", "damaged"],
    ]);
    const text = await runCli(["inspect", "--cni-dir", dir]);
    assert(text.stdout.startsWith("CONTAINER"), text.stdout);
    assert(text.stdout.includes("cluster@eth0:added side1@net1:planned"), text.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect with a container id prints its full record", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rec = record("c1", ["added", "failed"]);
    await Deno.writeTextFile(`${dir}/c1`, JSON.stringify(rec));
    const j = await runCli(["inspect", "c1", "--cni-dir", dir, "--format", "json"]);
    assertEquals(JSON.parse(j.stdout), rec);
    const t = await runCli(["inspect", "c1", "--cni-dir", dir]);
    assert(t.stdout.includes("addresses  10.0.0.2/24"), t.stdout);
    assert(t.stdout.includes("error      7: boom"), t.stdout);
    const missing = await runCli(["inspect", "nope", "--cni-dir", dir]);
    assertEquals(missing.code, 1);
    assert(missing.stderr.includes('no record of container "nope"'), missing.stderr);
    assertEquals((await runCli(["inspect", "../etc", "--cni-dir", dir])).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect of a cache dir that does not exist lists nothing", async () => {
  const r = await runCli(["inspect", "--cni-dir", "/nonexistent/multicni-cache"]);
  assertEquals([r.code, r.stdout], [
    0,
    'No attachments recorded in "/nonexistent/multicni-cache"\n',
  ]);
});
