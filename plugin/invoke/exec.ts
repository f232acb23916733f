/**
 * Running plugin binaries: the {@linkcode Exec} interface the core depends on, and its real
 * implementation on `Deno.Command` with a timeout, bounded output and "text file busy" retries.
 *
 * @module
 */

/** One plugin execution. */
export interface ExecRequest {
  /** Absolute path of the binary. */
  path: string;
  /** The config written to its stdin. */
  stdin: string;
  /** Its complete environment. */
  env: Record<string, string>;
  /** Milliseconds before the plugin (and anything it started) is killed. */
  timeoutMs: number;
  /** Bytes of stdout accepted before the plugin is killed. */
  maxStdoutBytes: number;
}

/** How an execution ended. */
export type ExecOutcome =
  | { kind: "exited"; code: number }
  | { kind: "signaled"; signal: string }
  | { kind: "timeout" }
  | { kind: "overflow" };

/** What an execution produced. */
export interface ExecResult {
  outcome: ExecOutcome;
  stdout: Uint8Array;
  /** The tail of stderr, decoded leniently. */
  stderr: string;
}

/** What the core needs from the operating system to run delegates. */
export interface Exec {
  /**
   * Finds the executable for a plugin type: the first `dir/type` that is an executable file.
   * @param type a bare file name (already checked)
   * @param dirs directories in search order
   * @returns the path, or undefined
   */
  find(type: string, dirs: readonly string[]): Promise<string | undefined>;
  /**
   * Runs a plugin to completion.
   * @param req what to run
   * @returns how it ended and what it printed
   * @throws {Error} when the binary cannot be started at all
   */
  run(req: ExecRequest): Promise<ExecResult>;
}

/** The bytes of stderr kept for error messages. */
const STDERR_TAIL_BYTES = 16 * 1024;
/** Attempts to start a binary that is being replaced ("text file busy"). */
const BUSY_ATTEMPTS = 8;

async function readBounded(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  keepTail: boolean,
): Promise<{ bytes: Uint8Array; overflow: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let overflow = false;
  const reader = stream.getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      size += value.length;
      chunks.push(value);
      if (size > limit) {
        if (!keepTail) {
          overflow = true;
          break;
        }
        while (size - (chunks[0]?.length ?? 0) >= limit) size -= chunks.shift()?.length ?? 0;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c.subarray(0, Math.min(c.length, size - at)), at);
    at += c.length;
    if (at >= size) break;
  }
  // Whole chunks (up to 64 KiB each) are dropped above; cut the tail to the limit itself.
  const bytes = keepTail && size > limit ? all.subarray(size - limit) : all;
  return { bytes, overflow };
}

function spawnWithRetry(cmd: Deno.Command): Promise<Deno.ChildProcess> {
  const attempt = async (n: number): Promise<Deno.ChildProcess> => {
    try {
      return cmd.spawn();
    } catch (e) {
      // ETXTBSY: the binary is being replaced (an upgrade copying over it); it clears quickly.
      if (n >= BUSY_ATTEMPTS || !/text file busy/i.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 10 * 2 ** n));
      return attempt(n + 1);
    }
  };
  return attempt(1);
}

function killGroup(child: Deno.ChildProcess): void {
  // The plugin runs in its own process group, so whatever it started dies with it.
  try {
    Deno.kill(-child.pid, "SIGKILL");
  } catch {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** The real {@linkcode Exec}: plugin binaries run as child processes. */
export const denoExec: Exec = {
  async find(type, dirs) {
    for (const dir of dirs) {
      const path = `${dir.replace(/\/+$/, "")}/${type}`;
      try {
        const info = await Deno.stat(path);
        if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
      } catch {
        // Not in this directory.
      }
    }
    return undefined;
  },

  async run(req) {
    const cmd = new Deno.Command(req.path, {
      env: req.env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    });
    const child = await spawnWithRetry(cmd);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, req.timeoutMs);
    try {
      const writer = child.stdin.getWriter();
      const feed = writer.write(new TextEncoder().encode(req.stdin)).then(() => writer.close())
        .catch(() => {/* the plugin exited without reading stdin */});
      const [out, err] = await Promise.all([
        readBounded(child.stdout, req.maxStdoutBytes, false).then((r) => {
          if (r.overflow) killGroup(child);
          return r;
        }),
        readBounded(child.stderr, STDERR_TAIL_BYTES, true),
      ]);
      const status = await child.status;
      await feed;
      const stderr = new TextDecoder().decode(err.bytes);
      const outcome: ExecOutcome = timedOut
        ? { kind: "timeout" }
        : out.overflow
        ? { kind: "overflow" }
        : status.signal
        ? { kind: "signaled", signal: status.signal }
        : { kind: "exited", code: status.code };
      return { outcome, stdout: out.bytes, stderr };
    } finally {
      clearTimeout(timer);
    }
  },
};
