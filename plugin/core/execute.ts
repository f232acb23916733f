/**
 * Executing a plan: ADD runs the attachments in order and records each outcome in the cache;
 * when one fails, everything started so far is deleted in reverse. DEL asks every attachment's
 * delegate, in reverse, and goes on past errors.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import { type DelegateCall, type RawResult, runDelegate } from "../invoke/chain.ts";
import type { Logger } from "../log/types.ts";
import { attachmentOf, type CachedAttachment, type CacheRecord } from "./cache.ts";
import type { CniVersion } from "../protocol/version.ts";
import type { Attachment, Plan } from "./plan.ts";
import type { DelegateConfig } from "./delegate.ts";
import type { CoreDeps } from "./deps.ts";

/** Settings of an execution that come from the meta config and the runtime. */
export interface ExecContext {
  deps: CoreDeps;
  log: Logger;
  /** binDir, then CNI_PATH. */
  pluginDirs: readonly string[];
  timeoutMs: number;
  /** Run the secondary attachments concurrently (ADD and DEL). */
  parallel: boolean;
  /** At most this many concurrent delegates in parallel mode. */
  maxParallel: number;
}

/** The prefix that says which attachment an error belongs to. */
export function where(command: string, a: Pick<Attachment, "network" | "ifname">): string {
  return `${command} network "${a.network}" on ${a.ifname}`;
}

/**
 * The delegate call for one attachment of a container.
 *
 * @param ctx execution settings
 * @param command the CNI command
 * @param plan container id and netns
 * @param a the attachment
 * @param prevResult the result its ADD produced (DEL, CHECK)
 * @returns the call
 */
export function call(
  ctx: ExecContext,
  command: DelegateCall["command"],
  plan: Pick<Plan, "containerId" | "netns">,
  a: Attachment,
  prevResult?: RawResult,
): DelegateCall {
  return {
    command,
    delegate: a.delegate,
    containerId: plan.containerId,
    netns: plan.netns,
    ifname: a.ifname,
    cniArgs: a.cniArgs,
    pluginDirs: ctx.pluginDirs,
    runtimeConfig: a.runtimeConfig,
    prevResult,
    baseEnv: ctx.deps.baseEnv,
    timeoutMs: ctx.timeoutMs,
  };
}

/**
 * The delegate call for a whole network, outside any container (STATUS, GC).
 *
 * @param ctx execution settings
 * @param command STATUS or GC
 * @param delegate the network
 * @param validAttachments for GC: what stays
 * @returns the call
 */
export function networkCall(
  ctx: ExecContext,
  command: "STATUS" | "GC",
  delegate: DelegateConfig,
  validAttachments?: DelegateCall["validAttachments"],
): DelegateCall {
  return {
    command,
    delegate,
    containerId: "",
    netns: "",
    ifname: "",
    cniArgs: "",
    pluginDirs: ctx.pluginDirs,
    runtimeConfig: {},
    ...(validAttachments ? { validAttachments } : {}),
    baseEnv: ctx.deps.baseEnv,
    timeoutMs: ctx.timeoutMs,
  };
}

/** One attachment to delete, with the result its ADD produced, if any. */
export interface DelTarget {
  attachment: Attachment;
  result?: RawResult | undefined;
  /**
   * Its ADD failed. A plugin whose ADD failed often fails its DEL too (macvlan does when its
   * master is missing); that DEL error is logged, not returned: retrying cannot help, and a
   * failed ADD has already been undone by the plugin itself.
   */
  addFailed?: boolean;
}

/**
 * The DEL target of a cached attachment.
 *
 * @param c the cached attachment
 * @param version the version for a config that names none
 * @returns the target
 * @throws {CniError} code 7 when the cached config no longer parses
 */
export function delTargetOf(c: CachedAttachment, version: CniVersion): DelTarget {
  return {
    attachment: attachmentOf(c, version),
    result: c.result,
    ...(c.state === "failed" ? { addFailed: true } : {}),
  };
}

/**
 * Deletes attachments in reverse order, asking every one even after failures.
 *
 * @param ctx execution settings
 * @param plan container id and netns (netns may be empty: DEL works without it)
 * @param targets the attachments in ADD order
 * @returns the errors, each prefixed with its attachment; empty when all succeeded
 */
export async function deleteAll(
  ctx: ExecContext,
  plan: Pick<Plan, "containerId" | "netns">,
  targets: readonly DelTarget[],
  onDeleted?: (index: number) => Promise<void> | void,
): Promise<CniError[]> {
  const errors: { index: number; err: CniError }[] = [];
  const delOne = async (t: DelTarget) => {
    const a = t.attachment;
    const fields = { containerId: plan.containerId, network: a.network, ifname: a.ifname };
    try {
      await runDelegate(ctx.deps.exec, call(ctx, "DEL", plan, a, t.result));
      ctx.log.verbose("delegate DEL done", fields);
      await onDeleted?.(a.index);
    } catch (e) {
      const err = (e as CniError).withPrefix(where("DEL", a));
      if (t.addFailed) {
        ctx.log.error(`ignored, its ADD had failed: ${err.message}`, { ...fields, code: err.code });
        await onDeleted?.(a.index);
        return;
      }
      ctx.log.error(err.message, { ...fields, code: err.code });
      errors.push({ index: a.index, err });
    }
  };
  // Reverse of ADD: the secondary networks first (concurrently in parallel mode), the default
  // network last.
  const reversed = [...targets].reverse();
  const secondaries = reversed.filter((t) => !t.attachment.isDefault);
  await runBounded(secondaries, ctx.parallel ? ctx.maxParallel : 1, delOne);
  for (const t of reversed.filter((t) => t.attachment.isDefault)) await delOne(t);
  return errors.sort((x, y) => y.index - x.index).map((x) => x.err);
}

