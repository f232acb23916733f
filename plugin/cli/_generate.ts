/**
 * The config `multicni install` writes: `00-multicni.conflist` (`.conf` for cniVersion before
 * 1.0.0), sorting first in the conf dir so the runtime uses it, with the node's primary config
 * (the alphabetically first other config) inlined as the default network.
 *
 * @module
 */

import { compareVersions, negotiateVersion } from "../protocol/version.ts";
import { listConfFiles } from "../core/delegate.ts";
import { callsSelf, type JsonObject, pluginObjects } from "./_config.ts";
import { GENERATED_BASENAME, MARKER_KEY } from "./_install_state.ts";

/** The node's primary network config. */
export interface Primary {
  /** Its file name in the conf dir. */
  file: string;
  config: JsonObject;
}

/** The multicni keys install puts into the generated config (host paths). */
export interface GenerateOptions {
  binDir: string;
  cniDir: string;
  /** Where multicni looks up networks by name (`confDir` key); empty: multicni's default. */
  multicniConfDir: string;
  kubeconfig: string;
  readinessIndicatorFile: string;
  logFile: string;
  logLevel: string;
  /** Overrides the primary's cniVersion. */
  cniVersion: string;
  /** The build that wrote it, recorded in the marker. */
  version: string;
}

/** The generated config: file name and text. */
export interface Generated {
  file: string;
  text: string;
  cniVersion: string;
}

/** The file names install writes (one at a time). */
export const GENERATED_FILES: readonly string[] = [
  `${GENERATED_BASENAME}.conf`,
  `${GENERATED_BASENAME}.conflist`,
];

/**
 * Finds the primary config: the alphabetically first `.conf`/`.conflist`/`.json` in the conf
 * dir that parses, has a name and plugins, and does not call multicni or Multus (so the
 * generated config never nests itself, nor an old Multus config).
 *
 * @param localConfDir the conf dir as this process sees it
 * @returns the primary, or undefined when there is none yet
 */
export async function findPrimary(localConfDir: string): Promise<Primary | undefined> {
  for (const path of await listConfFiles(localConfDir)) {
    const file = path.slice(path.lastIndexOf("/") + 1);
    if (GENERATED_FILES.includes(file)) continue;
    let config: unknown;
    try {
      config = JSON.parse(await Deno.readTextFile(path));
    } catch {
      continue; // Unreadable, or being written by the network's own installer: not ready.
    }
    if (!config || typeof config !== "object" || Array.isArray(config)) continue;
    const obj = config as JsonObject;
    if (typeof obj.name !== "string" || pluginObjects(obj).length === 0) continue;
    if (callsSelf(obj)) continue;
    return { file, config: obj };
  }
  return undefined;
}

/**
 * Waits for the primary config to appear, polling.
 *
 * @param localConfDir the conf dir as this process sees it
 * @param timeoutMs how long to wait
 * @param signal stops the wait early
 * @returns the primary, or undefined after the timeout
 */
export async function waitForPrimary(
  localConfDir: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Primary | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await findPrimary(localConfDir);
    if (p || Date.now() >= deadline || signal?.aborted) return p;
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now()))));
  }
}

/** The capabilities any plugin of the primary declares: the runtime then hands us that runtime
 * config, and multicni passes it to the default network. */
function capabilitiesOf(config: JsonObject): Record<string, boolean> {
  const caps: Record<string, boolean> = {};
  for (const p of pluginObjects(config)) {
    const c = p.capabilities;
    if (c && typeof c === "object") {
      for (const [k, on] of Object.entries(c)) if (on === true) caps[k] = true;
    }
  }
  return caps;
}

/**
 * Builds the generated config for a primary.
 *
 * @param primary the primary config
 * @param o the options
 * @returns file name, text and version
 * @throws {CniError} code 1 when the primary's version is not supported
 */
export function generateConfig(primary: Primary, o: GenerateOptions): Generated {
  const cniVersion = o.cniVersion || negotiateVersion(primary.config);
  const plugin: JsonObject = { type: "multicni" };
  const caps = capabilitiesOf(primary.config);
  if (Object.keys(caps).length > 0) plugin.capabilities = caps;
  plugin.binDir = o.binDir;
  plugin.cniDir = o.cniDir;
  if (o.multicniConfDir) plugin.confDir = o.multicniConfDir;
  if (o.kubeconfig) plugin.kubeconfig = o.kubeconfig;
  if (o.readinessIndicatorFile) plugin.readinessindicatorfile = o.readinessIndicatorFile;
  if (o.logFile) plugin.logFile = o.logFile;
  if (o.logLevel) plugin.logLevel = o.logLevel;
  plugin.delegates = [primary.config];
  const marker = { generatedBy: `multicni ${o.version}`, primary: primary.file };
  // CNI 1.0.0 dropped single-plugin configs; runtimes speaking older versions expect one.
  const asConf = compareVersions(cniVersion, "1.0.0") < 0;
  const obj = asConf
    ? { cniVersion, name: "multicni", ...plugin, [MARKER_KEY]: marker }
    : { cniVersion, name: "multicni", plugins: [plugin], [MARKER_KEY]: marker };
  return {
    file: `${GENERATED_BASENAME}.${asConf ? "conf" : "conflist"}`,
    text: JSON.stringify(obj, null, 2) + "\n",
    cniVersion,
  };
}
