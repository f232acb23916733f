import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { CniError, ErrorCode } from "./errors.ts";
import { type Command, COMMANDS, parseCniArgs, readCmdArgs, readCommand } from "./env.ts";

type Need = "required" | "optional" | "ignored";
type Var = "CNI_CONTAINERID" | "CNI_NETNS" | "CNI_IFNAME" | "CNI_ARGS" | "CNI_PATH";

/** The table of CNI spec "Parameters", written out independently of ENV_TABLE. */
const NEEDS: Record<Exclude<Command, "VERSION">, Record<Var, Need>> = {
  ADD: {
    CNI_CONTAINERID: "required",
    CNI_NETNS: "required",
    CNI_IFNAME: "required",
    CNI_ARGS: "optional",
    CNI_PATH: "required",
  },
  // A DEL may come after the namespace is gone.
  DEL: {
    CNI_CONTAINERID: "required",
    CNI_NETNS: "optional",
    CNI_IFNAME: "required",
    CNI_ARGS: "optional",
    CNI_PATH: "required",
  },
  CHECK: {
    CNI_CONTAINERID: "required",
    CNI_NETNS: "required",
    CNI_IFNAME: "required",
    CNI_ARGS: "optional",
    CNI_PATH: "required",
  },
  GC: {
    CNI_CONTAINERID: "ignored",
    CNI_NETNS: "ignored",
    CNI_IFNAME: "ignored",
    CNI_ARGS: "ignored",
    CNI_PATH: "required",
  },
  STATUS: {
    CNI_CONTAINERID: "ignored",
    CNI_NETNS: "ignored",
    CNI_IFNAME: "ignored",
    CNI_ARGS: "ignored",
    CNI_PATH: "required",
  },
};

const GOOD: Record<Var, string> = {
  CNI_CONTAINERID: "c0ffee-1",
  CNI_NETNS: "/var/run/netns/pod1",
  CNI_IFNAME: "eth0",
  CNI_ARGS: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web",
  CNI_PATH: "/opt/cni/bin:/usr/lib/cni",
};

/** A value of each variable that its validator rejects (CNI_PATH has none). */
const BAD: Partial<Record<Var, string>> = {
  CNI_CONTAINERID: "-bad id",
  CNI_NETNS: "var/run/netns/pod1",
  CNI_IFNAME: "eth0:1",
  CNI_ARGS: "novalue",
};

const FIELD: Partial<Record<Var, "containerId" | "netns" | "ifname" | "args">> = {
  CNI_CONTAINERID: "containerId",
  CNI_NETNS: "netns",
  CNI_IFNAME: "ifname",
  CNI_ARGS: "args",
};

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    assert(e instanceof CniError, `threw a non-CniError: ${e}`);
    return e.code;
  }
  return undefined;
}

function expectEnvError(fn: () => unknown, what: string): CniError {
  try {
    fn();
  } catch (e) {
    assert(e instanceof CniError, `${what}: threw a non-CniError: ${e}`);
    assertEquals(e.code, ErrorCode.InvalidEnv, what);
    return e;
  }
  throw new Error(`${what}: did not throw`);
}

Deno.test("readCmdArgs() follows the environment table for every command", async (t) => {
  for (const [command, needs] of Object.entries(NEEDS) as [Command, Record<Var, Need>][]) {
    await t.step(`${command} accepts a complete environment`, () => {
      const args = readCmdArgs(command, GOOD);
      assertEquals(args.command, command);
      assertEquals(args.path, ["/opt/cni/bin", "/usr/lib/cni"]);
      for (const [name, need] of Object.entries(needs) as [Var, Need][]) {
        const field = FIELD[name];
        if (!field) continue;
        const got = (args as unknown as Record<string, unknown>)[field];
        assertEquals(got, need === "ignored" ? "" : GOOD[name], `${command} ${name}`);
      }
    });
    for (const [name, need] of Object.entries(needs) as [Var, Need][]) {
      await t.step(`${command} treats a missing ${name} as ${need}`, () => {
        const env: Record<string, string> = { ...GOOD };
        delete env[name];
        if (need === "required") {
          const e = expectEnvError(() => readCmdArgs(command, env), `${command} ${name}`);
          assertEquals(e.msg, `${name} is required for ${command}`);
        } else {
          readCmdArgs(command, env);
          // An empty value is the same as a missing one.
          readCmdArgs(command, { ...GOOD, [name]: "" });
        }
      });
      const bad = BAD[name];
      if (bad === undefined) continue;
      await t.step(
        `${command} ${need === "ignored" ? "ignores" : "rejects"} an invalid ${name}`,
        () => {
          const env = { ...GOOD, [name]: bad };
          if (need === "ignored") {
            const args = readCmdArgs(command, env);
            const field = FIELD[name];
            if (field) {
              assertEquals((args as unknown as Record<string, unknown>)[field], "", name);
            }
          } else {
            const e = expectEnvError(() => readCmdArgs(command, env), `${command} ${name}`);
            assert(e.msg.includes(name), e.msg);
            assert(e.details !== "", "the reason is in details");
          }
        },
      );
    }
  }
});

Deno.test("readCmdArgs() for VERSION reads nothing, so junk values never fail it", () => {
  const junk = {
    CNI_CONTAINERID: "dummy/../x",
    CNI_NETNS: "dummy",
    CNI_IFNAME: "dummy:dummy dummy",
    CNI_ARGS: "dummy",
  };
  const args = readCmdArgs("VERSION", junk);
  assertEquals(args.containerId, "");
  assertEquals(args.path, []);
});

