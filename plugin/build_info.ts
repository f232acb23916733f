/**
 * Version and commit of this build. `build.ts compile` stamps the real values into the binary;
 * a source checkout reports "dev".
 *
 * @module
 */

/** What `multicni version` reports. */
export const BUILD_INFO: { version: string; commit: string } = {
  version: "0.1.0",
  commit: "dev",
};
