/**
 * `deno task bench`: what multicni costs per pod, measured side by side in one run.
 *
 * For 1, 3 and 8 attachments (a bridge default network plus macvlan networks on a veth parent,
 * host-local IPAM), it times an ADD+DEL cycle of (a) the same delegates invoked directly by this
 * benchmark, the floor; (b) multicni, sequential; (c) multicni with `parallel: true`. It also
 * times `CNI_COMMAND=VERSION` against `deno run` of an empty script, measures peak RSS of one
 * ADD, and then runs bench/validate.ts (validation time). Prints tables and writes JSON to
 * bench/results/. Needs root.
 *
 * The measuring process runs inside a throwaway "node" namespace (it re-executes itself there),
 * so every plugin it starts pays the same process start-up and nothing touches the host's
 * network.
 *
 * @module
 */

import { CNI_BIN, REPO, TestNode, uniq } from "../tests/_utils/mod.ts";

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 15);
const SIZES = [1, 3, 8];

interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

/** The binary under test: the compiled one when built, else the dev launcher. */
async function binary(): Promise<{ path: string; kind: string }> {
  const compiled = `${REPO}/dist/multicni-${Deno.build.arch}-unknown-linux-gnu`;
  try {
    await Deno.stat(compiled);
    return { path: compiled, kind: "compiled binary" };
  } catch {
    return { path: `${REPO}/dist/multicni`, kind: "dev launcher (deno run)" };
  }
}

interface Setup {
  dir: string;
  pod: string;
  parent: string;
}

function delegates(n: number, s: Setup): Record<string, unknown>[] {
  const ipam = (subnet: string) => ({ type: "host-local", subnet, dataDir: `${s.dir}/ipam` });
  const out: Record<string, unknown>[] = [{
    cniVersion: "1.0.0",
    name: "benchmain",
    type: "bridge",
    bridge: "benchbr0",
    isGateway: true,
    ipam: ipam("10.70.0.0/24"),
  }];
  for (let i = 1; i < n; i++) {
    out.push({
      cniVersion: "1.0.0",
      name: `benchside${i}`,
      type: "macvlan",
      master: s.parent,
      mode: "bridge",
      ipam: ipam(`10.${70 + i}.0.0/24`),
    });
  }
  return out;
}

