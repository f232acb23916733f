/**
 * What `install` records about the files it wrote, so that `uninstall` removes exactly those and
 * nothing else: `<confDir>/multicni.d/install.json` maps each file (as a path on the host) to
 * the SHA-256 of what install last wrote there. A file changed since is left alone.
 *
 * The state lives in a subdirectory of the conf dir, as Multus keeps its kubeconfig: runtimes
 * read only the conf dir's own files, never its subdirectories.
 *
 * @module
 */

import { atomicWrite, readIfExists, removeIfExists } from "./_fs.ts";

/** The generated config's file name without extension (`.conflist`, or `.conf` before 1.0.0). */
export const GENERATED_BASENAME = "00-multicni";
/** The subdirectory of the conf dir holding the manifest and the kubeconfig. */
export const STATE_DIR = "multicni.d";
/** The key marking a config as written by `multicni install`. */
export const MARKER_KEY = "multicniInstall";

/** The install manifest. */
export interface Manifest {
  kind: "multicni-install";
  /** Host path → SHA-256 of the content install wrote. */
  files: Record<string, string>;
}

/** Maps host paths to where this process sees them (`--host-root`, for a pod with hostPath mounts). */
export class HostFs {
  /**
   * @param root where the host's `/` is mounted; empty on the node itself
   */
  constructor(readonly root: string) {}

  /** The local path of a host path. */
  local(hostPath: string): string {
    return `${this.root.replace(/\/+$/, "")}${hostPath}`;
  }
}

/**
 * The manifest's host path.
 *
 * @param confDir the conf dir (host path)
 * @returns the manifest path (host path)
 */
export function manifestPath(confDir: string): string {
  return `${confDir.replace(/\/+$/, "")}/${STATE_DIR}/install.json`;
}

/**
 * Reads the manifest.
 *
 * @param fs the host mapping
 * @param confDir the conf dir (host path)
 * @returns the manifest; an empty one when there is none or it is unreadable
 */
export async function loadManifest(fs: HostFs, confDir: string): Promise<Manifest> {
  const empty: Manifest = { kind: "multicni-install", files: {} };
  const bytes = await readIfExists(fs.local(manifestPath(confDir))).catch(() => undefined);
  if (!bytes) return empty;
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes)) as Partial<Manifest>;
    if (m.kind !== "multicni-install" || !m.files || typeof m.files !== "object") return empty;
    return { kind: "multicni-install", files: { ...m.files } };
  } catch {
    return empty;
  }
}

/**
 * Writes the manifest, or removes it (and the state dir when empty) when it lists nothing.
 *
 * @param fs the host mapping
 * @param confDir the conf dir (host path)
 * @param m the manifest
 * @throws {Error} when it cannot be written
 */
export async function saveManifest(fs: HostFs, confDir: string, m: Manifest): Promise<void> {
  const path = fs.local(manifestPath(confDir));
  if (Object.keys(m.files).length === 0) {
    await removeIfExists(path);
    await Deno.remove(path.slice(0, path.lastIndexOf("/"))).catch(() => {});
    return;
  }
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true, mode: 0o700 });
  const sorted = Object.fromEntries(Object.entries(m.files).sort(([a], [b]) => a < b ? -1 : 1));
  const text = JSON.stringify({ kind: m.kind, files: sorted }, null, 2) + "\n";
  await atomicWrite(path, new TextEncoder().encode(text), 0o600);
}
