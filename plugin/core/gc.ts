/**
 * GC (CNI 1.1.0): the runtime lists the attachments still in use; every cached plan of this
 * network whose container is not among them is deleted, and each delegate network is asked to
 * collect what it holds for containers that are gone (Multus only asks the cluster network).
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { Request } from "../protocol/dispatch.ts";
import { runDelegate } from "../invoke/chain.ts";
import { loadRecord, lockContainer, removeRecord } from "./cache.ts";
import type { CoreDeps } from "./deps.ts";
import { deleteAll, delTargetOf, describeAll, type ExecContext, networkCall } from "./execute.ts";
import type { NetConf } from "./netconf.ts";
import { loadDelegates } from "./plan.ts";

/** One attachment the runtime still uses. */
interface ValidAttachment {
  containerID: string;
  ifname: string;
}

function validAttachments(conf: Record<string, unknown>): ValidAttachment[] {
  const list = conf["cni.dev/valid-attachments"] ?? conf["cni.dev/attachments"] ?? [];
  if (!Array.isArray(list)) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      "Invalid GC request",
      "cni.dev/valid-attachments must be a list",
    );
  }
  return list.filter((x): x is ValidAttachment =>
    !!x && typeof x.containerID === "string" && typeof x.ifname === "string"
  );
}

async function cachedContainers(cniDir: string): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const e of Deno.readDir(cniDir)) {
      if (e.isFile && !e.name.startsWith(".")) ids.push(e.name);
    }
  } catch {
    // No cache directory: nothing cached.
  }
  return ids.sort();
}

/**
 * Runs GC.
 *
 * @param deps dependencies
 * @param conf the meta config
 * @param req the request (its config carries `cni.dev/valid-attachments`)
 * @param ctx execution settings
 * @throws {CniError} after trying everything, the first failure with the others in details
 */
export async function gcCommand(
  deps: CoreDeps,
  conf: NetConf,
  req: Request,
  ctx: ExecContext,
): Promise<void> {
  const valid = validAttachments(req.conf);
  const live = new Set(valid.map((v) => v.containerID));
  const errors: CniError[] = [];
  // Per delegate network: the (container, interface) pairs that stay.
  const keep = new Map<string, ValidAttachment[]>();
  for (const id of await cachedContainers(conf.cniDir)) {
    const lock = await lockContainer(conf.cniDir, id);
    try {
      const loaded = await loadRecord(conf.cniDir, id);
      if (loaded.kind !== "ok" || loaded.record.metaNetwork !== conf.name) continue;
      const rec = loaded.record;
      if (live.has(id)) {
        for (const c of rec.attachments) {
          const l = keep.get(c.network) ?? [];
          l.push({ containerID: id, ifname: c.ifname });
          keep.set(c.network, l);
        }
        continue;
      }
      ctx.log.verbose("GC deletes a stale attachment plan", { containerId: id });
      const targets = rec.attachments.filter((c) => c.state !== "deleted").map((c) =>
        delTargetOf(c, rec.cniVersion)
      );
      const problems = await deleteAll(ctx, { containerId: id, netns: "" }, targets);
      if (problems.length === 0) await removeRecord(conf.cniDir, id);
      errors.push(...problems);
    } finally {
      await lock.release();
    }
  }
  const delegates = await loadDelegates(conf);
  for (const [i, d] of delegates.entries()) {
    const stays = keep.get(d.name) ?? [];
    // Containers without a cached plan keep their default attachment under the runtime's name.
    if (i === 0) {
      stays.push(...valid.filter((v) => !stays.some((s) => s.containerID === v.containerID)));
    }
    try {
      await runDelegate(deps.exec, networkCall(ctx, "GC", d, stays));
    } catch (e) {
      errors.push((e as CniError).withPrefix(`GC network "${d.name}"`));
    }
  }
  const first = errors[0];
  if (first) {
    throw new CniError(first.code, first.msg, describeAll(errors.slice(1)) || first.details);
  }
}
