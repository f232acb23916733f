/**
 * Fault injection with scripted fake delegates (issue 8 §2), through the real entry point. The
 * second of two delegates misbehaves; for each fault the caller gets the right CNI error (code
 * and the delegate's message), the rollback asks both delegates to DEL (one marker file per DEL
 * call), no plugin process is left running, and no cache or lock file is left behind.
 */

import { assert, assertEquals } from "../_utils/mod.ts";
import { cniError, type FakeSpec, type Json, Sandbox } from "./_sandbox.ts";

interface Fault {
  what: string;
  spec: (sb: Sandbox) => FakeSpec;
  code: number;
  /** Must appear in `msg`. */
  msg: string[];
  /** Must appear in `details`. */
  details?: string[];
}

const FAULTS: Fault[] = [
  {
    what: "exits non-zero without output",
    spec: () => ({ add: "exit 3" }),
    code: 100,
    msg: ['plugin "bad": exited with status 3 and printed no error'],
  },
  {
    what: "exits non-zero with a message on stderr",
    spec: () => ({ add: "echo 'cannot frob the widget' >&2; exit 2" }),
    code: 100,
    msg: ['plugin "bad": exited with status 2'],
    details: ["cannot frob the widget"],
  },
  {
    what: "prints garbage and exits 0",
    spec: () => ({ add: "printf 'garbage{{'" }),
    code: 102,
    msg: ['plugin "bad": printed a result that is not JSON'],
    details: ["garbage{{"],
  },
  {
    what: "prints garbage and exits 1",
    spec: () => ({ add: "printf 'garbage{{'; exit 1" }),
    code: 100,
    msg: ["exited with status 1"],
    details: ["garbage{{"],
  },
  {
    what: "prints JSON that is not a result",
    spec: () => ({ add: `printf '{"cniVersion":"1.0.0","ips":"none"}'` }),
    code: 102,
    msg: ['plugin "bad"'],
  },
  {
    what: "prints 50 MB",
    spec: () => ({ add: "head -c 52428800 /dev/zero | tr '\\0' x" }),
    code: 102,
    msg: ['plugin "bad": printed more than 8388608 bytes and was killed'],
  },
  {
    what: "is killed by SIGKILL",
    spec: () => ({ add: "kill -KILL $$" }),
    code: 100,
    msg: ['plugin "bad": killed by signal SIGKILL'],
  },
  {
    what: "is killed by SIGSEGV",
    spec: () => ({ add: "echo 'about to crash' >&2; kill -SEGV $$" }),
    code: 100,
    msg: ["killed by signal SIGSEGV"],
    details: ["about to crash"],
  },
  {
    what: "hangs past the timeout, with a child of its own",
    spec: (sb) => ({ add: `echo 'waiting for godot' >&2\n${sb.sleep(60)} &\n${sb.sleep(60)}` }),
    code: 101,
    msg: ['plugin "bad": did not finish within 1 s and was killed'],
    details: ["waiting for godot"],
  },
  {
    what: "exits 0 but leaves a child holding its stdout",
    spec: (sb) => ({
      add: `${sb.sleep(60)} &\nprintf '{"cniVersion":"1.0.0","ips":[]}'`,
    }),
    code: 101,
    msg: ["did not finish within 1 s"],
  },
  {
    what: "returns an error with a custom code",
    spec: () => ({
      add: `printf '{"cniVersion":"1.0.0","code":142,"msg":"widget exploded",` +
        `"details":"the widget is gone"}'; exit 1`,
    }),
    code: 142,
    msg: ['ADD network "side" on net1: plugin "bad": widget exploded'],
    details: ["the widget is gone"],
  },
  {
    what: "returns a spec error code",
    spec: () => ({
      add: `printf '{"cniVersion":"1.0.0","code":11,"msg":"try later"}'; exit 1`,
    }),
    code: 11,
    msg: ["try later"],
  },
];