Deno.test("readCmdArgs() validates the container id", () => {
  for (const id of ["abc", "0", "a.b-c_d", "x".repeat(200)]) {
    assertEquals(readCmdArgs("ADD", { ...GOOD, CNI_CONTAINERID: id }).containerId, id);
  }
  for (const id of ["-a", ".a", "a b", "a/b", "../etc", "é", "x".repeat(201)]) {
    expectEnvError(() => readCmdArgs("ADD", { ...GOOD, CNI_CONTAINERID: id }), id);
  }
});

Deno.test("readCmdArgs() validates the interface name by the kernel's rules", () => {
  for (const name of ["eth0", "net1", "abcdefghijklmno", "ééééééé"]) {
    assertEquals(readCmdArgs("ADD", { ...GOOD, CNI_IFNAME: name }).ifname, name);
  }
  const bad = [
    ".",
    "..",
    "a/b",
    "a:b",
    "a b",
    "a\tb",
    "eth0\n",
    "abcdefghijklmnop",
    "éééééééé",
  ];
  for (const name of bad) {
    for (const command of ["ADD", "DEL", "CHECK"] as const) {
      expectEnvError(() => readCmdArgs(command, { ...GOOD, CNI_IFNAME: name }), name);
    }
  }
});

Deno.test("readCmdArgs() wants an absolute netns path", () => {
  for (const p of ["/var/run/netns/x", "/proc/42/ns/net", "/"]) {
    assertEquals(readCmdArgs("ADD", { ...GOOD, CNI_NETNS: p }).netns, p);
  }
  for (const p of ["netns", "./netns", "proc/1/ns/net", "/var/run/netns/a\0b"]) {
    expectEnvError(() => readCmdArgs("ADD", { ...GOOD, CNI_NETNS: p }), p);
    // An invalid netns fails DEL too; only a missing one is allowed.
    expectEnvError(() => readCmdArgs("DEL", { ...GOOD, CNI_NETNS: p }), `DEL ${p}`);
  }
  assertEquals(readCmdArgs("DEL", { ...GOOD, CNI_NETNS: "" }).netns, "");
});

Deno.test("readCmdArgs() splits CNI_PATH and drops empty entries", () => {
  assertEquals(readCmdArgs("GC", { CNI_PATH: "/a::/b:" }).path, ["/a", "/b"]);
  assertEquals(readCmdArgs("STATUS", { CNI_PATH: "/opt/cni/bin" }).path, ["/opt/cni/bin"]);
});

Deno.test("readCmdArgs() keeps CNI_ARGS as given and parsed", () => {
  const args = readCmdArgs("ADD", { ...GOOD, CNI_ARGS: "A=1;B=x=y;;C=" });
  assertEquals(args.args, "A=1;B=x=y;;C=");
  assertEquals([...args.argsMap], [["A", "1"], ["B", "x=y"], ["C", ""]]);
});

Deno.test("parseCniArgs() handles '=' in values, empty pairs and empty values", () => {
  const cases: [string, [string, string][]][] = [
    ["", []],
    [";", []],
    [";;", []],
    ["A=1", [["A", "1"]]],
    ["A=1;", [["A", "1"]]],
    [";A=1", [["A", "1"]]],
    ["A=1;;B=2", [["A", "1"], ["B", "2"]]],
    ["A=", [["A", ""]]],
    ["A==", [["A", "="]]],
    ["A=b=c", [["A", "b=c"]]],
    ["TOKEN=YWJj==;X=1", [["TOKEN", "YWJj=="], ["X", "1"]]],
    [
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0",
      [["IgnoreUnknown", "1"], ["K8S_POD_NAMESPACE", "default"], ["K8S_POD_NAME", "web-0"]],
    ],
  ];
  for (const [text, pairs] of cases) assertEquals([...parseCniArgs(text)], pairs, text);
});

Deno.test("parseCniArgs() rejects a pair without '=' or with an empty key", () => {
  for (const text of ["A", "A=1;B", "=1", "A=1;=2", "A=1; ;B=2"]) {
    let threw = false;
    try {
      parseCniArgs(text);
    } catch (e) {
      threw = true;
      assert((e as Error).message.includes("KEY=VALUE"), (e as Error).message);
    }
    assert(threw, `${JSON.stringify(text)} should be rejected`);
    expectEnvError(() => readCmdArgs("ADD", { ...GOOD, CNI_ARGS: text }), text);
  }
});

Deno.test("readCommand() knows the six commands and fails with code 4 otherwise", () => {
  assertEquals([...COMMANDS], ["ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS"]);
  for (const c of COMMANDS) assertEquals(readCommand({ CNI_COMMAND: c }), c);
  for (const c of ["add", "Add", "DELETE", " ADD", "ADD ", "junk"]) {
    const e = expectEnvError(() => readCommand({ CNI_COMMAND: c }), c);
    assert(e.msg.includes(c), e.msg);
  }
  const missing = expectEnvError(() => readCommand({}), "missing");
  assertEquals(missing.msg, "CNI_COMMAND is not set");
  assertEquals(codeOf(() => readCommand({ CNI_COMMAND: "" })), ErrorCode.InvalidEnv);
});
