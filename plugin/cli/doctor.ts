/**
 * `multicni doctor`: checks a node's multicni setup and prints one line per check with a mark
 * and, for a failure, how to fix it. Reads only (the cache dir check creates and removes one
 * temp file).
 *
 * @module
 */

import { CniError } from "../protocol/errors.ts";
import { negotiateVersion } from "../protocol/version.ts";
import { denoExec } from "../invoke/exec.ts";
import { listConfFiles, pluginsOf } from "../core/delegate.ts";
import { type NetConf, parseNetConf } from "../core/netconf.ts";
import { loadDelegates } from "../core/plan.ts";
import type { ClusterAccess } from "../k8s/kubeconfig.ts";
import { parseArgs, type Parsed, seconds, wantsJson } from "./_args.ts";
import {
  callsSelf,
  metaConfigOf,
  parseConfigText,
  pluginObjects,
  SELF_TYPES,
  splitPath,
} from "./_config.ts";
import { type CliIo, envOf, MARK } from "./_io.ts";
import { planReport } from "./plan.ts";

/** `multicni doctor --help`. */
export const DOCTOR_HELP = `usage: multicni doctor [options]

Checks this node: the config the runtime uses calls multicni, the multicni binary is in the
CNI bin dir, every delegate plugin (and IPAM plugin) is found in binDir or the CNI path, the
configs pass the validator, the cache dir is writable, the readiness file exists, and the
kubeconfig is readable and the API server answers. One line per check; failures say how to
fix them.

  --config FILE      the config to check (default: the first config in --conf-dir, which is
                     the one the runtime uses)
  --conf-dir DIR     the runtime's CNI conf dir (default: /etc/cni/net.d)
  --cni-path DIRS    the runtime's plugin dirs (default: $CNI_PATH or /opt/cni/bin)
  --timeout S        seconds to wait for the API server (default: 3)
  --format FORMAT    text (default) or json

Exit codes: 0 every check passed, 1 a check failed, 2 usage error.
`;

/** One check's outcome. */
export interface Check {
  name: string;
  status: "pass" | "fail" | "skip";
  detail: string;
  fix?: string;
}

class Checks {
  readonly list: Check[] = [];
  pass(name: string, detail: string) {
    this.list.push({ name, status: "pass", detail });
  }
  fail(name: string, detail: string, fix: string) {
    this.list.push({ name, status: "fail", detail, fix });
  }
  skip(name: string, detail: string) {
    this.list.push({ name, status: "skip", detail });
  }
}

/** Finds the config to check and checks that it calls multicni; returns its meta config. */
async function runtimeConfig(
  c: Checks,
  p: Parsed,
): Promise<{ meta: Record<string, unknown>; type: string } | undefined> {
  const confDir = p.values["conf-dir"]!;
  let path = p.values.config;
  if (path === undefined) {
    const files = await listConfFiles(confDir);
    path = files[0];
    if (!path) {
      c.fail("conf dir", `no .conf/.conflist/.json in "${confDir}"`, "run multicni install");
      return undefined;
    }
  }
  let obj: Record<string, unknown>;
  try {
    obj = parseConfigText(await Deno.readTextFile(path), `"${path}"`);
  } catch (e) {
    c.fail("runtime config", (e as Error).message, `fix or remove "${path}"`);
    return undefined;
  }
  if (!callsSelf(obj)) {
    c.fail(
      "runtime config",
      `"${path}" is what the runtime uses and it does not call multicni`,
      "run multicni install (it writes 00-multicni.conflist, which sorts first)",
    );
    return undefined;
  }
  const meta = metaConfigOf(obj, path);
  c.pass("runtime config", `"${path}" calls ${meta.type}`);
  const type = String(pluginObjects(obj).find((x) => SELF_TYPES.includes(String(x.type)))?.type);
  return { meta, type };
}

async function findLine(c: Checks, name: string, type: string, dirs: string[], fix: string) {
  const path = await denoExec.find(type, dirs);
  if (path) c.pass(name, path);
  else c.fail(name, `"${type}" not found in ${dirs.join(", ")}`, fix);
}

