/**
 * CHECK, GC, STATUS and the readiness wait of the core with a fake exec: one table of cases, run
 * for every spec version in which the command exists.
 */

import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import {
  expectCode,
  expectOk,
  MAIN,
  SIDE,
  testEveryVersion,
  THIRD,
  type VersionCase,
  type World,
} from "./_testing.ts";

function addResult(w: World, type: string, containerId = "ctr1"): unknown {
  const c = w.exec.callsOf("ADD", type).filter((c) => c.containerId === containerId);
  assertEquals(c.length, 1, `one ${type} ADD for ${containerId}`);
  return c[0]!.result;
}

const CASES: VersionCase[] = [
  {
    name: "check() runs every attachment in order with its cached result as prevResult",
    since: "0.4.0",
    async run(w, v) {
      const conf = w.meta(v, { delegates: [MAIN, SIDE] });
      expectOk(await w.invoke("ADD", conf));
      const before = w.exec.calls.length;
      const r = await w.invoke("CHECK", conf);
      expectOk(r, "CHECK");
      assertEquals(r.stdout, "");
      const checks = w.exec.calls.slice(before);
      assertEquals(checks.map((c) => `${c.type} ${c.command} ${c.ifname}`), [
        "bridge CHECK eth0",
        "macvlan CHECK net1",
        "tuning CHECK net1",
      ]);
      assertEquals(checks[0]!.stdin.prevResult, addResult(w, "bridge"));
      // Every plugin of a conflist gets the list's final result.
      assertEquals(checks[1]!.stdin.prevResult, addResult(w, "tuning"));
      assertEquals(checks[2]!.stdin.prevResult, addResult(w, "tuning"));
      assert(await w.cache(), "CHECK keeps the cache");
    },
  },
  {
    name: "check() fails with the delegate's code, prefixed with the attachment",
    since: "0.4.0",
    async run(w, v) {
      const conf = w.meta(v, { delegates: [MAIN, SIDE, THIRD] });
      expectOk(await w.invoke("ADD", conf));
      w.exec.on({
        type: "tuning",
        command: "CHECK",
        answer: { kind: "error", code: 77, msg: "mtu differs", details: "want 1500" },
      });
      const r = await w.invoke("CHECK", conf);
      assertEquals(r.json, {
        cniVersion: v,
        code: 77,
        msg: 'CHECK network "side" on net1: plugin "tuning": mtu differs',
        details: "want 1500",
      });
      assertEquals(w.exec.callsOf("CHECK", "ipvlan").length, 0, "CHECK stops at the failure");
      assert(await w.cache(), "a failed CHECK keeps the cache");
    },
  },
  {
    name: "check() without a cache record fails with code 3 and runs nothing",
    since: "0.4.0",
    async run(w, v) {
      const e = expectCode(await w.invoke("CHECK", w.meta(v, { delegates: [MAIN] })), 3, v);
      assert(String(e.msg).includes('"ctr1"'), String(e.msg));
      assertEquals(w.exec.calls.length, 0);
    },
  },
  {
    name: "check() skips delegates older than 0.4.0 and conflists with disableCheck",
    since: "0.4.0",
    async run(w, v) {
      const old = { ...MAIN, cniVersion: "0.3.1" };
      const side = { ...SIDE, disableCheck: true };
      const conf = w.meta(v, { delegates: [old, side, THIRD] });
      expectOk(await w.invoke("ADD", conf));
      expectOk(await w.invoke("CHECK", conf), "CHECK");
      assertEquals(w.exec.callsOf("CHECK").map((c) => c.type), ["ipvlan"]);
    },
  },
  {
    name: "gc() deletes cached plans the runtime no longer lists and asks 1.1.0 delegates to GC",
    since: "1.1.0",
    async run(w, v) {
      const delegates = [
        MAIN,
        { ...SIDE, disableGC: true },
        { ...THIRD, cniVersion: "1.0.0" },
      ];
      const conf = w.meta(v, { delegates });
      for (const id of ["ctrA", "ctrB"]) expectOk(await w.invoke("ADD", conf, { containerId: id }));
      // A plan of another meta network in the same cache dir is not ours to collect.
      const other = w.meta(v, { name: "other", delegates: [MAIN] });
      expectOk(await w.invoke("ADD", other, { containerId: "ctrO" }));
      const before = w.exec.calls.length;
      const valid = [{ containerID: "ctrA", ifname: "eth0" }, {
        containerID: "ctrZ",
        ifname: "eth0",
      }];
      const r = await w.invoke("GC", { ...conf, "cni.dev/valid-attachments": valid }, {
        containerId: "junk id!",
        ifname: "junk/if",
      });
      expectOk(r, "GC");
      const calls = w.exec.calls.slice(before);
      assertEquals(calls.map((c) => `${c.type} ${c.command} ${c.containerId} ${c.ifname}`), [
        "ipvlan DEL ctrB net2",
        "tuning DEL ctrB net1",
        "macvlan DEL ctrB net1",
        "bridge DEL ctrB eth0",
        "bridge GC  ",
      ]);
      const gc = calls[4]!;
      assertEquals(gc.stdin["cni.dev/valid-attachments"], valid);
      assertEquals(gc.stdin.name, "main");
      assertEquals(gc.stdin.cniVersion, "1.1.0");
      assertEquals(gc.stdin.prevResult, undefined);
      assertEquals(await w.cacheDirEntries(), ["ctrA", "ctrO"]);
    },
  },
  {
    name: "gc() goes on past failures and reports the first with its code",
    since: "1.1.0",
    async run(w, v) {
      const conf = w.meta(v, { delegates: [MAIN, THIRD] });
      expectOk(await w.invoke("ADD", conf, { containerId: "ctrB" }));
      w.exec.on({ type: "ipvlan", command: "DEL", answer: { kind: "error", code: 5, msg: "io" } });
      w.exec.on({
        type: "bridge",
        command: "GC",
        answer: { kind: "error", code: 11, msg: "busy" },
      });
      const r = await w.invoke("GC", { ...conf, "cni.dev/valid-attachments": [] });
      const e = expectCode(r, 5, v);
      assertEquals(e.msg, 'DEL network "third" on net1: plugin "ipvlan": io');
      assert(
        String(e.details).includes('GC network "main": plugin "bridge": busy'),
        String(e.details),
      );
      assertEquals(w.exec.callsOf("DEL").map((c) => c.type), ["ipvlan", "bridge"]);
      assertEquals(w.exec.callsOf("GC").map((c) => c.type), ["bridge", "ipvlan"]);
      assert(await w.cache("ctrB"), "a plan whose DEL failed stays cached");
    },
  },
  {
    name: "gc() fails with code 7 when cni.dev/valid-attachments is not a list",
    since: "1.1.0",
    async run(w, v) {
      const conf = w.meta(v, { delegates: [MAIN], "cni.dev/valid-attachments": { ctr: 1 } });
      expectCode(await w.invoke("GC", conf), 7, v);
      assertEquals(w.exec.calls.length, 0);
    },
  },
  {
    name: "status() asks every plugin of the master only when it speaks 1.1.0",
    since: "1.1.0",
    async run(w, v) {
      const master = { name: "main", plugins: [{ type: "bridge" }, { type: "portmap" }] };
      expectOk(await w.invoke("STATUS", w.meta(v, { delegates: [master, SIDE] })), "STATUS");
      assertEquals(w.exec.trace, ["bridge STATUS ", "portmap STATUS "]);
      assertEquals(w.exec.calls[0]!.stdin.name, "main");
      const old = { ...master, cniVersion: "1.0.0" };
      expectOk(await w.invoke("STATUS", w.meta(v, { delegates: [old, SIDE] })), "STATUS");
      assertEquals(w.exec.calls.length, 2, "a 1.0.0 master is not asked");
    },
  },
  {
    name: "status() reports the master's error with its code",
    since: "1.1.0",
    async run(w, v) {
      w.exec.on({
        type: "portmap",
        command: "STATUS",
        answer: { kind: "error", code: 50, msg: "no iptables" },
      });
      const master = { name: "main", plugins: [{ type: "bridge" }, { type: "portmap" }] };
      const e = expectCode(await w.invoke("STATUS", w.meta(v, { delegates: [master] })), 50, v);
      assertEquals(e.msg, 'STATUS network "main": plugin "portmap": no iptables');
    },
  },
  {
    name: "add() fails with code 11 when the readiness indicator file does not appear in time",
    async run(w, v) {
      const ready = `${w.dir}/ready`;
      const conf = w.meta(v, {
        delegates: [MAIN],
        readinessindicatorfile: ready,
        readinessTimeout: 0.2,
      });
      const started = performance.now();
      const e = expectCode(await w.invoke("ADD", conf), 11, v);
      assert(performance.now() - started >= 190, "it waited for the timeout");
      assert(String(e.details).includes(ready), String(e.details));
      assertEquals(w.exec.calls.length, 0);
      assertEquals(await w.cacheDirEntries(), []);
      await Deno.writeTextFile(ready, "");
      expectOk(await w.invoke("ADD", conf), "ADD once ready");
    },
  },
  {
    name: "gc() waits for readiness and status() reports not ready at once with code 50",
    since: "1.1.0",
    async run(w, v) {
      const conf = w.meta(v, {
        delegates: [MAIN],
        readinessindicatorfile: `${w.dir}/ready`,
        readinessTimeout: 0.2,
      });
      expectCode(await w.invoke("GC", conf), 11, v);
      const started = performance.now();
      expectCode(await w.invoke("STATUS", conf), 50, v);
      assert(performance.now() - started < 150, "STATUS does not wait");
      assertEquals(w.exec.calls.length, 0);
    },
  },
];

testEveryVersion("CHECK, GC, STATUS and readiness", CASES);
