import { createLogger, type LoggerOptions, parseLogLevel } from "./logger.ts";
import { formatLine, redactText } from "./_format.ts";

// --- tiny helpers --------------------------------------------------------------------------------

function assert(condition: unknown, message = "Assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

function assertEquals<T>(actual: T, expected: T, message = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}\nexpected: ${e}\n  actual: ${a}`);
}

function assertNotIncludes(text: string, secret: string): void {
  assert(!text.includes(secret), `Found secret "${secret}" in: ${text}`);
}

const FIXED = new Date("2026-12-04T20:11:00.123Z");

/** A logger writing to an array instead of stderr, with a fixed clock. */
function capture(options: LoggerOptions) {
  const lines: string[] = [];
  const log = createLogger(options, { stderr: (l) => lines.push(l), now: () => FIXED });
  return { log, lines };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "multicni-log-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function readText(path: string): Promise<string> {
  if (!path.endsWith(".gz")) return await Deno.readTextFile(path);
  const file = await Deno.open(path);
  const stream = file.readable.pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

/** Every line of the log and its backups. */
async function allLines(dir: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.startsWith("multicni.log")) continue;
    lines.push(...(await readText(`${dir}/${entry.name}`)).split("\n").filter((l) => l !== ""));
  }
  return lines;
}

// --- levels --------------------------------------------------------------------------------------

Deno.test("the default level writes only panics", () => {
  const { log, lines } = capture({});
  log.debug("d");
  log.verbose("v");
  log.error("e");
  log.panic("p");
  assertEquals(lines.map((l) => l.split(" ")[1]), ["[panic]"]);
});

Deno.test("each level writes itself and every more severe level", () => {
  const expected: Record<string, string[]> = {
    panic: ["panic"],
    error: ["error", "panic"],
    verbose: ["verbose", "error", "panic"],
    debug: ["debug", "verbose", "error", "panic"],
  };
  for (const [level, written] of Object.entries(expected)) {
    const { log, lines } = capture({ logLevel: level });
    log.debug("x");
    log.verbose("x");
    log.error("x");
    log.panic("x");
    assertEquals(lines.map((l) => l.split(" ")[1]), written.map((w) => `[${w}]`), level);
  }
});

Deno.test("level names are case-insensitive and an unknown one means panic", () => {
  assertEquals(parseLogLevel(" DEBUG "), "debug");
  assertEquals(parseLogLevel("Verbose"), "verbose");
  assertEquals(parseLogLevel("info"), "panic");
  assertEquals(parseLogLevel(undefined), "panic");
});

Deno.test("logToStderr false writes nothing to stderr", () => {
  const { log, lines } = capture({ logLevel: "debug", logToStderr: false });
  log.panic("p");
  assertEquals(lines, []);
});

// --- format --------------------------------------------------------------------------------------

Deno.test("a line has the time, the level, the message, then the context fields first", () => {
  const { log, lines } = capture({ logLevel: "error" });
  log.error("delegate ADD failed", {
    code: 7,
    ifname: "net1",
    network: "side",
    containerId: "abc",
    skipped: undefined,
  });
  assertEquals(lines, [
    "2026-12-04T20:11:00.123Z [error] delegate ADD failed containerId=abc network=side ifname=net1 code=7",
  ]);
});

Deno.test("values with spaces, quotes or newlines are quoted and a line never breaks", () => {
  const line = formatLine(FIXED, "debug", "two\nlines", {
    path: "/a b",
    q: 'say "hi"',
    empty: "",
    plain: "x",
    err: new Error("boom: it broke"),
    obj: { a: 1, b: [true, null] },
    "bad name": 1,
  });
  assertEquals(
    line,
    '2026-12-04T20:11:00.123Z [debug] two\\nlines path="/a b" q="say \\"hi\\"" empty="" plain=x ' +
      'err="boom: it broke" obj="{\\"a\\":1,\\"b\\":[true,null]}" bad_name=1',
  );
  assert(!line.includes("\n"));
});

Deno.test("an unserializable field value does not stop the line", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const line = formatLine(FIXED, "error", "m", { cyclic, big: 10n });
  assertEquals(line, "2026-12-04T20:11:00.123Z [error] m cyclic=[unserializable] big=10");
});

// --- redaction -----------------------------------------------------------------------------------

const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEAsecretkeymaterial\n" +
  "-----END RSA PRIVATE KEY-----";

Deno.test("fields named like secrets are redacted whatever their value", () => {
  const line = formatLine(FIXED, "error", "m", {
    token: "t0ps3cr3t",
    password: "hunter2",
    apiKey: 12345,
    Authorization: "Bearer abc.def",
    "client-key-data": "LS0tLS1CRUdJTg",
    certificateData: "MIIC",
    network: "side",
  });
  for (const s of ["t0ps3cr3t", "hunter2", "12345", "abc.def", "LS0tLS1CRUdJTg", "MIIC"]) {
    assertNotIncludes(line, s);
  }
  assert(line.includes("token=[REDACTED]"), line);
  assert(line.includes("network=side"), line);
});

Deno.test("secrets inside messages and string values are redacted", () => {
  const cases: [string, string][] = [
    ["GET /api failed with Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi"],
    [`key file:\n${PEM}\nend`, "secretkeymaterial"],
    ['config {"type":"x","token":"abc123","name":"n"}', "abc123"],
    ['config {"Password" : "p@ss word"}', "p@ss word"],
    ['nested "{\\"token\\":\\"esc4ped\\"}"', "esc4ped"],
    ["GET https://k8s/api?access_token=qwerty99&x=1", "qwerty99"],
    ["dial https://admin:s3cr3tpw@10.0.0.1:6443", "s3cr3tpw"],
    ["kubeconfig user:\n  client-key-data: LS0tLS1CRUdJTiBSU0E=", "LS0tLS1CRUdJTiBSU0E="],
    ["password=short", "short"],
  ];
  for (const [text, secret] of cases) {
    const line = formatLine(FIXED, "error", text, { detail: text });
    assertNotIncludes(line, secret);
    assert(line.includes("[REDACTED]"), line);
  }
});

Deno.test("redaction keeps the readable parts of a message", () => {
  assertEquals(
    redactText('{"type":"macvlan","token":"abc","master":"eth0"}'),
    '{"type":"macvlan","token":"[REDACTED]","master":"eth0"}',
  );
  assertEquals(redactText("failed to read token: open /x"), "failed to read token: open /x");
  assertEquals(redactText(`a ${PEM} b`), "a [REDACTED] b");
  assertEquals(redactText("-----BEGIN PRIVATE KEY-----\nMIIE truncated"), "[REDACTED]");
});

Deno.test("object field values have their secret members redacted", () => {
  const line = formatLine(FIXED, "debug", "m", {
    conf: { type: "x", kubernetes: { token: "tok3n", bearerToken: "b3arer" }, mtu: 1500 },
  });
  assertNotIncludes(line, "tok3n");
  assertNotIncludes(line, "b3arer");
  assert(line.includes('\\"mtu\\":1500'), line);
});

// --- the file ------------------------------------------------------------------------------------

Deno.test("the log file is created 0600 in a new 0700 directory and appended to", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/sub/dir/multicni.log`;
    const { log } = capture({ logFile: path, logLevel: "error", logToStderr: false });
    log.error("first", { containerId: "c1" });
    log.debug("not written");
    await log.close();
    const again = capture({ logFile: path, logLevel: "error", logToStderr: false });
    again.log.error("second");
    await again.log.close();
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assertEquals((await Deno.stat(`${dir}/sub/dir`)).mode! & 0o777, 0o700);
    assertEquals(
      await Deno.readTextFile(path),
      [
        "2026-12-04T20:11:00.123Z [error] first containerId=c1",
        "2026-12-04T20:11:00.123Z [error] second",
        "",
      ].join("\n"),
    );
  });
});