async function delegateChecks(c: Checks, conf: NetConf, cniPath: string[]): Promise<void> {
  let delegates;
  try {
    delegates = await loadDelegates(conf);
  } catch (e) {
    c.fail("delegates", (e as Error).message, "fix the network config the error names");
    return;
  }
  const dirs = [conf.binDir, ...cniPath].filter((d, i, all) => all.indexOf(d) === i);
  for (const d of delegates) {
    for (const pc of pluginsOf(d)) {
      const fix =
        `install plugin "${pc.type}" into ${conf.binDir}, or correct "type" in network "${d.name}"`;
      await findLine(c, `plugin "${pc.type}" of network "${d.name}"`, pc.type, dirs, fix);
      const ipam = (pc.ipam as { type?: unknown } | undefined)?.type;
      if (typeof ipam === "string" && ipam !== "") {
        // The delegate runs its IPAM plugin from the CNI_PATH multicni gives it: binDir first.
        await findLine(
          c,
          `IPAM plugin "${ipam}" of network "${d.name}"`,
          ipam,
          dirs,
          `install "${ipam}" into ${conf.binDir}, or correct ipam.type in network "${d.name}"`,
        );
      }
    }
  }
}

async function validatorCheck(c: Checks, meta: Record<string, unknown>, cniPath: string[]) {
  const req = {
    args: {
      command: "ADD" as const,
      containerId: "multicni-doctor",
      netns: "",
      ifname: "eth0",
      args: "",
      argsMap: new Map<string, string>(),
      path: cniPath,
    },
    conf: meta,
    version: negotiateVersion(meta),
  };
  const r = await planReport(meta, req, {});
  const warnings = r.issues.filter((i) => i.severity === "warning");
  if (r.error) {
    c.fail(
      "plan",
      `${r.error.msg}${r.error.details ? `: ${r.error.details}` : ""}`,
      "multicni plan <config> shows the whole plan",
    );
  } else {
    c.pass(
      "plan",
      `${r.attachments.length} attachment(s) valid${
        warnings.length
          ? `, ${warnings.length} warning(s): ${warnings.map((w) => w.message).join("; ")}`
          : ""
      }`,
    );
  }
}

async function writable(c: Checks, name: string, dir: string): Promise<void> {
  let probe = dir;
  for (;;) {
    try {
      if ((await Deno.stat(probe)).isDirectory) break;
      c.fail(name, `"${probe}" is not a directory`, `remove it or set cniDir elsewhere`);
      return;
    } catch {
      probe = probe.slice(0, probe.lastIndexOf("/")) || "/";
    }
  }
  const tmp = `${probe}/.multicni-doctor-${crypto.randomUUID().slice(0, 8)}`;
  try {
    (await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 })).close();
    await Deno.remove(tmp);
  } catch (e) {
    c.fail(
      name,
      `cannot write in "${probe}": ${(e as Error).message}`,
      "run multicni as root, or fix the directory's permissions",
    );
    return;
  }
  c.pass(name, probe === dir ? `"${dir}" is writable` : `"${dir}" will be created in "${probe}"`);
}

async function readinessCheck(c: Checks, conf: NetConf): Promise<void> {
  const f = conf.readinessIndicatorFile;
  if (!f) return c.skip("readiness file", "readinessindicatorfile is not set");
  try {
    await Deno.stat(f);
    c.pass("readiness file", `"${f}" exists`);
  } catch {
    c.fail(
      "readiness file",
      `"${f}" does not exist: ADD waits ${conf.readinessTimeout} s for it, then fails`,
      "start the default network's agent, or correct readinessindicatorfile",
    );
  }
}