/** Joins errors into one text for `details`. */
export function describeAll(errors: readonly CniError[]): string {
  return errors.map((e) => `${e.msg}${e.details ? ` (${e.details})` : ""}`).join("; ");
}

/**
 * Runs `fn` over `items` with at most `limit` at a time, starting no new item once `more()` is
 * false.
 */
async function runBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  more: () => boolean = () => true,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && more()) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Makes concurrent calls of `fn` run one after another, each seeing the state at its turn. */
function serialized(fn: () => Promise<void>): () => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  return () => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => {});
    return next;
  };
}

/**
 * Runs an ADD plan: the default network first, then the others in order, or concurrently (at
 * most `maxParallel` at a time) when `parallel` is set. `save` is called after every state change
 * so the cache always tells what may exist. On failure no further attachment is started, the
 * running ones finish, and every attachment that was started is deleted again, in reverse,
 * including the one that failed (plugins can leave half-made links behind).
 *
 * @param ctx execution settings
 * @param plan the plan
 * @param rec the cache record, already saved with every attachment planned
 * @param save persists `rec`
 * @param discard removes the cache record
 * @param finish runs once every attachment is added (e.g. default routes); when it fails, the
 *   whole plan is rolled back like a failed attachment
 * @returns the results, by attachment index
 * @throws {CniError} the error of the failed attachment with the lowest index, code kept,
 *   prefixed with its network; rollback problems in details. When rollback succeeded, the cache
 *   record has been removed by `discard`.
 */
export async function executeAdd(
  ctx: ExecContext,
  plan: Plan,
  rec: CacheRecord,
  save: () => Promise<void>,
  discard: () => Promise<void>,
  finish?: (results: readonly RawResult[]) => Promise<void>,
): Promise<RawResult[]> {
  const persist = serialized(save);
  const results: RawResult[] = [];
  const started = new Set<number>();
  let failure: { index: number; err: CniError } | undefined;
  const addOne = async (a: Attachment) => {
    const fields = { containerId: plan.containerId, network: a.network, ifname: a.ifname };
    const cached = rec.attachments[a.index];
    started.add(a.index);
    try {
      const r = await runDelegate(ctx.deps.exec, call(ctx, "ADD", plan, a));
      if (!r) throw new CniError(ErrorCode.DelegateBadOutput, "delegate produced no result");
      results[a.index] = r;
      if (cached) {
        cached.state = "added";
        cached.result = r;
      }
      await persist();
      ctx.log.verbose("delegate ADD done", fields);
    } catch (e) {
      const err = (e as CniError).withPrefix(where("ADD", a));
      ctx.log.error(err.message, { ...fields, code: err.code });
      if (cached) {
        cached.state = "failed";
        cached.error = { code: err.code, msg: err.msg };
      }
      if (!failure || a.index < failure.index) failure = { index: a.index, err };
      await persist().catch(() => {});
    }
  };
  const [first, ...rest] = plan.attachments;
  if (first) await addOne(first);
  await runBounded(rest, ctx.parallel ? ctx.maxParallel : 1, addOne, () => !failure);
  if (!failure && finish) {
    try {
      await finish(results);
    } catch (e) {
      const err = e as CniError;
      ctx.log.error(err.message, { containerId: plan.containerId, code: err.code });
      failure = { index: plan.attachments.length, err };
    }
  }
  if (failure) {
    const targets = plan.attachments.filter((a) => started.has(a.index)).map((attachment) => ({
      attachment,
      result: rec.attachments[attachment.index]?.result,
      ...(rec.attachments[attachment.index]?.state === "failed" ? { addFailed: true } : {}),
    }));
    throw await rollback(ctx, plan, rec, targets, failure.err, persist, discard);
  }
  return results;
}

async function rollback(
  ctx: ExecContext,
  plan: Plan,
  rec: CacheRecord,
  targets: DelTarget[],
  err: CniError,
  save: () => Promise<void>,
  discard: () => Promise<void>,
): Promise<CniError> {
  const problems = await deleteAll(ctx, plan, targets, async (index) => {
    const c = rec.attachments[index];
    if (c) c.state = "deleted";
    await save();
  });
  if (problems.length === 0) {
    await discard().catch((e) => problems.push(e as CniError));
  }
  if (problems.length === 0) return err;
  const details = [err.details, `rollback incomplete: ${describeAll(problems)}`]
    .filter(Boolean).join("; ");
  return new CniError(err.code, err.msg, details, { cause: err });
}