Deno.test("an existing world-readable log file is tightened to 0600", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/multicni.log`;
    await Deno.writeTextFile(path, "old line\n", { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    const { log } = capture({ logFile: path, logLevel: "panic", logToStderr: false });
    log.panic("new");
    await log.close();
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert((await Deno.readTextFile(path)).startsWith("old line\n"));
  });
});

Deno.test("a run that writes no line at the active level touches no disk", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/sub/multicni.log`;
    const { log } = capture({ logFile: path, logToStderr: false });
    log.debug("d");
    log.verbose("v");
    log.error("e");
    await log.close();
    assert(!(await exists(`${dir}/sub`)));
  });
});

Deno.test("an unwritable log file never throws and is reported on stderr once", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "");
    const path = `${dir}/file/multicni.log`; // parent is a regular file
    const { log, lines } = capture({ logFile: path, logLevel: "debug" });
    log.error("one");
    log.error("two");
    await log.close();
    assertEquals(lines.length, 3, lines.join("\n"));
    assert(lines[1]?.includes("Cannot write log file"), lines[1]);
    assert(lines[1]?.includes(`path=${path}`), lines[1]);

    const silent = capture({ logFile: path, logLevel: "debug", logToStderr: false });
    silent.log.panic("dropped");
    await silent.log.close();
    assertEquals(silent.lines, []);
  });
});

Deno.test("a throwing stderr sink or clock does not reach the caller", () => {
  const log = createLogger({}, {
    stderr: () => {
      throw new Error("EPIPE");
    },
  });
  log.panic("p");
  const badClock = createLogger({}, { now: () => new Date(NaN), stderr: () => {} });
  badClock.panic("p");
});

