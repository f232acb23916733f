/**
 * CNI spec versions: which multicni speaks, how they compare, and how a config's version is
 * negotiated (CNI spec, "Version considerations"; `cniVersions` since 1.1.0).
 *
 * @module
 */

import { CniError, ErrorCode } from "./errors.ts";

/** Every spec version multicni accepts and can produce, oldest first. */
export const SUPPORTED_VERSIONS = [
  "0.1.0",
  "0.2.0",
  "0.3.0",
  "0.3.1",
  "0.4.0",
  "1.0.0",
  "1.1.0",
] as const;

/** One of {@linkcode SUPPORTED_VERSIONS}. */
export type CniVersion = typeof SUPPORTED_VERSIONS[number];

/** The newest version, used where no config names one. */
export const CURRENT_VERSION: CniVersion = "1.1.0";

/**
 * Tells whether `v` is a version multicni supports.
 *
 * @param v any value
 * @returns true when `v` is one of {@linkcode SUPPORTED_VERSIONS}
 */
export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === "string" && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

function parseSemver(v: string): [number, number, number] | undefined {
  const m = /^(\d{1,9})\.(\d{1,9})\.(\d{1,9})$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/**
 * Compares two `x.y.z` versions.
 *
 * @param a a version
 * @param b another version
 * @returns negative, zero or positive like a sort comparator
 * @throws {CniError} code 1 when either is not of the form `x.y.z`
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseSemver(a);
  const pb = parseSemver(b);
  if (!pa || !pb) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `Invalid CNI version "${pa ? b : a}"`,
      "a version has the form x.y.z",
    );
  }
  return pa[0] - pb[0] || pa[1] - pb[1] || pa[2] - pb[2];
}

/**
 * Chooses the version a config speaks: the highest supported entry of `cniVersions` when the
 * list is present, else `cniVersion` (empty means 0.1.0, as libcni reads it).
 *
 * @param conf the parsed config object
 * @returns the negotiated version
 * @throws {CniError} code 1 when no version in the config is supported
 */
export function negotiateVersion(conf: Record<string, unknown>): CniVersion {
  const list = conf.cniVersions;
  if (Array.isArray(list)) {
    const usable = list.filter(isSupportedVersion).sort(compareVersions);
    const best = usable[usable.length - 1];
    if (best !== undefined) return best;
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      "No supported CNI version in cniVersions",
      `config lists ${JSON.stringify(list)}; multicni supports ${SUPPORTED_VERSIONS.join(", ")}`,
    );
  }
  const v = conf.cniVersion ?? "0.1.0";
  if (v === "") return "0.1.0";
  if (isSupportedVersion(v)) return v;
  throw new CniError(
    ErrorCode.IncompatibleVersion,
    `Unsupported CNI version ${JSON.stringify(v)}`,
    `multicni supports ${SUPPORTED_VERSIONS.join(", ")}`,
  );
}

/** The lowest config version each command needs (CHECK since 0.4.0, GC and STATUS since 1.1.0). */
export const MIN_VERSION_FOR: Readonly<Record<string, CniVersion>> = {
  CHECK: "0.4.0",
  GC: "1.1.0",
  STATUS: "1.1.0",
};

/**
 * Fails when `command` is not defined for a config of version `version`.
 *
 * @param command the CNI command
 * @param version the config's negotiated version
 * @throws {CniError} code 1 when the config is too old for the command
 */
export function requireVersionFor(command: string, version: CniVersion): void {
  const min = MIN_VERSION_FOR[command];
  if (min && compareVersions(version, min) < 0) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      `Command ${command} needs a config of cniVersion ${min} or later`,
      `config has cniVersion "${version}"`,
    );
  }
}
