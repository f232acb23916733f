/**
 * The CNI commands of the meta-plugin: ADD plans, validates, caches and executes; DEL replays
 * the cache in reverse; CHECK, GC and STATUS work on the same plan.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { Handlers, Request } from "../protocol/dispatch.ts";
import { convertResult } from "../protocol/result.ts";
import type { CniVersion } from "../protocol/version.ts";
import { type RawResult, resolvePlugins, runDelegate } from "../invoke/chain.ts";
import type { Logger } from "../log/types.ts";
import {
  attachmentOf,
  type CachedAttachment,
  type CacheRecord,
  ensureDir,
  loadRecord,
  lockContainer,
  recordOf,
  removeRecord,
  saveRecord,
} from "./cache.ts";
import type { CoreDeps } from "./deps.ts";
import { type Attachment, loadDelegates, type Plan, planFor } from "./plan.ts";
import { fallbackNetConf, type NetConf, parseNetConf } from "./netconf.ts";
import {
  call,
  deleteAll,
  type DelTarget,
  delTargetOf,
  describeAll,
  type ExecContext,
  executeAdd,
  networkCall,
  where,
} from "./execute.ts";
import { validatePlanOrThrow } from "./preflight.ts";
import { applyDefaultRoutes } from "./default_route.ts";
import { reportAdded, selectNetworks } from "./sources.ts";
import { waitForReadiness } from "./readiness.ts";

/** Where plugin binaries are searched: binDir, then CNI_PATH, each once. */
function pluginDirs(conf: NetConf, req: Request): string[] {
  return [conf.binDir, ...req.args.path].filter((d, i, all) => all.indexOf(d) === i);
}

function context(deps: CoreDeps, conf: NetConf, req: Request, log: Logger): ExecContext {
  return {
    deps,
    log,
    pluginDirs: pluginDirs(conf, req),
    timeoutMs: conf.delegateTimeout * 1000,
    parallel: conf.parallel,
    maxParallel: conf.maxParallel,
  };
}

/**
 * Builds the ADD plan from the config: loads the delegates, assigns interfaces, checks every
 * config in the validator and finds every plugin binary. Nothing on the node is touched.
 *
 * @param deps dependencies
 * @param conf the meta config
 * @param req the request
 * @param log the log
 * @returns the plan
 * @throws {CniError} code 7 (or 1) for anything wrong with the configs
 */
export async function buildPlan(
  deps: CoreDeps,
  conf: NetConf,
  req: Request,
  log: Logger,
): Promise<Plan> {
  const selections = await selectNetworks(deps, conf, req, log);
  const plan = planFor({
    conf,
    containerId: req.args.containerId,
    netns: req.args.netns,
    ifname: req.args.ifname,
    cniArgs: req.args.args,
  }, selections);
  for (const warning of validatePlanOrThrow(plan, conf)) {
    log.verbose(`validator warning: ${warning}`, { containerId: plan.containerId });
  }
  const dirs = pluginDirs(conf, req);
  for (const a of plan.attachments) {
    await resolvePlugins(deps.exec, a.delegate, dirs);
  }
  return plan;
}

