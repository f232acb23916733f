import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { CniError, ErrorCode } from "./errors.ts";
import {
  decodeConfig,
  errorJson,
  type Handlers,
  MAX_STDIN_BYTES,
  type PluginOutput,
  type Request,
  runPlugin,
} from "./dispatch.ts";
import { SUPPORTED_VERSIONS } from "./version.ts";

const ENV = {
  CNI_CONTAINERID: "ctr1",
  CNI_NETNS: "/var/run/netns/pod",
  CNI_IFNAME: "eth0",
  CNI_ARGS: "K8S_POD_NAME=web",
  CNI_PATH: "/opt/cni/bin",
};

const bytes = (s: string) => new TextEncoder().encode(s);
const json = (v: unknown) => bytes(JSON.stringify(v));

/** Handlers that record the requests they get and answer as told. */
function recorder(answer: (command: string, req: Request) => unknown = () => undefined) {
  const seen: { command: string; req: Request }[] = [];
  let loads = 0;
  const make = (command: string) => (req: Request) => {
    seen.push({ command, req });
    return Promise.resolve(answer(command, req));
  };
  const h = {
    add: make("ADD"),
    del: make("DEL"),
    check: make("CHECK"),
    gc: make("GC"),
    status: make("STATUS"),
  } as Handlers;
  return {
    seen,
    get loads() {
      return loads;
    },
    load: () => {
      loads++;
      return Promise.resolve(h);
    },
  };
}

/** Asserts a failed run with `code` and returns the parsed error JSON. */
function expectError(out: PluginOutput, code: number, version = "1.1.0"): Record<string, unknown> {
  assertEquals(out.exitCode, 1, `exit code of ${out.stdout}`);
  const e = JSON.parse(out.stdout) as Record<string, unknown>;
  assertEquals(e.code, code, out.stdout);
  assertEquals(e.cniVersion, version, out.stdout);
  assert(typeof e.msg === "string" && e.msg !== "", "msg is set");
  for (const k of Object.keys(e)) {
    assert(["cniVersion", "code", "msg", "details"].includes(k), `unexpected key ${k}`);
  }
  assert(out.error instanceof CniError && out.error.code === code, "error is returned for logs");
  return e;
}

Deno.test("runPlugin() answers VERSION whatever the environment and stdin hold", async () => {
  const junkEnv = {
    CNI_COMMAND: "VERSION",
    CNI_CONTAINERID: "dummy/../..",
    CNI_NETNS: "dummy",
    CNI_IFNAME: "dummy:dummy is too long for an interface",
    CNI_ARGS: "dummy",
  };
  const stdins: (Uint8Array | undefined)[] = [
    undefined,
    new Uint8Array(),
    bytes("not json"),
    new Uint8Array([0xff, 0xfe, 0x00]),
    bytes("[1,2]"),
    bytes("null"),
    json({ cniVersion: "9.9.9" }),
    json({ cniVersion: 4 }),
  ];
  for (const stdin of stdins) {
    const r = recorder();
    const out = await runPlugin({ env: junkEnv, stdin }, r.load);
    assertEquals(out.exitCode, 0, out.stdout);
    assertEquals(JSON.parse(out.stdout), {
      cniVersion: "1.1.0",
      supportedVersions: [...SUPPORTED_VERSIONS],
    });
    assertEquals(r.loads, 0, "VERSION loads no handlers");
  }
});

Deno.test("runPlugin() answers VERSION in the version stdin asks for when it is supported", async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const out = await runPlugin(
      { env: { CNI_COMMAND: "VERSION" }, stdin: json({ cniVersion: v }) },
      recorder().load,
    );
    assertEquals(JSON.parse(out.stdout).cniVersion, v);
  }
});

Deno.test("runPlugin() fails with code 4 for a missing or unknown CNI_COMMAND", async () => {
  for (const env of [{}, { CNI_COMMAND: "" }, { CNI_COMMAND: "add" }, { CNI_COMMAND: "FOO" }]) {
    const r = recorder();
    const out = await runPlugin(
      { env: { ...ENV, ...env }, stdin: json({ cniVersion: "1.0.0" }) },
      r.load,
    );
    expectError(out, ErrorCode.InvalidEnv);
    assertEquals(r.loads, 0, "nothing is loaded");
  }
});

