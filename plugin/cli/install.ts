/**
 * `multicni install`: puts the binary into the CNI bin dir and writes the config that makes the
 * runtime call it, delegating to the node's primary network; `--watch` keeps that config in
 * step. Every file is replaced atomically and recorded for `uninstall`.
 *
 * @module
 */

import { BUILD_INFO } from "../build_info.ts";
import { CniError } from "../protocol/errors.ts";
import { isSupportedVersion } from "../protocol/version.ts";
import { DEFAULTS } from "../core/netconf.ts";
import { parseArgs, type Parsed, seconds, UsageError, wantsJson } from "./_args.ts";
import { atomicWrite, readIfExists, removeIfExists, sha256 } from "./_fs.ts";
import {
  findPrimary,
  generateConfig,
  GENERATED_FILES,
  type GenerateOptions,
  waitForPrimary,
} from "./_generate.ts";
import {
  HostFs,
  loadManifest,
  type Manifest,
  MARKER_KEY,
  saveManifest,
  STATE_DIR,
} from "./_install_state.ts";
import { type CliIo, envOf } from "./_io.ts";

/** `multicni install --help`. */
export const INSTALL_HELP = `usage: multicni install [options]

Copies this binary into the CNI bin dir and writes 00-multicni.conflist (00-multicni.conf for
cniVersion < 1.0.0) into the conf dir. That config sorts first, so the runtime calls multicni,
and multicni's default network is the node's primary config: the alphabetically first other
config in the conf dir (never one that calls multicni or Multus), waited for up to
--primary-timeout seconds. Files are replaced atomically (temp file + rename): a runtime never
sees a half-written config or gets "text file busy". In a pod (service account mounted) a
kubeconfig is written for multicni. Directories are paths on the node; see --host-root.

  --bin-dir DIR            CNI bin dir (default: /opt/cni/bin)
  --conf-dir DIR           the runtime's CNI conf dir (default: /etc/cni/net.d)
  --cni-dir DIR            multicni's cache dir (default: ${DEFAULTS.cniDir})
  --multicni-conf-dir DIR  where multicni looks up networks by name (default: its own default)
  --host-root DIR          where the node's / is mounted (in a DaemonSet: /host)
  --also-multus            also install the binary as "multus" (configs written for Multus work)
  --skip-binary            write only the config
  --source FILE            the binary to install (default: this one; from a checkout dist/multicni)
  --cni-version V          cniVersion of the generated config (default: the primary's)
  --kubeconfig FILE        kubeconfig for multicni (default: written from the service account)
  --readiness-indicator-file FILE, --log-file FILE, --log-level LEVEL
                           copied into the generated config
  --primary-timeout S      seconds to wait for a primary config (default: 60)
  --watch                  keep running: rewrite the config when the primary changes, remove it
                           when no primary is left, refresh the kubeconfig's token
  --interval S             how often --watch looks (default: 1)
  --cleanup-on-exit        with --watch: remove the generated config on SIGTERM/SIGINT
  --format FORMAT          text (default) or json (one object per line)

Exit codes: 0 installed (or --watch stopped by a signal), 1 failure, 2 usage error.
`;

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

type Report = (event: string, path: string, detail?: string) => void;

interface Ctx {
  fs: HostFs;
  p: Parsed;
  confDir: string;
  manifest: Manifest;
  report: Report;
  gen: GenerateOptions;
}

function reporter(io: CliIo, json: boolean): Report {
  return (event, path, detail) => {
    if (json) {
      io.stdout(`${JSON.stringify({ event, path, ...(detail ? { detail } : {}) })}\n`);
    } else {
      io.stdout(`${event} ${path}${detail ? ` (${detail})` : ""}\n`);
    }
  };
}

/** The file to install: --source, the compiled binary itself, or a checkout's dev launcher. */
function sourceBinary(p: Parsed): string {
  if (p.values.source) return p.values.source;
  if (Deno.build.standalone) return Deno.execPath();
  return new URL("../../dist/multicni", import.meta.url).pathname;
}

async function record(ctx: Ctx, hostPath: string, bytes: Uint8Array | undefined): Promise<void> {
  if (bytes) ctx.manifest.files[hostPath] = await sha256(bytes);
  else delete ctx.manifest.files[hostPath];
  await saveManifest(ctx.fs, ctx.confDir, ctx.manifest);
}

/** Writes a file unless it already holds these bytes; returns whether it wrote. */
async function put(ctx: Ctx, hostPath: string, bytes: Uint8Array, mode: number) {
  const local = ctx.fs.local(hostPath);
  const old = await readIfExists(local);
  const same = old !== undefined && old.length === bytes.length &&
    (await sha256(old)) === (await sha256(bytes));
  if (!same) await atomicWrite(local, bytes, mode);
  await record(ctx, hostPath, bytes);
  return !same;
}

