/**
 * File operations of install and uninstall. Files a runtime may be reading or executing are
 * never opened for writing: the new content goes to a temp file in the same directory, is
 * synced, and renamed over the target, so a runtime sees the old file or the new one, never a
 * half-written or empty one, and never gets "text file busy" (a Multus upgrade pain point).
 *
 * @module
 */

/** The hex SHA-256 of some bytes. */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Reads a file, or returns undefined when it does not exist.
 *
 * @param path the file
 * @returns its bytes
 * @throws {Error} for errors other than "not found"
 */
export async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Replaces a file atomically: temp file in the same directory (created exclusively, so a
 * planted symlink is never followed), write, fsync, chmod, rename, fsync of the directory.
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
  const tmp = `${dir}/.${path.slice(slash + 1)}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true, mode });
    try {
      let at = 0;
      while (at < bytes.length) at += await f.write(bytes.subarray(at));
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

/**
 * Removes a file when it exists.
 *
 * @param path the file
 * @returns true when something was removed
 * @throws {Error} for errors other than "not found"
 */
export async function removeIfExists(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
