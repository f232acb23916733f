/**
 * Valid meta configs the fuzzers mutate, all built on fake plugins in a sandbox. The path keys
 * come first in each config's text so that byte mutations, which keep them intact, can still
 * insert and delete everywhere after them: a fuzz case never writes outside its sandbox.
 *
 * @module
 */

import { type Json, Sandbox } from "../faults/_sandbox.ts";
import { nodeFiles, Tally } from "./_check.ts";

/** Keys whose values point into the sandbox and are never mutated blindly. */
export const PATH_KEYS = ["cniDir", "confDir", "binDir"] as const;

/** The fake plugin types the bases use. */
export const FAKE_TYPES = ["fz-ok", "fz-ok2", "fz-ipam"] as const;

/** Writes the fake plugins and conf files the bases need. */
export async function prepareBases(sb: Sandbox): Promise<void> {
  for (const t of FAKE_TYPES) await sb.fake(t);
  await sb.fake("fz-old", { resultVersion: "0.3.1" });
  await Deno.writeTextFile(
    `${sb.conf}/10-cluster.conf`,
    JSON.stringify({ cniVersion: "1.0.0", name: "cluster", type: "fz-ok" }),
  );
  await Deno.writeTextFile(
    `${sb.conf}/20-extra.conflist`,
    JSON.stringify({
      cniVersion: "1.1.0",
      name: "extra",
      plugins: [{ type: "fz-ok" }, { type: "fz-ok2", capabilities: { mac: true } }],
    }),
  );
}

function paths(sb: Sandbox): Json {
  return { cniDir: sb.cache, confDir: sb.conf, binDir: sb.bin };
}

/** The valid configs, each a different shape of the meta config. */
export function bases(sb: Sandbox): Json[] {
  return [
    {
      ...paths(sb),
      cniVersion: "1.0.0",
      name: "multi",
      type: "multicni",
      logLevel: "debug",
      delegates: [
        { cniVersion: "1.0.0", name: "main", type: "fz-ok", ipam: { type: "fz-ipam" } },
        {
          cniVersion: "1.0.0",
          name: "side",
          plugins: [{ type: "fz-ok" }, { type: "fz-ok2", capabilities: { portMappings: true } }],
        },
      ],
    },
    {
      ...paths(sb),
      cniVersion: "1.1.0",
      name: "multi-cluster",
      clusterNetwork: "cluster",
      defaultNetworks: ["extra"],
      delegateTimeout: 5,
      retryDeleteOnError: true,
    },
    {
      ...paths(sb),
      cniVersions: ["0.4.0", "1.0.0", "1.1.0"],
      name: "multi-caps",
      logLevel: "verbose",
      runtimeConfig: { mac: "c2:00:00:00:00:01", portMappings: [] },
      delegates: [
        {
          cniVersion: "1.1.0",
          name: "capped",
          plugins: [{ type: "fz-ok", capabilities: { mac: true } }],
        },
        { name: "legacy", cniVersion: "0.3.1", type: "fz-old" },
      ],
      parallel: true,
      maxParallel: 2,
    },
    {
      ...paths(sb),
      cniVersion: "0.3.1",
      name: "multi-old",
      delegates: [{ name: "only", type: "fz-old" }],
    },
  ];
}

/** What a sandbox fuzzer works with. */
export interface FuzzNode {
  sb: Sandbox;
  tally: Tally;
  /** The node's files before any case ran: a failing case must leave exactly these. */
  baseline: string[];
  /** The valid configs the cases start from. */
  configs: Json[];
}

/**
 * Runs a fuzzer in a fresh sandbox with the bases prepared, and removes the sandbox afterwards.
 *
 * @param fn the fuzzer
 */
export async function withFuzzNode(fn: (n: FuzzNode) => Promise<void>): Promise<void> {
  const sb = await Sandbox.create();
  try {
    await prepareBases(sb);
    await fn({ sb, tally: new Tally(), baseline: await nodeFiles(sb), configs: bases(sb) });
  } finally {
    await sb.close();
  }
}
