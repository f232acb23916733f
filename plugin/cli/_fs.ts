/**
 * File operations of install and uninstall. Files a runtime may be reading or executing are
 * never opened for writing: the new content goes to a temp file in the same directory, is
 * synced, and renamed over the target, so a runtime sees the old file or the new one, never a
 * half-written or empty one, and never gets "text file busy" (a Multus upgrade pain point).
 *
 * @module
 */

export { atomicWrite } from "../core/atomic_write.ts";

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