async function apiCheck(c: Checks, access: ClusterAccess, timeoutMs: number): Promise<void> {
  const opts: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem> = {};
  if (access.caCert) opts.caCerts = [access.caCert];
  if (access.clientCert) {
    opts.cert = access.clientCert.cert;
    opts.key = access.clientCert.key;
  }
  const headers = new Headers({ accept: "application/json" });
  if (access.token) headers.set("authorization", `Bearer ${access.token}`);
  const started = Date.now();
  let client: Deno.HttpClient | undefined;
  try {
    client = Deno.createHttpClient(opts as Deno.CreateHttpClientOptions);
    const r = await fetch(`${access.server}/version`, {
      client,
      headers,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await r.body?.cancel();
    const ms = Date.now() - started;
    if (r.ok) c.pass("API server", `${access.server} answered in ${ms} ms`);
    else {
      c.fail(
        "API server",
        `${access.server} answered HTTP ${r.status}`,
        r.status === 401
          ? "the credentials are rejected: renew the token or certificate (multicni install --watch rewrites its kubeconfig)"
          : "check the API server and the account's permissions",
      );
    }
  } catch (e) {
    c.fail(
      "API server",
      `${access.server}: ${(e as Error).message}`,
      "check that the node reaches the API server and the CA in the kubeconfig",
    );
  } finally {
    client?.close();
  }
}

async function kubernetesChecks(
  c: Checks,
  conf: NetConf,
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
) {
  const inCluster = !!env.KUBERNETES_SERVICE_HOST && !!env.KUBERNETES_SERVICE_PORT;
  if (!conf.kubeconfig && !inCluster) {
    return c.skip("kubeconfig", "not set and not in a pod: Kubernetes is not used");
  }
  const k = await import("../k8s/kubeconfig.ts");
  let access: ClusterAccess;
  try {
    access = conf.kubeconfig
      ? await k.loadKubeconfig(conf.kubeconfig)
      : await k.inClusterAccess(env);
  } catch (e) {
    return c.fail(
      "kubeconfig",
      (e as Error).message,
      "run multicni install in the DaemonSet (it writes one), or correct kubeconfig",
    );
  }
  c.pass("kubeconfig", `${access.source} (server ${access.server})`);
  await apiCheck(c, access, timeoutMs);
}

/**
 * Runs every check.
 *
 * @param p the parsed arguments
 * @param env the environment
 * @returns the checks in order
 */
export async function runChecks(
  p: Parsed,
  env: Readonly<Record<string, string>>,
): Promise<Check[]> {
  const c = new Checks();
  const cniPath = splitPath(p.values["cni-path"]);
  const found = await runtimeConfig(c, p);
  if (!found) return c.list;
  let conf: NetConf;
  try {
    conf = parseNetConf(found.meta, negotiateVersion(found.meta));
  } catch (e) {
    c.fail("multicni config", (e as Error).message, "fix the key the error names");
    return c.list;
  }
  c.pass("multicni config", `network "${conf.name}", cniVersion ${conf.cniVersion}`);
  await findLine(
    c,
    "multicni binary",
    found.type,
    cniPath,
    "run multicni install (or copy the binary into the CNI path)",
  );
  await delegateChecks(c, conf, cniPath);
  try {
    await validatorCheck(c, found.meta, cniPath);
  } catch (e) {
    if (!(e instanceof CniError)) throw e;
    c.fail("plan", e.message, "multicni plan <config> shows the whole plan");
  }
  await writable(c, "cache dir", conf.cniDir);
  await readinessCheck(c, conf);
  await kubernetesChecks(c, conf, env, seconds(p, "timeout") * 1000);
  return c.list;
}

function text(checks: Check[]): string {
  const lines: string[] = [];
  for (const ch of checks) {
    lines.push(`${MARK[ch.status]} ${ch.name}: ${ch.detail}`);
    if (ch.fix) lines.push(`       fix: ${ch.fix}`);
  }
  const failed = checks.filter((ch) => ch.status === "fail").length;
  lines.push(failed ? `${failed} check(s) failed` : "all checks passed");
  return lines.join("\n") + "\n";
}

/**
 * Runs `multicni doctor`.
 *
 * @param args arguments after `doctor`
 * @param io output channels
 * @returns 0 when every check passed, 1 otherwise
 * @throws {UsageError} for bad arguments
 */
export async function doctorCommand(args: string[], io: CliIo): Promise<number> {
  const env = envOf(io);
  const p = parseArgs(args, {
    values: {
      config: undefined,
      "conf-dir": "/etc/cni/net.d",
      "cni-path": env.CNI_PATH || "/opt/cni/bin",
      timeout: "3",
      format: undefined,
    },
  });
  if (p.help) {
    io.stdout(DOCTOR_HELP);
    return 0;
  }
  const json = wantsJson(p);
  seconds(p, "timeout");
  const checks = await runChecks(p, env);
  const ok = checks.every((ch) => ch.status !== "fail");
  io.stdout(json ? `${JSON.stringify({ ok, checks }, null, 2)}\n` : text(checks));
  return ok ? 0 : 1;
}