async function add(deps: CoreDeps, req: Request): Promise<Record<string, unknown>> {
  const conf = parseNetConf(req.conf, req.version);
  const log = deps.openLog(conf);
  const fields = { containerId: req.args.containerId };
  await waitForReadiness(conf, log);
  const plan = await buildPlan(deps, conf, req, log);
  const ctx = context(deps, conf, req, log);
  const lock = await lockContainer(conf.cniDir, plan.containerId);
  let output: Record<string, unknown> | undefined;
  let results: RawResult[];
  try {
    const existing = await loadRecord(conf.cniDir, plan.containerId);
    if (existing.kind !== "missing") {
      throw new CniError(
        ErrorCode.AlreadyAttached,
        `Container "${plan.containerId}" already has attachments`,
        existing.kind === "damaged"
          ? `its cache record is unreadable (${existing.reason}); run DEL for the container first`
          : "an earlier ADD is recorded in the cache; run DEL for the container before adding again",
      );
    }
    const rec = recordOf(plan, conf.name, deps.now());
    await saveRecord(conf.cniDir, rec);
    log.verbose(`ADD planned ${plan.attachments.length} attachment(s)`, fields);
    results = await executeAdd(
      ctx,
      plan,
      rec,
      () => saveRecord(conf.cniDir, rec),
      () => removeRecord(conf.cniDir, plan.containerId),
      async (done) => {
        // Inside the plan's execution, so a failure rolls everything back: a result the caller
        // cannot read (0.2.0 without an IP) must not leave attached networks behind.
        const master = done[0];
        if (!master) throw new CniError(ErrorCode.Internal, "ADD produced no result");
        output = convertResult(master.result, master.version, plan.cniVersion);
        await applyDefaultRoutes(plan);
      },
    );
  } finally {
    await lock.release();
  }
  // Reporting may wait on the API server; the container's lock is not held for it.
  await reportAdded(deps, conf, req, log, plan, results);
  if (!output) throw new CniError(ErrorCode.Internal, "ADD produced no result");
  return output;
}

/** The attachments a DEL acts on, and why it may have to guess. */
interface DelSource {
  targets: DelTarget[];
  record?: CacheRecord;
  /** True when nothing is cached: failures are then logged, not returned. */
  guessed: boolean;
}

async function delTargets(
  deps: CoreDeps,
  conf: NetConf,
  req: Request,
  log: Logger,
): Promise<DelSource> {
  const loaded = await loadRecord(conf.cniDir, req.args.containerId);
  const fields = { containerId: req.args.containerId };
  if (loaded.kind === "ok") {
    const rec = loaded.record;
    const targets = rec.attachments.filter((c) => c.state !== "deleted").map((c) =>
      delTargetOf(c, rec.cniVersion)
    );
    return { targets, record: rec, guessed: false };
  }
  let fromConf: Attachment[] = [];
  try {
    fromConf = (await buildPlan(deps, conf, req, log)).attachments;
  } catch (e) {
    log.error(`DEL cannot plan from the given config: ${(e as Error).message}`, fields);
  }
  if (loaded.kind === "missing") {
    return { targets: fromConf.map((attachment) => ({ attachment })), guessed: true };
  }
  log.error(`cache record is damaged (${loaded.reason}); deleting what can be recovered`, fields);
  const recovered = salvaged(loaded.attachments, conf.cniVersion, log);
  const known = new Set(recovered.map((t) => t.attachment.ifname));
  const extra = fromConf.filter((a) => !known.has(a.ifname)).map((attachment) => ({ attachment }));
  const targets = [...recovered, ...extra].sort((a, b) => a.attachment.index - b.attachment.index);
  return { targets, guessed: false };
}

