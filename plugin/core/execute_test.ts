/**
 * Executing plans with a fake exec: parallel fan-out (deterministic order whatever the
 * completion order, a bound on concurrency, rollback of everything that started), the step after
 * the last attachment, and which rollback failures count.
 */

import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { CniError } from "../protocol/errors.ts";
import { nullLogger } from "../log/types.ts";
import { expectCode, expectOk, MAIN, withWorld, type World } from "./_testing.ts";
import { executeAdd } from "./execute.ts";
import { recordOf } from "./cache.ts";
import { planFor } from "./plan.ts";
import { parseNetConf } from "./netconf.ts";
import { parseDelegate } from "./delegate.ts";

const secondary = (i: number) => ({ name: `side${i}`, type: "macvlan", master: "eth1" });

/** Makes every ADD of `net<i>` take longer the smaller i is, and tracks concurrency. */
function slowFirst(w: World): { peak: () => number } {
  let running = 0;
  let peak = 0;
  w.exec.onRun = async (call) => {
    if (call.command !== "ADD" && call.command !== "DEL") return;
    running++;
    peak = Math.max(peak, running);
    const i = Number(call.ifname.replace("net", "")) || 0;
    await new Promise((r) => setTimeout(r, call.ifname === "eth0" ? 1 : 40 - 5 * i));
    running--;
  };
  return { peak: () => peak };
}

Deno.test("parallel ADD runs the default network first, then at most maxParallel at a time, in plan order", async () => {
  await withWorld(async (w) => {
    const probe = slowFirst(w);
    const delegates = [MAIN, ...[1, 2, 3, 4, 5].map(secondary)];
    const r = await w.invoke(
      "ADD",
      w.meta("1.0.0", { delegates, parallel: true, maxParallel: 3 }),
    );
    expectOk(r, "ADD");
    const adds = w.exec.callsOf("ADD");
    assertEquals(adds[0]?.ifname, "eth0", "the default network is attached first");
    assertEquals(probe.peak(), 3, "concurrency reaches and respects maxParallel");
    const rec = await w.cache();
    assertEquals(rec?.attachments.map((a) => `${a.ifname}=${a.network}:${a.state}`), [
      "eth0=main:added",
      "net1=side1:added",
      "net2=side2:added",
      "net3=side3:added",
      "net4=side4:added",
      "net5=side5:added",
    ]);
    // Each interface got the result its own delegate printed, whatever order they finished in.
    for (const a of rec?.attachments ?? []) {
      const call = adds.find((c) => c.ifname === a.ifname);
      assertEquals(a.result?.result, call?.result, `result of ${a.ifname}`);
    }
  });
});

Deno.test("parallel ADD rolls back every started attachment when one fails and reports the lowest failing index", async () => {
  await withWorld(async (w) => {
    slowFirst(w);
    w.exec.on({ command: "ADD", ifname: "net4", answer: { kind: "error", code: 11, msg: "busy" } });
    w.exec.on({ command: "ADD", ifname: "net2", answer: { kind: "error", code: 7, msg: "bad" } });
    const delegates = [MAIN, ...[1, 2, 3, 4].map(secondary)];
    const r = await w.invoke("ADD", w.meta("1.0.0", { delegates, parallel: true, maxParallel: 4 }));
    const err = expectCode(r, 7, "1.0.0");
    assert(String(err.msg).startsWith('ADD network "side2" on net2'), String(err.msg));
    const added = w.exec.callsOf("ADD").map((c) => c.ifname).sort();
    const deleted = w.exec.callsOf("DEL").map((c) => c.ifname);
    assertEquals([...deleted].sort(), added, "every started attachment is deleted");
    assertEquals(deleted[deleted.length - 1], "eth0", "the default network is deleted last");
    assertEquals(await w.cache(), undefined, "the cache is removed after a full rollback");
  });
});

Deno.test("parallel DEL deletes the secondary networks concurrently and the default network last", async () => {
  await withWorld(async (w) => {
    const delegates = [MAIN, ...[1, 2, 3].map(secondary)];
    const conf = w.meta("1.0.0", { delegates, parallel: true });
    expectOk(await w.invoke("ADD", conf), "ADD");
    const probe = slowFirst(w);
    expectOk(await w.invoke("DEL", conf), "DEL");
    const dels = w.exec.callsOf("DEL").map((c) => c.ifname);
    assertEquals([...dels].sort(), ["eth0", "net1", "net2", "net3"]);
    assertEquals(dels[3], "eth0");
    assert(probe.peak() > 1, "secondary DELs overlapped");
  });
});

