/**
 * Test helpers for the core: a throwaway "world" (temp cache dir, the fake exec of
 * `_fake_exec.ts`, the core's handlers behind the real protocol boundary), shared fixtures, and
 * the runner of one table of cases for every spec version.
 *
 * @module
 */

import type { Logger } from "../log/types.ts";
import { type PluginOutput, runPlugin } from "../protocol/dispatch.ts";
import { type CniVersion, compareVersions, SUPPORTED_VERSIONS } from "../protocol/version.ts";
import type { CacheRecord } from "./cache.ts";
import { handlers } from "./commands.ts";
import type { CoreDeps } from "./deps.ts";
import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { BIN_DIR, CNI_PATH_DIR, FakeExec } from "./_fake_exec.ts";

export * from "./_fake_exec.ts";

const enc = new TextEncoder();

/** A logger that keeps its lines. */
export function memoryLogger(lines: string[]): Logger {
  const put = (level: string) => (msg: string) => {
    lines.push(`${level}: ${msg}`);
  };
  return { debug: put("debug"), verbose: put("verbose"), error: put("error"), panic: put("panic") };
}

/** What one invocation of the plugin through the protocol boundary printed. */
export interface Invocation {
  exitCode: number;
  stdout: string;
  /** stdout parsed, when it is JSON. */
  json: Record<string, unknown> | undefined;
  out: PluginOutput;
}

/** The environment of one invocation; unset fields get a sensible pod's values. */
export interface InvokeOptions {
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  path?: string;
}

/** The environment delegates inherit in tests; CNI_COMMAND must be overridden per call. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/sbin:/usr/bin",
  MULTICNI_TEST_MARKER: "inherited",
  CNI_COMMAND: "STALE",
  CNI_IFNAME: "stale0",
};

/** The default CNI_ARGS of {@linkcode World.invoke}. */
export const POD_ARGS = "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0";

/** One test's node: a temp dir with the cache, a fake exec and the core's handlers. */
export class World {
  readonly dir: string;
  readonly exec = new FakeExec();
  readonly logs: string[] = [];
  readonly deps: CoreDeps;

  private constructor(dir: string) {
    this.dir = dir;
    this.deps = {
      exec: this.exec,
      openLog: () => memoryLogger(this.logs),
      baseEnv: BASE_ENV,
      now: () => new Date("2024-01-02T03:04:05Z"),
    };
  }

  /** Creates the temp dir. */
  static async create(): Promise<World> {
    return new World(await Deno.makeTempDir({ prefix: "multicni-core-test-" }));
  }

  /** The cache dir (`cniDir`); created by the core on first use. */
  get cniDir(): string {
    return `${this.dir}/cache`;
  }

  /** A meta config of version `v` using this world's dirs. */
  meta(v: CniVersion, extra: Record<string, unknown>): Record<string, unknown> {
    return {
      cniVersion: v,
      name: "multi",
      type: "multicni",
      cniDir: this.cniDir,
      binDir: BIN_DIR,
      ...extra,
    };
  }

  /** Runs one CNI command through the protocol boundary, as the runtime would. */
  async invoke(command: string, conf: unknown, o: InvokeOptions = {}): Promise<Invocation> {
    const env: Record<string, string> = {
      CNI_COMMAND: command,
      CNI_CONTAINERID: o.containerId ?? "ctr1",
      CNI_NETNS: o.netns ?? "/var/run/netns/pod1",
      CNI_IFNAME: o.ifname ?? "eth0",
      CNI_ARGS: o.args ?? POD_ARGS,
      CNI_PATH: o.path ?? CNI_PATH_DIR,
    };
    const stdin = enc.encode(typeof conf === "string" ? conf : JSON.stringify(conf));
    const out = await runPlugin({ env, stdin }, () => Promise.resolve(handlers(this.deps)));
    if (out.unexpected !== undefined) throw out.unexpected;
    let json: Record<string, unknown> | undefined;
    try {
      json = out.stdout ? JSON.parse(out.stdout) : undefined;
    } catch {
      json = undefined;
    }
    return { exitCode: out.exitCode, stdout: out.stdout, json, out };
  }

  /** The cache file of a container. */
  cachePath(containerId = "ctr1"): string {
    return `${this.cniDir}/${containerId}`;
  }

  /** The parsed cache record, or undefined when there is none. */
  async cache(containerId = "ctr1"): Promise<CacheRecord | undefined> {
    try {
      return JSON.parse(await Deno.readTextFile(this.cachePath(containerId)));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  /** The names in the cache dir (lock and temp files included). */
  async cacheDirEntries(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(this.cniDir)) names.push(e.name);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return names.sort();
  }

  /** Removes the temp dir. */
  async close(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true });
  }
}

/**
 * Runs `fn` in a fresh world and removes it afterwards.
 *
 * @param fn the test body
 */
export async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const w = await World.create();
  try {
    await fn(w);
  } finally {
    await w.close();
  }
}

/** One case of a table run for every spec version. */
export interface VersionCase {
  /** Reads as a sentence. */
  name: string;
  /** The lowest meta config version the case applies to (the command's gate). */
  since?: CniVersion;
  run: (w: World, v: CniVersion) => Promise<void>;
}

/**
 * Registers one test per spec version, each running every case that applies to that version as
 * a step in a fresh world: one table, every version (instead of a file per version).
 *
 * @param title what the table covers
 * @param cases the table
 */
export function testEveryVersion(title: string, cases: readonly VersionCase[]): void {
  for (const v of SUPPORTED_VERSIONS) {
    Deno.test(`${title} at cniVersion ${v}`, async (t) => {
      for (const c of cases) {
        if (c.since && compareVersions(v, c.since) < 0) continue;
        await t.step(c.name, () => withWorld((w) => c.run(w, v)));
      }
    });
  }
}

// ---- shared fixtures of the core tests ----

/** The master: a single plugin conf that inherits the meta config's version. */
export const MAIN = { name: "main", type: "bridge", bridge: "cni0" };
/** A conflist delegate of two plugins. */
export const SIDE = {
  name: "side",
  plugins: [
    { type: "macvlan", master: "eth1", capabilities: { mac: true } },
    { type: "tuning", sysctl: { "net.ipv4.conf.IFNAME.arp_filter": "1" } },
  ],
};
/** A third single-plugin network. */
export const THIRD = { name: "third", type: "ipvlan", master: "eth2" };

/** Asserts a successful invocation. */
export function expectOk(r: Invocation, what = "command"): void {
  assert(r.exitCode === 0, `${what} failed: ${r.stdout}`);
}

/** Asserts a failed invocation with `code`, reported in version `v`; returns the error JSON. */
export function expectCode(r: Invocation, code: number, v: CniVersion): Record<string, unknown> {
  assertEquals(r.exitCode, 1, `exit code (stdout ${r.stdout})`);
  assert(r.json, `stdout is not JSON: ${r.stdout}`);
  assertEquals(r.json.code, code, `code in ${r.stdout}`);
  assertEquals(r.json.cniVersion, v, "error cniVersion");
  return r.json;
}

/** True when delegates of version `v` get prevResult on DEL (CNI spec 0.4.0). */
export function delHasPrev(v: CniVersion): boolean {
  return compareVersions(v, "0.4.0") >= 0;
}
