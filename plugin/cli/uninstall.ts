/**
 * `multicni uninstall`: removes the files `multicni install` wrote, as its manifest records them,
 * and nothing else. A file changed since install (another tool replaced it) is left in place.
 *
 * @module
 */

import { parseArgs, wantsJson } from "./_args.ts";
import { readIfExists, removeIfExists, sha256 } from "./_fs.ts";
import { GENERATED_FILES } from "./_generate.ts";
import { HostFs, loadManifest, MARKER_KEY, saveManifest } from "./_install_state.ts";
import type { CliIo } from "./_io.ts";

/** `multicni uninstall --help`. */
export const UNINSTALL_HELP = `usage: multicni uninstall [options]

Removes what multicni install wrote: the binaries, the generated config and the kubeconfig,
as recorded in <conf-dir>/multicni.d/install.json. A file that changed since install is kept.
A generated config (it carries the "${MARKER_KEY}" key) is removed even without the record.
The cache dir is left alone: it is what DEL needs for containers that still exist.

  --conf-dir DIR     the CNI conf dir install wrote to (default: /etc/cni/net.d)
  --host-root DIR    where the node's / is mounted (in a DaemonSet: /host)
  --format FORMAT    text (default) or json (one object per line)

Exit codes: 0 done (also when nothing was installed), 1 a file could not be removed, 2 usage.
`;

/**
 * Runs `multicni uninstall`.
 *
 * @param args arguments after `uninstall`
 * @param io output channels
 * @returns the exit code
 * @throws {UsageError} for bad arguments
 */
export async function uninstallCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(args, {
    values: { "conf-dir": "/etc/cni/net.d", "host-root": "", format: undefined },
  });
  if (p.help) {
    io.stdout(UNINSTALL_HELP);
    return 0;
  }
  const json = wantsJson(p);
  const report = (event: string, path: string, detail?: string) =>
    io.stdout(
      json
        ? `${JSON.stringify({ event, path, ...(detail ? { detail } : {}) })}\n`
        : `${event} ${path}${detail ? ` (${detail})` : ""}\n`,
    );
  const fs = new HostFs(p.values["host-root"]!);
  const confDir = p.values["conf-dir"]!.replace(/\/+$/, "") || "/";
  const manifest = await loadManifest(fs, confDir);
  let failed = false;
  const files = { ...manifest.files };
  for (const f of GENERATED_FILES) {
    const path = `${confDir}/${f}`;
    if (path in files) continue;
    const bytes = await readIfExists(fs.local(path)).catch(() => undefined);
    try {
      if (bytes && MARKER_KEY in JSON.parse(new TextDecoder().decode(bytes))) {
        files[path] = await sha256(bytes);
      }
    } catch {
      // Not JSON: not ours.
    }
  }
  for (const [path, sum] of Object.entries(files).sort(([a], [b]) => a < b ? -1 : 1)) {
    try {
      const bytes = await readIfExists(fs.local(path));
      if (bytes && (await sha256(bytes)) !== sum) {
        report("kept", path, "changed since install");
      } else if (bytes && await removeIfExists(fs.local(path))) {
        report("removed", path);
      }
      delete manifest.files[path];
    } catch (e) {
      io.stderr(`multicni uninstall: cannot remove "${path}": ${(e as Error).message}\n`);
      failed = true;
    }
  }
  if (Object.keys(files).length === 0) report("nothing-installed", confDir);
  await saveManifest(fs, confDir, manifest);
  return failed ? 1 : 0;
}
