/**
 * Fuzzing the CNI environment, in-process: missing, empty, oversized and odd values of every
 * CNI_* variable, and CNI_ARGS with `=` and `;` in every position, for every command, on valid
 * configs. Besides the invariants of `_check.ts`, an oracle written from the spec (not from the
 * code) says which container ids and interface names ADD must refuse with code 4.
 *
 * `FUZZ_CASES` sets the number of random cases (CI: 600), `FUZZ_SEED` the seed.
 */

import { randomString, Rng } from "./_gen.ts";
import { withFuzzNode } from "./_bases.ts";
import { caseCount, runCase, seed } from "./_run.ts";

const enc = new TextEncoder();

const CONTAINER_IDS = [
  "",
  "a",
  "0123456789abcdef".repeat(4),
  "x".repeat(200),
  "x".repeat(1024),
  "x".repeat(1025),
  "x".repeat(100_000),
  "-x",
  ".x",
  "..",
  "../../etc",
  "a/b",
  "a b",
  "a\tb",
  "a\nb",
  "é",
  "a;b",
  "a=b",
  "a:b",
  "$(id)",
  "a\0b",
] as const;

const IFNAMES = [
  "",
  "eth0",
  "net1",
  "net2",
  "e".repeat(15),
  "e".repeat(16),
  "é".repeat(7),
  "é".repeat(8),
  ".",
  "..",
  "...",
  "a/b",
  "a:b",
  "a b",
  "a\u00a0b",
  "\t",
  "eth0\n",
  "💥💥💥",
  "a\0b",
  "-",
  "lo",
] as const;

const NETNS = [
  "",
  "/var/run/netns/fz",
  "relative/ns",
  "dummy",
  "/",
  "/proc/self/ns/net",
  "/a\0b",
  `/${"n".repeat(5000)}`,
  "/tmp/../etc/passwd",
] as const;

const CNI_ARGS = [
  "",
  "=",
  ";",
  ";;",
  "a",
  "a=",
  "=b",
  "a=b=c",
  "a==",
  "a=b;",
  ";a=b",
  "a=b;;c=d",
  "a=b;c",
  "a=b;=c",
  "IgnoreUnknown=0",
  "IgnoreUnknown=1;IgnoreUnknown=0",
  "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc",
  "K8S_POD_NAME=a;b",
  "IP=10.1.2.3;MAC=c2:00:00:00:00:01",
  "a=\n",
  "é=ü",
  "a=b\0c",
  `a=${"v".repeat(100_000)}`,
  Array.from({ length: 2000 }, (_, i) => `k${i}=v`).join(";"),
] as const;

const COMMANDS = [
  "ADD",
  "DEL",
  "CHECK",
  "GC",
  "STATUS",
  "VERSION",
  "",
  "add",
  "ADD ",
  " ADD",
  "ADD\0",
  "UPDATE",
  "X".repeat(10_000),
] as const;

/** From the CNI spec ("Parameters"), independently of multicni's code. */
function specValidContainerId(id: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/.test(id);
}
function specValidIfname(name: string): boolean {
  return name !== "" && enc.encode(name).length <= 15 && name !== "." && name !== ".." &&
    !/[/:\s]/.test(name);
}

Deno.test("fuzz: every CNI environment gets one well-formed answer", async () => {
  await withFuzzNode(async ({ sb, tally, baseline, configs }) => {
    const s = seed(0xe4f);
    const rng = new Rng(s);
    const n = caseCount(600);
    let refusedByOracle = 0;
    for (let i = 0; i < n; i++) {
      const env: Record<string, string> = sb.cniEnv(
        rng.chance(0.9)
          ? rng.weighted({ ADD: 5, DEL: 3, CHECK: 1, GC: 1, STATUS: 1 })
          : rng.pick(COMMANDS),
        `fe${s}-${i}`,
      );
      // Each variable: kept valid, replaced by an edge value, random text, or removed.
      const vary = (name: string, pool: readonly string[]) => {
        const r = rng.next();
        if (r < 0.6) return;
        if (r < 0.85) env[name] = rng.pick(pool);
        else if (r < 0.95) env[name] = randomString(rng, rng.int(30));
        else delete env[name];
      };
      vary("CNI_CONTAINERID", CONTAINER_IDS);
      vary("CNI_IFNAME", IFNAMES);
      vary("CNI_NETNS", NETNS);
      vary("CNI_ARGS", CNI_ARGS);
      vary("CNI_PATH", ["", ":", "::", "/nonexistent", `${sb.bin}:${sb.bin}`, "bin", "/"]);
      const conf = rng.pick(configs);
      const stdin = enc.encode(JSON.stringify(conf));
      const id = env.CNI_CONTAINERID ?? "";
      const ifname = env.CNI_IFNAME ?? "";
      let expect: number | undefined;
      if (env.CNI_COMMAND === "ADD" && (!specValidContainerId(id) || !specValidIfname(ifname))) {
        expect = 4;
        refusedByOracle++;
      }
      const what = `seed ${s} case ${i} ${env.CNI_COMMAND?.slice(0, 10)}`;
      await runCase(
        sb,
        tally,
        what,
        `env-${env.CNI_COMMAND?.slice(0, 8)}`,
        env,
        stdin,
        baseline,
        expect,
      );
    }
    tally.report("env fuzz", `; ${refusedByOracle} had to be refused with code 4`);
  });
});
