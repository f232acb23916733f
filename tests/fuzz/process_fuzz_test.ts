/**
 * A sample of the fuzz cases through the real entry point (`deno run plugin/main.ts`): what the
 * in-process fuzzers cannot see, stdin read from a pipe (17 MB, 10 MB), the exit code, stdout
 * exactly as the runtime reads it with the log at level debug going to stderr, and a process
 * that must end within a bound. Then a few mutated configs of real reference plugins (ptp with
 * host-local) in throwaway namespaces: a failure leaves no link, address or IP reservation.
 *
 * `FUZZ_CASES` scales the random part (CI: 24 with fakes, 12 with real plugins).
 */

import { assertEquals, CNI_BIN, TestNode } from "../_utils/mod.ts";
import { assertNothingLeft, type Json } from "../_utils/networks.ts";
import { checkOutput, nodeFiles, Tally } from "./_check.ts";
import { mutateTree, randomString, Rng, writeJson } from "./_gen.ts";
import { withFuzzNode } from "./_bases.ts";
import { CATEGORY_WEIGHTS, deep, enc, generate } from "./_stdin.ts";
import { caseCount, seed } from "./_run.ts";

const PROCESS_BOUND_MS = 20_000;

Deno.test("fuzz through the real entry point: exit code, one document, bounded time", async () => {
  await withFuzzNode(async ({ sb, tally, baseline, configs }) => {
    const first = configs[0]!;
    const s = seed(0x9e0);
    const rng = new Rng(s);
    const cases: [string, Record<string, string>, Uint8Array][] = [
      ["17 MB", sb.cniEnv("ADD", "p0"), new Uint8Array(17 * 1024 * 1024).fill(0x7b)],
      [
        "10 MB config",
        sb.cniEnv("ADD", "p1"),
        enc.encode(JSON.stringify({
          ...first,
          delegates: [{ ...(first.delegates as Json[])[0], pad: "x".repeat(10_000_000) }],
        })),
      ],
      ["arrays 1M deep", sb.cniEnv("ADD", "p2"), enc.encode(deep(first, 1_000_000, "[", "]"))],
      ["invalid UTF-8", sb.cniEnv("ADD", "p3"), new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])],
      ["empty", sb.cniEnv("DEL", "p4"), new Uint8Array()],
      ["VERSION with junk", { CNI_COMMAND: "VERSION", CNI_IFNAME: "a/b" }, rng.bytes(500)],
      ["no CNI_COMMAND value", { ...sb.cniEnv("", "p6") }, enc.encode(JSON.stringify(first))],
      ["junk CNI_COMMAND", sb.cniEnv("ADD\u00e9", "p7"), enc.encode(JSON.stringify(first))],
    ];
    const n = caseCount(24);
    const commands = { ADD: 4, DEL: 2, CHECK: 1, GC: 1, STATUS: 1 };
    for (let i = 0; i < n; i++) {
      const env = sb.cniEnv(rng.weighted(commands), `pr${s}-${i}`);
      if (rng.chance(0.3)) {
        const name = rng.pick([
          "CNI_CONTAINERID",
          "CNI_IFNAME",
          "CNI_NETNS",
          "CNI_ARGS",
          "CNI_PATH",
        ]);
        // A process environment cannot hold NUL.
        env[name] = randomString(rng, rng.int(40)).replaceAll("\0", "");
      }
      const category = rng.weighted(CATEGORY_WEIGHTS);
      cases.push([`case ${i} ${category}`, env, generate(rng, category, rng.pick(configs))]);
    }
    for (const [what, env, stdin] of cases) {
      const id = `seed ${s} ${what} ${env.CNI_COMMAND}`;
      tally.count("process");
      const r = await sb.run(env, stdin, PROCESS_BOUND_MS);
      const v = checkOutput(env.CNI_COMMAND ?? "", r.code, r.stdout);
      if (r.killed) v.push({ what: "no answer within bound", detail: `${PROCESS_BOUND_MS} ms` });
      if (/"code":999/.test(r.stdout)) v.push({ what: "999", detail: r.stderr.slice(-500) });
      if (r.code === 0 && env.CNI_COMMAND === "ADD") {
        const del = await sb.run({ ...env, CNI_COMMAND: "DEL" }, stdin, PROCESS_BOUND_MS);
        if (del.code !== 0) v.push({ what: "DEL after ADD failed", detail: del.stdout });
      } else if (r.stdout.includes("rollback incomplete")) {
        // The record is kept on purpose for the runtime's DEL (see _run.ts).
        await sb.run({ ...env, CNI_COMMAND: "DEL" }, stdin, PROCESS_BOUND_MS);
      }
      const extra = (await nodeFiles(sb)).filter((f) => !baseline.includes(f));
      if (extra.length > 0) v.push({ what: "files left on the node", detail: extra.join(", ") });
      const live = await sb.liveIfs();
      if (live.length > 0) v.push({ what: "interfaces left", detail: live.join(", ") });
      if (v.length > 0) tally.fail(id, v);
    }
    tally.report("process fuzz");
  });
});

Deno.test("fuzzed configs of real plugins leave no link, address or reservation when they fail", async () => {
  const node = await TestNode.create();
  const tally = new Tally();
  try {
    const pod = await node.addPod();
    const s = seed(0x7a1);
    const rng = new Rng(s);
    const base = {
      cniVersion: "1.0.0",
      name: "multi",
      cniDir: node.cniDir,
      confDir: node.confDir,
      binDir: node.binDir,
      logLevel: "debug",
      delegates: [{
        cniVersion: "1.0.0",
        name: "p2p",
        type: "ptp",
        ipMasq: false,
        mtu: 1400,
        ipam: {
          type: "host-local",
          dataDir: node.ipamDir,
          ranges: [[{ subnet: "10.77.0.0/24", rangeStart: "10.77.0.10", gateway: "10.77.0.1" }]],
          routes: [{ dst: "10.78.0.0/16" }],
        },
      }],
    };
    // Only the delegate is mutated (never its IPAM dataDir, which must stay in the test's dir).
    const n = caseCount(12);
    for (let i = 0; i < n; i++) {
      const conf = structuredClone(base) as Json;
      const d = (conf.delegates as Json[])[0]!;
      for (let k = 1 + rng.int(2); k > 0; k--) mutateTree(rng, d, new Set(["ipam"]));
      if (rng.chance(0.5) && typeof d.ipam === "object" && d.ipam && !Array.isArray(d.ipam)) {
        mutateTree(rng, d.ipam as Json, new Set(["dataDir", "type"]));
      }
      const stdin = writeJson(rng, conf);
      const args = { containerId: `rp${i}`, netns: pod, conf: stdin, path: CNI_BIN };
      tally.count("real-plugin");
      const r = await node.invoke({ command: "ADD", ...args });
      const v = checkOutput("ADD", r.code, r.stdout, true);
      if (r.code === 0) {
        const del = await node.invoke({ command: "DEL", ...args });
        if (del.code !== 0) v.push({ what: "DEL after ADD failed", detail: del.stdout });
      } else if (r.stdout.includes("rollback incomplete")) {
        await node.invoke({ command: "DEL", ...args });
      }
      try {
        await assertNothingLeft(node, [pod]);
      } catch (e) {
        v.push({ what: "left on the node", detail: (e as Error).message });
      }
      if (v.length > 0) tally.fail(`seed ${s} case ${i}: ${stdin.slice(0, 300)}`, v);
    }
    assertEquals(await node.links(node.path), ["lo"], "node links");
    tally.report("real-plugin fuzz");
  } finally {
    await node.close();
  }
});
