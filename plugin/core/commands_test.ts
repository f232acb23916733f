/**
 * ADD and DEL of the core with a fake exec: one table of cases, run for every spec version.
 */

import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { convertResult } from "../protocol/result.ts";
import type { CniVersion } from "../protocol/version.ts";
import {
  BIN_DIR,
  CNI_PATH_DIR,
  delHasPrev,
  expectCode,
  expectOk,
  type FakeCall,
  MAIN,
  POD_ARGS,
  SIDE,
  testEveryVersion,
  THIRD,
  type VersionCase,
  type World,
} from "./_testing.ts";

function only<T>(list: T[], what: string): T {
  assertEquals(list.length, 1, `exactly one ${what}`);
  return list[0]!;
}

function addResult(w: World, type: string): Record<string, unknown> {
  const c = only(w.exec.callsOf("ADD", type), `${type} ADD`);
  assert(c.result, `${type} ADD printed a result`);
  return c.result;
}

function prevOf(c: FakeCall): unknown {
  return c.stdin.prevResult;
}

const CASES: VersionCase[] = [
  {
    name: "add() attaches the master on CNI_IFNAME and the others on net1, net2 in order",
    async run(w, v) {
      const r = await w.invoke("ADD", w.meta(v, { delegates: [MAIN, SIDE, THIRD] }));
      expectOk(r, "ADD");
      assertEquals(w.exec.trace, [
        "bridge ADD eth0",
        "macvlan ADD net1",
        "tuning ADD net1",
        "ipvlan ADD net2",
      ]);
      // The master's result, in the meta config's version (it is already in it here).
      assertEquals(r.json, addResult(w, "bridge"));
      assertEquals(r.json?.cniVersion, v);
      for (const c of w.exec.calls) {
        assertEquals(c.containerId, "ctr1");
        assertEquals(c.netns, "/var/run/netns/pod1");
        assertEquals(c.stdin.cniVersion, v, `${c.type} inherits the meta config's version`);
      }
    },
  },
  {
    name: "add() converts the master's result to the meta config's version",
    async run(w, v) {
      const other: CniVersion = v === "1.1.0" ? "0.3.1" : "1.1.0";
      const master = { ...MAIN, cniVersion: other };
      const r = await w.invoke("ADD", w.meta(v, { delegates: [master, THIRD] }));
      expectOk(r, "ADD");
      const raw = addResult(w, "bridge");
      assertEquals(raw.cniVersion, other, "the delegate answered in its own version");
      assertEquals(r.json, convertResult(raw, other, v));
      assertEquals(r.json?.cniVersion, v);
    },
  },
  {
    name: "add() passes CNI_ARGS with IgnoreUnknown=1 first and overrides the CNI_* variables",
    async run(w, v) {
      expectOk(await w.invoke("ADD", w.meta(v, { delegates: [MAIN, SIDE] })));
      for (const c of w.exec.calls) {
        assertEquals(c.args, `IgnoreUnknown=1;${POD_ARGS}`);
        assertEquals(c.command, "ADD", "CNI_COMMAND of the base environment is overridden");
        assertEquals(c.cniPath, `${BIN_DIR}:${CNI_PATH_DIR}`, "binDir is searched first");
        assertEquals(c.env.MULTICNI_TEST_MARKER, "inherited");
        assertEquals(c.path, `${BIN_DIR}/${c.type}`);
      }
      assertEquals(w.exec.calls.map((c) => c.ifname), ["eth0", "net1", "net1"]);
      // A runtime that already asks for IgnoreUnknown gets it once; no CNI_ARGS gets just it.
      expectOk(
        await w.invoke("ADD", w.meta(v, { delegates: [MAIN] }), {
          containerId: "ctr2",
          args: "IgnoreUnknown=true;A=b=c",
        }),
      );
      expectOk(
        await w.invoke("ADD", w.meta(v, { delegates: [MAIN] }), { containerId: "ctr3", args: "" }),
      );
      assertEquals(w.exec.calls.slice(3).map((c) => c.args), [
        "IgnoreUnknown=true;A=b=c",
        "IgnoreUnknown=1",
      ]);
    },
  },
  {
    name: "add() runs a conflist with its name and cniVersion injected and prevResult chained",
    async run(w, v) {
      const side = {
        ...SIDE,
        cniVersion: v,
        plugins: SIDE.plugins.map((p) => ({ ...p, name: "x" })),
      };
      expectOk(await w.invoke("ADD", w.meta(v, { delegates: [MAIN, side] })));
      const macvlan = only(w.exec.callsOf("ADD", "macvlan"), "macvlan ADD");
      const tuning = only(w.exec.callsOf("ADD", "tuning"), "tuning ADD");
      for (const c of [macvlan, tuning]) {
        assertEquals(c.stdin.name, "side");
        assertEquals(c.stdin.cniVersion, v);
        assert(!("capabilities" in c.stdin), "capabilities is not passed on");
        assert(!("plugins" in c.stdin), "the list itself is not passed on");
      }
      assertEquals(prevOf(macvlan), undefined, "the first plugin gets no prevResult");
      assertEquals(prevOf(tuning), macvlan.result, "the second gets the first's result");
      assertEquals(macvlan.stdin.master, "eth1");
      assertEquals(tuning.stdin.sysctl, SIDE.plugins[1]!.sysctl);
    },
  },
  {
    name: "add() gives runtimeConfig to the master only, each plugin what it declares",
    async run(w, v) {
      const ports = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }];
      const master = {
        name: "main",
        plugins: [
          { type: "bridge", capabilities: { mac: true, ips: true } },
          { type: "portmap", capabilities: { portMappings: true, bandwidth: false } },
        ],
      };
      const conf = w.meta(v, {
        delegates: [master, SIDE],
        runtimeConfig: { portMappings: ports, mac: "c2:11:22:33:44:55", ips: [] },
      });
      expectOk(await w.invoke("ADD", conf));
      const rc = (type: string) => only(w.exec.callsOf("ADD", type), type).stdin.runtimeConfig;
      assertEquals(rc("bridge"), { mac: "c2:11:22:33:44:55", ips: [] });
      assertEquals(rc("portmap"), { portMappings: ports });
      assertEquals(rc("macvlan"), undefined, "a non-default network gets no runtime config");
      assertEquals(rc("tuning"), undefined);
      for (const c of w.exec.calls) assert(!("capabilities" in c.stdin), `${c.type} capabilities`);
    },
  },
  {
    name: "add() fails with code 7 and runs nothing when no plugin declares a requested capability",
    async run(w, v) {
      const conf = w.meta(v, {
        delegates: [{ ...MAIN, capabilities: { portMappings: true } }, SIDE],
        runtimeConfig: { portMappings: [], bandwidth: { ingressRate: 1000 } },
      });
      const e = expectCode(await w.invoke("ADD", conf), 7, v);
      assert(String(e.details).includes('"bandwidth"'), String(e.details));
      assertEquals(w.exec.calls.length, 0, "nothing ran");
      assertEquals(await w.cache(), undefined, "nothing cached");
    },
  },
  {
    name: "add() writes the plan to the cache before the first delegate runs",
    async run(w, v) {
      const seen: string[][] = [];
      w.exec.onRun = async () => {
        const rec = await w.cache();
        seen.push(rec ? rec.attachments.map((a) => a.state) : ["<no cache>"]);
      };
      expectOk(await w.invoke("ADD", w.meta(v, { delegates: [MAIN, THIRD] })));
      assertEquals(seen, [["planned", "planned"], ["added", "planned"]]);
      const rec = await w.cache();
      assert(rec, "cache record exists");
      assertEquals(rec.kind, "multicni-plan");
      assertEquals(rec.metaNetwork, "multi");
      assertEquals(rec.cniVersion, v);
      assertEquals(rec.ifname, "eth0");
      assertEquals(rec.netns, "/var/run/netns/pod1");
      assertEquals(rec.attachments.map((a) => [a.network, a.ifname, a.isDefault, a.state]), [
        ["main", "eth0", true, "added"],
        ["third", "net1", false, "added"],
      ]);
      assertEquals(rec.attachments[0]?.result, { version: v, result: addResult(w, "bridge") });
      assertEquals((await Deno.stat(w.cachePath())).mode! & 0o777, 0o600);
      assertEquals((await Deno.stat(w.cniDir)).mode! & 0o777, 0o700);
      assertEquals(await w.cacheDirEntries(), ["ctr1"], "no lock or temp file is left");
    },
  },
  {
    name: "add() rolls back 2, 1, 0 in reverse when attachment 2 fails, keeping its code",
    async run(w, v) {
      w.exec.on({
        type: "ipvlan",
        command: "ADD",
        answer: { kind: "error", code: 120, msg: "no free VF", details: "pool empty" },
      });
      const r = await w.invoke("ADD", w.meta(v, { delegates: [MAIN, SIDE, THIRD] }));
      assertEquals(r.json, {
        cniVersion: v,
        code: 120,
        msg: 'ADD network "third" on net2: plugin "ipvlan": no free VF',
        details: "pool empty",
      });
      assertEquals(r.exitCode, 1);
      assertEquals(w.exec.trace.slice(4), [
        "ipvlan DEL net2",
        "tuning DEL net1",
        "macvlan DEL net1",
        "bridge DEL eth0",
      ]);
      const del = (type: string) => only(w.exec.callsOf("DEL", type), `${type} DEL`);
      assertEquals(prevOf(del("ipvlan")), undefined, "the failed attachment has no result");
      if (delHasPrev(v)) {
        assertEquals(prevOf(del("bridge")), addResult(w, "bridge"));
        assertEquals(prevOf(del("macvlan")), addResult(w, "tuning"), "the chain's final result");
      } else {
        for (const c of w.exec.callsOf("DEL")) assertEquals(prevOf(c), undefined, c.type);
      }
      assertEquals(await w.cacheDirEntries(), [], "cache and lock removed");
    },
  },
  {
    name: "add() reports an incomplete rollback in details and keeps the cache for DEL",
    async run(w, v) {
      w.exec.on({
        type: "ipvlan",
        command: "ADD",
        answer: { kind: "error", code: 120, msg: "no VF" },
      });
      w.exec.on({
        type: "macvlan",
        command: "DEL",
        times: 1,
        answer: { kind: "error", code: 5, msg: "device busy" },
      });
      const conf = w.meta(v, { delegates: [MAIN, SIDE, THIRD] });
      const e = expectCode(await w.invoke("ADD", conf), 120, v);
      assertEquals(e.msg, 'ADD network "third" on net2: plugin "ipvlan": no VF');
      const details = String(e.details);
      assert(details.startsWith("rollback incomplete: "), details);
      assert(
        details.includes('DEL network "side" on net1: plugin "macvlan": device busy'),
        details,
      );
      const rec = await w.cache();
      assert(rec, "the cache is kept: something may still exist");
      assertEquals(rec.attachments.map((a) => a.state), ["deleted", "added", "deleted"]);
      // A later DEL finishes the job with what the cache still lists.
      const before = w.exec.calls.length;
      expectOk(await w.invoke("DEL", conf), "DEL");
      assertEquals(w.exec.trace.slice(before), ["tuning DEL net1", "macvlan DEL net1"]);
      assertEquals(await w.cache(), undefined);
    },
  },
  {
    name: "add() rejects a delegate type that is not a bare file name before running anything",
    async run(w, v) {
      // "../x" would resolve to an existing binary outside the plugin directory.
      w.exec.installed.add("/fake/x");
      for (const type of ["../x", "/bin/sh", "..", "sub/bridge", "..\\x"]) {
        const inList = { name: "side", plugins: [{ type: "macvlan" }, { type }] };
        for (const bad of [{ name: "bad", type }, inList]) {
          const r = await w.invoke("ADD", w.meta(v, { delegates: [MAIN, bad] }));
          expectCode(r, 7, v);
          assertEquals(w.exec.calls.length, 0, `nothing ran for type ${type}`);
          assert(!w.exec.finds.some((f) => f.type === type), `"${type}" was never looked up`);
          assertEquals(await w.cacheDirEntries(), []);
        }
      }
    },
  },
  {
    name: "add() fails with code 7 before running anything when a plugin binary is missing",
    async run(w, v) {
      const side = { name: "side", plugins: [{ type: "macvlan" }, { type: "nosuch" }] };
      const e = expectCode(await w.invoke("ADD", w.meta(v, { delegates: [MAIN, side] })), 7, v);
      assert(String(e.msg).includes('"nosuch"'), String(e.msg));
      assertEquals(w.exec.calls.length, 0);
      assertEquals(await w.cacheDirEntries(), []);
      // A binary found only in CNI_PATH is fine.
      w.exec.installed.add(`${CNI_PATH_DIR}/nosuch`);
      expectOk(await w.invoke("ADD", w.meta(v, { delegates: [MAIN, side] })));
      assertEquals(
        only(w.exec.callsOf("ADD", "nosuch"), "nosuch ADD").path,
        `${CNI_PATH_DIR}/nosuch`,
      );
    },
  },
  {
    name: "add() fails with code 7 when two attachments get the same interface name",
    async run(w, v) {
      const r = await w.invoke("ADD", w.meta(v, { delegates: [MAIN, SIDE] }), { ifname: "net1" });
      const e = expectCode(r, 7, v);
      assert(String(e.msg).includes('"net1"'), String(e.msg));
      assertEquals(w.exec.calls.length, 0);
    },
  },
  {
    name: "add() for a container that is already attached fails with code 103 and runs nothing",
    async run(w, v) {
      const conf = w.meta(v, { delegates: [MAIN, SIDE] });
      expectOk(await w.invoke("ADD", conf));
      const cached = await Deno.readTextFile(w.cachePath());
      const ran = w.exec.calls.length;
      expectCode(await w.invoke("ADD", conf), 103, v);
      assertEquals(w.exec.calls.length, ran, "nothing ran");
      assertEquals(await Deno.readTextFile(w.cachePath()), cached, "the first record is kept");
    },
  },
  {
    name: "del() runs the cached attachments in reverse with their results as prevResult",
    async run(w, v) {
      expectOk(await w.invoke("ADD", w.meta(v, { delegates: [MAIN, SIDE] })));
      const before = w.exec.calls.length;
      // The config may have changed since ADD: DEL follows the cache, without a netns.
      const r = await w.invoke("DEL", w.meta(v, { delegates: [THIRD] }), { netns: "" });
      expectOk(r, "DEL");
      assertEquals(r.stdout, "");
      const dels = w.exec.calls.slice(before);
      assertEquals(dels.map((c) => `${c.type} ${c.command} ${c.ifname}`), [
        "tuning DEL net1",
        "macvlan DEL net1",
        "bridge DEL eth0",
      ]);
      for (const c of dels) {
        assertEquals(c.netns, "");
        assertEquals(c.args, `IgnoreUnknown=1;${POD_ARGS}`);
        const want = c.type === "bridge" ? addResult(w, "bridge") : addResult(w, "tuning");
        assertEquals(prevOf(c), delHasPrev(v) ? want : undefined, `${c.type} prevResult`);
        assertEquals(c.stdin.name, c.type === "bridge" ? "main" : "side");
      }
      assertEquals(await w.cacheDirEntries(), []);
    },
  },
  {
    name: "del() without a cache deletes the config's delegates and succeeds even when they fail",
    async run(w, v) {
      w.exec.on({ type: "macvlan", command: "DEL", answer: { kind: "error", code: 7, msg: "no" } });
      w.exec.on({ type: "bridge", command: "DEL", answer: { kind: "exit", exitCode: 2 } });
      const r = await w.invoke("DEL", w.meta(v, { delegates: [MAIN, SIDE] }));
      expectOk(r, "DEL");
      assertEquals(w.exec.trace, ["tuning DEL net1", "macvlan DEL net1", "bridge DEL eth0"]);
      for (const c of w.exec.calls) assertEquals(prevOf(c), undefined);
      assert(w.logs.some((l) => l.startsWith("error: DEL without a cache record")), "logged");
    },
  },
  {
    name: "del() without a cache and with a missing binary still succeeds",
    async run(w, v) {
      const r = await w.invoke("DEL", w.meta(v, { delegates: [{ name: "x", type: "gone" }] }));
      expectOk(r, "DEL");
    },
  },
  {
    name: "del() recovers the complete attachments of a truncated cache record",
    async run(w, v) {
      const conf = w.meta(v, { delegates: [MAIN, SIDE, THIRD] });
      expectOk(await w.invoke("ADD", conf));
      const text = await Deno.readTextFile(w.cachePath());
      const second = text.indexOf('{"index":1');
      assert(second > 0, "second attachment found in the cache text");
      await Deno.writeTextFile(w.cachePath(), text.slice(0, second + 40));
      const before = w.exec.calls.length;
      expectOk(await w.invoke("DEL", conf), "DEL");
      const dels = w.exec.calls.slice(before);
      assertEquals(dels.map((c) => `${c.type} ${c.ifname}`), [
        "ipvlan net2",
        "tuning net1",
        "macvlan net1",
        "bridge eth0",
      ]);
      // The recovered master still has its result; the others come from the config.
      assertEquals(prevOf(dels[3]!), delHasPrev(v) ? addResult(w, "bridge") : undefined);
      assertEquals(prevOf(dels[0]!), undefined);
      assertEquals(await w.cacheDirEntries(), []);
    },
  },
  {
    name: "del() falls back to the config when the cache record is garbage",
    async run(w, v) {
      const conf = w.meta(v, { delegates: [MAIN, SIDE] });
      await Deno.mkdir(w.cniDir, { recursive: true });
      await Deno.writeTextFile(w.cachePath(), "\0\0\0garbage after a crash");
      expectOk(await w.invoke("DEL", conf), "DEL");
      assertEquals(w.exec.trace, ["tuning DEL net1", "macvlan DEL net1", "bridge DEL eth0"]);
      assertEquals(await w.cacheDirEntries(), []);
      assert(w.logs.some((l) => l.includes("cache record is damaged")), "damage is logged");
    },
  },
  {
    name: "del() uses the cache when the config on stdin no longer parses",
    async run(w, v) {
      expectOk(await w.invoke("ADD", w.meta(v, { delegates: [MAIN, SIDE] })));
      const before = w.exec.calls.length;
      const broken = w.meta(v, { delegates: "not a list", logLevel: 42 });
      expectOk(await w.invoke("DEL", broken), "DEL");
      assertEquals(w.exec.trace.slice(before), [
        "tuning DEL net1",
        "macvlan DEL net1",
        "bridge DEL eth0",
      ]);
      assertEquals(await w.cache(), undefined);
    },
  },
  {
    name: "del() reports a delegate failure with its code and removes the cache",
    async run(w, v) {
      const conf = w.meta(v, { delegates: [MAIN, SIDE] });
      expectOk(await w.invoke("ADD", conf));
      w.exec.on({
        type: "bridge",
        command: "DEL",
        answer: { kind: "error", code: 11, msg: "locked" },
      });
      const e = expectCode(await w.invoke("DEL", conf), 11, v);
      assertEquals(e.msg, 'DEL network "main" on eth0: plugin "bridge": locked');
      assertEquals(w.exec.callsOf("DEL").length, 3, "every attachment was asked");
      assertEquals(await w.cache(), undefined);
    },
  },
  {
    name:
      "del() keeps the cache on failure when retryDeleteOnError is set, and retries only the rest",
    async run(w, v) {
      const conf = w.meta(v, { delegates: [MAIN, SIDE], retryDeleteOnError: true });
      expectOk(await w.invoke("ADD", conf));
      w.exec.on({
        type: "bridge",
        command: "DEL",
        times: 1,
        answer: { kind: "error", code: 11, msg: "locked" },
      });
      expectCode(await w.invoke("DEL", conf), 11, v);
      const rec = await w.cache();
      assert(rec, "cache kept");
      assertEquals(rec.attachments.map((a) => a.state), ["added", "deleted"]);
      const before = w.exec.calls.length;
      expectOk(await w.invoke("DEL", conf), "second DEL");
      assertEquals(w.exec.trace.slice(before), ["bridge DEL eth0"]);
      assertEquals(await w.cache(), undefined);
    },
  },
];

testEveryVersion("ADD and DEL", CASES);
