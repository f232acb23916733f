/**
 * Reading network config files from the CLI: finding the multicni entry of a conf or conflist,
 * and telling configs that call multicni (or Multus) from the node's other networks.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";

/** Plugin types that are multicni itself (it installs under both names). */
export const SELF_TYPES: readonly string[] = ["multicni", "multus"];

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

function isObject(x: unknown): x is JsonObject {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/**
 * Parses a config file's text.
 *
 * @param text the file content
 * @param where the file, for messages
 * @returns the object
 * @throws {CniError} code 6 when it is not a JSON object
 */
export function parseConfigText(text: string, where: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CniError(ErrorCode.DecodeFailure, `${where} is not valid JSON`, (e as Error).message);
  }
  if (!isObject(v)) throw new CniError(ErrorCode.DecodeFailure, `${where} is not a JSON object`);
  return v;
}

/**
 * The plugin objects of a conf (itself) or conflist (its `plugins`).
 *
 * @param obj the parsed config
 * @returns its plugin objects; empty when it has none
 */
export function pluginObjects(obj: JsonObject): JsonObject[] {
  if (Array.isArray(obj.plugins)) return obj.plugins.filter(isObject);
  return typeof obj.type === "string" ? [obj] : [];
}

/**
 * True when a config runs multicni or Multus: such a config must never be the delegate of
 * multicni's generated config (it would call itself).
 *
 * @param obj the parsed config
 * @returns whether one of its plugins is multicni or multus
 */
export function callsSelf(obj: JsonObject): boolean {
  return pluginObjects(obj).some((p) => SELF_TYPES.includes(String(p.type)));
}

/**
 * The meta config multicni would receive for this file: the multicni plugin object, with the
 * list's `name` and `cniVersion` injected as libcni does for a conflist.
 *
 * @param obj the parsed conf or conflist
 * @param where the file, for messages
 * @returns the meta config
 * @throws {CniError} code 7 when no plugin of the file is multicni
 */
export function metaConfigOf(obj: JsonObject, where: string): JsonObject {
  if (!Array.isArray(obj.plugins)) {
    if (SELF_TYPES.includes(String(obj.type))) return obj;
  } else {
    const p = pluginObjects(obj).find((p) => SELF_TYPES.includes(String(p.type)));
    if (p) {
      const out: JsonObject = { ...p, name: obj.name };
      if (obj.cniVersion !== undefined) out.cniVersion = obj.cniVersion;
      if (obj.cniVersions !== undefined) out.cniVersions = obj.cniVersions;
      return out;
    }
  }
  throw new CniError(
    ErrorCode.InvalidNetworkConfig,
    `${where} does not call multicni`,
    `none of its plugins has type ${SELF_TYPES.map((t) => `"${t}"`).join(" or ")}`,
  );
}

/**
 * Reads a config from a file, or from stdin for `-`.
 *
 * @param path the file, or `-`
 * @returns the text
 * @throws {CniError} code 5 when it cannot be read
 */
export async function readConfigSource(path: string): Promise<string> {
  try {
    if (path === "-") return await new Response(Deno.stdin.readable).text();
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new CniError(ErrorCode.IoFailure, `Cannot read "${path}"`, (e as Error).message);
  }
}

/**
 * Splits a colon-separated directory list, dropping empty entries.
 *
 * @param s the list (CNI_PATH style)
 * @returns the directories
 */
export function splitPath(s: string | undefined): string[] {
  return (s ?? "").split(":").filter((d) => d !== "");
}
