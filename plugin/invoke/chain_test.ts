import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { CniError, ErrorCode } from "../protocol/errors.ts";
import { convertResult } from "../protocol/result.ts";
import type { CniVersion } from "../protocol/version.ts";
import { type DelegateConfig, parseDelegate } from "../core/delegate.ts";
import { type Answer, BIN_DIR, FakeExec, freshResult } from "../core/_fake_exec.ts";
import {
  type DelegateCall,
  MAX_DELEGATE_STDOUT,
  pluginStdin,
  resolvePlugins,
  runDelegate,
} from "./chain.ts";

const BASE_ENV = { PATH: "/usr/bin", MULTICNI_TEST_MARKER: "inherited", CNI_COMMAND: "STALE" };

const LIST = {
  cniVersion: "1.0.0",
  name: "side",
  plugins: [
    { type: "macvlan", master: "eth1", capabilities: { mac: true, portMappings: false } },
    { type: "tuning", name: "ignored", cniVersion: "0.1.0", runtimeConfig: { stale: true } },
  ],
};

function delegate(obj: Record<string, unknown> = LIST, v: CniVersion = "1.0.0"): DelegateConfig {
  return parseDelegate(obj, v, "test");
}

function call(
  command: DelegateCall["command"],
  d: DelegateConfig,
  extra: Partial<DelegateCall> = {},
): DelegateCall {
  return {
    command,
    delegate: d,
    containerId: "ctr1",
    netns: "/var/run/netns/pod1",
    ifname: "net1",
    cniArgs: "IgnoreUnknown=1",
    pluginDirs: [BIN_DIR],
    runtimeConfig: {},
    baseEnv: BASE_ENV,
    timeoutMs: 2000,
    ...extra,
  };
}

async function rejects(p: Promise<unknown>): Promise<CniError> {
  try {
    await p;
  } catch (e) {
    assert(e instanceof CniError, `threw a non-CniError: ${e}`);
    return e;
  }
  throw new Error("did not throw");
}

Deno.test("runDelegate() ADD chains prevResult and injects the list's name and cniVersion", async () => {
  const exec = new FakeExec();
  const d = delegate();
  const r = await runDelegate(
    exec,
    call("ADD", d, { runtimeConfig: { mac: "c2:00:00:00:00:01" } }),
  );
  const [macvlan, tuning] = exec.calls;
  assert(macvlan && tuning && exec.calls.length === 2, "two plugins ran");
  for (const c of [macvlan, tuning]) {
    assertEquals(c.stdin.name, "side");
    assertEquals(c.stdin.cniVersion, "1.0.0");
    assert(!("capabilities" in c.stdin), "capabilities is not passed on");
    assertEquals(c.command, "ADD");
    assertEquals(c.ifname, "net1");
    assertEquals(c.env.MULTICNI_TEST_MARKER, "inherited");
  }
  assertEquals(macvlan.stdin.runtimeConfig, { mac: "c2:00:00:00:00:01" });
  assertEquals(tuning.stdin.runtimeConfig, undefined, "a plugin's own runtimeConfig is dropped");
  assertEquals(tuning.stdin.prevResult, macvlan.result);
  assertEquals(r, { version: "1.0.0", result: tuning.result! });
});

Deno.test("runDelegate() ADD converts a result in another version to the list's version", async () => {
  const exec = new FakeExec();
  const answer = freshResult(7, "net1", "/var/run/netns/pod1");
  exec.on({ type: "macvlan", answer: { kind: "result", result: answer, version: "1.1.0" } });
  const d = delegate({ ...LIST, cniVersion: "0.4.0" }, "0.4.0");
  const r = await runDelegate(exec, call("ADD", d));
  const tuning = exec.calls[1]!;
  assertEquals(tuning.stdin.prevResult, convertResult(answer, "1.1.0", "0.4.0"));
  assertEquals(r?.version, "0.4.0");
});

Deno.test("runDelegate() ADD stops at the first failing plugin", async () => {
  const exec = new FakeExec();
  exec.on({ type: "macvlan", answer: { kind: "error", code: 4, msg: "bad master" } });
  const e = await rejects(runDelegate(exec, call("ADD", delegate())));
  assertEquals(e.toJSON(), { code: 4, msg: 'plugin "macvlan": bad master' });
  assertEquals(exec.calls.length, 1);
});

