/**
 * The logger: Multus's `logFile`, `logLevel`, `logToStderr` and `logOptions`, one line per event.
 *
 * Built for a process that lives for one CNI invocation: writes are synchronous (the last line
 * before exit must not be lost), the file is opened only when the first line at the active level is
 * written (a run at the default level "panic" touches no disk), and no failure of the logger ever
 * reaches the caller. Nothing is ever written to stdout, which carries the CNI result.
 *
 * @module
 */

import { formatLine } from "./_format.ts";
import { compressBackup, rotate, type RotationPolicy, withRotationLock } from "./_rotate.ts";
import type { LogFields, Logger, LogLevel } from "./types.ts";

/** Rotation options, as in Multus's `logOptions` (lumberjack's names and units). */
export interface LogOptions {
  /** Days to keep backups, by modification time; 0 keeps them regardless of age. Default 5. */
  maxAge?: number;
  /** Size in megabytes (2^20 bytes) at which the file is rotated; fractions allowed. Default 100. */
  maxSize?: number;
  /** Number of backups kept; 0 keeps all. Default 5. */
  maxBackups?: number;
  /** Gzip backups from `.2` on (`file.1` stays plain). Default true. */
  compress?: boolean;
}

/** The logging keys of the meta-plugin's config. */
export interface LoggerOptions {
  /** File to append to; none (or empty) logs to stderr only. */
  logFile?: string;
  /** Threshold: "debug" writes everything, "panic" (the default) only panics. Case-insensitive;
   * an unknown value falls back to "panic", as Multus does. */
  logLevel?: LogLevel | string;
  /** Also write every line to stderr. Default true. */
  logToStderr?: boolean;
  /** Rotation of `logFile`. */
  logOptions?: LogOptions;
}

/** Injection points for tests. */
export interface LoggerSink {
  /** Receives each stderr line, without newline. Default: synchronous write to `Deno.stderr`. */
  stderr?: (line: string) => void;
  /** The clock. Default: `new Date()`. */
  now?: () => Date;
}

/** A {@linkcode Logger} that can be closed; passing it where a `Logger` is expected is fine. */
export interface FileLogger extends Logger {
  /**
   * Waits for background compression of rotated files, then closes the log file. The logger
   * still works afterwards (it reopens the file on the next line). Never rejects.
   */
  close(): Promise<void>;
}

/**
 * Opens the log file for appending without following a symlink planted at its path: a new file
 * is created with O_EXCL (0600); an existing one is opened only when lstat shows a regular file,
 * and only kept when the opened file is that same file. Another process rotating the file in
 * between (renaming it away, creating the next one) is not a failure: it tries again.
 *
 * @throws {Error} when the path holds anything but a regular file
 */
