/**
 * Delegate network configs: a single plugin conf or a conflist, as a tagged union, and where they
 * come from (inline objects, a conf dir searched by name, a directory or a file).
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import { type CniVersion, negotiateVersion } from "../protocol/version.ts";
import { networkNameProblem } from "../protocol/names.ts";

/** One plugin's config object; `type` names its binary. */
export type PluginConf = Record<string, unknown> & { type: string };

/** A delegate network: one plugin, or a chain of plugins run with conflist semantics. */
export type DelegateConfig =
  | { kind: "conf"; name: string; cniVersion: CniVersion; conf: PluginConf }
  | {
    kind: "conflist";
    name: string;
    cniVersion: CniVersion;
    list: Record<string, unknown>;
    plugins: PluginConf[];
  };

/** File endings of network config files, as libcni reads them. */
export const CONF_EXTENSIONS = [".conf", ".conflist", ".json"] as const;

function invalid(where: string, why: string): CniError {
  return new CniError(ErrorCode.InvalidNetworkConfig, `Invalid network config ${where}`, why);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

function asPlugin(x: unknown, where: string, at: string): PluginConf {
  if (!isObject(x)) throw invalid(where, `${at} is not an object`);
  if (typeof x.type !== "string" || x.type === "") {
    throw invalid(where, `${at}type is missing or not a string`);
  }
  return x as PluginConf;
}

/**
 * Reads a delegate from a parsed JSON object: a conflist when it has `plugins`, else a conf.
 * A missing `cniVersion` is taken from the meta config, as Multus does.
 *
 * @param obj the parsed object
 * @param inheritVersion the version to use when the object names none
 * @param source where it came from, for messages
 * @returns the delegate
 * @throws {CniError} code 7 (shape) or 1 (version)
 */
export function parseDelegate(
  obj: unknown,
  inheritVersion: CniVersion,
  source: string,
): DelegateConfig {
  if (!isObject(obj)) throw invalid(source, "a delegate must be a JSON object");
  const name = obj.name;
  const where = typeof name === "string" && name !== "" ? `"${name}"` : source;
  if (typeof name !== "string") throw invalid(where, "name is missing or not a string");
  const nameProblem = networkNameProblem(name);
  if (nameProblem) throw invalid(where, `name ${JSON.stringify(name)}: ${nameProblem}`);
  const withVersion = obj.cniVersion === undefined && obj.cniVersions === undefined
    ? { cniVersion: inheritVersion, ...obj }
    : obj;
  let cniVersion: CniVersion;
  try {
    cniVersion = negotiateVersion(withVersion);
  } catch (e) {
    throw (e as CniError).withPrefix(`Network ${where}`);
  }
  if ("plugins" in obj) {
    const plugins = obj.plugins;
    if (!Array.isArray(plugins) || plugins.length === 0) {
      throw invalid(where, "plugins must be a non-empty list");
    }
    return {
      kind: "conflist",
      name,
      cniVersion,
      list: { ...withVersion, cniVersion },
      plugins: plugins.map((p, i) => asPlugin(p, where, `plugins[${i}].`)),
    };
  }
  return {
    kind: "conf",
    name,
    cniVersion,
    conf: asPlugin({ ...withVersion, cniVersion }, where, ""),
  };
}

/**
 * The exact JSON text of a delegate: what is validated, cached and replayed by DEL.
 *
 * @param d the delegate
 * @returns its JSON text
 */
export function delegateText(d: DelegateConfig): string {
  return JSON.stringify(d.kind === "conf" ? d.conf : { ...d.list, plugins: d.plugins });
}

/**
 * The plugins a delegate runs, in ADD order.
 *
 * @param d the delegate
 * @returns its plugin configs
 */
export function pluginsOf(d: DelegateConfig): PluginConf[] {
  return d.kind === "conf" ? [d.conf] : d.plugins;
}

/** Reads and parses one config file; undefined when it is not a readable JSON object. */
async function readConfFile(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lists the config files of a directory in the order libcni uses (by file name).
 *
 * @param dir the directory
 * @returns absolute paths; empty when the directory cannot be read
 */
export async function listConfFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if ((e.isFile || e.isSymlink) && CONF_EXTENSIONS.some((x) => e.name.endsWith(x))) {
        names.push(e.name);
      }
    }
  } catch {
    return [];
  }
  return names.sort().map((n) => `${dir.replace(/\/+$/, "")}/${n}`);
}

/**
 * Loads a network given as a name (searched in `confDir`), a directory (its first config file)
 * or a file path (anything containing `/`).
 *
 * @param ref the name or path
 * @param confDir the conf dir searched for names
 * @param inheritVersion the version for configs that name none
 * @returns the delegate
 * @throws {CniError} code 7 when nothing matches or the config is invalid
 */
export async function loadNetwork(
  ref: string,
  confDir: string,
  inheritVersion: CniVersion,
): Promise<DelegateConfig> {
  if (ref.includes("/")) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(ref);
    } catch (e) {
      throw invalid(`"${ref}"`, `cannot read it: ${(e as Error).message}`);
    }
    const files = info.isDirectory ? await listConfFiles(ref) : [ref];
    for (const f of files) {
      const obj = await readConfFile(f);
      if (obj) return parseDelegate(obj, inheritVersion, `"${f}"`);
    }
    throw invalid(`"${ref}"`, info.isDirectory ? "no readable config file in it" : "not JSON");
  }
  for (const f of await listConfFiles(confDir)) {
    const obj = await readConfFile(f);
    if (obj?.name === ref) return parseDelegate(obj, inheritVersion, `"${f}"`);
  }
  throw new CniError(
    ErrorCode.InvalidNetworkConfig,
    `Network "${ref}" not found`,
    `no .conf, .conflist or .json file in "${confDir}" has name "${ref}"`,
  );
}
