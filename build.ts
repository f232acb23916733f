/**
 * Builds multicni.
 *
 *   deno run -A build.ts wasm      compile the AssemblyScript validator (before check and test)
 *   deno run -A build.ts dev       wasm, then dist/multicni: a launcher running plugin/main.ts
 *                                  with `deno run` (for machines without a denort)
 *   deno run -A build.ts compile   wasm, then `deno compile` for x86_64 and aarch64 Linux into
 *                                  dist/multicni-<target>, the commit stamped in; each target's
 *                                  denort from DENORT_BIN_X86_64 / DENORT_BIN_AARCH64, DENORT_BIN
 *                                  (this machine's target only) or Deno's own cache
 *                                  (--host-only: this machine's target alone)
 *
 * @module
 */

const ROOT = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const DIST = `${ROOT}/dist`;

/** Deno's permission flags for the plugin: it reads configs, writes caches and logs, runs
 * delegates, reads its environment and talks to the Kubernetes API. */
export const RUN_FLAGS = [
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-env",
  "--allow-net",
  "--allow-sys",
  "--no-prompt",
] as const;

async function wasm(): Promise<void> {
  const { buildValidator } = await import("./validator-wasm/build.ts");
  await buildValidator();
}

function denoDir(): string {
  const env = Deno.env.get("DENO_DIR");
  if (env) return env;
  const home = Deno.env.get("HOME") ?? "/root";
  return `${home}/.cache/deno`;
}

/**
 * Bundles the plugin into one file, dist/bundle/main.js, npm packages inlined. `deno run` of the
 * sources resolves ~40 modules and the npm packages on every call, dynamic imports included
 * (Deno loads every statically named import into the module graph before running), which
 * costs ~15 ms per invocation; a code-split bundle still opens ~35 chunks. One file (parsed
 * lazily by V8, module bodies of lazy imports evaluated only when used) saves ~30 ms per ADD
 * against the code-split bundle (measured: ADD 49 vs 85 ms with one bridge delegate).
 *
 * @param outdir where to write it (emptied first); tests bundle into their own temp dir
 * @returns the entry file
 */
export async function bundle(outdir = `${DIST}/bundle`): Promise<string> {
  await Deno.remove(outdir, { recursive: true }).catch(() => {});
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--config",
      `${ROOT}/deno.json`,
      "--output",
      `${outdir}/main.js`,
      `${ROOT}/plugin/main.ts`,
    ],
  }).spawn().status;
  if (!r.success) throw new Error("deno bundle failed");
  return `${outdir}/main.js`;
}

/**
 * A launcher script: runs `deno run` with the plugin's permissions on `target` (Deno flags and
 * the entry module). Absolute paths and DENO_DIR are fixed when it is written: runtimes call
 * plugins with a stripped environment (podman's cleanup passes only PATH, HOME and CNI_*) and
 * any working directory.
 *
 * @param target the flags and entry module after the permissions
 * @param what the comment line saying what it runs
 * @returns the script
 */
export function launcherScript(target: string[], what: string): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return [
    "#!/bin/sh",
    `# multicni launcher: ${what}.`,
    `DENO_DIR=${q(denoDir())} DENO_NO_UPDATE_CHECK=1 exec ${q(Deno.execPath())} run ${
      RUN_FLAGS.join(" ")
    } --quiet ${target.map(q).join(" ")} "$@"`,
    "",
  ].join("\n");
}

async function dev(): Promise<void> {
  await wasm();
  await Deno.mkdir(DIST, { recursive: true });
  const entry = await bundle();
  const script = launcherScript(
    ["--no-config", entry],
    "written by `deno task build:dev`, runs the bundled sources with deno run",
  );
  const tmp = `${DIST}/.multicni.tmp`;
  await Deno.writeTextFile(tmp, script, { mode: 0o755 });
  await Deno.chmod(tmp, 0o755);
  await Deno.rename(tmp, `${DIST}/multicni`);
  // Warm Deno's cache so the first plugin call does not pay for transpiling.
  const warm = await new Deno.Command(`${DIST}/multicni`, {
    args: ["version"],
    stdout: "null",
  }).output();
  if (!warm.success) throw new Error("dist/multicni does not start");
  console.log(`wrote ${DIST}/multicni (dev launcher)`);
}

/** The targets `compile` builds. */
export const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;

/** The target of the machine running the build. */
export function hostTarget(): string {
  return `${Deno.build.arch}-unknown-linux-gnu`;
}

/** Where a denort may come from, in the order tried. */
export interface DenortSource {
  /** What the user set or where Deno caches it, for messages. */
  from: string;
  path: string;
}

/**
 * The denort candidates for one target. `DENORT_BIN_X86_64` / `DENORT_BIN_AARCH64` name the
 * denort of that architecture; plain `DENORT_BIN` (the variable Deno itself reads) is taken for
 * the host's target only, since giving it to a cross build would embed the wrong architecture;
 * then Deno's own download cache.
 *
 * @param target the target triple
 * @param env the environment
 * @param dir Deno's cache dir
 * @param version the Deno version (denort must match it)
 * @returns the candidates, best first
 */
