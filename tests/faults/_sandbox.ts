/**
 * A throwaway "node" for hostile-input tests: a temp dir holding fake delegate plugins (real
 * executables: `sh` scripts), the cache dir, a conf dir and a marker dir where every fake plugin
 * call leaves one file. multicni runs either as the real entry point (a process) or in-process
 * through `runPlugin` with the real `denoExec`.
 *
 * Fake plugins touch no network: they only write marker files, so these tests need no network
 * namespace and can run many cases quickly. Every name contains the sandbox's random token, so
 * `pgrep -f <token>` finds any plugin process a test left running.
 *
 * @module
 */

import { pluginCommand, sh } from "../_utils/mod.ts";
import { type PluginOutput, runPlugin } from "../../plugin/protocol/dispatch.ts";
import { realHandlers } from "../../plugin/wiring.ts";

/** A JSON object. */
export type Json = Record<string, unknown>;

/** sh snippets run for each command; `undefined` means the default (succeed). */
export interface FakeSpec {
  add?: string;
  del?: string;
  check?: string;
  gc?: string;
  status?: string;
  /** The cniVersion the default ADD result states. */
  resultVersion?: string;
  /** Keep each call's stdin and environment in the marker dir (`in.*`, `env.*`). */
  saveInput?: boolean;
}

/** What a process run of multicni produced. */
export interface ProcRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  ms: number;
  /** True when the watchdog had to kill it. */
  killed: boolean;
}

/** What an in-process run produced, with the log lines the logger wrote. */
export interface InProcRun extends PluginOutput {
  logs: string[];
  ms: number;
}

function hex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16))
    .map((s) => s.padStart(2, "0")).join("");
}

/** Quotes a string for sh (single quotes). */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The test's own environment that multicni needs to start (deno, its cache). */
function baseProcessEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  return env;
}

/** A throwaway node: see the module doc. */
export class Sandbox {
  readonly dir: string;
  readonly token: string;
  /** Unique fraction used in `sleep` durations, so sleeping grandchildren can be found. */
  readonly sleepTag: string;
  #mounts: string[] = [];

  private constructor(dir: string, token: string) {
    this.dir = dir;
    this.token = token;
    this.sleepTag = String(100000 + Math.floor(Math.random() * 899999));
  }

  /** Creates the sandbox directories. */
  static async create(): Promise<Sandbox> {
    const token = `mcfz${hex(5)}`;
    const dir = await Deno.makeTempDir({ prefix: `multicni-${token}-` });
    const sb = new Sandbox(dir, token);
    for (const d of [sb.bin, sb.cache, sb.marks, sb.live, sb.conf]) {
      await Deno.mkdir(d, { recursive: true });
    }
    return sb;
  }

  get bin(): string {
    return `${this.dir}/bin`;
  }
  get cache(): string {
    return `${this.dir}/cache`;
  }
  get marks(): string {
    return `${this.dir}/marks`;
  }
  /** One file per interface a fake plugin added and did not delete yet. */
  get live(): string {
    return `${this.dir}/live`;
  }
  get conf(): string {
    return `${this.dir}/conf`;
  }

  /** `sleep` for about `seconds`, findable by {@linkcode leftoverProcesses}. */
  sleep(seconds: number): string {
    return `sleep ${Math.floor(seconds)}.${this.sleepTag}`;
  }

