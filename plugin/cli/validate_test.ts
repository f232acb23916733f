import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { UsageError } from "./_args.ts";
import { validateCommand } from "./validate.ts";

async function run(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await validateCommand(args, {
    stdout: (s) => stdout += s,
    stderr: (s) => stderr += s,
  });
  return { code, stdout, stderr };
}

async function withFiles(
  files: Record<string, string>,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "multicni-validate-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(`${dir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const GOOD = JSON.stringify(
  {
    cniVersion: "1.0.0",
    name: "good",
    plugins: [{ type: "bridge", ipam: { type: "host-local", subnet: "10.1.0.0/24" } }],
  },
  null,
  2,
);

const BAD = `{
  "cniVersion": "1.0.0",
  "name": "side",
  "type": "macvlan",
  "ipam": {
    "type": "host-local",
    "ranges": [[{ "subnet": "10.1.2.0/24", "rangeEnd": "10.1.3.1" }]]
  }
}
`;

Deno.test("validate exits 0 and prints nothing on stdout for good files", async () => {
  await withFiles({ "10-good.conflist": GOOD }, async (dir) => {
    const r = await run([`${dir}/10-good.conflist`]);
    assertEquals(r.code, 0);
    assertEquals(r.stdout, "");
    assertEquals(r.stderr, "Checked 1 file: 0 errors, 0 warnings\n");
  });
});

Deno.test("validate prints file:line:col: message and exits 1 on an error", async () => {
  await withFiles({ "bad.conf": BAD }, async (dir) => {
    const r = await run([`${dir}/bad.conf`]);
    assertEquals(r.code, 1);
    assertEquals(
      r.stdout,
      `${dir}/bad.conf:7:56: ipam.ranges[0][0].rangeEnd "10.1.3.1" is outside ipam.ranges[0][0].subnet "10.1.2.0/24"\n`,
    );
  });
});

Deno.test("validate walks directories and skips files of other kinds", async () => {
  await withFiles({ "a.conflist": GOOD, "sub/b.conf": BAD, "notes.txt": "{" }, async (dir) => {
    const r = await run([dir]);
    assertEquals(r.code, 1);
    assertEquals(r.stdout.split("\n").filter(Boolean).length, 1);
    assert(r.stdout.startsWith(`${dir}/sub/b.conf:7:`));
    assertEquals(r.stderr, "Checked 2 files: 1 error, 0 warnings\n");
  });
});

Deno.test("validate accepts JSONC and keeps positions true", async () => {
  const text = `// a comment with ñ and 😀
{
  /* block */ "cniVersion": "1.0.0", // trailing
  "name": "c",
  "type": "bridge",
  "mtu": "big", // wrong type
}
`;
  await withFiles({ "c.jsonc": text }, async (dir) => {
    const r = await run([`${dir}/c.jsonc`]);
    assertEquals(r.code, 1);
    assertEquals(r.stdout, `${dir}/c.jsonc:6:10: mtu "big" is not an integer\n`);
  });
});

Deno.test("validate reports broken JSONC at the parser's position", async () => {
  await withFiles({ "x.json": '{\n  // c\n  "name": "x" "type": "y"\n}' }, async (dir) => {
    const r = await run([`${dir}/x.json`]);
    assertEquals(r.code, 1);
    assertEquals(
      r.stdout,
      `${dir}/x.json:3:15: config is not valid JSON (nor JSONC): CommaExpected\n`,
    );
  });
});

Deno.test("validate gives syntax errors of plain JSON by line and column", async () => {
  await withFiles({ "s.conf": '{\n  "name": "s",\n  "type": [1,]\n}' }, async (dir) => {
    const r = await run([`${dir}/s.conf`, "--format", "json"]);
    assertEquals(r.code, 1);
    const out = JSON.parse(r.stdout);
    assertEquals(out.files, 1);
    assertEquals(out.issues[0].line, 3);
    assertEquals(out.issues[0].path, "type");
  });
});

Deno.test("validate --format json lists issues with positions", async () => {
  await withFiles({ "bad.conf": BAD }, async (dir) => {
    const r = await run(["--format=json", `${dir}/bad.conf`]);
    assertEquals(r.code, 1);
    const out = JSON.parse(r.stdout);
    assertEquals(out.errors, 1);
    assertEquals(out.issues[0].line, 7);
    assertEquals(out.issues[0].path, "ipam.ranges[0][0].rangeEnd");
    assertEquals(out.issues[0].network, "side");
    assertEquals(r.stderr, "");
  });
});

Deno.test("validate checks the inline delegates of a multicni config", async () => {
  const meta = JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "multicni-cni-network",
      type: "multicni",
      delegates: [JSON.parse(GOOD), { cniVersion: "1.0.0", name: "d", type: "vlan", vlanId: "7" }],
    },
    null,
    2,
  );
  await withFiles({ "00-multicni.conf": meta }, async (dir) => {
    const r = await run([`${dir}/00-multicni.conf`]);
    assertEquals(r.code, 1);
    const line = meta.split("\n").findIndex((l) => l.includes('"vlanId"')) + 1;
    assertEquals(
      r.stdout,
      `${dir}/00-multicni.conf:${line}:17: delegates[1].vlanId "7" is not an integer\n`,
    );
  });
});

Deno.test("validate points whole-object issues at the object", async () => {
  const text = JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "o",
      type: "bridge",
      ipam: {
        type: "host-local",
        ranges: [[{ subnet: "10.0.0.0/16" }, { subnet: "10.0.1.0/24" }]],
      },
    },
    null,
    2,
  );
  await withFiles({ "o.conf": text }, async (dir) => {
    const r = await run([`${dir}/o.conf`]);
    const line = text.split("\n").findIndex((l) => l.includes('"10.0.1.0/24"'));
    assert(r.stdout.startsWith(`${dir}/o.conf:${line}:`), r.stdout);
  });
});

Deno.test("validate exits 1 for a missing path and 2-style usage errors throw", async () => {
  const r = await run(["/nonexistent/multicni.conf"]);
  assertEquals(r.code, 1);
  assert(r.stderr.startsWith("/nonexistent/multicni.conf: cannot read:"));
  let usage: unknown;
  try {
    await run([]);
  } catch (e) {
    usage = e;
  }
  assert(usage instanceof UsageError);
  const help = await run(["--help"]);
  assertEquals(help.code, 0);
  assert(help.stdout.startsWith("usage: multicni validate"));
});
