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
import type { CacheRecord } from "./cache.ts";
import type { Attachment, Plan } from "./plan.ts";
import type { CoreDeps } from "./deps.ts";

/** Settings of an execution that come from the meta config and the runtime. */
export interface ExecContext {
  deps: CoreDeps;
  log: Logger;
  /** binDir, then CNI_PATH. */
  pluginDirs: readonly string[];
  timeoutMs: number;
}

/** The prefix that says which attachment an error belongs to. */
export function where(command: string, a: Pick<Attachment, "network" | "ifname">): string {
  return `${command} network "${a.network}" on ${a.ifname}`;
}

function call(
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

/** One attachment to delete, with the result its ADD produced, if any. */
export interface DelTarget {
  attachment: Attachment;
  result?: RawResult | undefined;
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
  const errors: CniError[] = [];
  for (const t of [...targets].reverse()) {
    const a = t.attachment;
    const fields = { containerId: plan.containerId, network: a.network, ifname: a.ifname };
    try {
      await runDelegate(ctx.deps.exec, call(ctx, "DEL", plan, a, t.result));
      ctx.log.verbose("delegate DEL done", fields);
      await onDeleted?.(a.index);
    } catch (e) {
      const err = (e as CniError).withPrefix(where("DEL", a));
      ctx.log.error(err.message, { ...fields, code: err.code });
      errors.push(err);
    }
  }
  return errors;
}

/** Joins errors into one text for `details`. */
export function describeAll(errors: readonly CniError[]): string {
  return errors.map((e) => `${e.msg}${e.details ? ` (${e.details})` : ""}`).join("; ");
}

/**
 * Runs an ADD plan. `save` is called after every state change so the cache always tells what
 * may exist. On failure every attachment that was started is deleted again, in reverse, including
 * the one that failed (plugins can leave half-made links behind).
 *
 * @param ctx execution settings
 * @param plan the plan
 * @param rec the cache record, already saved with every attachment planned
 * @param save persists `rec`
 * @returns the results, by attachment index
 * @throws {CniError} the failing delegate's error, code kept, prefixed with its network; rollback
 *   problems in details. When rollback succeeded, the cache record has been removed by `discard`.
 */
export async function executeAdd(
  ctx: ExecContext,
  plan: Plan,
  rec: CacheRecord,
  save: () => Promise<void>,
  discard: () => Promise<void>,
): Promise<RawResult[]> {
  const results: RawResult[] = [];
  for (const a of plan.attachments) {
    const fields = { containerId: plan.containerId, network: a.network, ifname: a.ifname };
    const cached = rec.attachments[a.index];
    try {
      const r = await runDelegate(ctx.deps.exec, call(ctx, "ADD", plan, a));
      if (!r) throw new CniError(ErrorCode.DelegateBadOutput, "delegate produced no result");
      results.push(r);
      if (cached) {
        cached.state = "added";
        cached.result = r;
      }
      await save();
      ctx.log.verbose("delegate ADD done", fields);
    } catch (e) {
      const err = (e as CniError).withPrefix(where("ADD", a));
      ctx.log.error(err.message, { ...fields, code: err.code });
      if (cached) {
        cached.state = "failed";
        cached.error = { code: err.code, msg: err.msg };
      }
      await save().catch(() => {});
      throw await rollback(ctx, plan, rec, a.index, err, save, discard);
    }
  }
  return results;
}

async function rollback(
  ctx: ExecContext,
  plan: Plan,
  rec: CacheRecord,
  failed: number,
  err: CniError,
  save: () => Promise<void>,
  discard: () => Promise<void>,
): Promise<CniError> {
  const targets = plan.attachments.slice(0, failed + 1).map((attachment) => ({
    attachment,
    result: rec.attachments[attachment.index]?.result,
  }));
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