  /**
   * Writes a fake plugin `type` into the bin dir. Each call leaves a marker file
   * `<COMMAND>.<type>.<ifname>.<pid>`; the default ADD prints a result of `resultVersion` and
   * marks the interface live; the default DEL removes that mark.
   */
  async fake(type: string, spec: FakeSpec = {}): Promise<string> {
    const v = spec.resultVersion ?? "1.0.0";
    const ipVersion = v.startsWith("0.3") || v === "0.4.0" ? `"version":"4",` : "";
    const live = `${shQuote(this.live)}/"$CNI_CONTAINERID.$CNI_IFNAME"`;
    const defaultAdd = [
      `: > ${live}`,
      `printf '{"cniVersion":"${v}","interfaces":[{"name":"%s","sandbox":"%s"}],` +
      `"ips":[{${ipVersion}"address":"10.9.0.7/24","interface":0}]}' "$CNI_IFNAME" "$CNI_NETNS"`,
    ].join("\n");
    const t = shQuote(type);
    const tag = `${shQuote(this.marks)}/"$CNI_COMMAND."${t}".$CNI_IFNAME.$$"`;
    const input = spec.saveInput
      ? `cat > ${shQuote(this.marks)}/"in.$CNI_COMMAND."${t}".$$"\n` +
        `env > ${shQuote(this.marks)}/"env.$CNI_COMMAND."${t}".$$"\n` +
        `echo "$#" > ${shQuote(this.marks)}/"argc.$CNI_COMMAND."${t}".$$"`
      : "cat > /dev/null";
    const script = `#!/bin/sh
# multicni fake plugin ${this.token}
: > ${tag}
${input}
case "$CNI_COMMAND" in
ADD)
${spec.add ?? defaultAdd}
;;
DEL)
rm -f ${live}
${spec.del ?? ":"}
;;
CHECK)
${spec.check ?? ":"}
;;
GC)
${spec.gc ?? ":"}
;;
STATUS)
${spec.status ?? ":"}
;;
VERSION)
printf '{"cniVersion":"1.1.0","supportedVersions":["0.3.1","0.4.0","1.0.0","1.1.0"]}'
;;
esac
`;
    const path = `${this.bin}/${type}`;
    await Deno.writeTextFile(path, script, { mode: 0o755 });
    return path;
  }

  /** A delegate conf of plugin `type`. */
  net(name: string, type: string, extra: Json = {}): Json {
    return { cniVersion: "1.0.0", name, type, ...extra };
  }

  /** The meta config: cache, conf and bin dirs inside the sandbox. */
  meta(delegates: Json[], extra: Json = {}): Json {
    return {
      cniVersion: "1.0.0",
      name: "multi",
      type: "multicni",
      cniDir: this.cache,
      confDir: this.conf,
      binDir: this.bin,
      delegates,
      ...extra,
    };
  }

