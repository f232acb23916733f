/**
 * SECURITY.md "Files": the cache record, lock and temp files are 0600 in a 0700 directory that
 * multicni creates, the log file 0600 in 0700 directories; a symlink planted (here as another
 * user, `nobody`) at the lock or cache path is never followed to create or change a file.
 */

import { assert, assertEquals, sh } from "../_utils/mod.ts";
import { cniError, Sandbox, shQuote } from "../faults/_sandbox.ts";

async function mode(path: string): Promise<string> {
  return ((await Deno.lstat(path)).mode! & 0o7777).toString(8);
}

Deno.test("cache, lock and log files are 0600 in 0700 directories multicni creates", async () => {
  const sb = await Sandbox.create();
  try {
    const cniDir = `${sb.dir}/var/lib/multicni`;
    const logDir = `${sb.dir}/var/log/multicni`;
    const seen = `${sb.dir}/seen`;
    // While ADD runs, the lock and the write-ahead plan exist: the delegate reports their modes.
    await sb.fake("peek", {
      add:
        `stat -c '%n %a' ${shQuote(cniDir)}/.lock.m1 ${shQuote(cniDir)}/m1 > ${shQuote(seen)}\n` +
        `printf '{"cniVersion":"1.0.0","ips":[]}'`,
    });
    const conf = sb.meta([sb.net("main", "peek")], {
      cniDir,
      logFile: `${logDir}/multicni.log`,
      logLevel: "debug",
    });
    const r = await sb.runJson(sb.cniEnv("ADD", "m1"), conf);
    assertEquals(r.code, 0, r.stdout);
    const modes = (await Deno.readTextFile(seen)).trim().split("\n").map((l) => l.split(" ")[1]);
    assertEquals(modes, ["600", "600"], "lock file and plan while ADD runs");
    assertEquals(await mode(`${cniDir}/m1`), "600", "cache record");
    for (const d of [`${sb.dir}/var`, `${sb.dir}/var/lib`, cniDir, `${sb.dir}/var/log`, logDir]) {
      assertEquals(await mode(d), "700", d);
    }
    assertEquals(await mode(`${logDir}/multicni.log`), "600", "log file");
    assertEquals((await sb.cacheEntries(cniDir)).filter((n) => n.startsWith(".")), [], "temps");
    // A log file someone created world-readable is tightened before anything is written to it.
    await Deno.chmod(`${logDir}/multicni.log`, 0o644);
    assertEquals((await sb.runJson(sb.cniEnv("DEL", "m1"), conf)).code, 0, "DEL");
    assertEquals(await mode(`${logDir}/multicni.log`), "600", "log file tightened");
  } finally {
    await sb.close();
  }
});

/** Plants a symlink owned by `nobody` at `link`, pointing at `target`. */
async function plant(target: string, link: string): Promise<void> {
  await Deno.symlink(target, link);
  await sh(["chown", "-h", "nobody", link]);
}

Deno.test("a symlink planted at the lock path is refused, its target never created", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("ok");
    const conf = sb.meta([sb.net("main", "ok")]);
    const victim = `${sb.dir}/victim`;
    for (const command of ["ADD", "DEL", "CHECK"]) {
      await plant(victim, `${sb.cache}/.lock.l1`);
      const r = await sb.runJson(sb.cniEnv(command, "l1"), conf, 10_000);
      assert(!r.killed, `${command} hung on the planted lock symlink`);
      assertEquals(cniError(r.stdout, command).code, 5, r.stdout);
      assert(!await Deno.lstat(victim).then(() => true, () => false), "target created");
      await Deno.remove(`${sb.cache}/.lock.l1`);
    }
    // An existing target is not touched either.
    await Deno.writeTextFile(victim, "precious", { mode: 0o644 });
    await plant(victim, `${sb.cache}/.lock.l2`);
    const r = await sb.runJson(sb.cniEnv("ADD", "l2"), conf, 10_000);
    assertEquals(cniError(r.stdout).code, 5, r.stdout);
    assertEquals(await Deno.readTextFile(victim), "precious");
    assertEquals(await mode(victim), "644");
    assertEquals(await sb.calls(), [], "no delegate ran");
  } finally {
    await sb.close();
  }
});

Deno.test("a symlink planted at the cache path is neither followed for writing nor its target removed", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("ok");
    const conf = sb.meta([sb.net("main", "ok")]);
    const victim = `${sb.dir}/victim`;
    await Deno.writeTextFile(victim, "precious", { mode: 0o644 });
    await plant(victim, `${sb.cache}/c1`);
    const add = await sb.runJson(sb.cniEnv("ADD", "c1"), conf);
    // Whatever is at the cache path may record attachments: ADD refuses and touches nothing.
    assertEquals(cniError(add.stdout).code, 103, add.stdout);
    assertEquals(await sb.calls("ADD"), [], "no delegate ran");
    const del = await sb.runJson(sb.cniEnv("DEL", "c1"), conf);
    assertEquals(del.code, 0, del.stdout);
    assertEquals(await sb.cacheEntries(), [], "the link is gone");
    assertEquals(await Deno.readTextFile(victim), "precious", "the target is intact");
    assertEquals(await mode(victim), "644");
    // After the link is gone, ADD writes a fresh record: a regular file, not through any link.
    assertEquals((await sb.runJson(sb.cniEnv("ADD", "c1"), conf)).code, 0);
    assert((await Deno.lstat(`${sb.cache}/c1`)).isFile, "a regular file");
    assertEquals((await sb.runJson(sb.cniEnv("DEL", "c1"), conf)).code, 0);
  } finally {
    await sb.close();
  }
});

Deno.test({
  name: "a symlink planted at the log file path is not followed",
  fn: async () => {
    const sb = await Sandbox.create();
    try {
      await sb.fake("ok");
      const victim = `${sb.dir}/victim`;
      await Deno.writeTextFile(victim, "precious", { mode: 0o644 });
      await Deno.mkdir(`${sb.dir}/log`);
      await plant(victim, `${sb.dir}/log/multicni.log`);
      const conf = sb.meta([sb.net("main", "ok")], {
        logFile: `${sb.dir}/log/multicni.log`,
        logLevel: "debug",
      });
      assertEquals((await sb.runJson(sb.cniEnv("ADD", "g1"), conf)).code, 0, "ADD");
      assertEquals(await Deno.readTextFile(victim), "precious", "appended through the link");
      assertEquals(await mode(victim), "644", "chmod through the link");
    } finally {
      await sb.close();
    }
  },
});
