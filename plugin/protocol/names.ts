/**
 * Validation of the identifiers the CNI spec constrains: container ids, network names and
 * interface names (CNI spec, "Parameters" and "Network configuration").
 *
 * @module
 */

const ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/;

/** The longest interface name Linux accepts (IFNAMSIZ - 1). */
export const MAX_IFNAME_BYTES = 15;

/**
 * The longest container id accepted. The cache names files after the id (`<id>`, `.lock.<id>`,
 * `.tmp.<id>.<8 hex>`) and a file name has at most 255 bytes; a longer id used to fail ADD and
 * even DEL with code 5 ("File name too long") instead of being refused as invalid.
 */
export const MAX_CONTAINER_ID_LENGTH = 200;

/**
 * Explains why `id` is not a valid container id, or returns undefined when it is.
 *
 * @param id the container id
 * @returns the reason, or undefined
 */
export function containerIdProblem(id: string): string | undefined {
  if (id === "") return "it is empty";
  if (id.length > MAX_CONTAINER_ID_LENGTH) {
    return `it is longer than ${MAX_CONTAINER_ID_LENGTH} characters`;
  }
  if (!ID_PATTERN.test(id)) return "it must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$";
  return undefined;
}

/**
 * Explains why `name` is not a valid network name, or returns undefined when it is.
 *
 * @param name the network name
 * @returns the reason, or undefined
 */
export function networkNameProblem(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (!ID_PATTERN.test(name)) return "it must match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$";
  return undefined;
}

/**
 * Explains why `name` is not a valid Linux interface name, or returns undefined when it is.
 *
 * @param name the interface name
 * @returns the reason, or undefined
 */
export function ifNameProblem(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (new TextEncoder().encode(name).length > MAX_IFNAME_BYTES) {
    return `it is longer than ${MAX_IFNAME_BYTES} bytes`;
  }
  if (name === "." || name === "..") return "it may not be . or ..";
  if (/[/:\s]/.test(name)) return "it may not contain '/', ':' or whitespace";
  return undefined;
}

/**
 * Explains why `type` cannot name a plugin binary, or returns undefined when it can: it must be
 * a bare file name, so that no config reaches outside the plugin directories.
 *
 * @param type the plugin type from a config
 * @returns the reason, or undefined
 */
export function pluginTypeProblem(type: string): string | undefined {
  if (type === "") return "it is empty";
  if (type === "." || type === "..") return "it may not be . or ..";
  if (type.includes("/") || type.includes("\\")) return "it must be a bare file name";
  if (type.includes("\0")) return "it may not contain a NUL byte";
  return undefined;
}