async function installBinaries(ctx: Ctx): Promise<void> {
  const src = sourceBinary(ctx.p);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(src);
  } catch (e) {
    const hint = src.endsWith("/dist/multicni") ? " (run deno task build:dev first)" : "";
    throw new CniError(5, `Cannot read the binary to install "${src}"${hint}`, String(e));
  }
  const binDir = ctx.p.values["bin-dir"]!;
  await Deno.mkdir(ctx.fs.local(binDir), { recursive: true });
  const names = ["multicni", ...(ctx.p.switches.has("also-multus") ? ["multus"] : [])];
  for (const name of names) {
    const path = `${binDir.replace(/\/+$/, "")}/${name}`;
    const wrote = await put(ctx, path, bytes, 0o755);
    ctx.report(wrote ? "installed" : "up-to-date", path, wrote ? `from ${src}` : undefined);
  }
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * The kubeconfig of the pod's service account, or undefined outside a pod. The token is inlined
 * because the pod's token file is not visible on the node; --watch rewrites it when the kubelet
 * rotates the token.
 */
async function serviceAccountKubeconfig(
  env: Readonly<Record<string, string>>,
  saDir: string,
): Promise<string | undefined> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const token = await readIfExists(`${saDir}/token`);
  const ca = await readIfExists(`${saDir}/ca.crt`);
  if (!token) return undefined;
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const lines = [
    "# Written by multicni install from its service account; rewritten when the token rotates.",
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: local",
    "    cluster:",
    `      server: ${JSON.stringify(server)}`,
    ...(ca ? [`      certificate-authority-data: ${JSON.stringify(base64(ca))}`] : []),
    "users:",
    "  - name: multicni",
    "    user:",
    `      token: ${JSON.stringify(new TextDecoder().decode(token).trim())}`,
    "contexts:",
    "  - name: multicni",
    "    context:",
    "      cluster: local",
    "      user: multicni",
    "current-context: multicni",
    "",
  ];
  return lines.join("\n");
}

async function syncKubeconfig(ctx: Ctx, env: Readonly<Record<string, string>>): Promise<void> {
  if (ctx.p.values.kubeconfig !== undefined) return;
  const text = await serviceAccountKubeconfig(env, ctx.p.values["service-account-dir"]!);
  if (text === undefined) return;
  const path = `${ctx.confDir}/${STATE_DIR}/multicni.kubeconfig`;
  await Deno.mkdir(ctx.fs.local(`${ctx.confDir}/${STATE_DIR}`), { recursive: true, mode: 0o700 });
  if (await put(ctx, path, new TextEncoder().encode(text), 0o600)) ctx.report("wrote", path);
  ctx.gen.kubeconfig = path;
}

/** Removes a generated config file when it is one install wrote (it carries the marker). */
async function removeGenerated(ctx: Ctx, file: string): Promise<void> {
  const path = `${ctx.confDir}/${file}`;
  const bytes = await readIfExists(ctx.fs.local(path));
  if (!bytes) return;
  try {
    if (!(MARKER_KEY in JSON.parse(new TextDecoder().decode(bytes)))) return;
  } catch {
    return;
  }
  await removeIfExists(ctx.fs.local(path));
  await record(ctx, path, undefined);
  ctx.report("removed", path);
}

/** Brings the generated config in line with the current primary; returns false without one. */
async function syncConfig(ctx: Ctx, quiet: boolean): Promise<boolean> {
  const primary = await findPrimary(ctx.fs.local(ctx.confDir));
  if (!primary) {
    for (const f of GENERATED_FILES) await removeGenerated(ctx, f);
    return false;
  }
  const g = generateConfig(primary, ctx.gen);
  const path = `${ctx.confDir}/${g.file}`;
  const wrote = await put(ctx, path, new TextEncoder().encode(g.text), 0o644);
  if (wrote) {
    const name = String(primary.config.name);
    ctx.report(
      "wrote",
      path,
      `default network "${name}" from ${primary.file}, cniVersion ${g.cniVersion}`,
    );
  } else if (!quiet) {
    ctx.report("up-to-date", path);
  }
  // A primary that moved across 1.0.0 changes the file's extension: drop the other one.
  for (const f of GENERATED_FILES) if (f !== g.file) await removeGenerated(ctx, f);
  return true;
}