function salvaged(list: CachedAttachment[], v: CniVersion, log: Logger): DelTarget[] {
  const out: DelTarget[] = [];
  for (const c of list) {
    try {
      out.push(delTargetOf(c, v));
    } catch (e) {
      log.error(`cannot recover cached network "${c.network}": ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * Reads the meta config for DEL leniently: DEL must clean up even when the config on stdin has
 * become invalid.
 */
function delConf(req: Request): { conf: NetConf; problem?: string } {
  try {
    return { conf: parseNetConf(req.conf, req.version) };
  } catch (e) {
    return { conf: fallbackNetConf(req.conf, req.version), problem: (e as Error).message };
  }
}

async function del(deps: CoreDeps, req: Request): Promise<void> {
  const { conf, problem } = delConf(req);
  const log = deps.openLog(conf);
  const fields = { containerId: req.args.containerId };
  if (problem) log.error(`DEL with an invalid config, using the cache: ${problem}`, fields);
  const ctx = context(deps, conf, req, log);
  const lock = await lockContainer(conf.cniDir, req.args.containerId);
  try {
    const src = await delTargets(deps, conf, req, log);
    const rec = src.record;
    const plan = { containerId: req.args.containerId, netns: req.args.netns };
    const errors = await deleteAll(ctx, plan, src.targets, (index) => {
      const c = rec?.attachments[index];
      if (c) c.state = "deleted";
    });
    if (errors.length > 0 && src.guessed) {
      log.error(`DEL without a cache record ignored: ${describeAll(errors)}`, fields);
      return;
    }
    if (errors.length > 0 && conf.retryDeleteOnError && rec) {
      await saveRecord(conf.cniDir, rec);
    } else {
      await removeRecord(conf.cniDir, req.args.containerId);
    }
    const first = errors[0];
    if (first) {
      throw new CniError(first.code, first.msg, describeAll(errors.slice(1)) || first.details);
    }
    log.verbose("DEL done", fields);
  } finally {
    await lock.release();
  }
}

async function check(deps: CoreDeps, req: Request): Promise<void> {
  const conf = parseNetConf(req.conf, req.version);
  const log = deps.openLog(conf);
  const ctx = context(deps, conf, req, log);
  const lock = await lockContainer(conf.cniDir, req.args.containerId);
  try {
    const loaded = await loadRecord(conf.cniDir, req.args.containerId);
    if (loaded.kind !== "ok") {
      throw new CniError(
        ErrorCode.ContainerUnknown,
        `No attachments recorded for container "${req.args.containerId}"`,
        loaded.kind === "damaged" ? `cache record is damaged: ${loaded.reason}` : "",
      );
    }
    const plan = { containerId: req.args.containerId, netns: req.args.netns };
    for (const c of loaded.record.attachments) {
      const a = attachmentOf(c, loaded.record.cniVersion);
      if (c.state !== "added" || !c.result) {
        throw new CniError(
          ErrorCode.ContainerUnknown,
          `${where("CHECK", a)}: attachment is ${c.state}, not added`,
        );
      }
      try {
        await runDelegate(deps.exec, call(ctx, "CHECK", plan, a, c.result));
      } catch (e) {
        throw (e as CniError).withPrefix(where("CHECK", a));
      }
    }
  } finally {
    await lock.release();
  }
}

async function status(deps: CoreDeps, req: Request): Promise<void> {
  const conf = parseNetConf(req.conf, req.version);
  const log = deps.openLog(conf);
  if (conf.readinessIndicatorFile) {
    // STATUS answers at once: a runtime polls it, so it reports "not ready" instead of waiting.
    try {
      await Deno.stat(conf.readinessIndicatorFile);
    } catch {
      throw new CniError(
        ErrorCode.NotAvailable,
        "multicni is not ready",
        `readiness indicator file "${conf.readinessIndicatorFile}" does not exist`,
      );
    }
  }
  const [master] = await loadDelegates(conf);
  if (!master) return;
  const ctx = context(deps, conf, req, log);
  try {
    await runDelegate(deps.exec, networkCall(ctx, "STATUS", master));
  } catch (e) {
    throw (e as CniError).withPrefix(`STATUS network "${master.name}"`);
  }
}

async function gc(deps: CoreDeps, req: Request): Promise<void> {
  const { gcCommand } = await import("./gc.ts");
  const conf = parseNetConf(req.conf, req.version);
  const log = deps.openLog(conf);
  await waitForReadiness(conf, log);
  await ensureDir(conf.cniDir);
  await gcCommand(deps, conf, req, context(deps, conf, req, log));
}

/**
 * The core's command handlers for the protocol layer.
 *
 * @param deps dependencies
 * @returns the handlers
 */
export function handlers(deps: CoreDeps): Handlers {
  return {
    add: (req) => add(deps, req),
    del: (req) => del(deps, req),
    check: (req) => check(deps, req),
    gc: (req) => gc(deps, req),
    status: (req) => status(deps, req),
  };
}