  /** The CNI environment of a command for container `id`. */
  cniEnv(command: string, id: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: `/var/run/netns/${this.token}`,
      CNI_IFNAME: "eth0",
      CNI_ARGS: "",
      CNI_PATH: this.bin,
      ...extra,
    };
  }

  /**
   * Runs the real entry point with `env` (on top of what deno needs) and `stdin`; kills it after
   * `timeoutMs`.
   */
  async run(
    env: Record<string, string>,
    stdin: string | Uint8Array,
    timeoutMs = 30_000,
  ): Promise<ProcRun> {
    const [bin, ...args] = pluginCommand();
    const started = performance.now();
    const child = new Deno.Command(bin!, {
      args,
      // A shell that interpreted a config value would create its files here.
      cwd: this.dir,
      env: { ...baseProcessEnv(), ...env },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let killed = false;
    const watchdog = setTimeout(() => {
      killed = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, timeoutMs);
    try {
      const w = child.stdin.getWriter();
      const bytes = typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
      // multicni stops reading at its size limit: a broken pipe is expected then.
      await w.write(bytes).then(() => w.close()).catch(() => {});
      const out = await child.output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
        ms: performance.now() - started,
        killed,
      };
    } finally {
      clearTimeout(watchdog);
    }
  }

  /** Runs the real entry point with a JSON config. */
  runJson(env: Record<string, string>, conf: unknown, timeoutMs?: number): Promise<ProcRun> {
    return this.run(env, JSON.stringify(conf), timeoutMs);
  }

  /**
   * Runs one invocation in-process: `runPlugin` with the core handlers, the real `denoExec` and
   * the real logger, whose stderr lines are collected instead of printed.
   */
  async inProcess(env: Record<string, string>, stdin: Uint8Array | undefined): Promise<InProcRun> {
    const logs: string[] = [];
    const started = performance.now();
    const baseEnv = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env };
    const sink = { stderr: (line: string) => logs.push(line) };
    const out = await runPlugin({ env, stdin }, () => Promise.resolve(realHandlers(baseEnv, sink)));
    return { ...out, logs, ms: performance.now() - started };
  }

  /** Names in the cache dir (cache records, lock files, temp files). */
  async cacheEntries(dir = this.cache): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) out.push(e.name);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out.sort();
  }

  /** Marker files of plugin calls, e.g. `DEL.ok.net1.1234`; `prefix` filters by name. */
  async markers(prefix = ""): Promise<string[]> {
    const out: string[] = [];
    for await (const e of Deno.readDir(this.marks)) {
      if (e.name.startsWith(prefix)) out.push(e.name);
    }
    return out.sort();
  }

  /** Marker names without the pid: `DEL.ok.net1`. */
  async calls(prefix = ""): Promise<string[]> {
    return (await this.markers(prefix)).filter((n) => !/^(in|env|argc)\./.test(n))
      .map((n) => n.replace(/\.\d+$/, "")).sort();
  }

  /** Removes every marker file. */
  async clearMarkers(): Promise<void> {
    for (const n of await this.markers()) await Deno.remove(`${this.marks}/${n}`);
  }

  /** Interfaces fake plugins added and did not delete (`<containerId>.<ifname>`). */
  async liveIfs(): Promise<string[]> {
    const out: string[] = [];
    for await (const e of Deno.readDir(this.live)) out.push(e.name);
    return out.sort();
  }

  /**
   * Pids of fake plugins, and of the `sleep`s they started, still running. Waits up to 2 s for
   * processes that were just killed to disappear.
   */
  async leftoverProcesses(): Promise<string[]> {
    const deadline = Date.now() + 2000;
    for (;;) {
      const found: string[] = [];
      for (const pattern of [this.token, `sleep [0-9]+\\.${this.sleepTag}`]) {
        const r = await sh(["pgrep", "-f", pattern], { check: false });
        found.push(...r.stdout.split("\n").filter(Boolean));
      }
      if (found.length === 0 || Date.now() > deadline) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Mounts a tmpfs on `dir` (created) with mount options `opts`; unmounted by `close()`. */
  async mountTmpfs(dir: string, opts: string): Promise<void> {
    await Deno.mkdir(dir, { recursive: true });
    await sh(["mount", "-t", "tmpfs", "-o", opts, `tmpfs-${this.token}`, dir]);
    this.#mounts.push(dir);
  }

  /** Unmounts a tmpfs mounted by {@linkcode mountTmpfs}. */
  async unmount(dir: string): Promise<void> {
    await sh(["umount", dir]);
    this.#mounts = this.#mounts.filter((m) => m !== dir);
  }

  /** Kills leftover plugin processes (by pid), unmounts, removes the temp dir. */
  async close(): Promise<void> {
    for (const pid of await this.leftoverProcesses().catch(() => [])) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    for (const m of [...this.#mounts].reverse()) {
      await sh(["umount", "-l", m], { check: false });
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Parses a CNI error document from stdout; throws with context when it is not one. */
export function cniError(
  stdout: string,
  what = "",
): { code: number; msg: string; details: string } {
  let v: unknown;
  try {
    v = JSON.parse(stdout);
  } catch {
    throw new Error(`${what}: stdout is not one JSON document: ${stdout.slice(0, 300)}`);
  }
  const e = v as { code?: unknown; msg?: unknown; details?: unknown };
  if (typeof e.code !== "number" || typeof e.msg !== "string") {
    throw new Error(`${what}: not a CNI error: ${stdout.slice(0, 300)}`);
  }
  return { code: e.code, msg: e.msg, details: typeof e.details === "string" ? e.details : "" };
}
