/**
 * The write-ahead attachment cache: `<cniDir>/<containerId>` holds the plan and each
 * attachment's progress, written atomically (temp file, fsync, rename) before the first delegate
 * runs and after each one finishes, so that DEL knows what may exist after a crash or reboot.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import { atomicWrite } from "./atomic_write.ts";
import { type CniVersion, isSupportedVersion } from "../protocol/version.ts";
import type { RawResult } from "../invoke/chain.ts";
import { delegateText, parseDelegate } from "./delegate.ts";
import type { Attachment, Plan } from "./plan.ts";

/** Where an attachment stands. */
export type AttachmentState = "planned" | "added" | "failed" | "deleted";

/** One attachment as cached. */
export interface CachedAttachment {
  index: number;
  network: string;
  ifname: string;
  isDefault: boolean;
  /** The delegate's exact config text (what was validated and run). */
  config: string;
  runtimeConfig: Record<string, unknown>;
  cniArgs: string;
  defaultRoute?: string[];
  state: AttachmentState;
  result?: RawResult;
  error?: { code: number; msg: string };
}

/** The cache file's content. */
export interface CacheRecord {
  kind: "multicni-plan";
  format: 1;
  /** The meta-plugin network (its config's `name`) that made the plan. */
  metaNetwork: string;
  containerId: string;
  netns: string;
  ifname: string;
  cniVersion: CniVersion;
  /** ISO time the plan was written. */
  created: string;
  attachments: CachedAttachment[];
}

/** The cache format version this build writes and reads. */
export const CACHE_FORMAT = 1;

/**
 * Makes the cache record of a new plan: every attachment planned.
 *
 * @param plan the plan
 * @param metaNetwork the meta config's name
 * @param now the time to record
 * @returns the record
 */
export function recordOf(plan: Plan, metaNetwork: string, now: Date): CacheRecord {
  return {
    kind: "multicni-plan",
    format: CACHE_FORMAT,
    metaNetwork,
    containerId: plan.containerId,
    netns: plan.netns,
    ifname: plan.ifname,
    cniVersion: plan.cniVersion,
    created: now.toISOString(),
    attachments: plan.attachments.map((a) => ({
      index: a.index,
      network: a.network,
      ifname: a.ifname,
      isDefault: a.isDefault,
      config: delegateText(a.delegate),
      runtimeConfig: a.runtimeConfig,
      cniArgs: a.cniArgs,
      ...(a.defaultRoute ? { defaultRoute: a.defaultRoute } : {}),
      state: "planned",
    })),
  };
}

/**
 * Turns a cached attachment back into an Attachment.
 *
 * @param c the cached attachment
 * @param version the version for a config that names none
 * @returns the attachment
 * @throws {CniError} code 7 when the cached config no longer parses
 */
export function attachmentOf(c: CachedAttachment, version: CniVersion): Attachment {
  return {
    index: c.index,
    network: c.network,
    ifname: c.ifname,
    isDefault: c.isDefault,
    delegate: parseDelegate(JSON.parse(c.config), version, `cached network "${c.network}"`),
    runtimeConfig: c.runtimeConfig,
    cniArgs: c.cniArgs,
    ...(c.defaultRoute ? { defaultRoute: c.defaultRoute } : {}),
  };
}

/** The cache file of a container. */
export function cachePath(cniDir: string, containerId: string): string {
  return `${cniDir.replace(/\/+$/, "")}/${containerId}`;
}

function ioError(what: string, path: string, e: unknown): CniError {
  return new CniError(ErrorCode.IoFailure, `Cannot ${what} "${path}"`, (e as Error).message, {
    cause: e,
  });
}

/**
 * Creates the cache directory (0700) when it is missing.
 *
 * @param dir the directory
 * @throws {CniError} code 5 when it cannot be created
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw ioError("create cache directory", dir, e);
  }
}

/**
 * Writes a cache file atomically (0600; see {@linkcode atomicWrite}).
 *
 * @param path the target
 * @param text the content
 * @throws {CniError} code 5 on any failure; the target is then unchanged
 */
export async function writeAtomic(path: string, text: string): Promise<void> {
  try {
    await atomicWrite(path, new TextEncoder().encode(text), 0o600);
  } catch (e) {
    throw ioError("write", path, e);
  }
}

/**
 * Saves a record.
 *
 * @param cniDir the cache directory
 * @param rec the record
 * @throws {CniError} code 5 when it cannot be written
 */
export async function saveRecord(cniDir: string, rec: CacheRecord): Promise<void> {
  await writeAtomic(cachePath(cniDir, rec.containerId), JSON.stringify(rec));
}

/** What reading a cache file found. */
export type LoadedRecord =
  | { kind: "missing" }
  | { kind: "ok"; record: CacheRecord }
  /** Unreadable or damaged: the attachments that could be recovered, and why. */
  | { kind: "damaged"; attachments: CachedAttachment[]; reason: string };

/**
 * Reads a container's cache file.
 *
 * @param cniDir the cache directory
 * @param containerId the container
 * @returns what was found; never throws
 */
