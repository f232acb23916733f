/**
 * The single binary `deno task build` writes (issue 6 §1): it starts, reports the commit
 * stamped into it, answers VERSION, and runs a real ADD and DEL. `deno compile` needs a denort
 * of the same Deno version, which these machines cannot download; where there is none the test
 * is reported as ignored and the reason printed. That the build then fails with one clear line
 * is tested everywhere.
 */

import { findDenort, hostTarget } from "../../build.ts";
import { assert, assertEquals, assertOk, REPO, sh, TestNode } from "../_utils/mod.ts";
import { assertNothingLeft, bridgeNet, ipv4, metaConf } from "../_utils/networks.ts";

const target = hostTarget();
let denort: string | undefined;
let reason = "";
try {
  denort = await findDenort(target);
  if (!denort) reason = `no denort ${Deno.version.deno} for ${target}`;
} catch (e) {
  reason = (e as Error).message;
}
if (!denort) {
  console.log(
    `compiled_test: ignored: ${reason} (set DENORT_BIN to a denort binary or zip to run it)`,
  );
}

Deno.test({
  name: "the compiled binary reports its commit, answers VERSION and runs a real ADD and DEL",
  ignore: !denort,
  async fn() {
    await sh([Deno.execPath(), "run", "-A", `${REPO}/build.ts`, "compile", "--host-only"]);
    const bin = `${REPO}/dist/multicni-${target}`;
    const v = await sh([bin, "version", "--format", "json"], { env: { PATH: "/usr/bin:/bin" } });
    const info = JSON.parse(v.stdout) as { commit: string };
    assert(info.commit !== "dev" && info.commit !== "", `stamped commit: ${v.stdout}`);
    const ver = await sh([bin], {
      env: { CNI_COMMAND: "VERSION", CNI_NETNS: "dummy", CNI_IFNAME: "dummy", CNI_PATH: "dummy" },
      stdin: "",
    });
    assert(JSON.parse(ver.stdout).supportedVersions.includes("1.0.0"), ver.stdout);

    const node = await TestNode.create();
    try {
      const pod = await node.addPod();
      const conf = JSON.stringify(
        metaConf(node, { delegates: [bridgeNet(node, "main", "10.63.0.0/24")] }),
      );
      const run = (command: string) =>
        sh(["ip", "netns", "exec", node.ns, bin], {
          check: false,
          stdin: conf,
          env: {
            PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
            CNI_COMMAND: command,
            CNI_CONTAINERID: "bin1",
            CNI_NETNS: pod,
            CNI_IFNAME: "eth0",
            CNI_PATH: "/usr/lib/cni",
          },
        });
      assertOk({ ...(await run("ADD")), json: undefined }, "ADD");
      assertEquals(await ipv4(node, pod), { eth0: ["10.63.0.2/24"] });
      assertOk({ ...(await run("DEL")), json: undefined }, "DEL");
      await assertNothingLeft(node, [pod]);
    } finally {
      await node.close();
    }
  },
});

Deno.test("build.ts compile without a denort fails with one line saying how to provide one", async () => {
  const empty = await Deno.makeTempDir({ prefix: "multicni-denodir-" });
  try {
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: empty,
      DENO_DIR: empty,
    };
    // --no-config: an empty DENO_DIR must not make Deno fetch the project's npm packages; the
    // build stops before it needs them.
    const build = [Deno.execPath(), "run", "-A", "--no-config", `${REPO}/build.ts`, "compile"];
    const r = await sh(build, {
      check: false,
      env,
    });
    assertEquals(r.code, 1, r.stdout);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0]!.includes("DENORT_BIN_X86_64 / DENORT_BIN_AARCH64"), lines[0]);
    const typo = await sh(build, {
      check: false,
      env: { ...env, DENORT_BIN_AARCH64: `${empty}/nope` },
    });
    assertEquals([typo.code, typo.stderr.trim()], [
      1,
      `build: DENORT_BIN_AARCH64="${empty}/nope" does not exist`,
    ]);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
