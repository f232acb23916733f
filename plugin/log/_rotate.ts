/**
 * Size-based rotation of the log file: `file` -> `file.1` -> `file.2[.gz]` ... up to `maxBackups`.
 *
 * Several multicni processes (one per CNI invocation) append to the same file, so every step here
 * tolerates another process having done it first: renames and removals that fail are ignored.
 *
 * `file.1` is never compressed (logrotate's "delaycompress"): a process that checked the file just
 * before another one rotated it may still append its line to what is now `file.1`, and compressing
 * and removing that file at once would lose the line. Older plain backups are gzipped in the
 * background with `CompressionStream` (a web API; no `node:zlib`), which is asynchronous: if the
 * process exits first, the backup stays plain and the next rotation compresses it.
 *
 * @module
 */

/** Rotation settings, already defaulted and converted to bytes and milliseconds. */
export interface RotationPolicy {
  /** Largest size the active file may reach, in bytes. */
  maxBytes: number;
  /** Backups kept by count; 0 keeps all (as lumberjack, which Multus uses). */
  maxBackups: number;
  /** Backups older than this (by mtime) are removed; 0 keeps all. */
  maxAgeMs: number;
  /** Whether backups from `.2` on are gzipped. */
  compress: boolean;
}

interface Backup {
  index: number;
  name: string;
  gz: boolean;
}

/** A compression temporary older than this belongs to a process that died; remove it. */
const STALE_TEMP_MS = 10 * 60 * 1000;

/** Makes temporaries unique within this process too (several compressions may be in flight). */
let tempCounter = 0;

function ignore(action: () => void): void {
  try {
    action();
  } catch {
    // Another process got there first, or the file is gone: either way nothing to do.
  }
}

function splitPath(path: string): { dir: string; base: string } {
  const slash = path.lastIndexOf("/");
  return slash < 0
    ? { dir: ".", base: path }
    : { dir: path.slice(0, slash) || "/", base: path.slice(slash + 1) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Lists `base.N` and `base.N.gz` in the log directory, and removes stale compression temps. */
function listBackups(path: string, now: number): Backup[] {
  const { dir, base } = splitPath(path);
  const backup = new RegExp(`^${escapeRegExp(base)}\\.(\\d+)(\\.gz)?$`);
  const temp = new RegExp(`^${escapeRegExp(base)}\\.\\d+\\.gz\\.\\d+-\\d+\\.tmp$`);
  const found: Backup[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const match = backup.exec(entry.name);
    const full = `${dir}/${entry.name}`;
    if (match?.[1] !== undefined) {
      found.push({ index: Number(match[1]), name: full, gz: match[2] !== undefined });
    } else if (temp.test(entry.name)) {
      ignore(() => {
        const mtime = Deno.statSync(full).mtime?.getTime() ?? now;
        if (now - mtime > STALE_TEMP_MS) Deno.removeSync(full);
      });
    }
  }
  return found.sort((a, b) => b.index - a.index);
}

/**
 * Runs `action` while holding an exclusive lock (flock) on the inode currently at `path`: the
 * one lock that rotations and compressions of this log agree on, so backups are never shifted
 * while another process renames them. Runs `action` unlocked if the file cannot be locked, and not
 * at all if `path` does not exist.
 *
 * @param path the active log file
 * @param action receives the locked file's info, which is the file at `path`
 */
export function withRotationLock(path: string, action: (locked: Deno.FileInfo) => void): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true });
    } catch {
      return;
    }
    try {
      let lockedInfo: Deno.FileInfo | undefined;
      try {
        file.lockSync(true);
        lockedInfo = file.statSync();
      } catch {
        // No locking on this filesystem: proceed, the renames below are still safe to fail.
      }
      const current = Deno.statSync(path);
      // Rotated between our open and our lock: we hold the old inode; lock the new one.
      if (lockedInfo && (current.ino !== lockedInfo.ino || current.dev !== lockedInfo.dev)) {
        continue;
      }
      action(current);
      return;
    } catch {
      return;
    } finally {
      ignore(() => file.close()); // closing releases the lock
    }
  }
}

/**
 * Moves `path` to `path.1` after shifting older backups up by one, dropping those past
 * `maxBackups` and those older than `maxAgeMs`. Call it inside {@linkcode withRotationLock}, after
 * checking that no other process rotated the file meanwhile.
 *
 * @param path the active log file
 * @param policy rotation settings
 * @param now current time in ms since the epoch
 * @returns plain backups that should now be compressed (empty unless `policy.compress`)
 */
export function rotate(path: string, policy: RotationPolicy, now: number): string[] {
  let backups: Backup[] = [];
  ignore(() => backups = listBackups(path, now));
  for (const b of backups) {
    if (policy.maxBackups > 0 && b.index >= policy.maxBackups) {
      ignore(() => Deno.removeSync(b.name));
    } else {
      ignore(() => Deno.renameSync(b.name, `${path}.${b.index + 1}${b.gz ? ".gz" : ""}`));
    }
  }
  ignore(() => Deno.renameSync(path, `${path}.1`));
  const toCompress: string[] = [];
  for (const b of backups) {
    if (policy.maxBackups > 0 && b.index >= policy.maxBackups) continue;
    const name = `${path}.${b.index + 1}${b.gz ? ".gz" : ""}`;
    let removed = false;
    if (policy.maxAgeMs > 0) {
      ignore(() => {
        const mtime = Deno.statSync(name).mtime?.getTime();
        if (mtime !== undefined && now - mtime > policy.maxAgeMs) {
          Deno.removeSync(name);
          removed = true;
        }
      });
    }
    if (!removed && policy.compress && !b.gz) toCompress.push(name);
  }
  return toCompress;
}

/**
 * Gzips `name` to `name.gz` and removes `name`, unless the file changed or moved meanwhile (then
 * the next rotation retries). The final rename and removal happen under the rotation lock.
 * Never rejects.
 *
 * @param activePath the active log file, whose lock guards the backups
 * @param name a plain backup, `file.N` with N >= 2
 */
export async function compressBackup(activePath: string, name: string): Promise<void> {
  const temp = `${name}.gz.${Deno.pid}-${tempCounter++}.tmp`;
  let tempCreated = false;
  try {
    const before = Deno.statSync(name);
    const input = await Deno.open(name, { read: true });
    let output: Deno.FsFile;
    try {
      output = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
      tempCreated = true;
    } catch (e) {
      input.close();
      throw e;
    }
    // pipeTo closes both files, also on failure.
    await input.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(output.writable);
    withRotationLock(activePath, () => {
      const after = Deno.statSync(name);
      if (after.ino !== before.ino || after.size !== before.size) return; // shifted meanwhile
      Deno.renameSync(temp, `${name}.gz`);
      tempCreated = false;
      Deno.removeSync(name);
    });
  } catch {
    // Best effort: the plain backup is still there and complete.
  } finally {
    if (tempCreated) ignore(() => Deno.removeSync(temp));
  }
}
