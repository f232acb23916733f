/**
 * SECURITY.md "Plugin binaries": a delegate's `type` is a bare file name looked up only in
 * `binDir` and CNI_PATH, for every command (ADD, CHECK, DEL from the config or from the cache,
 * GC, STATUS), and it is executed directly, never through a shell.
 */

import { assert, assertEquals } from "../_utils/mod.ts";
import { cniError, type Json, Sandbox, shQuote } from "../faults/_sandbox.ts";

/** Types that would reach outside the plugin dirs if joined to them. */
const ESCAPES = ["../evil", "../bin/../evil", "/bin/sh", "..", ".", "sub/ok", "..\\evil"];

/** Writes `<dir>/evil` (outside the plugin dirs) and `bin/sub/ok`: each leaves a marker. */
async function plantEvil(sb: Sandbox): Promise<string> {
  const marker = `${sb.dir}/evil-ran`;
  const script = `#!/bin/sh\n: > ${shQuote(marker)}\n` +
    `printf '{"cniVersion":"1.1.0","ips":[]}'\n`;
  await Deno.writeTextFile(`${sb.dir}/evil`, script, { mode: 0o755 });
  await Deno.mkdir(`${sb.bin}/sub`);
  await Deno.writeTextFile(`${sb.bin}/sub/ok`, script, { mode: 0o755 });
  return marker;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("ADD, STATUS and GC refuse a type that is not a bare file name", async () => {
  const sb = await Sandbox.create();
  try {
    const marker = await plantEvil(sb);
    await sb.fake("ok");
    for (const [i, type] of ESCAPES.entries()) {
      const delegates = [sb.net("main", "ok", { cniVersion: "1.1.0" }), {
        cniVersion: "1.1.0",
        name: "side",
        plugins: [{ type: "ok" }, { type }],
      }];
      for (const command of ["ADD", "GC"]) {
        const conf = sb.meta(delegates, { cniVersion: "1.1.0" });
        const r = await sb.runJson(sb.cniEnv(command, `t${i}`), conf);
        assertEquals(r.code, 1, `${command} with type ${type}: ${r.stdout}`);
        assertEquals(cniError(r.stdout).code, 7, `${command} with type ${type}: ${r.stdout}`);
      }
      // STATUS asks the default network only: make the escape the default network.
      const status = sb.meta([{ ...delegates[1] as Json }], { cniVersion: "1.1.0" });
      const r = await sb.runJson(sb.cniEnv("STATUS", ""), status);
      assertEquals(cniError(r.stdout, `STATUS ${type}`).code, 7, r.stdout);
      assert(!await exists(marker), `type ${JSON.stringify(type)} ran a binary outside binDir`);
    }
    assertEquals(await sb.calls("ADD"), [], "nothing was added");
    assertEquals(await sb.cacheEntries(), [], "nothing cached");
  } finally {
    await sb.close();
  }
});

Deno.test("CHECK and DEL never run a binary outside the plugin dirs, from config or cache", async () => {
  const sb = await Sandbox.create();
  try {
    const marker = await plantEvil(sb);
    await sb.fake("ok");
    for (const [i, type] of ESCAPES.entries()) {
      const conf = sb.meta([sb.net("main", "ok"), sb.net("side", type)]);
      // No cache: DEL plans from the config, which is refused; DEL still succeeds.
      const r = await sb.runJson(sb.cniEnv("DEL", `d${i}`), conf);
      assertEquals(r.code, 0, `DEL with type ${type}: ${r.stdout}`);
      // A cache record naming such a type (written by an older version, or by hand).
      const good = sb.meta([sb.net("main", "ok"), sb.net("side", "ok")]);
      assertEquals((await sb.runJson(sb.cniEnv("ADD", `c${i}`), good)).code, 0, "ADD");
      const path = `${sb.cache}/c${i}`;
      const rec = JSON.parse(await Deno.readTextFile(path));
      rec.attachments[1].config = JSON.stringify({ cniVersion: "1.0.0", name: "side", type });
      await Deno.writeTextFile(path, JSON.stringify(rec));
      const check = await sb.runJson(sb.cniEnv("CHECK", `c${i}`), good);
      assertEquals(cniError(check.stdout, `CHECK cached type ${type}`).code, 7, check.stdout);
      const del = await sb.runJson(sb.cniEnv("DEL", `c${i}`), good);
      assertEquals(cniError(del.stdout, `cached type ${type}`).code, 7, del.stdout);
      assert(!await exists(marker), `cached type ${JSON.stringify(type)} ran a binary outside`);
    }
  } finally {
    await sb.close();
  }
});

Deno.test("a type with shell syntax in it is a file name, executed without a shell", async () => {
  const sb = await Sandbox.create();
  try {
    // A shell given any of these would create "pwned" in multicni's working directory.
    const types = ["fz$(touch pwned)", "fz;touch pwned", "fz`touch pwned`", "fz|touch pwned&"];
    for (const t of types) await sb.fake(t);
    const conf = sb.meta(types.map((t, i) => sb.net(`n${i}`, t)));
    const r = await sb.runJson(sb.cniEnv("ADD", "sh1"), conf);
    assertEquals(r.code, 0, r.stdout);
    const ran = (await sb.calls("ADD")).map((c) => c.split(".")[1]).sort();
    assertEquals(ran, [...types].sort(), "each ran under its literal name");
    assert(!await exists(`${sb.dir}/pwned`), "a shell interpreted the type");
    assertEquals((await sb.runJson(sb.cniEnv("DEL", "sh1"), conf)).code, 0, "DEL");
  } finally {
    await sb.close();
  }
});
