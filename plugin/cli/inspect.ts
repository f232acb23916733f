/**
 * `multicni inspect`: what the attachment cache on this node records, so a person can find what
 * a crashed or failed ADD left behind. Reads only.
 *
 * @module
 */

import { type CacheRecord, loadRecord } from "../core/cache.ts";
import { DEFAULTS } from "../core/netconf.ts";
import { parseArgs, wantsJson } from "./_args.ts";
import type { CliIo } from "./_io.ts";

/** `multicni inspect --help`. */
export const INSPECT_HELP = `usage: multicni inspect [CONTAINER_ID] [options]

Without a container id, lists every container recorded in the cache dir: its state, when the
plan was written, and each network with its interface and state. With one, prints its full
record (the exact delegate configs, results and errors).

States: added (every attachment made), half-done (an ADD stopped before finishing: crashed or
killed; DEL cleans it up), failed (an attachment failed and its rollback did not finish),
del-pending (a DEL failed with retryDeleteOnError set), damaged (the record cannot be read).

  --cni-dir DIR     the cache dir (the config's cniDir; default: ${DEFAULTS.cniDir})
  --format FORMAT   text (default) or json

Exit codes: 0 success, 1 the container is not recorded or the dir cannot be read, 2 usage error.
`;

/** The state of a whole record, from its attachments. */
export type RecordState = "added" | "half-done" | "failed" | "del-pending" | "damaged";

/** One line of the listing. */
export interface RecordSummary {
  containerId: string;
  state: RecordState;
  created: string | null;
  metaNetwork: string | null;
  attachments: { network: string; ifname: string; state: string }[];
  /** Why the record is damaged. */
  problem?: string;
}

/**
 * Summarizes a record's attachments into one state.
 *
 * @param rec the record
 * @returns the state
 */
export function recordState(rec: CacheRecord): RecordState {
  const states = rec.attachments.map((a) => a.state);
  if (states.includes("failed")) return "failed";
  if (states.includes("planned")) return "half-done";
  if (states.includes("deleted")) return "del-pending";
  return "added";
}

/**
 * Reads every record of a cache dir.
 *
 * @param dir the cache dir
 * @returns the summaries, by container id
 * @throws {Error} when the directory cannot be read (a missing one is empty)
 */
export async function listRecords(dir: string): Promise<RecordSummary[]> {
  const ids: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      // Lock files (.lock.<id>) and temp files (.tmp.*) start with a dot; records never do.
      if (e.isFile && !e.name.startsWith(".")) ids.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const out: RecordSummary[] = [];
  for (const id of ids.sort()) {
    const loaded = await loadRecord(dir, id);
    if (loaded.kind === "ok") {
      const rec = loaded.record;
      out.push({
        containerId: id,
        state: recordState(rec),
        created: rec.created,
        metaNetwork: rec.metaNetwork,
        attachments: rec.attachments.map((a) => ({
          network: a.network,
          ifname: a.ifname,
          state: a.state,
        })),
      });
    } else if (loaded.kind === "damaged") {
      out.push({
        containerId: id,
        state: "damaged",
        created: null,
        metaNetwork: null,
        attachments: loaded.attachments.map((a) => ({
          network: a.network,
          ifname: a.ifname,
          state: a.state,
        })),
        problem: loaded.reason,
      });
    }
  }
  return out;
}

function listingText(dir: string, list: RecordSummary[]): string {
  if (list.length === 0) return `No attachments recorded in "${dir}"\n`;
  const rows = list.map((r) => [
    r.containerId.length > 24 ? `${r.containerId.slice(0, 23)}~` : r.containerId,
    r.state,
    r.created ?? "-",
    r.attachments.map((a) => `${a.network}@${a.ifname}:${a.state}`).join(" ") +
    (r.problem ? ` (${r.problem})` : ""),
  ]);
  const head = ["CONTAINER", "STATE", "CREATED", "NETWORKS"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i]!)).join("  ");
  return [fmt(head), ...rows.map(fmt)].join("\n") + "\n";
}

function recordText(rec: CacheRecord): string {
  const lines = [
    `container  ${rec.containerId}`,
    `state      ${recordState(rec)}`,
    `config     ${rec.metaNetwork} (cniVersion ${rec.cniVersion})`,
    `created    ${rec.created}`,
    `netns      ${rec.netns || "-"}`,
  ];
  for (const a of rec.attachments) {
    lines.push(
      "",
      `${a.ifname}: network "${a.network}"${a.isDefault ? " (default)" : ""}, ${a.state}`,
    );
    const ips = (a.result?.result as { ips?: { address?: string }[] } | undefined)?.ips ?? [];
    if (ips.length > 0) lines.push(`  addresses  ${ips.map((i) => i.address).join(", ")}`);
    if (a.error) lines.push(`  error      ${a.error.code}: ${a.error.msg}`);
    if (Object.keys(a.runtimeConfig).length > 0) {
      lines.push(`  runtime    ${JSON.stringify(a.runtimeConfig)}`);
    }
    lines.push(`  CNI_ARGS   ${a.cniArgs}`, `  config     ${a.config}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Runs `multicni inspect`.
 *
 * @param args arguments after `inspect`
 * @param io output channels
 * @returns the exit code
 * @throws {UsageError} for bad arguments
 */
export async function inspectCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseArgs(args, {
    values: { "cni-dir": DEFAULTS.cniDir, format: undefined },
    positionals: { min: 0, max: 1 },
  });
  if (p.help) {
    io.stdout(INSPECT_HELP);
    return 0;
  }
  const json = wantsJson(p);
  const dir = p.values["cni-dir"]!;
  const id = p.positionals[0];
  if (id === undefined) {
    let list: RecordSummary[];
    try {
      list = await listRecords(dir);
    } catch (e) {
      io.stderr(`multicni inspect: cannot read "${dir}": ${(e as Error).message}\n`);
      return 1;
    }
    io.stdout(json ? `${JSON.stringify(list, null, 2)}\n` : listingText(dir, list));
    return 0;
  }
  if (id.includes("/") || id.startsWith(".")) {
    io.stderr(`multicni inspect: invalid container id "${id}"\n`);
    return 2;
  }
  const loaded = await loadRecord(dir, id);
  if (loaded.kind === "missing") {
    io.stderr(`multicni inspect: no record of container "${id}" in "${dir}"\n`);
    return 1;
  }
  if (loaded.kind === "damaged") {
    const body = {
      containerId: id,
      state: "damaged",
      problem: loaded.reason,
      attachments: loaded.attachments,
    };
    io.stdout(
      json
        ? `${JSON.stringify(body, null, 2)}\n`
        : `container  ${id}\nstate      damaged (${loaded.reason})\nrecoverable attachments: ${
          loaded.attachments.map((a) => a.network).join(", ") || "none"
        }\n`,
    );
    return 0;
  }
  io.stdout(json ? `${JSON.stringify(loaded.record, null, 2)}\n` : recordText(loaded.record));
  return 0;
}
