/**
 * Builds multicni.
 *
 *   deno run -A build.ts wasm      compile the AssemblyScript validator (before check and test)
 *   deno run -A build.ts dev       wasm, then dist/multicni: a launcher running plugin/main.ts
 *                                  with `deno run` (for machines without a denort)
 *   deno run -A build.ts compile   wasm, then `deno compile` for x86_64 and aarch64 Linux into
 *                                  dist/, using DENORT_BIN or Deno's own denort cache
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
 * Bundles the plugin into dist/bundle/ (one file per lazily loaded part, npm packages inlined):
 * `deno run` of the sources resolves ~30 modules and valibot through the npm cache on every
 * call, which costs ~15 ms per invocation (measured); the bundle loads in ~2 ms.
 */
async function bundle(): Promise<string> {
  const outdir = `${DIST}/bundle`;
  await Deno.remove(outdir, { recursive: true }).catch(() => {});
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--code-splitting",
      "--config",
      `${ROOT}/deno.json`,
      "--outdir",
      outdir,
      `${ROOT}/plugin/main.ts`,
    ],
  }).spawn().status;
  if (!r.success) throw new Error("deno bundle failed");
  return `${outdir}/main.js`;
}

async function dev(): Promise<void> {
  await wasm();
  await Deno.mkdir(DIST, { recursive: true });
  const entry = await bundle();
  // Absolute paths and DENO_DIR are fixed at build time: runtimes call plugins with a stripped
  // environment (podman's cleanup passes only PATH, HOME and CNI_*) and any working directory.
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const script = [
    "#!/bin/sh",
    "# multicni dev launcher, written by `deno task build:dev`: runs the bundled sources with deno run.",
    `DENO_DIR=${q(denoDir())} DENO_NO_UPDATE_CHECK=1 exec ${q(Deno.execPath())} run ${
      RUN_FLAGS.join(" ")
    } --quiet --no-config ${q(entry)} "$@"`,
    "",
  ].join("\n");
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

const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;

async function findDenort(target: string): Promise<string | undefined> {
  const env = Deno.env.get("DENORT_BIN");
  if (env) return env;
  const version = Deno.version.deno;
  const candidates = [
    `${denoDir()}/dl/release/v${version}/denort-${target}.zip`,
  ];
  for (const c of candidates) {
    try {
      await Deno.stat(c);
      return c;
    } catch {
      // Not cached.
    }
  }
  return undefined;
}

async function gitCommit(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["-C", ROOT, "rev-parse", "--short", "HEAD"],
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}

async function compile(): Promise<void> {
  await wasm();
  const host = `${Deno.build.arch}-unknown-linux-gnu`;
  const wanted = Deno.args.includes("--host-only") ? [host] : [...TARGETS];
  const missing: string[] = [];
  const infoPath = `${ROOT}/plugin/build_info.ts`;
  const original = await Deno.readTextFile(infoPath);
  const commit = await gitCommit();
  await Deno.mkdir(DIST, { recursive: true });
  try {
    await Deno.writeTextFile(infoPath, original.replace('commit: "dev"', `commit: "${commit}"`));
    for (const target of wanted) {
      const denort = await findDenort(target);
      if (!denort) {
        missing.push(target);
        continue;
      }
      const out = `${DIST}/multicni-${target}`;
      const r = await new Deno.Command(Deno.execPath(), {
        args: [
          "compile",
          ...RUN_FLAGS,
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
  } finally {
    await Deno.writeTextFile(infoPath, original);
  }
  if (missing.length > 0) {
    console.error(
      `build: no denort runtime for ${missing.join(", ")}: set DENORT_BIN to a denort ` +
        `${Deno.version.deno} binary or zip for that target (Deno cannot download it here)`,
    );
    Deno.exit(1);
  }
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
