/**
 * `multicni plan`: a dry run of ADD. It builds the attachment plan exactly as ADD would (the
 * same `buildPlan`: delegates, interface names, runtime config, validator, plugin lookup) and
 * prints it with the verdict, without running a delegate or writing anything.
 *
 * @module
 */

import { CniError } from "../protocol/errors.ts";
import type { Request } from "../protocol/dispatch.ts";
import { parseCniArgs } from "../protocol/env.ts";
import { negotiateVersion } from "../protocol/version.ts";
import { denoExec, type Exec } from "../invoke/exec.ts";
import { nullLogger } from "../log/types.ts";
import { buildPlan } from "../core/commands.ts";
import type { CoreDeps } from "../core/deps.ts";
import { delegateText, pluginsOf } from "../core/delegate.ts";
import { parseNetConf } from "../core/netconf.ts";
import { type Plan, planFor } from "../core/plan.ts";
import { selectNetworks } from "../core/sources.ts";
import { validateConfig, validatePlan, type ValidationIssue } from "../validator/mod.ts";
import { parseArgs, UsageError, wantsJson } from "./_args.ts";
import { metaConfigOf, parseConfigText, readConfigSource, splitPath } from "./_config.ts";
import { type CliIo, envOf } from "./_io.ts";

/** `multicni plan --help`. */
export const PLAN_HELP = `usage: multicni plan CONFIG [options]

Prints the attachment plan an ADD with this config would execute (each network, its interface,
delegate plugin chain and runtime config) and the validator's verdict. Runs no plugin and writes
nothing. CONFIG is a .conf or .conflist calling multicni, or - for stdin.

  --container-id ID   container id to plan for (default: multicni-plan)
  --ifname NAME       interface of the default network (default: eth0)
  --cni-path DIRS     plugin dirs searched after binDir (default: $CNI_PATH or /opt/cni/bin)
  --cni-args ARGS     CNI_ARGS as a runtime would send them (K=V;K=V)
  --pod NS/NAME       plan for this Kubernetes pod (its annotations and NADs; needs kubeconfig)
  --format FORMAT     text (default) or json

Exit codes: 0 the plan is valid, 1 ADD would refuse it, 2 usage error.
`;

/** An exec that finds plugins but refuses to run one: plan must not touch the node. */
const dryExec: Exec = {
  find: denoExec.find,
  run: () => Promise.reject(new Error("multicni plan runs no plugin")),
};

interface PlannedAttachment {
  index: number;
  network: string;
  ifname: string;
  isDefault: boolean;
  kind: "conf" | "conflist";
  /** The plugin chain, in ADD order: type, IPAM type, binary found (null when missing). */
  plugins: { type: string; ipam: string | null; path: string | null }[];
  runtimeConfig: Record<string, unknown>;
  cniArgs: string;
  config: unknown;
}

/** What `plan --format json` prints. */
export interface PlanReport {
  valid: boolean;
  containerId: string;
  metaNetwork: string;
  cniVersion: string;
  attachments: PlannedAttachment[];
  issues: ValidationIssue[];
  error?: { code: number; msg: string; details: string };
}

function requestFor(p: ReturnType<typeof parseArgs>, conf: Record<string, unknown>): Request {
  let cniArgs = p.values["cni-args"] ?? "";
  const pod = p.values.pod;
  if (pod !== undefined) {
    const [ns, name, extra] = pod.split("/");
    if (!ns || !name || extra !== undefined) {
      throw new UsageError(`--pod needs NAMESPACE/NAME, not "${pod}"`);
    }
    cniArgs = [cniArgs, `K8S_POD_NAMESPACE=${ns}`, `K8S_POD_NAME=${name}`]
      .filter((s) => s !== "").join(";");
  }
  let argsMap: Map<string, string>;
  try {
    argsMap = parseCniArgs(cniArgs);
  } catch (e) {
    throw new UsageError(`--cni-args: ${(e as Error).message}`);
  }
  return {
    args: {
      command: "ADD",
      containerId: p.values["container-id"]!,
      netns: "",
      ifname: p.values.ifname!,
      args: cniArgs,
      argsMap,
      path: splitPath(p.values["cni-path"]),
    },
    conf,
    version: negotiateVersion(conf),
  };
}

async function describe(plan: Plan, dirs: string[]): Promise<PlannedAttachment[]> {
  const out: PlannedAttachment[] = [];
  for (const a of plan.attachments) {
    const plugins = [];
    for (const pc of pluginsOf(a.delegate)) {
      const ipam = pc.ipam as { type?: unknown } | undefined;
      plugins.push({
        type: pc.type,
        ipam: typeof ipam?.type === "string" ? ipam.type : null,
        path: (await denoExec.find(pc.type, dirs)) ?? null,
      });
    }
    out.push({
      index: a.index,
      network: a.network,
      ifname: a.ifname,
      isDefault: a.isDefault,
      kind: a.delegate.kind,
      plugins,
      runtimeConfig: a.runtimeConfig,
      cniArgs: a.cniArgs,
      config: JSON.parse(delegateText(a.delegate)),
    });
  }
  return out;
}