Deno.test("runPlugin() checks the environment before reading stdin", async () => {
  const env: Record<string, string> = { ...ENV, CNI_COMMAND: "ADD" };
  delete env.CNI_CONTAINERID;
  const out = await runPlugin({ env, stdin: bytes("junk") }, recorder().load);
  const e = expectError(out, ErrorCode.InvalidEnv);
  assertEquals(e.msg, "CNI_CONTAINERID is required for ADD");
});

Deno.test("runPlugin() fails with code 6 when stdin is not a JSON object", async (t) => {
  const cases: [string, Uint8Array | undefined][] = [
    ["too large", undefined],
    ["empty", new Uint8Array()],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
    ["a lone surrogate byte sequence", new Uint8Array([0xed, 0xa0, 0x80])],
    ["not JSON", bytes("{cniVersion: 1.0.0}")],
    ["truncated JSON", bytes('{"cniVersion":"1.0.0"')],
    ["a list", bytes('[{"cniVersion":"1.0.0"}]')],
    ["null", bytes("null")],
    ["a string", bytes('"{}"')],
    ["a number", bytes("42")],
  ];
  for (const [what, stdin] of cases) {
    await t.step(`stdin that is ${what}`, async () => {
      for (const command of ["ADD", "DEL", "CHECK", "GC", "STATUS"]) {
        const r = recorder();
        const out = await runPlugin({ env: { ...ENV, CNI_COMMAND: command }, stdin }, r.load);
        expectError(out, ErrorCode.DecodeFailure);
        assertEquals(r.seen.length, 0, "no handler runs");
      }
    });
  }
});

Deno.test("decodeConfig() returns the object a UTF-8 JSON document holds", () => {
  assertEquals(decodeConfig(json({ name: "ü", cniVersion: "1.0.0" })), {
    name: "ü",
    cniVersion: "1.0.0",
  });
  assert(MAX_STDIN_BYTES >= 1024 * 1024, "configs of a megabyte fit");
});

Deno.test("runPlugin() fails with code 1 for an unsupported version and reports it in 1.1.0", async () => {
  for (const conf of [{ cniVersion: "2.0.0" }, { cniVersions: ["3.0.0"] }, { cniVersion: 1 }]) {
    const out = await runPlugin(
      { env: { ...ENV, CNI_COMMAND: "ADD" }, stdin: json(conf) },
      recorder().load,
    );
    expectError(out, ErrorCode.IncompatibleVersion, "1.1.0");
  }
});

Deno.test("runPlugin() gates CHECK, GC and STATUS by the config's version", async () => {
  const min: Record<string, string> = { CHECK: "0.4.0", GC: "1.1.0", STATUS: "1.1.0" };
  for (const [command, first] of Object.entries(min)) {
    const from = SUPPORTED_VERSIONS.indexOf(first as typeof SUPPORTED_VERSIONS[number]);
    for (const [i, v] of SUPPORTED_VERSIONS.entries()) {
      const r = recorder();
      const out = await runPlugin(
        { env: { ...ENV, CNI_COMMAND: command }, stdin: json({ cniVersion: v, name: "n" }) },
        r.load,
      );
      if (i >= from) {
        assertEquals(out.exitCode, 0, `${command} at ${v}: ${out.stdout}`);
        assertEquals(r.seen.map((s) => s.command), [command]);
      } else {
        const e = expectError(out, ErrorCode.IncompatibleVersion, v);
        assert(String(e.msg).includes(command), String(e.msg));
        assertEquals(r.loads, 0, `${command} at ${v} loads nothing`);
      }
    }
  }
});

Deno.test("runPlugin() negotiates cniVersions and hands the version to the handler", async () => {
  const r = recorder();
  const out = await runPlugin(
    {
      env: { ...ENV, CNI_COMMAND: "GC" },
      stdin: json({ cniVersion: "1.0.0", cniVersions: ["0.4.0", "1.1.0", "2.0.0"], name: "n" }),
    },
    r.load,
  );
  assertEquals(out.exitCode, 0, out.stdout);
  assertEquals(r.seen[0]?.req.version, "1.1.0");
});