export async function loadRecord(cniDir: string, containerId: string): Promise<LoadedRecord> {
  const path = cachePath(cniDir, containerId);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { kind: "missing" };
    return { kind: "damaged", attachments: [], reason: `cannot read: ${(e as Error).message}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { kind: "damaged", attachments: salvage(text), reason: (e as Error).message };
  }
  const problem = recordProblem(value);
  if (problem) return { kind: "damaged", attachments: salvage(text), reason: problem };
  return { kind: "ok", record: value as CacheRecord };
}

function recordProblem(v: unknown): string | undefined {
  if (!v || typeof v !== "object") return "not a JSON object";
  const r = v as Partial<CacheRecord>;
  if (r.kind !== "multicni-plan") return "not a multicni cache record";
  if (r.format !== CACHE_FORMAT) return `unknown cache format ${JSON.stringify(r.format)}`;
  if (!isSupportedVersion(r.cniVersion)) return "no valid cniVersion";
  if (!Array.isArray(r.attachments)) return "no attachment list";
  for (const a of r.attachments) {
    if (!isCachedAttachment(a)) return "an attachment entry is malformed";
  }
  return undefined;
}

function isCachedAttachment(a: unknown): a is CachedAttachment {
  if (!a || typeof a !== "object") return false;
  const c = a as Partial<CachedAttachment>;
  return typeof c.config === "string" && typeof c.ifname === "string" &&
    typeof c.network === "string" && typeof c.index === "number" &&
    typeof c.cniArgs === "string" && !!c.runtimeConfig && typeof c.runtimeConfig === "object";
}

/**
 * Recovers attachments from a damaged (for example truncated) record: every complete attachment
 * object that can still be found in the text.
 */
function salvage(text: string): CachedAttachment[] {
  const out: CachedAttachment[] = [];
  const start = text.indexOf('"attachments":[');
  if (start < 0) return out;
  let i = start + '"attachments":['.length;
  while (i < text.length && text[i] === "{") {
    const end = matchingBrace(text, i);
    if (end < 0) break;
    try {
      const a = JSON.parse(text.slice(i, end + 1));
      if (isCachedAttachment(a)) out.push(a);
    } catch {
      break;
    }
    i = end + 1;
    if (text[i] === ",") i++;
  }
  return out;
}

/** Index of the brace closing the object that opens at `open`, or -1. */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return i;
  }
  return -1;
}

/**
 * Removes a container's cache file.
 *
 * @param cniDir the cache directory
 * @param containerId the container
 * @throws {CniError} code 5 when it exists and cannot be removed
 */
export async function removeRecord(cniDir: string, containerId: string): Promise<void> {
  const path = cachePath(cniDir, containerId);
  try {
    await Deno.remove(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw ioError("remove", path, e);
  }
}

/** A held per-container lock. */
export interface Lock {
  release(): Promise<void>;
}

/**
 * Serializes ADD, DEL and CHECK of one container (runtimes retry, and may overlap): an exclusive
 * `flock` on `<cniDir>/.lock.<containerId>`. The file is removed by the last holder; a waiter that
 * wakes on a removed file takes the lock again on the new one.
 *
 * @param cniDir the cache directory (created when missing)
 * @param containerId the container
 * @returns the lock
 * @throws {CniError} code 5 when the lock file cannot be opened
 */
export async function lockContainer(cniDir: string, containerId: string): Promise<Lock> {
  await ensureDir(cniDir);
  const path = `${cniDir.replace(/\/+$/, "")}/.lock.${containerId}`;
  for (;;) {
    let f: Deno.FsFile | undefined;
    try {
      f = await openLockFile(path);
    } catch (e) {
      throw ioError("open lock file", path, e);
    }
    if (!f) continue;
    await f.lock(true);
    const held = await f.stat();
    const current = await Deno.lstat(path).catch(() => undefined);
    if (current && current.ino === held.ino && current.isFile) {
      const file = f;
      return {
        async release() {
          // Remove while holding the lock, so no one can take a lock on a file that is going.
          await Deno.remove(path).catch(() => {});
          file.close();
        },
      };
    }
    f.close();
    if (current && !current.isFile) {
      throw ioError("open lock file", path, new Error("it was replaced by a non-regular file"));
    }
  }
}

/**
 * Opens the lock file without following a symlink planted at its path: it is created with
 * O_EXCL, or, when it exists, opened only if it is a regular file. Opening with O_CREAT alone
 * followed a symlink, created its target, and then looped forever because the path never
 * matched the file locked.
 *
 * @returns the file, or undefined when it vanished meanwhile (its last holder removed it)
 * @throws {Error} when the path holds something other than a regular file
 */
async function openLockFile(path: string): Promise<Deno.FsFile | undefined> {
  try {
    return await Deno.open(path, { read: true, write: true, createNew: true, mode: 0o600 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  const info = await Deno.lstat(path).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isFile) throw new Error("it exists and is not a regular file");
  try {
    return await Deno.open(path, { read: true, write: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