function openNoFollow(path: string): Deno.FsFile {
  for (let attempt = 1;; attempt++) {
    try {
      return Deno.openSync(path, { append: true, createNew: true, mode: 0o600 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    let before: Deno.FileInfo;
    let file: Deno.FsFile;
    try {
      before = Deno.lstatSync(path);
      if (!before.isFile) throw new Error(`log file "${path}" is not a regular file`);
      file = Deno.openSync(path, { append: true });
    } catch (e) {
      // Renamed away by a rotation between the two calls: create or open the next one.
      if (e instanceof Deno.errors.NotFound && attempt < 10) continue;
      throw e;
    }
    const opened = file.statSync();
    if (opened.ino === before.ino && opened.dev === before.dev) return file;
    file.close();
    if (attempt >= 10) throw new Error(`log file "${path}" keeps changing while opening it`);
  }
}

/** Severity rank: a line is written when its rank is at most the threshold's (Multus's order). */
const RANK: Record<LogLevel, number> = { panic: 0, error: 1, verbose: 2, debug: 3 };

const MIB = 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Parses a `logLevel` value.
 *
 * @param value the configured level
 * @returns the level, or "panic" when it is missing or unknown
 */
export function parseLogLevel(value: string | undefined): LogLevel {
  const level = value?.trim().toLowerCase();
  return level !== undefined && Object.hasOwn(RANK, level) ? level as LogLevel : "panic";
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function nonNegativeOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
}

function policyFrom(options: LogOptions | undefined): RotationPolicy {
  return {
    // lumberjack treats 0 as "default" for size, and as "keep all" for age and count.
    maxBytes: positiveOr(options?.maxSize, 100) * MIB,
    maxBackups: Math.floor(nonNegativeOr(options?.maxBackups, 5)),
    maxAgeMs: nonNegativeOr(options?.maxAge, 5) * DAY_MS,
    compress: options?.compress ?? true,
  };
}

const encoder = new TextEncoder();

function writeAll(write: (bytes: Uint8Array) => number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += write(bytes.subarray(offset));
}

function defaultStderr(line: string): void {
  writeAll((b) => Deno.stderr.writeSync(b), encoder.encode(`${line}\n`));
}

/** The log file: opened lazily, reopened when another process rotated it, given up on failure. */
class LogFile {
  #file: Deno.FsFile | undefined;
  #info: Deno.FileInfo | undefined;
  #failed = false;
  #compressions: Promise<void>[] = [];

  constructor(
    readonly path: string,
    readonly policy: RotationPolicy,
    readonly now: () => number,
  ) {}

  get failed(): boolean {
    return this.#failed;
  }

  /** Appends one line; throws on failure, after which the file is never tried again. */
  append(line: string): void {
    if (this.#failed) return;
    try {
      const bytes = encoder.encode(`${line}\n`);
      let size = this.#sizeOfCurrent();
      if (size > 0 && size + bytes.length > this.policy.maxBytes) {
        this.#rotate(bytes.length);
        size = this.#sizeOfCurrent();
      }
      const file = this.#file;
      if (!file) throw new Error("Log file is not open");
      // One write of a whole line with O_APPEND: concurrent writers never interleave within a line.
      writeAll((b) => file.writeSync(b), bytes);
    } catch (e) {
      this.#failed = true;
      this.#close();
      throw e;
    }
  }

  async close(): Promise<void> {
    const pending = this.#compressions;
    this.#compressions = [];
    await Promise.all(pending);
    this.#close();
  }

  /** Size of the file at `path`, (re)opening it when it is not the one we hold. */
  #sizeOfCurrent(): number {
    if (this.#file && this.#info) {
      try {
        const current = Deno.statSync(this.path);
        if (current.ino === this.#info.ino && current.dev === this.#info.dev) return current.size;
      } catch {
        // Gone (rotated, not yet recreated): reopen below creates it.
      }
      this.#close();
    }
    this.#open();
    return this.#info?.size ?? 0;
  }

  #open(): void {
    try {
      this.#file = openNoFollow(this.path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const slash = this.path.lastIndexOf("/");
      if (slash > 0) Deno.mkdirSync(this.path.slice(0, slash), { recursive: true, mode: 0o700 });
      this.#file = openNoFollow(this.path);
    }
    this.#info = this.#file.statSync();
    // A file created by hand or by an older tool may be world-readable; logs name pods and
    // networks, so tighten it like a file we created ourselves.
    if (this.#info.mode !== null && (this.#info.mode & 0o077) !== 0) {
      try {
        Deno.chmodSync(this.path, 0o600);
      } catch {
        // Not our file (another owner): keep logging rather than fail.
      }
    }
  }

  #rotate(incoming: number): void {
    const held = this.#info;
    let compress: string[] = [];
    withRotationLock(this.path, (current) => {
      // Another process may have rotated while we waited for the lock.
      if (current.ino !== held?.ino || current.dev !== held.dev) return;
      if (current.size === 0 || current.size + incoming <= this.policy.maxBytes) return;
      compress = rotate(this.path, this.policy, this.now());
    });
    this.#close();
    for (const name of compress) this.#compressions.push(compressBackup(this.path, name));
  }

  #close(): void {
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
    this.#file = undefined;
    this.#info = undefined;
  }
}

/**
 * Creates the logger described by the meta-plugin's logging keys.
 *
 * Each event is one line, `<RFC3339 UTC time> [<level>] <message> <key>=<value>...`, with secrets
 * redacted (see `_format.ts`). Lines go to stderr when `logToStderr` (the default) and are appended
 * to `logFile` when set. The file is created with mode 0600 (an existing file with group or other
 * permission bits is chmod-ed to 0600), its missing parent directories with 0700. Before a line
 * that would take the file past `maxSize`, it is rotated to `file.1`, older backups shifting to
 * `file.2[.gz]`... (see `_rotate.ts`).
 *
 * If the file cannot be written (bad path, no permission, full disk), one line saying so goes to
 * stderr (only when `logToStderr`) and the file is not tried again; the methods never throw.
 *
 * @param options the `logFile`, `logLevel`, `logToStderr` and `logOptions` config keys
 * @param sink where stderr lines go and what time it is (tests)
 * @returns the logger
 *
 * @example
 * ```ts
 * const log = createLogger({ logLevel: "error", logToStderr: false });
 * log.error("delegate ADD failed", { containerId: "abc", network: "side", code: 7 });
 * log.debug("not written at level error");
 * await log.close();
 * ```
 */
export function createLogger(options: LoggerOptions, sink: LoggerSink = {}): FileLogger {
  const threshold = RANK[parseLogLevel(options.logLevel)];
  const toStderr = options.logToStderr ?? true;
  const stderr = sink.stderr ?? defaultStderr;
  const now = sink.now ?? (() => new Date());
  const file = options.logFile
    ? new LogFile(options.logFile, policyFrom(options.logOptions), () => now().getTime())
    : undefined;

  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] > threshold) return;
    try {
      const time = now();
      const line = formatLine(time, level, String(msg), fields);
      if (toStderr) stderr(line);
      if (!file || file.failed) return;
      try {
        file.append(line);
      } catch (e) {
        if (!toStderr) return;
        const error = e instanceof Error ? e.message : String(e);
        stderr(formatLine(time, "error", "Cannot write log file, logging to stderr only", {
          path: file.path,
          error,
        }));
      }
    } catch {
      // A logger must never fail its caller; with stderr itself broken there is nowhere to say so.
    }
  };

  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    verbose: (msg, fields) => emit("verbose", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    panic: (msg, fields) => emit("panic", msg, fields),
    close: async () => {
      try {
        await file?.close();
      } catch {
        // Never rejects.
      }
    },
  };
}