Deno.test("runPlugin() passes CmdArgs and the parsed config to the handler", async () => {
  const r = recorder(() => ({ cniVersion: "1.0.0", ips: [] }));
  const conf = { cniVersion: "1.0.0", name: "multi", delegates: [] };
  const out = await runPlugin({ env: { ...ENV, CNI_COMMAND: "ADD" }, stdin: json(conf) }, r.load);
  assertEquals(out.exitCode, 0);
  assertEquals(out.stdout, '{"cniVersion":"1.0.0","ips":[]}');
  const req = r.seen[0]?.req;
  assert(req, "add() ran");
  assertEquals(req.conf, conf);
  assertEquals(req.version, "1.0.0");
  assertEquals(req.args.containerId, "ctr1");
  assertEquals(req.args.ifname, "eth0");
  assertEquals([...req.args.argsMap], [["K8S_POD_NAME", "web"]]);
});

Deno.test("runPlugin() prints nothing for a successful DEL, CHECK, GC and STATUS", async () => {
  for (const command of ["DEL", "CHECK", "GC", "STATUS"]) {
    const r = recorder();
    const out = await runPlugin(
      { env: { ...ENV, CNI_COMMAND: command }, stdin: json({ cniVersion: "1.1.0", name: "n" }) },
      r.load,
    );
    assertEquals(out, { stdout: "", exitCode: 0 }, command);
    assertEquals(r.seen.map((s) => s.command), [command]);
  }
});

Deno.test("runPlugin() passes a handler's CniError through with its code and the config version", async () => {
  const r = recorder(() => {
    throw new CniError(42, "Delegate failed", "because");
  });
  const out = await runPlugin(
    { env: { ...ENV, CNI_COMMAND: "ADD" }, stdin: json({ cniVersion: "0.4.0" }) },
    r.load,
  );
  assertEquals(out.exitCode, 1);
  assertEquals(
    out.stdout,
    '{"cniVersion":"0.4.0","code":42,"msg":"Delegate failed","details":"because"}',
  );
  assertEquals(out.unexpected, undefined, "a CniError is not unexpected");
});

Deno.test("runPlugin() turns any other exception into code 999 and keeps it as unexpected", async () => {
  const bug = new TypeError("x is undefined");
  for (const command of ["ADD", "DEL", "CHECK", "GC", "STATUS"]) {
    const r = recorder(() => {
      throw bug;
    });
    const out = await runPlugin(
      { env: { ...ENV, CNI_COMMAND: command }, stdin: json({ cniVersion: "1.1.0" }) },
      r.load,
    );
    const e = expectError(out, ErrorCode.Internal, "1.1.0");
    assertEquals(e.msg, "Internal error");
    assertEquals(e.details, "x is undefined");
    assert(out.unexpected === bug, "the original exception is kept for the log");
  }
  const thrown = await runPlugin(
    { env: { ...ENV, CNI_COMMAND: "DEL" }, stdin: json({ cniVersion: "1.0.0" }) },
    () => Promise.reject("a string"),
  );
  assertEquals(JSON.parse(thrown.stdout).details, "a string");
  assertEquals(thrown.unexpected, "a string");
});

Deno.test("errorJson() writes cniVersion, code, msg and details only when there are some", () => {
  assertEquals(
    errorJson(new CniError(7, "Bad config"), "1.0.0"),
    '{"cniVersion":"1.0.0","code":7,"msg":"Bad config"}',
  );
  assertEquals(
    errorJson(new CniError(11, "Not ready", "file missing"), "0.3.1"),
    '{"cniVersion":"0.3.1","code":11,"msg":"Not ready","details":"file missing"}',
  );
});

Deno.test("CniError.withPrefix() keeps code and details and links the cause", () => {
  const inner = new CniError(3, "gone", "container 1");
  const outer = inner.withPrefix('ADD network "a" on eth0');
  assertEquals(outer.toJSON(), {
    code: 3,
    msg: 'ADD network "a" on eth0: gone',
    details: "container 1",
  });
  assert(outer.cause === inner, "cause is the original");
});