function validatorIssues(plan: Plan, allowSubnetOverlap: boolean): ValidationIssue[] {
  const entries = plan.attachments.map((a) => ({
    network: a.network,
    ifname: a.ifname,
    config: delegateText(a.delegate),
  }));
  const issues = entries.flatMap((e) => validateConfig(e.network, e.config));
  issues.push(...validatePlan(entries, { allowSubnetOverlap }));
  // One issue can be reported by both passes; print it once.
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}|${i.network}|${i.path}|${i.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/**
 * Builds the report: the verdict comes from `buildPlan` (what ADD runs); when it refuses, the
 * plan is still computed without the checks, so the operator sees what was asked for.
 *
 * @param meta the meta config object
 * @param req the simulated ADD
 * @param env the environment (Kubernetes access)
 * @returns the report
 */
export async function planReport(
  meta: Record<string, unknown>,
  req: Request,
  env: Readonly<Record<string, string>>,
): Promise<PlanReport> {
  const deps: CoreDeps = {
    exec: dryExec,
    openLog: () => nullLogger,
    baseEnv: env,
    now: () => new Date(),
  };
  const conf = parseNetConf(meta, req.version);
  const dirs = [conf.binDir, ...req.args.path];
  let plan: Plan | undefined;
  let error: CniError | undefined;
  try {
    plan = await buildPlan(deps, conf, req, nullLogger);
  } catch (e) {
    if (!(e instanceof CniError)) throw e;
    error = e;
    try {
      const selections = await selectNetworks(deps, conf, req, nullLogger);
      plan = planFor({
        conf,
        containerId: req.args.containerId,
        netns: "",
        ifname: req.args.ifname,
        cniArgs: req.args.args,
      }, selections);
    } catch {
      // The plan itself cannot be formed; the error says why.
    }
  }
  const issues = plan ? validatorIssues(plan, conf.allowSubnetOverlap) : [];
  const report: PlanReport = {
    valid: error === undefined,
    containerId: req.args.containerId,
    metaNetwork: conf.name,
    cniVersion: conf.cniVersion,
    attachments: plan ? await describe(plan, dirs) : [],
    issues,
  };
  if (error) report.error = { code: error.code, msg: error.msg, details: error.details };
  return report;
}

/**
 * Renders a report as text.
 *
 * @param r the report
 * @returns the lines
 */
export function planText(r: PlanReport): string {
  const lines = [
    `Plan for container "${r.containerId}" from config "${r.metaNetwork}" (cniVersion ${r.cniVersion})`,
    "",
  ];
  for (const a of r.attachments) {
    lines.push(`  ${a.ifname.padEnd(6)} ${a.network}${a.isDefault ? "  (default network)" : ""}`);
    const chain = a.plugins.map((p) => p.ipam ? `${p.type} (ipam ${p.ipam})` : p.type);
    lines.push(`         ${a.kind}: ${chain.join(" -> ")}`);
    const paths = a.plugins.map((p) => p.path ?? `${p.type}: NOT FOUND`);
    lines.push(`         binaries: ${paths.join(", ")}`);
    if (Object.keys(a.runtimeConfig).length > 0) {
      lines.push(`         runtime config: ${JSON.stringify(a.runtimeConfig)}`);
    }
    lines.push(`         CNI_ARGS: ${a.cniArgs}`);
  }
  if (r.attachments.length === 0) lines.push("  (no plan could be formed)");
  lines.push("");
  const warnings = r.issues.filter((i) => i.severity === "warning").length;
  if (r.error) {
    lines.push(`Verdict: ADD would refuse this (CNI error ${r.error.code}): ${r.error.msg}`);
    if (r.error.details) lines.push(...r.error.details.split("\n").map((l) => `  ${l}`));
  } else {
    lines.push(
      `Verdict: valid${warnings ? ` (${warnings} warning${warnings > 1 ? "s" : ""})` : ""}`,
    );
  }
  for (const i of r.issues) {
    lines.push(
      `  ${i.severity}: network "${i.network}"${i.path ? ` ${i.path}` : ""}: ${i.message}`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Runs `multicni plan`.
 *
 * @param args arguments after `plan`
 * @param io output channels
 * @returns the exit code
 * @throws {UsageError} for bad arguments
 */
export async function planCommand(args: string[], io: CliIo): Promise<number> {
  const env = envOf(io);
  const p = parseArgs(args, {
    values: {
      "container-id": "multicni-plan",
      ifname: "eth0",
      "cni-path": env.CNI_PATH || "/opt/cni/bin",
      "cni-args": undefined,
      pod: undefined,
      format: undefined,
    },
    positionals: { min: 1, max: 1 },
  });
  if (p.help) {
    io.stdout(PLAN_HELP);
    return 0;
  }
  const json = wantsJson(p);
  const path = p.positionals[0]!;
  let report: PlanReport;
  try {
    const meta = metaConfigOf(parseConfigText(await readConfigSource(path), `"${path}"`), path);
    report = await planReport(meta, requestFor(p, meta), env);
  } catch (e) {
    if (!(e instanceof CniError)) throw e;
    if (json) io.stdout(`${JSON.stringify({ valid: false, error: e.toJSON() })}\n`);
    else io.stderr(`multicni plan: ${e.message}\n`);
    return 1;
  }
  io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : planText(report));
  return report.valid ? 0 : 1;
}