for (const f of FAULTS) {
  Deno.test(`a delegate that ${f.what}: code ${f.code} reaches the caller, ADD rolled back`, async () => {
    const sb = await Sandbox.create();
    try {
      await sb.fake("ok");
      await sb.fake("bad", f.spec(sb));
      const conf = sb.meta([sb.net("main", "ok"), sb.net("side", "bad")], {
        delegateTimeout: 1,
      });
      const r = await sb.runJson(sb.cniEnv("ADD", "f1"), conf);
      assert(!r.killed, `multicni did not finish: ${r.stderr}`);
      assert(r.ms < 15_000, `took ${r.ms} ms`);
      assertEquals(r.code, 1, `exit code (${r.stdout} ${r.stderr})`);
      const err = cniError(r.stdout, f.what);
      assertEquals(err.code, f.code, `code in ${r.stdout.slice(0, 500)}`);
      for (const m of f.msg) assert(err.msg.includes(m), `msg lacks ${m}: ${err.msg}`);
      for (const d of f.details ?? []) {
        assert(err.details.includes(d), `details lack ${d}: ${err.details}`);
      }
      assert(err.msg.startsWith('ADD network "side" on net1: '), `msg prefix: ${err.msg}`);
      assert(!err.details.includes("rollback incomplete"), `details: ${err.details}`);
      assertEquals(await sb.calls("DEL"), ["DEL.bad.net1", "DEL.ok.eth0"], "rollback");
      assertEquals(await sb.leftoverProcesses(), [], "plugin processes left running");
      assertEquals(await sb.cacheEntries(), [], "cache or lock file left");
      assertEquals(await sb.liveIfs(), [], "interfaces left");
    } finally {
      await sb.close();
    }
  });
}

Deno.test("a failing plugin in a conflist: the whole list and the one before are rolled back", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("ok");
    await sb.fake("ok2");
    await sb.fake("bad", { add: "echo 'no' >&2; exit 1" });
    const side = { cniVersion: "1.0.0", name: "side", plugins: [{ type: "ok2" }, { type: "bad" }] };
    const r = await sb.runJson(sb.cniEnv("ADD", "f2"), sb.meta([sb.net("main", "ok"), side]));
    assertEquals(cniError(r.stdout).code, 100, r.stdout);
    // libcni order: a list's DEL runs its plugins in reverse.
    assertEquals(await sb.calls("DEL"), ["DEL.bad.net1", "DEL.ok.eth0", "DEL.ok2.net1"]);
    assertEquals(await sb.cacheEntries(), [], "cache or lock file left");
    assertEquals(await sb.liveIfs(), [], "interfaces left");
  } finally {
    await sb.close();
  }
});

Deno.test("a delegate that succeeds on ADD but fails on DEL keeps the record until DEL", async () => {
  const sb = await Sandbox.create();
  try {
    const delFails = `printf '{"cniVersion":"1.0.0","code":120,"msg":"cannot release"}'; exit 1`;
    await sb.fake("sticky", { del: delFails });
    await sb.fake("bad", { add: "exit 1" });
    const conf = sb.meta([sb.net("main", "sticky"), sb.net("side", "bad")]);
    const add = await sb.runJson(sb.cniEnv("ADD", "f3"), conf);
    const err = cniError(add.stdout, "ADD");
    // The original failure is what the caller learns; the failed rollback is in details.
    assertEquals(err.code, 100, add.stdout);
    assert(err.details.includes("rollback incomplete"), `details: ${err.details}`);
    assert(err.details.includes("cannot release"), `details: ${err.details}`);
    assertEquals(await sb.calls("DEL"), ["DEL.bad.net1", "DEL.sticky.eth0"], "rollback");
    // The record stays, so the runtime's DEL can retry what the rollback could not do.
    assertEquals(await sb.cacheEntries(), ["f3"], "record kept, lock released");
    await sb.clearMarkers();
    const del = await sb.runJson(sb.cniEnv("DEL", "f3"), conf);
    const delErr = cniError(del.stdout, "DEL");
    assertEquals(delErr.code, 120, del.stdout);
    assert(delErr.msg.includes('DEL network "main" on eth0: plugin "sticky": cannot release'));
    // "side" was deleted by the rollback (recorded), so only what is left is asked again.
    assertEquals(await sb.calls("DEL"), ["DEL.sticky.eth0"], "DEL replay");
    assertEquals(await sb.cacheEntries(), [], "record removed after every delegate was asked");
    assertEquals(await sb.leftoverProcesses(), [], "plugin processes left running");
  } finally {
    await sb.close();
  }
});