/** Each way a plugin can fail, and the error it becomes. */
const FAILURES: { what: string; answer: Answer; code: number; msg: string; details?: string }[] = [
  {
    what: "its own error JSON keeps code, message and details",
    answer: { kind: "error", code: 42, msg: "no VF", details: "pool empty" },
    code: 42,
    msg: 'plugin "macvlan": no VF',
    details: "pool empty",
  },
  {
    what: "a non-zero exit with stderr uses stderr as details",
    answer: { kind: "exit", exitCode: 2, stderr: "  panic: runtime error\n" },
    code: ErrorCode.DelegateFailed,
    msg: 'plugin "macvlan": exited with status 2',
    details: "panic: runtime error",
  },
  {
    what: "a non-zero exit without any output says so",
    answer: { kind: "exit", exitCode: 1 },
    code: ErrorCode.DelegateFailed,
    msg: 'plugin "macvlan": exited with status 1 and printed no error',
  },
  {
    what: "a non-zero exit with garbage on stdout falls back to that text",
    answer: { kind: "garbage", stdout: "oops, not json", exitCode: 3 },
    code: ErrorCode.DelegateFailed,
    msg: 'plugin "macvlan": exited with status 3',
    details: "oops, not json",
  },
  {
    what: "error JSON without an integer code is not trusted",
    answer: { kind: "garbage", stdout: '{"code":"7","msg":"x"}', exitCode: 1, stderr: "fell over" },
    code: ErrorCode.DelegateFailed,
    msg: 'plugin "macvlan": exited with status 1',
    details: "fell over",
  },
  {
    what: "success with a result that is not JSON is bad output",
    answer: { kind: "garbage", stdout: "{trunc", exitCode: 0 },
    code: ErrorCode.DelegateBadOutput,
    msg: 'plugin "macvlan": printed a result that is not JSON',
    details: "{trunc",
  },
  {
    what: "success with a result that is not an object is bad output",
    answer: { kind: "garbage", stdout: "[]", exitCode: 0 },
    code: ErrorCode.DelegateBadOutput,
    msg: 'plugin "macvlan": result is not a JSON object',
  },
  {
    what: "success with a malformed result is bad output",
    answer: { kind: "garbage", stdout: '{"cniVersion":"1.0.0","ips":"10.0.0.1"}', exitCode: 0 },
    code: ErrorCode.DelegateBadOutput,
    msg: 'plugin "macvlan": Result is not valid for cniVersion 1.0.0',
  },
  {
    what: "a timeout is code 101",
    answer: { kind: "timeout", stderr: "waiting for lock" },
    code: ErrorCode.DelegateTimeout,
    msg: 'plugin "macvlan": did not finish within 2 s and was killed',
    details: "waiting for lock",
  },
  {
    what: "too much output is code 102",
    answer: { kind: "overflow" },
    code: ErrorCode.DelegateBadOutput,
    msg: `plugin "macvlan": printed more than ${MAX_DELEGATE_STDOUT} bytes and was killed`,
  },
  {
    what: "a signal is code 100",
    answer: { kind: "signaled", signal: "SIGSEGV" },
    code: ErrorCode.DelegateFailed,
    msg: 'plugin "macvlan": killed by signal SIGSEGV',
  },
  {
    what: "a binary that cannot be started is an I/O failure",
    answer: { kind: "unstartable", message: "Permission denied (os error 13)" },
    code: ErrorCode.IoFailure,
    msg: 'plugin "macvlan": cannot be started',
    details: "Permission denied (os error 13)",
  },
];

Deno.test("runDelegate() turns every kind of plugin failure into a CniError", async (t) => {
  for (const f of FAILURES) {
    await t.step(f.what, async () => {
      const exec = new FakeExec();
      exec.on({ type: "macvlan", answer: f.answer });
      const e = await rejects(runDelegate(exec, call("ADD", delegate())));
      assertEquals(e.code, f.code, e.message);
      assertEquals(e.msg, f.msg);
      if (f.details !== undefined) assertEquals(e.details, f.details);
    });
  }
});

Deno.test("runDelegate() DEL runs the list in reverse and goes on past errors", async () => {
  const exec = new FakeExec();
  exec.on({ type: "tuning", answer: { kind: "error", code: 11, msg: "busy", details: "d1" } });
  exec.on({ type: "macvlan", answer: { kind: "exit", exitCode: 1, stderr: "gone" } });
  const prev = {
    version: "1.0.0" as const,
    result: convertResult(freshResult(1, "net1", ""), "1.1.0", "1.0.0"),
  };
  const e = await rejects(runDelegate(exec, call("DEL", delegate(), { prevResult: prev })));
  assertEquals(exec.trace, ["tuning DEL net1", "macvlan DEL net1"]);
  for (const c of exec.calls) assertEquals(c.stdin.prevResult, prev.result);
  assertEquals(e.code, 11, "the first error's code");
  assertEquals(e.msg, 'plugin "tuning": busy');
  assertEquals(e.details, 'd1; plugin "macvlan": exited with status 1: gone');
});