function stopSignal(io: CliIo): { signal: AbortSignal; dispose: () => void } {
  if (io.signal) return { signal: io.signal, dispose: () => {} };
  const ac = new AbortController();
  const stop = () => ac.abort();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  return {
    signal: ac.signal,
    dispose: () => {
      Deno.removeSignalListener("SIGTERM", stop);
      Deno.removeSignalListener("SIGINT", stop);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

async function watch(
  ctx: Ctx,
  env: Readonly<Record<string, string>>,
  io: CliIo,
  ms: number,
  signal: AbortSignal,
) {
  ctx.report("watching", ctx.confDir);
  while (!signal.aborted) {
    await sleep(ms, signal);
    if (signal.aborted) break;
    try {
      await syncKubeconfig(ctx, env);
      await syncConfig(ctx, true);
    } catch (e) {
      io.stderr(`multicni install: ${(e as Error).message}\n`);
    }
  }
  if (ctx.p.switches.has("cleanup-on-exit")) {
    for (const f of GENERATED_FILES) await removeGenerated(ctx, f);
  }
}

/**
 * Runs `multicni install`.
 *
 * @param args arguments after `install`
 * @param io output channels (and the stop signal for --watch)
 * @returns the exit code
 * @throws {UsageError} for bad arguments
 */
export async function installCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(args, {
    values: {
      "bin-dir": "/opt/cni/bin",
      "conf-dir": "/etc/cni/net.d",
      "cni-dir": DEFAULTS.cniDir,
      "multicni-conf-dir": undefined,
      "host-root": "",
      source: undefined,
      "cni-version": undefined,
      kubeconfig: undefined,
      "readiness-indicator-file": undefined,
      "log-file": undefined,
      "log-level": undefined,
      "primary-timeout": "60",
      interval: "1",
      "service-account-dir": SA_DIR,
      format: undefined,
    },
    switches: ["also-multus", "skip-binary", "watch", "cleanup-on-exit"],
  });
  if (p.help) {
    io.stdout(INSTALL_HELP);
    return 0;
  }
  const json = wantsJson(p);
  const timeout = seconds(p, "primary-timeout");
  const interval = seconds(p, "interval");
  const version = p.values["cni-version"];
  if (version !== undefined && !isSupportedVersion(version)) {
    throw new UsageError(`unsupported --cni-version "${version}"`);
  }
  if (p.switches.has("cleanup-on-exit") && !p.switches.has("watch")) {
    throw new UsageError("--cleanup-on-exit needs --watch");
  }
  for (const k of ["bin-dir", "conf-dir", "cni-dir"]) {
    if (!p.values[k]!.startsWith("/")) throw new UsageError(`--${k} must be an absolute path`);
  }
  const env = envOf(io);
  const fs = new HostFs(p.values["host-root"]!);
  const confDir = p.values["conf-dir"]!.replace(/\/+$/, "") || "/";
  const ctx: Ctx = {
    fs,
    p,
    confDir,
    manifest: await loadManifest(fs, confDir),
    report: reporter(io, json),
    gen: {
      binDir: p.values["bin-dir"]!,
      cniDir: p.values["cni-dir"]!,
      multicniConfDir: p.values["multicni-conf-dir"] ?? "",
      kubeconfig: p.values.kubeconfig ?? "",
      readinessIndicatorFile: p.values["readiness-indicator-file"] ?? "",
      logFile: p.values["log-file"] ?? "",
      logLevel: p.values["log-level"] ?? "",
      cniVersion: p.values["cni-version"] ?? "",
      version: `${BUILD_INFO.version} (${BUILD_INFO.commit})`,
    },
  };
  // With --watch, SIGTERM is handled from the start: a DaemonSet pod stopped while the first
  // config is being written must still clean up, not die with the default action.
  const stop = p.switches.has("watch") ? stopSignal(io) : undefined;
  try {
    return await installAndWatch(ctx, env, io, timeout, interval, stop?.signal ?? io.signal);
  } finally {
    stop?.dispose();
  }
}

async function installAndWatch(
  ctx: Ctx,
  env: Readonly<Record<string, string>>,
  io: CliIo,
  timeout: number,
  interval: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  const { fs, confDir, p } = ctx;
  try {
    if (!p.switches.has("skip-binary")) await installBinaries(ctx);
    await syncKubeconfig(ctx, env);
    const local = fs.local(confDir);
    if (!(await findPrimary(local))) {
      ctx.report("waiting", confDir, `for a primary CNI config, up to ${timeout} s`);
      await waitForPrimary(local, timeout * 1000, signal);
    }
    if (!(await syncConfig(ctx, false))) {
      io.stderr(
        `multicni install: no CNI config to delegate to in "${confDir}" after ${timeout} s: ` +
          "install the cluster's network first, or raise --primary-timeout\n",
      );
      return 1;
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    io.stderr(`multicni install: ${(e as Error).message}\n`);
    return 1;
  }
  // A stop that came during the first install skips the loop and goes straight to cleanup.
  if (p.switches.has("watch") && signal) await watch(ctx, env, io, interval * 1000, signal);
  return 0;
}