export function denortCandidates(
  target: string,
  env: Readonly<Record<string, string | undefined>>,
  dir: string,
  version: string,
): DenortSource[] {
  const out: DenortSource[] = [];
  const arch = target.split("-")[0]!.toUpperCase();
  const perArch = env[`DENORT_BIN_${arch}`];
  if (perArch) out.push({ from: `DENORT_BIN_${arch}`, path: perArch });
  if (env.DENORT_BIN && target === hostTarget()) {
    out.push({ from: "DENORT_BIN", path: env.DENORT_BIN });
  }
  out.push({ from: "Deno's cache", path: `${dir}/dl/release/v${version}/denort-${target}.zip` });
  return out;
}

/**
 * Finds the denort for a target.
 *
 * @param target the target triple
 * @returns its path, or undefined when there is none
 * @throws {Error} when a variable names a file that does not exist (a typo should not fall back
 * silently to another denort)
 */
export async function findDenort(target: string): Promise<string | undefined> {
  for (const c of denortCandidates(target, Deno.env.toObject(), denoDir(), Deno.version.deno)) {
    const found = await Deno.stat(c.path).then((i) => i.isFile, () => false);
    if (found) return c.path;
    if (c.from !== "Deno's cache") throw new Error(`${c.from}="${c.path}" does not exist`);
  }
  return undefined;
}

async function git(args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("git", { args: ["-C", ROOT, ...args], stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The commit to stamp: short hash, `-dirty` when the tree has uncommitted changes. */
async function gitCommit(): Promise<string> {
  const hash = await git(["rev-parse", "--short", "HEAD"]);
  if (!hash) return "unknown";
  const status = await git(["status", "--porcelain", "--untracked-files=no"]);
  return status ? `${hash}-dirty` : hash;
}

/**
 * Runs `f` with the commit stamped into plugin/build_info.ts (what `multicni version` reports),
 * restoring the file afterwards, also when the build fails or is interrupted.
 */
async function withStampedCommit(f: () => Promise<void>): Promise<void> {
  const infoPath = `${ROOT}/plugin/build_info.ts`;
  const original = await Deno.readTextFile(infoPath);
  const commit = await gitCommit();
  const stamped = original.replace(/commit: "[^"]*"/, `commit: ${JSON.stringify(commit)}`);
  const restore = () => Deno.writeTextFileSync(infoPath, original);
  const onSignal = () => {
    restore();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await Deno.writeTextFile(infoPath, stamped);
    await f();
  } finally {
    restore();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

async function compile(): Promise<void> {
  const wanted = Deno.args.includes("--host-only") ? [hostTarget()] : [...TARGETS];
  // Look for every denort first: without one, fail before touching anything.
  const denorts = new Map<string, string>();
  try {
    for (const t of wanted) {
      const d = await findDenort(t);
      if (d) denorts.set(t, d);
    }
  } catch (e) {
    console.error(`build: ${(e as Error).message}`);
    Deno.exit(1);
  }
  const missing = wanted.filter((t) => !denorts.has(t));
  if (denorts.size === 0) {
    console.error(missingLine(missing));
    Deno.exit(1);
  }
  await wasm();
  await Deno.mkdir(DIST, { recursive: true });
  await withStampedCommit(async () => {
    for (const [target, denort] of denorts) {
      const out = `${DIST}/multicni-${target}`;
      const r = await new Deno.Command(Deno.execPath(), {
        args: [
          "compile",
          ...RUN_FLAGS,
          "--quiet",
          "--config",
          `${ROOT}/deno.json`,
          "--target",
          target,
          "--output",
          out,
          `${ROOT}/plugin/main.ts`,
        ],
        env: { DENORT_BIN: denort },
      }).spawn().status;
      if (!r.success) throw new Error(`deno compile for ${target} failed`);
      console.log(`wrote ${out}`);
    }
  });
  if (missing.length > 0) {
    console.error(missingLine(missing));
    Deno.exit(1);
  }
}

function missingLine(targets: string[]): string {
  const vars = targets.map((t) => `DENORT_BIN_${t.split("-")[0]!.toUpperCase()}`);
  return `build: no denort ${Deno.version.deno} for ${targets.join(", ")}: set ${
    vars.join(" / ")
  } (or DENORT_BIN for this machine's target) to a denort binary or zip of Deno ` +
    `${Deno.version.deno} (deno task build:dev writes a launcher instead)`;
}

if (import.meta.main) {
  const step = Deno.args[0];
  const steps: Record<string, () => Promise<void>> = { wasm, dev, compile };
  const run = step ? steps[step] : undefined;
  if (!run) {
    console.error("usage: deno run -A build.ts wasm|dev|compile [--host-only]");
    Deno.exit(2);
  }
  await run();
}