Deno.test("with retryDeleteOnError a failed delegate DEL is retried by the next DEL", async () => {
  const sb = await Sandbox.create();
  try {
    const flag = `${sb.dir}/fail-del`;
    await Deno.writeTextFile(flag, "");
    await sb.fake("ok");
    await sb.fake("flaky", {
      del: `if [ -e ${flag} ]; then printf '{"code":121,"msg":"busy"}'; exit 1; fi`,
    });
    const conf = sb.meta([sb.net("main", "ok"), sb.net("side", "flaky")], {
      retryDeleteOnError: true,
    });
    const add = await sb.runJson(sb.cniEnv("ADD", "f4"), conf);
    assertEquals(add.code, 0, add.stdout);
    const del1 = await sb.runJson(sb.cniEnv("DEL", "f4"), conf);
    assertEquals(cniError(del1.stdout).code, 121, del1.stdout);
    assertEquals(await sb.cacheEntries(), ["f4"], "record kept for the retry");
    await Deno.remove(flag);
    await sb.clearMarkers();
    const del2 = await sb.runJson(sb.cniEnv("DEL", "f4"), conf);
    assertEquals(del2.code, 0, del2.stdout);
    // Only what failed is asked again.
    assertEquals(await sb.calls("DEL"), ["DEL.flaky.net1"]);
    assertEquals(await sb.cacheEntries(), [], "record removed");
    assertEquals(await sb.liveIfs(), [], "interfaces left");
  } finally {
    await sb.close();
  }
});

Deno.test("results of other cniVersions are converted to the caller's", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("old", { resultVersion: "0.3.1" });
    await sb.fake("new", { resultVersion: "1.1.0" });
    await sb.fake("odd", {
      add: `printf '{"cniVersion":"0.2.0","ip4":{"ip":"10.9.1.2/24","gateway":"10.9.1.1"}}'`,
    });
    const cases: [string, string, Json[]][] = [
      ["0.3.1 result, 1.0.0 caller", "1.0.0", [sb.net("main", "old", { cniVersion: "0.3.1" })]],
      ["1.1.0 result, 0.4.0 caller", "0.4.0", [sb.net("main", "new", { cniVersion: "1.1.0" })]],
      ["0.2.0 result, 1.1.0 caller", "1.1.0", [sb.net("main", "odd", { cniVersion: "0.2.0" })]],
      // A delegate of one version printing a result of another: taken as what it says it is.
      ["0.3.1 result from a 1.0.0 delegate", "1.0.0", [sb.net("main", "old")]],
    ];
    for (const [i, [what, version, delegates]] of cases.entries()) {
      const conf = sb.meta(delegates, { cniVersion: version });
      const r = await sb.runJson(sb.cniEnv("ADD", `v${i}`), conf);
      assertEquals(r.code, 0, `${what}: ${r.stdout}`);
      const doc = JSON.parse(r.stdout) as Json;
      assertEquals(doc.cniVersion, version, what);
      assert(Array.isArray(doc.ips) && doc.ips.length === 1, `${what}: ${r.stdout}`);
      const ip = (doc.ips as Json[])[0]!;
      assertEquals("version" in ip, version === "0.4.0", `${what}: ips[].version`);
      const del = await sb.runJson(sb.cniEnv("DEL", `v${i}`), conf);
      assertEquals(del.code, 0, `${what} DEL: ${del.stdout}`);
    }
    assertEquals(await sb.cacheEntries(), [], "cache or lock file left");
  } finally {
    await sb.close();
  }
});

Deno.test("a delegate DEL that hangs is killed and the others are still asked", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("ok");
    await sb.fake("stuck", { del: `${sb.sleep(60)} &\n${sb.sleep(60)}` });
    const conf = sb.meta([sb.net("main", "ok"), sb.net("side", "stuck")], { delegateTimeout: 1 });
    assertEquals((await sb.runJson(sb.cniEnv("ADD", "f5"), conf)).code, 0, "ADD");
    const del = await sb.runJson(sb.cniEnv("DEL", "f5"), conf);
    const err = cniError(del.stdout, "DEL");
    assertEquals(err.code, 101, del.stdout);
    assert(err.msg.startsWith('DEL network "side" on net1: plugin "stuck"'), err.msg);
    assertEquals(await sb.calls("DEL"), ["DEL.ok.eth0", "DEL.stuck.net1"]);
    assertEquals(await sb.leftoverProcesses(), [], "plugin processes left running");
    assertEquals(await sb.cacheEntries(), [], "record removed after every delegate was asked");
  } finally {
    await sb.close();
  }
});