Deno.test("runDelegate() DEL passes prevResult only to delegates of 0.4.0 and later", async () => {
  for (const [v, passed] of [["0.3.1", false], ["0.4.0", true], ["1.1.0", true]] as const) {
    const exec = new FakeExec();
    const result = convertResult(freshResult(1, "net1", ""), "1.1.0", v);
    const d = delegate({ ...LIST, cniVersion: v }, v);
    await runDelegate(exec, call("DEL", d, { prevResult: { version: v, result } }));
    for (const c of exec.calls) assertEquals(c.stdin.prevResult, passed ? result : undefined, v);
  }
});

Deno.test("runDelegate() DEL still asks the other plugins when one binary is missing", async () => {
  const exec = new FakeExec();
  exec.installed.delete(`${BIN_DIR}/tuning`);
  const e = await rejects(runDelegate(exec, call("DEL", delegate())));
  assertEquals(e.code, ErrorCode.InvalidNetworkConfig);
  assertEquals(exec.trace, ["macvlan DEL net1"]);
});

Deno.test("runDelegate() CHECK skips disableCheck lists and delegates older than 0.4.0", async () => {
  const exec = new FakeExec();
  await runDelegate(exec, call("CHECK", delegate({ ...LIST, disableCheck: true })));
  await runDelegate(exec, call("CHECK", delegate({ ...LIST, cniVersion: "0.3.1" }, "0.3.1")));
  assertEquals(exec.calls.length, 0);
  await runDelegate(exec, call("CHECK", delegate()));
  assertEquals(exec.trace, ["macvlan CHECK net1", "tuning CHECK net1"]);
});

Deno.test("runDelegate() GC skips disableGC lists and delegates older than 1.1.0", async () => {
  const exec = new FakeExec();
  const valid = [{ containerID: "a", ifname: "eth0" }];
  const v110 = { ...LIST, cniVersion: "1.1.0" };
  await runDelegate(exec, call("GC", delegate({ ...v110, disableGC: true }, "1.1.0")));
  await runDelegate(exec, call("GC", delegate()));
  assertEquals(exec.calls.length, 0);
  await runDelegate(exec, call("GC", delegate(v110, "1.1.0"), { validAttachments: valid }));
  assertEquals(exec.trace, ["tuning GC net1", "macvlan GC net1"]);
  for (const c of exec.calls) assertEquals(c.stdin["cni.dev/valid-attachments"], valid);
});

Deno.test("runDelegate() STATUS asks only delegates of 1.1.0", async () => {
  const exec = new FakeExec();
  await runDelegate(exec, call("STATUS", delegate()));
  assertEquals(exec.calls.length, 0);
  await runDelegate(exec, call("STATUS", delegate({ ...LIST, cniVersion: "1.1.0" }, "1.1.0")));
  assertEquals(exec.trace, ["macvlan STATUS net1", "tuning STATUS net1"]);
});

Deno.test("resolvePlugins() refuses types that are not bare file names without looking them up", async () => {
  const exec = new FakeExec();
  exec.installed.add("/fake/x");
  for (const type of ["../x", "/bin/sh", ".", ".."]) {
    const d: DelegateConfig = { kind: "conf", name: "n", cniVersion: "1.0.0", conf: { type } };
    const e = await rejects(resolvePlugins(exec, d, [BIN_DIR]));
    assertEquals(e.code, ErrorCode.InvalidNetworkConfig, type);
  }
  assertEquals(exec.finds.length, 0);
});

Deno.test("resolvePlugins() searches the directories in order and names a missing type", async () => {
  const exec = new FakeExec();
  exec.installed.add("/second/only");
  const d = delegate({ ...LIST, plugins: [{ type: "bridge" }, { type: "only" }] });
  const found = await resolvePlugins(exec, d, [BIN_DIR, "/second"]);
  assertEquals([...found], [["bridge", `${BIN_DIR}/bridge`], ["only", "/second/only"]]);
  const missing = delegate({ ...LIST, plugins: [{ type: "nosuch" }] });
  const e = await rejects(resolvePlugins(exec, missing, [BIN_DIR]));
  assertEquals(e.msg, 'Cannot invoke delegate "nosuch" of network "side"');
});

Deno.test("pluginStdin() offers each plugin only the runtime config it declares", () => {
  const d = delegate();
  const rc = { mac: "c2:00:00:00:00:01", portMappings: [{ hostPort: 1 }], bandwidth: {} };
  const first = JSON.parse(pluginStdin(d, LIST.plugins[0] as never, rc, undefined));
  assertEquals(first.runtimeConfig, { mac: "c2:00:00:00:00:01" }, "false capabilities are off");
  assertEquals(first.master, "eth1");
  const second = JSON.parse(pluginStdin(d, LIST.plugins[1] as never, rc, undefined));
  assertEquals(second.name, "side", "the list's name wins over the plugin's");
  assertEquals(second.cniVersion, "1.0.0", "the list's version wins over the plugin's");
  assert(!("runtimeConfig" in second), "nothing declared, nothing offered");
});
