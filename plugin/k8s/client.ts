/**
 * A small Kubernetes REST client on Deno's fetch: bearer token or client certificate, a custom CA,
 * a timeout per request and an overall deadline, retries with backoff on 429, 5xx and connection
 * errors.
 *
 * Slow API servers leaving pods in ContainerCreating is what Multus users complain about most, so
 * every limit is explicit, logged when hit, and the error says which call ran out of time.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { Logger } from "../log/types.ts";
import type { ClusterAccess } from "./kubeconfig.ts";

/** Time limits of the calls of one phase (selecting networks, or reporting them). */
export interface ApiLimits {
  /** One HTTP request may take this long (`apiTimeoutSeconds`). */
  timeoutMs: number;
  /** All requests of the phase, retries and waits included, end by then (`apiDeadlineSeconds`). */
  deadlineMs: number;
}

/** A response the caller handles itself: success, or a status it asked to see. */
export interface ApiResponse {
  status: number;
  /** The parsed JSON body; undefined for an empty body. */
  body: unknown;
}

/** What one call sends. */
export interface ApiCall {
  /** Names the call in messages, e.g. `GET pod default/web`. */
  what: string;
  method: "GET" | "POST" | "PUT";
  /** Path below the server, starting with `/`. */
  path: string;
  body?: unknown;
  /** Non-2xx statuses returned to the caller instead of failing (e.g. 404, 409). */
  expect?: readonly number[];
}

/** The first wait between attempts; it doubles up to {@linkcode MAX_BACKOFF_MS}. */
export const FIRST_BACKOFF_MS = 100;
/** The longest wait between attempts. */
export const MAX_BACKOFF_MS = 2000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** A Kubernetes `Status` object's message, when the body is one. */
function statusMessage(text: string): string {
  try {
    const s = JSON.parse(text) as { kind?: unknown; message?: unknown };
    if (s?.kind === "Status" && typeof s.message === "string") return s.message;
  } catch {
    // Not JSON: fall back to the start of the text.
  }
  return text.slice(0, 200).replace(/\s+/g, " ").trim();
}

/** A client for one phase; its deadline starts when it is created. Close it when done. */
export class K8sClient {
  readonly #access: ClusterAccess;
  readonly #http: Deno.HttpClient;
  readonly #limits: ApiLimits;
  readonly #log: Logger;
  readonly #deadline: number;

  /**
   * @param access where the API server is and how to authenticate
   * @param limits the time limits
   * @param log where limits that are hit are logged
   */
  constructor(access: ClusterAccess, limits: ApiLimits, log: Logger) {
    this.#access = access;
    this.#limits = limits;
    this.#log = log;
    this.#deadline = Date.now() + limits.deadlineMs;
    const opts: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem> = {};
    if (access.caCert) opts.caCerts = [access.caCert];
    if (access.clientCert) {
      opts.cert = access.clientCert.cert;
      opts.key = access.clientCert.key;
    }
    try {
      this.#http = Deno.createHttpClient(opts as Deno.CreateHttpClientOptions);
    } catch (e) {
      throw new CniError(
        ErrorCode.InvalidNetworkConfig,
        `Cannot use the TLS settings of ${access.source}`,
        (e as Error).message,
      );
    }
  }

  /** Releases the connections. */
  close(): void {
    this.#http.close();
  }

  #headers(hasBody: boolean): Headers {
    const h = new Headers({ accept: "application/json", "user-agent": "multicni" });
    if (hasBody) h.set("content-type", "application/json");
    const a = this.#access;
    if (a.token) h.set("authorization", `Bearer ${a.token}`);
    else if (a.basic) {
      h.set("authorization", `Basic ${btoa(`${a.basic.username}:${a.basic.password}`)}`);
    }
    return h;
  }

  /**
   * Runs one API call, retrying 429, 5xx, timeouts and connection errors with backoff until the
   * deadline.
   *
   * @param c the call
   * @returns the status and parsed body of a 2xx response or of an expected status
   * @throws {CniError} code 11 when the API cannot be reached in time or refuses the call
   */
  async request(c: ApiCall): Promise<ApiResponse> {
    const fail = (why: string) =>
      new CniError(ErrorCode.TryAgainLater, `Kubernetes API call "${c.what}" failed`, why);
    let lastError = "";
    let timeouts = 0;
    for (let attempt = 1;; attempt++) {
      const left = this.#deadline - Date.now();
      if (left <= 0) throw this.#deadlineError(c, attempt - 1, lastError, timeouts);
      const perTry = Math.min(this.#limits.timeoutMs, left);
      let retryAfterMs: number | undefined;
      try {
        const res = await fetch(`${this.#access.server}${c.path}`, {
          method: c.method,
          headers: this.#headers(c.body !== undefined),
          ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
          client: this.#http,
          signal: AbortSignal.timeout(perTry),
        });
        const text = await res.text();
        if (res.ok || c.expect?.includes(res.status)) {
          try {
            return { status: res.status, body: text.trim() === "" ? undefined : JSON.parse(text) };
          } catch {
            throw fail(`the API server answered ${res.status} with a body that is not JSON`);
          }
        }
        const msg = statusMessage(text);
        lastError = `HTTP ${res.status}${msg ? `: ${msg}` : ""}`;
        if (res.status === 401 || res.status === 403) {
          throw fail(`${lastError} (check the credentials of ${this.#access.source} and RBAC)`);
        }
        if (res.status !== 429 && res.status < 500) throw fail(lastError);
        const ra = Number(res.headers.get("retry-after"));
        if (Number.isFinite(ra) && ra > 0) retryAfterMs = ra * 1000;
      } catch (e) {
        if (e instanceof CniError) throw e;
        const err = e as Error;
        if (err.name === "TimeoutError" || err.name === "AbortError") {
          lastError = `no answer within ${seconds(perTry)}`;
          if (perTry === this.#limits.timeoutMs) {
            timeouts++;
            lastError += " (apiTimeoutSeconds)";
          }
        } else {
          lastError = `cannot connect to ${this.#access.server}: ${err.message}`;
        }
      }
      this.#log.error(`Kubernetes API call "${c.what}" attempt ${attempt}: ${lastError}`);
      const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS);
      const wait = Math.max(backoff, retryAfterMs ?? 0);
      if (Date.now() + wait >= this.#deadline) {
        throw this.#deadlineError(c, attempt, lastError, timeouts);
      }
      await sleep(wait);
    }
  }

  #deadlineError(c: ApiCall, attempts: number, lastError: string, timeouts: number): CniError {
    const why = `gave up after ${attempts} attempt(s) within the deadline of ` +
      `${seconds(this.#limits.deadlineMs)} (apiDeadlineSeconds)` +
      (timeouts > 0
        ? `; ${timeouts} got no answer within ${
          seconds(this.#limits.timeoutMs)
        } (apiTimeoutSeconds)`
        : "") +
      (lastError ? `; last error: ${lastError}` : "");
    this.#log.error(`Kubernetes API call "${c.what}": ${why}`);
    return new CniError(ErrorCode.TryAgainLater, `Kubernetes API call "${c.what}" failed`, why);
  }
}
