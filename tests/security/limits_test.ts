/**
 * SECURITY.md "Limits": every input multicni reads is bounded. stdin (16 MiB), a delegate's
 * stdout (8 MiB, tested in tests/faults/delegate_faults_test.ts) and stderr (its last 16 KiB
 * are kept), a delegate's run time (`delegateTimeout`, same file), the number of attachments
 * (1024) and the container id (200 characters).
 */

import { assert, assertEquals } from "../_utils/mod.ts";
import { cniError, Sandbox } from "../faults/_sandbox.ts";

Deno.test("stdin past 16 MiB is refused with code 6 without reading it all", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("ok");
    const big = new Uint8Array(17 * 1024 * 1024).fill(0x20);
    big.set(new TextEncoder().encode(JSON.stringify(sb.meta([sb.net("main", "ok")]))));
    const r = await sb.run(sb.cniEnv("ADD", "big1"), big, 20_000);
    const err = cniError(r.stdout, "17 MiB stdin");
    assertEquals(err.code, 6, r.stdout);
    assert(err.msg.includes("too large"), err.msg);
    assertEquals(await sb.calls(), [], "no delegate ran");
    assertEquals(await sb.cacheEntries(), [], "nothing cached");
  } finally {
    await sb.close();
  }
});

Deno.test("a delegate's stderr is kept to its last 16 KiB in the error", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("ok");
    await sb.fake("noisy", {
      add: "head -c 5242880 /dev/zero | tr '\\0' n >&2; echo 'the real reason' >&2; exit 1",
    });
    const r = await sb.runJson(sb.cniEnv("ADD", "n1"), sb.meta([sb.net("main", "noisy")]));
    const err = cniError(r.stdout, "noisy");
    assertEquals(err.code, 100, r.stdout.slice(0, 300));
    assert(err.details.endsWith("the real reason"), `details end: ${err.details.slice(-40)}`);
    assert(err.details.length <= 16 * 1024, `details are ${err.details.length} bytes`);
    assert(r.stdout.length < 20 * 1024, `stdout is ${r.stdout.length} bytes`);
  } finally {
    await sb.close();
  }
});

Deno.test("more than 1024 attachments and container ids past 200 characters are refused", async () => {
  const sb = await Sandbox.create();
  try {
    await sb.fake("ok");
    const many = Array.from({ length: 1025 }, (_, i) => sb.net(`n${i}`, "ok"));
    const r = await sb.runJson(sb.cniEnv("ADD", "m1"), sb.meta(many));
    assertEquals(cniError(r.stdout, "1025 networks").code, 7, r.stdout);
    const id = await sb.runJson(sb.cniEnv("ADD", "x".repeat(201)), sb.meta([sb.net("m", "ok")]));
    assertEquals(cniError(id.stdout, "long id").code, 4, id.stdout);
    assertEquals(await sb.calls(), [], "no delegate ran");
    assertEquals(await sb.cacheEntries(), [], "nothing cached");
  } finally {
    await sb.close();
  }
});
