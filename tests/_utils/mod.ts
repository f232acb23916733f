/**
 * Test helpers: throwaway network namespaces, the plugin run as a process, and small asserts.
 *
 * Every test gets its own "node" namespace (where multicni and its delegates run, so bridges and
 * veth parents live there, never in the host's namespace) and "pod" namespaces, with unique names
 * so tests run in parallel; `close()` removes all of them and the test's temp dir.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The repository root. */
export const REPO = ROOT;
/** Debian's CNI reference plugins. */
export const CNI_BIN = "/usr/lib/cni";

/** A short random name: `prefix` + 6 hex characters (fits interface names). */
export function uniq(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs a command; returns its output; throws with stderr when it fails and `check` is set. */
export async function sh(
  cmd: string[],
  opts: { check?: boolean; stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [bin, ...args] = cmd;
  const child = new Deno.Command(bin!, {
    args,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(opts.env ? { env: opts.env, clearEnv: true } : {}),
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const r = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  if ((opts.check ?? true) && r.code !== 0) {
    throw new Error(`${cmd.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
  }
  return r;
}

/** One address of `ip -j addr`. */
export interface IpAddr {
  ifname: string;
  family: string;
  local: string;
  prefixlen: number;
}

/** What the plugin printed and how it exited. */
export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

/** Arguments of one plugin invocation. */
export interface InvokeArgs {
  command: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  cniArgs?: string;
  path?: string;
  conf: unknown;
  /** Extra or overriding environment. */
  env?: Record<string, string>;
}

/** The command that runs multicni's entry point exactly as the dev launcher does. */
export function pluginCommand(): string[] {
  return [
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    "--config",
    `${ROOT}/deno.json`,
    `${ROOT}/plugin/main.ts`,
  ];
}

function stdinOf(a: InvokeArgs): string {
  return typeof a.conf === "string" ? a.conf : JSON.stringify(a.conf);
}

/** The environment multicni gets: a clean one with the CNI variables of `a`. */
function pluginEnv(a: InvokeArgs): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
    CNI_COMMAND: a.command,
    CNI_CONTAINERID: a.containerId ?? "",
    CNI_NETNS: a.netns ?? "",
    CNI_IFNAME: a.ifname ?? "eth0",
    CNI_ARGS: a.cniArgs ?? "",
    CNI_PATH: a.path ?? CNI_BIN,
    ...a.env,
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  return env;
}

/**
 * A test "node": a namespace where multicni runs, pod namespaces, and a temp dir for the cache,
 * IPAM data and conf dir.
 */
export class TestNode {
  readonly ns: string;
  readonly dir: string;
  readonly pods: string[] = [];

  private constructor(ns: string, dir: string) {
    this.ns = ns;
    this.dir = dir;
  }

  /** Creates the node namespace (with `lo` up) and the temp dir. */
  static async create(): Promise<TestNode> {
    const ns = uniq("mcnode-");
    await sh(["ip", "netns", "add", ns]);
    const dir = await Deno.makeTempDir({ prefix: "multicni-test-" });
    const node = new TestNode(ns, dir);
    await node.exec(["ip", "link", "set", "lo", "up"]);
    for (const d of ["cache", "ipam", "conf"]) await Deno.mkdir(`${dir}/${d}`);
    return node;
  }

  /** The per-test cache dir (`cniDir`). */
  get cniDir(): string {
    return `${this.dir}/cache`;
  }
  /** The per-test host-local data dir. */
  get ipamDir(): string {
    return `${this.dir}/ipam`;
  }
  /** The per-test conf dir. */
  get confDir(): string {
    return `${this.dir}/conf`;
  }

  /** Runs a command inside the node namespace. */
  exec(cmd: string[], check = true): ReturnType<typeof sh> {
    return sh(["ip", "netns", "exec", this.ns, ...cmd], { check });
  }

  /** Creates a pod namespace and returns its path. */
  async addPod(): Promise<string> {
    const name = uniq("mcpod-");
    await sh(["ip", "netns", "add", name]);
    this.pods.push(name);
    return `/var/run/netns/${name}`;
  }

  /** Creates a veth pair inside the node namespace (a parent for macvlan or vlan). */
  async addVeth(name: string): Promise<void> {
    await this.exec(["ip", "link", "add", name, "type", "veth", "peer", "name", `${name}p`]);
    await this.exec(["ip", "link", "set", name, "up"]);
    await this.exec(["ip", "link", "set", `${name}p`, "up"]);
  }

  /** `ip -j addr` of a namespace (by path), as addresses per interface. */
  async addrs(netnsPath: string): Promise<IpAddr[]> {
    const name = netnsPath.split("/").pop()!;
    const r = await sh(["ip", "-n", name, "-j", "addr"]);
    const links = JSON.parse(r.stdout) as {
      ifname: string;
      addr_info: { family: string; local: string; prefixlen: number }[];
    }[];
    return links.flatMap((l) =>
      l.addr_info.length === 0
        ? [{ ifname: l.ifname, family: "", local: "", prefixlen: 0 }]
        : l.addr_info.map((a) => ({ ifname: l.ifname, ...a }))
    );
  }

  /** Interface names in a namespace (by path). */
  async links(netnsPath: string): Promise<string[]> {
    const name = netnsPath.split("/").pop()!;
    const r = await sh(["ip", "-n", name, "-j", "link"]);
    return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname).sort();
  }

  /** Files below the IPAM dir that record a reservation (host-local writes one per IP). */
  async ipamReservations(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (d: string) => {
      for await (const e of Deno.readDir(d)) {
        if (e.isDirectory) await walk(`${d}/${e.name}`);
        else if (!e.name.startsWith("last_reserved_ip") && e.name !== "lock") {
          out.push(`${d}/${e.name}`.slice(this.ipamDir.length + 1));
        }
      }
    };
    await walk(this.ipamDir);
    return out.sort();
  }

  /** Files in the cache dir. */
  async cacheFiles(): Promise<string[]> {
    const out: string[] = [];
    for await (const e of Deno.readDir(this.cniDir)) out.push(e.name);
    return out.sort();
  }

  /** The node namespace as a path, for `links()` and `addrs()`. */
  get path(): string {
    return `/var/run/netns/${this.ns}`;
  }

  /** Directory for fake plugin scripts (see `writePlugin`); not created until one is written. */
  get binDir(): string {
    return `${this.dir}/bin`;
  }

  /**
   * Writes an executable shell script as plugin `type` into `binDir`, for delegates whose
   * behaviour a test must control (sleeping, failing). Returns its path.
   */
  async writePlugin(type: string, script: string): Promise<string> {
    await Deno.mkdir(this.binDir, { recursive: true });
    const path = `${this.binDir}/${type}`;
    await Deno.writeTextFile(path, script, { mode: 0o755 });
    return path;
  }

  /** Writes a network config file into the conf dir (or `dir`) and returns its path. */
  async writeConf(file: string, conf: unknown, dir = this.confDir): Promise<string> {
    await Deno.mkdir(dir, { recursive: true });
    const path = `${dir}/${file}`;
    await Deno.writeTextFile(path, JSON.stringify(conf));
    return path;
  }

  /** The parsed cache record of a container, or undefined when there is none (or it is torn). */
  async readCache(containerId: string): Promise<Record<string, unknown> | undefined> {
    try {
      return JSON.parse(await Deno.readTextFile(`${this.cniDir}/${containerId}`));
    } catch {
      return undefined;
    }
  }

  /** Runs multicni (the real entry point) inside the node namespace. */
  async invoke(a: InvokeArgs): Promise<PluginRun> {
    const r = await sh(["ip", "netns", "exec", this.ns, ...pluginCommand()], {
      check: false,
      stdin: stdinOf(a),
      env: pluginEnv(a),
    });
    let json: Record<string, unknown> | undefined;
    try {
      json = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
    } catch {
      json = undefined;
    }
    return { ...r, json };
  }

  /**
   * Starts multicni inside the node namespace and returns without waiting, for tests that kill
   * it mid-command. stdin is written and closed; stdout and stderr are discarded. `ip netns exec`
   * execs in place, so the child's pid is multicni's.
   */
  async spawn(a: InvokeArgs): Promise<Deno.ChildProcess> {
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", this.ns, ...pluginCommand()],
      env: pluginEnv(a),
      clearEnv: true,
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdinOf(a)));
    await w.close();
    return child;
  }

  /** Removes every namespace and the temp dir. */
  async close(): Promise<void> {
    for (const p of this.pods) await sh(["ip", "netns", "del", p], { check: false });
    await sh(["ip", "netns", "del", this.ns], { check: false });
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Fails with `msg` when `cond` is false. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Deep equality by canonical JSON. */
export function assertEquals(actual: unknown, expected: unknown, msg = ""): void {
  const a = JSON.stringify(actual, sortKeys);
  const e = JSON.stringify(expected, sortKeys);
  if (a !== e) throw new Error(`${msg ? `${msg}: ` : ""}expected ${e}\n  actual ${a}`);
}

function sortKeys(_k: string, v: unknown): unknown {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a < b ? -1 : 1),
    );
  }
  return v;
}

/** Asserts a plugin run failed with CNI error `code`; returns the error JSON. */
export function assertCniError(r: PluginRun, code: number): Record<string, unknown> {
  assert(r.code === 1, `expected exit 1, got ${r.code}: ${r.stdout} ${r.stderr}`);
  assert(r.json, `stdout is not JSON: ${r.stdout}`);
  assert(r.json.code === code, `expected code ${code}, got ${JSON.stringify(r.json)}`);
  assert(typeof r.json.msg === "string" && r.json.msg !== "", "error has no msg");
  return r.json;
}

/** Asserts a plugin run succeeded. */
export function assertOk(r: PluginRun, what = "plugin"): void {
  assert(r.code === 0, `${what} failed (${r.code}): ${r.stdout} ${r.stderr}`);
}