Deno.test("executeAdd() rolls back the whole plan when the step after the last attachment fails", async () => {
  await withWorld(async (w) => {
    const conf = parseNetConf(w.meta("1.0.0", { delegates: [MAIN, secondary(1)] }), "1.0.0");
    const delegates = conf.delegates.map((d, i) => parseDelegate(d, "1.0.0", `delegates[${i}]`));
    const plan = planFor({
      conf,
      containerId: "ctr1",
      netns: "/var/run/netns/pod1",
      ifname: "eth0",
      cniArgs: "",
    }, delegates.map((delegate) => ({ delegate })));
    const rec = recordOf(plan, "multi", new Date());
    let discarded = false;
    const ctx = {
      deps: w.deps,
      log: nullLogger,
      pluginDirs: ["/fake/bin"],
      timeoutMs: 1000,
      parallel: false,
      maxParallel: 1,
    };
    let thrown: unknown;
    try {
      await executeAdd(
        ctx,
        plan,
        rec,
        () => Promise.resolve(),
        () => {
          discarded = true;
          return Promise.resolve();
        },
        () => Promise.reject(new CniError(5, "Cannot set the default route the pod asked for")),
      );
    } catch (e) {
      thrown = e;
    }
    assert(thrown instanceof CniError && thrown.code === 5, `keeps the code: ${thrown}`);
    assertEquals(w.exec.trace, [
      "bridge ADD eth0",
      "macvlan ADD net1",
      "macvlan DEL net1",
      "bridge DEL eth0",
    ]);
    assert(discarded, "the cache record is discarded after a full rollback");
  });
});

Deno.test("rollback ignores a DEL failure of the attachment whose ADD failed, but not of an added one", async () => {
  await withWorld(async (w) => {
    w.exec.on({
      command: "ADD",
      ifname: "net2",
      answer: { kind: "error", code: 999, msg: "no master" },
    });
    w.exec.on({
      command: "DEL",
      ifname: "net2",
      answer: { kind: "error", code: 999, msg: "Link not found" },
    });
    const conf = w.meta("1.0.0", { delegates: [MAIN, secondary(1), secondary(2)] });
    const clean = await w.invoke("ADD", conf);
    const err = expectCode(clean, 999, "1.0.0");
    assert(!String(err.details ?? "").includes("rollback incomplete"), String(err.details));
    assertEquals(await w.cache(), undefined, "a complete rollback removes the cache");
    assert(w.logs.some((l) => l.includes("Link not found")), "the ignored DEL error is logged");

    w.exec.on({
      command: "DEL",
      ifname: "net1",
      answer: { kind: "error", code: 11, msg: "busy" },
      times: 1,
    });
    const dirty = await w.invoke("ADD", conf);
    const err2 = expectCode(dirty, 999, "1.0.0");
    assert(String(err2.details).includes("rollback incomplete"), String(err2.details));
    assert(String(err2.details).includes('DEL network "side1" on net1'), String(err2.details));
    assert(await w.cache(), "the cache stays for the runtime's DEL");
    expectOk(await w.invoke("DEL", conf), "the runtime's DEL");
    assertEquals(await w.cache(), undefined);
  });
});

Deno.test("an ADD result the caller's version cannot express rolls the whole plan back", async () => {
  await withWorld(async (w) => {
    // 0.2.0 results need an IP; this master prints none.
    w.exec.on({
      command: "ADD",
      type: "bridge",
      answer: { kind: "result", result: { cniVersion: "1.1.0", interfaces: [{ name: "eth0" }] } },
    });
    const conf = w.meta("0.2.0", { delegates: [{ ...MAIN, cniVersion: "1.0.0" }, secondary(1)] });
    const r = await w.invoke("ADD", conf);
    expectCode(r, 1, "0.2.0");
    assertEquals(w.exec.trace, [
      "bridge ADD eth0",
      "macvlan ADD net1",
      "macvlan DEL net1",
      "bridge DEL eth0",
    ]);
    assertEquals(await w.cache(), undefined, "nothing stays cached");
  });
});
