/**
 * Disk faults (issue 8 §3): a read-only cache dir, a full one (a small tmpfs), a cache file
 * replaced by a directory, a cache dir that is a file, and a log file that cannot be written.
 * When the plan cannot be saved, ADD fails with code 5 before any delegate runs; a log failure
 * never fails an ADD. Each test mounts its own tmpfs and unmounts it in `close()`.
 */

import { assert, assertEquals } from "../_utils/mod.ts";
import { cniError, type ProcRun, Sandbox } from "./_sandbox.ts";

function assertOneResult(r: ProcRun, what: string): Record<string, unknown> {
  assert(r.code === 0, `${what}: exit ${r.code}: ${r.stdout} ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  assert(Array.isArray(doc.ips), `${what}: not a result: ${r.stdout}`);
  return doc;
}

async function withSandbox(fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await Sandbox.create();
  try {
    await sb.fake("ok");
    await sb.fake("ok2");
    await fn(sb);
  } finally {
    await sb.close();
  }
}

Deno.test("a read-only cache dir fails ADD with code 5 before any delegate runs", async () => {
  await withSandbox(async (sb) => {
    const ro = `${sb.dir}/ro`;
    await sb.mountTmpfs(ro, "ro,size=64k,mode=0700");
    const conf = sb.meta([sb.net("main", "ok"), sb.net("side", "ok2")], { cniDir: ro });
    const r = await sb.runJson(sb.cniEnv("ADD", "ro1"), conf);
    const err = cniError(r.stdout, "ADD");
    assertEquals(r.code, 1, "exit code");
    assertEquals(err.code, 5, `code (${r.stdout})`);
    assert(/read-only/i.test(err.details), `details name the cause: ${r.stdout}`);
    assertEquals(await sb.calls(), [], "no delegate ran");
    assertEquals(await sb.cacheEntries(ro), [], "nothing in the cache dir");
  });
});

Deno.test("a full cache dir fails ADD with code 5 before any delegate runs", async () => {
  await withSandbox(async (sb) => {
    const full = `${sb.dir}/full`;
    await sb.mountTmpfs(full, "size=16k,mode=0700");
    // The plan holds the delegate config: 64 KB of it cannot fit in 16 KB.
    const conf = sb.meta([sb.net("main", "ok", { pad: "p".repeat(64 * 1024) })], {
      cniDir: full,
    });
    const r = await sb.runJson(sb.cniEnv("ADD", "full1"), conf);
    const err = cniError(r.stdout, "ADD");
    assertEquals(err.code, 5, `code (${r.stdout})`);
    assert(/space/i.test(err.details), `details name the cause: ${r.stdout}`);
    assertEquals(await sb.calls(), [], "no delegate ran");
    assertEquals(await sb.cacheEntries(full), [], "no cache, lock or temp file left");
    assertEquals(await sb.liveIfs(), [], "nothing added");
  });
});

Deno.test("a disk that fills up after the plan is saved rolls the ADD back", async () => {
  await withSandbox(async (sb) => {
    const full = `${sb.dir}/filling`;
    await sb.mountTmpfs(full, "size=64k,mode=0700");
    // The first delegate fills the disk: recording its result fails, so the ADD is rolled back.
    await sb.fake("filler", {
      add: `head -c 1048576 /dev/zero > ${full}/filler 2>/dev/null\n` +
        `printf '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.8/24"}]}'`,
      del: `rm -f ${full}/filler`,
    });
    const conf = sb.meta([sb.net("main", "filler"), sb.net("side", "ok")], { cniDir: full });
    const r = await sb.runJson(sb.cniEnv("ADD", "fill1"), conf);
    const err = cniError(r.stdout, "ADD");
    assertEquals(r.code, 1, "exit code");
    assertEquals(err.code, 5, `code (${r.stdout})`);
    assertEquals(await sb.calls("DEL"), ["DEL.filler.eth0"], "the filler was rolled back");
    assertEquals(await sb.calls("ADD.ok"), [], "the second delegate never ran");
    assertEquals(await sb.cacheEntries(full), [], "no cache, lock or temp file left");
  });
});

Deno.test("a cache file replaced by a directory: ADD refuses untouched, DEL cleans up", async () => {
  await withSandbox(async (sb) => {
    await Deno.mkdir(`${sb.cache}/dir1/sub`, { recursive: true });
    const conf = sb.meta([sb.net("main", "ok")]);
    const r = await sb.runJson(sb.cniEnv("ADD", "dir1"), conf);
    const err = cniError(r.stdout, "ADD");
    assertEquals(r.code, 1, "exit code");
    // The unreadable record may hold attachments: refused like any recorded ADD.
    assert(err.code === 103 || err.code === 5, `code: ${r.stdout}`);
    assertEquals(await sb.calls(), [], "no delegate ran");
    assertEquals(await sb.cacheEntries(), ["dir1"], "the directory is left alone, no lock file");
    const del = await sb.runJson(sb.cniEnv("DEL", "dir1"), conf);
    assertEquals(del.code, 0, `DEL: ${del.stdout}`);
    assertEquals(await sb.calls(), ["DEL.ok.eth0"], "DEL asked the delegate");
    assertEquals(await sb.cacheEntries(), [], "DEL removed it");
  });
});

Deno.test("a cache dir that is a regular file fails ADD with code 5", async () => {
  await withSandbox(async (sb) => {
    const file = `${sb.dir}/not-a-dir`;
    await Deno.writeTextFile(file, "x");
    const conf = sb.meta([sb.net("main", "ok")], { cniDir: file });
    const r = await sb.runJson(sb.cniEnv("ADD", "file1"), conf);
    assertEquals(cniError(r.stdout, "ADD").code, 5, r.stdout);
    assertEquals(await sb.calls(), [], "no delegate ran");
    assertEquals(await Deno.readTextFile(file), "x", "the file is untouched");
  });
});

Deno.test("a log file that cannot be written never fails an ADD", async () => {
  await withSandbox(async (sb) => {
    const ro = `${sb.dir}/rolog`;
    await sb.mountTmpfs(ro, "ro,size=16k");
    const small = `${sb.dir}/smalllog`;
    await sb.mountTmpfs(small, "size=4k");
    await Deno.writeTextFile(`${sb.dir}/plainfile`, "");
    const targets: [string, string][] = [
      ["a directory", sb.conf],
      ["on a read-only fs", `${ro}/multicni.log`],
      ["below a regular file", `${sb.dir}/plainfile/multicni.log`],
      ["on a full fs", `${small}/multicni.log`],
    ];
    for (const [i, [what, logFile]] of targets.entries()) {
      for (const logToStderr of [true, false]) {
        const id = `log${i}${logToStderr ? "s" : "q"}`;
        // A 64 KB delegate config makes every debug line large: the 4 KB fs fills at once.
        const conf = sb.meta([sb.net("main", "ok", { pad: "p".repeat(65536) })], {
          logFile,
          logLevel: "debug",
          logToStderr,
        });
        const r = await sb.runJson(sb.cniEnv("ADD", id), conf);
        assertOneResult(r, `ADD with log file ${what}`);
        const del = await sb.runJson(sb.cniEnv("DEL", id), conf);
        assertEquals(del.code, 0, `DEL with log file ${what}: ${del.stdout}`);
        assertEquals(del.stdout, "", `DEL with log file ${what}: stdout`);
      }
    }
    assertEquals(await sb.cacheEntries(), [], "no cache or lock file left");
    assertEquals(await sb.liveIfs(), [], "everything deleted");
  });
});