Deno.test("the logger writes to stderr and never to stdout", async () => {
  const url = new URL("./logger.ts", import.meta.url).href;
  const code = `import { createLogger } from "${url}";
    const log = createLogger({ logLevel: "debug" });
    log.debug("to stderr", { network: "side" });`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(out.stdout.length, 0);
  assert(new TextDecoder().decode(out.stderr).includes("[debug] to stderr network=side"));
});

// --- rotation ------------------------------------------------------------------------------------

/** Each line below is 42 bytes with its newline; maxSize 100 bytes fits two lines per file. */
const TWO_LINES_MB = 100 / (1024 * 1024);

function numbered(i: number): string {
  return `line ${String(i).padStart(3, "0")}`;
}

Deno.test("rotation keeps maxBackups backups, newest first, gzipping from .2 on", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/multicni.log`;
    const { log } = capture({
      logFile: path,
      logToStderr: false,
      logOptions: { maxSize: TWO_LINES_MB, maxBackups: 3 },
    });
    for (let i = 1; i <= 12; i++) log.panic(numbered(i));
    await log.close();
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assertEquals(names.sort(), [
      "multicni.log",
      "multicni.log.1",
      "multicni.log.2.gz",
      "multicni.log.3.gz",
    ]);
    const lines = async (name: string) =>
      (await readText(`${dir}/${name}`)).trim().split("\n").map((l) => l.slice(-8));
    assertEquals(await lines("multicni.log"), [numbered(11), numbered(12)]);
    assertEquals(await lines("multicni.log.1"), [numbered(9), numbered(10)]);
    assertEquals(await lines("multicni.log.2.gz"), [numbered(7), numbered(8)]);
    assertEquals(await lines("multicni.log.3.gz"), [numbered(5), numbered(6)]);
    for (const name of names) {
      assertEquals((await Deno.stat(`${dir}/${name}`)).mode! & 0o777, 0o600);
    }
  });
});

Deno.test("rotation without compress keeps plain backups", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/multicni.log`;
    const { log } = capture({
      logFile: path,
      logToStderr: false,
      logOptions: { maxSize: TWO_LINES_MB, maxBackups: 2, compress: false },
    });
    for (let i = 1; i <= 8; i++) log.panic(numbered(i));
    await log.close();
    assert(await exists(`${path}.2`));
    assert(!(await exists(`${path}.3`)));
    assert(!(await exists(`${path}.2.gz`)));
    assertEquals((await Deno.readTextFile(`${path}.2`)).includes(numbered(3)), true);
  });
});

Deno.test("rotation deletes backups older than maxAge days", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/multicni.log`;
    await Deno.writeTextFile(`${path}.1`, "old\n");
    await Deno.writeTextFile(`${path}.2.gz`, "older\n");
    const sixDaysAgo = new Date(FIXED.getTime() - 6 * 24 * 3600 * 1000);
    await Deno.utime(`${path}.1`, sixDaysAgo, sixDaysAgo);
    const fourDaysAgo = new Date(FIXED.getTime() - 4 * 24 * 3600 * 1000);
    await Deno.utime(`${path}.2.gz`, fourDaysAgo, fourDaysAgo);
    const { log } = capture({
      logFile: path,
      logToStderr: false,
      logOptions: { maxSize: TWO_LINES_MB, maxAge: 5 },
    });
    for (let i = 1; i <= 3; i++) log.panic(numbered(i));
    await log.close();
    assert(!(await exists(`${path}.2`)), "the 6-day-old backup is removed");
    assert(await exists(`${path}.3.gz`), "the 4-day-old backup is kept");
    assert(await exists(`${path}.1`), "the fresh backup exists");
  });
});

Deno.test("processes rotating the same file concurrently lose no line", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/multicni.log`;
    const url = new URL("./logger.ts", import.meta.url).href;
    const writer = (id: number) => {
      const code = `import { createLogger } from "${url}";
        const log = createLogger({ logFile: ${JSON.stringify(path)}, logToStderr: false,
          logOptions: { maxSize: ${400 / (1024 * 1024)}, maxBackups: 0, compress: true } });
        for (let i = 0; i < 200; i++) log.panic("writer ${id} " + i);
        await log.close();`;
      return new Deno.Command(Deno.execPath(), {
        args: ["eval", "--no-check", code],
        stdout: "null",
        stderr: "piped",
      }).output();
    };
    const results = await Promise.all([1, 2, 3, 4].map(writer));
    for (const r of results) assertEquals(r.code, 0, new TextDecoder().decode(r.stderr));
    const lines = await allLines(dir);
    assertEquals(lines.length, 800);
    for (const id of [1, 2, 3, 4]) {
      assertEquals(lines.filter((l) => l.includes(`writer ${id} `)).length, 200, `writer ${id}`);
    }
    assert(lines.every((l) => /^\S+ \[panic\] writer \d \d+$/.test(l)), "no torn line");
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert(names.some((n) => n.endsWith(".gz")), "some backups were compressed");
  });
});
