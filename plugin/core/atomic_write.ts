/**
 * Replacing a file so that a reader (a runtime, a DEL after a crash) sees the old content or the
 * new, never a half-written or empty file, and a running binary never gets "text file busy".
 * Shared by the attachment cache and `install`.
 *
 * @module
 */

/**
 * Replaces a file atomically: a temp file in the same directory (created exclusively, so a
 * planted symlink is never followed), every byte written (a short write on a nearly full disk is
 * not the end of the data), fsync, chmod, rename, then fsync of the directory.
 *
 * @param path the target
 * @param bytes the content; must not be empty
 * @param mode the file mode
 * @throws {Error} when it cannot be written (the target is then unchanged)
 */
export async function atomicWrite(path: string, bytes: Uint8Array, mode: number): Promise<void> {
  if (bytes.length === 0) throw new Error(`refusing to write an empty "${path}"`);
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash) || "/";
  const tmp = `${dir}/.tmp.${path.slice(slash + 1)}.${crypto.randomUUID().slice(0, 8)}`;
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true, mode });
    try {
      for (let at = 0; at < bytes.length;) at += await f.write(bytes.subarray(at));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.chmod(tmp, mode); // the umask may have narrowed it
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Best effort: some filesystems refuse to sync a directory.
  }
}
