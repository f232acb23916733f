import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { loadKubeconfig } from "../k8s/kubeconfig.ts";
import { primaryConf, runCli, scratch } from "./_testing.ts";

async function json(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

/** Waits until `cond` holds (polling), failing after two seconds. */
async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

Deno.test("install copies the binary and writes a conflist delegating to the first other config", async () => {
  const s = await scratch();
  try {
    // Sorted before the real primary: an old Multus config (would nest) and a half-written file.
    await Deno.writeTextFile(`${s.conf}/01-multus.conf`, '{"name":"m","type":"multus"}');
    await Deno.writeTextFile(`${s.conf}/05-partial.conflist`, '{"cniVersion":"1.0.0","na');
    await Deno.writeTextFile(`${s.conf}/10-flannel.conflist`, primaryConf("cbr0"));
    await Deno.writeTextFile(`${s.conf}/20-other.conf`, primaryConf("other"));
    const r = await runCli(["install", ...s.args, "--also-multus"]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stderr, "");
    for (const name of ["multicni", "multus"]) {
      const st = await Deno.stat(`${s.bin}/${name}`);
      assertEquals(st.mode! & 0o777, 0o755, `${name} mode`);
      assertEquals(await Deno.readTextFile(`${s.bin}/${name}`), await Deno.readTextFile(s.source));
    }
    const gen = await json(`${s.conf}/00-multicni.conflist`);
    assertEquals(gen.cniVersion, "1.0.0");
    const [plugin] = gen.plugins as Record<string, unknown>[];
    assertEquals(plugin?.type, "multicni");
    assertEquals(plugin?.binDir, s.bin);
    assertEquals(plugin?.cniDir, s.cache);
    // The runtime hands multicni the runtime config the primary's plugins declare.
    assertEquals(plugin?.capabilities, { portMappings: true });
    assertEquals(plugin?.delegates, [JSON.parse(primaryConf("cbr0"))]);
    assertEquals((gen.multicniInstall as { primary: string }).primary, "10-flannel.conflist");
    assertEquals(await files(s.bin), ["multicni", "multus"], "no temp file left");
    assertEquals(
      (await files(s.conf)).filter((f) => f.startsWith(".")),
      [],
      "no temp file left in the conf dir",
    );
  } finally {
    await s.close();
  }
});

Deno.test("install replaces files by rename and leaves unchanged ones alone", async () => {
  const s = await scratch();
  try {
    await Deno.writeTextFile(`${s.conf}/10-net.conflist`, primaryConf("net"));
    assertEquals((await runCli(["install", ...s.args])).code, 0);
    const before = await Deno.stat(`${s.bin}/multicni`);
    const again = await runCli(["install", ...s.args]);
    assertEquals(again.code, 0);
    assert(again.stdout.includes(`up-to-date ${s.bin}/multicni`), again.stdout);
    assert(again.stdout.includes(`up-to-date ${s.conf}/00-multicni.conflist`), again.stdout);
    assertEquals(
      (await Deno.stat(`${s.bin}/multicni`)).ino,
      before.ino,
      "unchanged: not rewritten",
    );
    // A runtime executing the old binary keeps its inode; the new one arrives as a new file.
    const running = await Deno.open(`${s.bin}/multicni`);
    try {
      await Deno.writeTextFile(s.source, "#!/bin/sh\necho new build\n");
      assertEquals((await runCli(["install", ...s.args])).code, 0);
      const after = await Deno.stat(`${s.bin}/multicni`);
      assert(after.ino !== before.ino, "a new build is renamed into place");
      const old = new Uint8Array(64);
      const n = await running.read(old);
      assert(
        new TextDecoder().decode(old.subarray(0, n ?? 0)).includes("fake multicni"),
        "the old file was not written to",
      );
    } finally {
      running.close();
    }
  } finally {
    await s.close();
  }
});

Deno.test("install writes a .conf for a primary older than 1.0.0", async () => {
  const s = await scratch();
  try {
    await Deno.writeTextFile(`${s.conf}/10-old.conflist`, primaryConf("old", "0.4.0"));
    assertEquals((await runCli(["install", ...s.args, "--skip-binary"])).code, 0);
    const gen = await json(`${s.conf}/00-multicni.conf`);
    assertEquals([gen.cniVersion, gen.type, gen.name], ["0.4.0", "multicni", "multicni"]);
    assert(!(await exists(`${s.bin}/multicni`)), "--skip-binary installs no binary");
  } finally {
    await s.close();
  }
});

Deno.test("install fails with one clear line when no primary config appears in time", async () => {
  const s = await scratch();
  try {
    const started = Date.now();
    const r = await runCli(["install", ...s.args, "--primary-timeout", "0.3"]);
    assertEquals(r.code, 1);
    assert(Date.now() - started >= 250, "waited for the primary");
    assert(r.stderr.includes("no CNI config to delegate to"), r.stderr);
    assertEquals((await files(s.conf)).filter((f) => f.startsWith("00-")), [], "nothing written");
  } finally {
    await s.close();
  }
});

Deno.test("install waits for a primary config that appears during the timeout", async () => {
  const s = await scratch();
  try {
    setTimeout(
      () => Deno.writeTextFileSync(`${s.conf}/10-late.conflist`, primaryConf("late")),
      200,
    );
    const r = await runCli(["install", ...s.args, "--primary-timeout", "5"]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes("waiting"), r.stdout);
    assertEquals((await json(`${s.conf}/00-multicni.conflist`)).multicniInstall, {
      generatedBy: "multicni 0.1.0 (dev)",
      primary: "10-late.conflist",
    });
  } finally {
    await s.close();
  }
});

Deno.test("install --watch follows the primary and --cleanup-on-exit removes the config when stopped", async () => {
  const s = await scratch();
  const stop = new AbortController();
  try {
    await Deno.writeTextFile(`${s.conf}/10-net.conflist`, primaryConf("net", "0.4.0"));
    const running = runCli(
      ["install", ...s.args, "--watch", "--interval", "0.02", "--cleanup-on-exit"],
      { signal: stop.signal },
    );
    const conf = `${s.conf}/00-multicni.conf`;
    const list = `${s.conf}/00-multicni.conflist`;
    await eventually(() => exists(conf), "the first config");
    // The primary moves to 1.0.0: the .conf gives way to a .conflist.
    await Deno.writeTextFile(`${s.conf}/10-net.conflist`, primaryConf("net", "1.0.0"));
    await eventually(async () => (await exists(list)) && !(await exists(conf)), "the conflist");
    // Someone deletes the generated config: it comes back.
    await Deno.remove(list);
    await eventually(() => exists(list), "the config to come back");
    // No primary left: the generated config goes too.
    await Deno.remove(`${s.conf}/10-net.conflist`);
    await eventually(async () => !(await exists(list)), "the config to go");
    await Deno.writeTextFile(`${s.conf}/10-net.conflist`, primaryConf("net2"));
    await eventually(() => exists(list), "the config for the new primary");
    stop.abort();
    const r = await running;
    assertEquals(r.code, 0, r.stderr);
    assert(!(await exists(list)), "--cleanup-on-exit removed the config");
    assert(await exists(`${s.bin}/multicni`), "the binary stays for DEL of running containers");
  } finally {
    stop.abort();
    await s.close();
  }
});

Deno.test("install in a pod writes a kubeconfig from the service account that multicni can load", async () => {
  const s = await scratch();
  try {
    const sa = `${s.root}/sa`;
    await Deno.mkdir(sa);
    await Deno.writeTextFile(`${sa}/token`, "tok-123\n");
    await Deno.writeTextFile(
      `${sa}/ca.crt`,
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    await Deno.writeTextFile(`${s.conf}/10-net.conflist`, primaryConf("net"));
    const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
    const r = await runCli(["install", ...s.args, "--service-account-dir", sa], { env });
    assertEquals(r.code, 0, r.stderr);
    const path = `${s.conf}/multicni.d/multicni.kubeconfig`;
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600, "kubeconfig mode");
    const access = await loadKubeconfig(path);
    assertEquals(access.server, "https://10.96.0.1:443");
    assertEquals(access.token, "tok-123");
    assert(access.caCert?.includes("BEGIN CERTIFICATE"), "CA inlined");
    const plugin =
      ((await json(`${s.conf}/00-multicni.conflist`)).plugins as { kubeconfig: string }[])[0];
    assertEquals(plugin?.kubeconfig, path);
  } finally {
    await s.close();
  }
});

Deno.test("install --host-root writes below the mount and names host paths in the config", async () => {
  const s = await scratch();
  try {
    await Deno.writeTextFile(`${s.conf}/10-net.conflist`, primaryConf("net"));
    const r = await runCli([
      "install",
      "--host-root",
      s.root,
      "--bin-dir",
      "/opt/cni/bin",
      "--conf-dir",
      "/etc/cni/net.d",
      "--source",
      s.source,
      "--primary-timeout",
      "0",
    ]);
    assertEquals(r.code, 0, r.stderr);
    assert(await exists(`${s.bin}/multicni`));
    const plugin =
      ((await json(`${s.conf}/00-multicni.conflist`)).plugins as Record<string, unknown>[])[0];
    assertEquals(plugin?.binDir, "/opt/cni/bin");
    const manifest = await json(`${s.conf}/multicni.d/install.json`);
    assertEquals(Object.keys(manifest.files as object), [
      "/etc/cni/net.d/00-multicni.conflist",
      "/opt/cni/bin/multicni",
    ]);
    const un = await runCli(["uninstall", "--host-root", s.root]);
    assertEquals(un.code, 0, un.stderr);
    assert(!(await exists(`${s.bin}/multicni`)), "uninstall maps host paths too");
  } finally {
    await s.close();
  }
});

Deno.test("uninstall removes what install wrote and nothing else", async () => {
  const s = await scratch();
  try {
    await Deno.writeTextFile(`${s.conf}/10-net.conflist`, primaryConf("net"));
    await Deno.mkdir(s.bin, { recursive: true });
    await Deno.writeTextFile(`${s.bin}/bridge`, "not ours");
    assertEquals((await runCli(["install", ...s.args, "--also-multus"])).code, 0);
    // Another tool replaces "multus" after install: it is no longer ours to remove.
    await Deno.writeTextFile(`${s.bin}/multus`, "someone else's multus");
    const r = await runCli(["uninstall", "--conf-dir", s.conf, "--format", "json"]);
    assertEquals(r.code, 0, r.stderr);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(events, [
      { event: "removed", path: `${s.conf}/00-multicni.conflist` },
      { event: "removed", path: `${s.bin}/multicni` },
      { event: "kept", path: `${s.bin}/multus`, detail: "changed since install" },
    ]);
    assertEquals(await files(s.bin), ["bridge", "multus"]);
    assertEquals(await files(s.conf), ["10-net.conflist"], "manifest and state dir removed");
    const again = await runCli(["uninstall", "--conf-dir", s.conf]);
    assertEquals([again.code, again.stdout], [0, `nothing-installed ${s.conf}\n`]);
  } finally {
    await s.close();
  }
});

Deno.test("install refuses contradictory or malformed options with exit code 2", async () => {
  for (
    const args of [
      ["--cleanup-on-exit"],
      ["--cni-version", "9.9.9"],
      ["--bin-dir", "relative/bin"],
      ["--primary-timeout", "soon"],
    ]
  ) {
    const r = await runCli(["install", ...args]);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert(r.stderr.startsWith("multicni install: "), r.stderr);
  }
});