async function spawn(path: string, env: Record<string, string>, stdin: string): Promise<string> {
  const child = new Deno.Command(path, {
    env,
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${path} ${env.CNI_COMMAND} failed: ${text} ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return text;
}

function cniEnv(command: string, id: string, netns: string, ifname: string) {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: netns,
    CNI_IFNAME: ifname,
    CNI_PATH: CNI_BIN,
    CNI_ARGS: "IgnoreUnknown=1",
  };
}

/** (a) The floor: each delegate ADDed directly, then DELeted in reverse. */
async function floorCycle(n: number, s: Setup, id: string): Promise<void> {
  const ds = delegates(n, s);
  const results: string[] = [];
  for (const [i, d] of ds.entries()) {
    results.push(
      await spawn(
        `${CNI_BIN}/${d.type}`,
        cniEnv("ADD", id, s.pod, i ? `net${i}` : "eth0"),
        JSON.stringify(d),
      ),
    );
  }
  for (const [i, d] of [...ds.entries()].reverse()) {
    const conf = { ...d, prevResult: JSON.parse(results[i]!) };
    await spawn(
      `${CNI_BIN}/${d.type}`,
      cniEnv("DEL", id, s.pod, i ? `net${i}` : "eth0"),
      JSON.stringify(conf),
    );
  }
}

/** (b)/(c) multicni ADD then DEL. */
async function multicniCycle(bin: string, n: number, s: Setup, id: string, parallel: boolean) {
  const conf = JSON.stringify({
    cniVersion: "1.0.0",
    name: "bench",
    type: "multicni",
    cniDir: `${s.dir}/cache`,
    binDir: CNI_BIN,
    parallel,
    delegates: delegates(n, s),
  });
  await spawn(bin, cniEnv("ADD", id, s.pod, "eth0"), conf);
  await spawn(bin, cniEnv("DEL", id, s.pod, "eth0"), conf);
}

async function timeIt(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function peakRssKb(bin: string, s: Setup): Promise<number> {
  const conf = JSON.stringify({
    cniVersion: "1.0.0",
    name: "bench",
    type: "multicni",
    cniDir: `${s.dir}/cache`,
    delegates: delegates(1, s),
  });
  const id = uniq("rss");
  const env = cniEnv("ADD", id, s.pod, "eth0");
  const child = new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", bin],
    env,
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(conf));
  await w.close();
  const out = await child.output();
  await spawn(bin, cniEnv("DEL", id, s.pod, "eth0"), conf);
  const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
  return Number(lines[lines.length - 1]);
}

async function inner(setup: Setup): Promise<void> {
  const bin = await binary();
  const emptyScript = `${setup.dir}/empty.ts`;
  await Deno.writeTextFile(emptyScript, "");
  const rows: Record<string, unknown>[] = [];
  // Warm caches once.
  await multicniCycle(bin.path, 1, setup, uniq("warm"), false);
  await floorCycle(1, setup, uniq("warm"));
  for (const n of SIZES) {
    const t = { floor: [] as number[], seq: [] as number[], par: [] as number[] };
    for (let r = 0; r < RUNS; r++) {
      // Interleaved, so drift of the machine hits all three alike.
      t.floor.push(await timeIt(() => floorCycle(n, setup, uniq("f"))));
      t.seq.push(await timeIt(() => multicniCycle(bin.path, n, setup, uniq("s"), false)));
      t.par.push(await timeIt(() => multicniCycle(bin.path, n, setup, uniq("p"), true)));
    }
    rows.push({
      attachments: n,
      floor: stats(t.floor),
      sequential: stats(t.seq),
      parallel: stats(t.par),
    });
  }
  const version: number[] = [];
  const empty: number[] = [];
  const denoArgs = ["run", "--quiet", "--no-prompt", emptyScript];
  for (let r = 0; r < RUNS * 2; r++) {
    version.push(
      await timeIt(() => spawn(bin.path, cniEnv("VERSION", "", "", ""), "{}").then(() => {})),
    );
    empty.push(
      await timeIt(async () => {
        await new Deno.Command(Deno.execPath(), { args: denoArgs, stdout: "null" }).output();
      }),
    );
  }
  const rss = await peakRssKb(bin.path, setup);
  const report = {
    date: new Date().toISOString(),
    binary: bin.kind,
    runs: RUNS,
    deno: Deno.version.deno,
    cycles: rows,
    startup: { version: stats(version), denoEmpty: stats(empty) },
    peakRssKb: rss,
  };
  print(report);
  await Deno.mkdir(`${REPO}/bench/results`, { recursive: true });
  const file = `${REPO}/bench/results/${report.date.replaceAll(":", "-")}.json`;
  await Deno.writeTextFile(file, JSON.stringify(report, null, 2));
  console.log(`\nJSON: ${file}`);
}

function ms(x: number): string {
  return x.toFixed(1);
}

function cell(s: Stats): string {
  return `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})`;
}

function print(r: {
  binary: string;
  runs: number;
  deno: string;
  cycles: Record<string, unknown>[];
  startup: { version: Stats; denoEmpty: Stats };
  peakRssKb: number;
}): void {
  console.log(
    `multicni benchmark — ${r.binary}, Deno ${r.deno}, ${r.runs} runs each, ms: median (min–max)\n`,
  );
  console.log(
    "| attachments | (a) delegates directly | (b) multicni sequential | (c) multicni parallel | overhead (b)−(a) | (c)/(a) |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|");
  for (
    const row of r.cycles as {
      attachments: number;
      floor: Stats;
      sequential: Stats;
      parallel: Stats;
    }[]
  ) {
    console.log(
      `| ${row.attachments} | ${cell(row.floor)} | ${cell(row.sequential)} | ${
        cell(row.parallel)
      } | ${ms(row.sequential.median - row.floor.median)} | ${
        (row.parallel.median / row.floor.median).toFixed(2)
      } |`,
    );
  }
  const v = r.startup.version;
  const e = r.startup.denoEmpty;
  console.log(`\n| startup | median | min–max |\n|---|---:|---:|`);
  console.log(`| multicni VERSION | ${ms(v.median)} | ${ms(v.min)}–${ms(v.max)} |`);
  console.log(`| deno run empty script | ${ms(e.median)} | ${ms(e.min)}–${ms(e.max)} |`);
  console.log(`| ratio | ${(v.median / e.median).toFixed(2)}× | |`);
  console.log(`\npeak RSS of one ADD (1 attachment): ${(r.peakRssKb / 1024).toFixed(1)} MB`);
}

async function outer(): Promise<void> {
  if (Deno.uid() !== 0) {
    console.error("bench: needs root (network namespaces)");
    Deno.exit(1);
  }
  const node = await TestNode.create();
  try {
    const pod = await node.addPod();
    await node.addVeth("benchup0");
    await Deno.mkdir(`${node.dir}/cache`, { recursive: true });
    const r = new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        node.ns,
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        `${REPO}/bench/main.ts`,
        "--inner",
        node.dir,
        pod,
        "benchup0",
      ],
      stdout: "inherit",
      stderr: "inherit",
    });
    const status = await r.spawn().status;
    if (!status.success) Deno.exitCode = 1;
    // Validation cost, WASM against its valibot and plain-TS twins (bench/validate.ts).
    console.log("");
    const v = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `${REPO}/bench/validate.ts`],
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!v.success) Deno.exitCode = 1;
  } finally {
    await node.close();
  }
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--inner");
  if (i >= 0) {
    const [dir, pod, parent] = Deno.args.slice(i + 1);
    await inner({ dir: dir!, pod: pod!, parent: parent! });
  } else {
    await outer();
  }
}
