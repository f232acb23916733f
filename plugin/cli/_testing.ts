/**
 * Helpers for the CLI's unit tests: captured output and a scratch node layout.
 *
 * @module
 */

import { main } from "./mod.ts";
import type { CliIo } from "./_io.ts";

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process with captured output.
 *
 * @param args the arguments
 * @param extra environment and stop signal
 * @returns exit code and output
 */
export async function runCli(
  args: string[],
  extra: Pick<CliIo, "env" | "signal"> = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: extra.env ?? {},
    ...(extra.signal ? { signal: extra.signal } : {}),
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** A scratch "node": bin dir, conf dir, cache dir and a fake binary to install. */
export interface Scratch {
  root: string;
  bin: string;
  conf: string;
  cache: string;
  /** A file standing in for the multicni binary. */
  source: string;
  /** The install arguments pointing at this layout. */
  args: string[];
  close(): Promise<void>;
}

/**
 * Creates a scratch node layout in a temp dir.
 *
 * @returns the layout
 */
export async function scratch(): Promise<Scratch> {
  const root = await Deno.makeTempDir({ prefix: "multicni-cli-" });
  const s = {
    root,
    bin: `${root}/opt/cni/bin`,
    conf: `${root}/etc/cni/net.d`,
    cache: `${root}/var/lib/cni/multus`,
    source: `${root}/multicni-build`,
  };
  await Deno.mkdir(s.conf, { recursive: true });
  await Deno.writeTextFile(s.source, "#!/bin/sh\necho fake multicni\n", { mode: 0o755 });
  return {
    ...s,
    args: [
      "--bin-dir",
      s.bin,
      "--conf-dir",
      s.conf,
      "--cni-dir",
      s.cache,
      "--source",
      s.source,
      "--primary-timeout",
      "0",
    ],
    close: () => Deno.remove(root, { recursive: true }),
  };
}

/** A primary network config (a bridge conflist) of the given version. */
export function primaryConf(name: string, cniVersion = "1.0.0"): string {
  return JSON.stringify({
    cniVersion,
    name,
    plugins: [
      { type: "bridge", bridge: "cni0", ipam: { type: "host-local", subnet: "10.1.0.0/24" } },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  });
}
