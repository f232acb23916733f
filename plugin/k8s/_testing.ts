/**
 * Helpers for the Kubernetes unit tests: asserts on CniError codes and a logger that keeps its
 * lines (to check that limits are logged and secrets are not).
 *
 * @module
 */

import { CniError } from "../protocol/errors.ts";
import type { Logger } from "../log/types.ts";
export { assert, assertEquals } from "../../tests/_utils/mod.ts";

function check(e: unknown, code: number, includes: string | undefined): CniError {
  if (!(e instanceof CniError)) throw new Error(`expected a CniError, got ${e}`);
  if (e.code !== code) throw new Error(`expected code ${code}, got ${e.code}: ${e.message}`);
  if (includes !== undefined && !e.message.includes(includes)) {
    throw new Error(`expected the message to include ${JSON.stringify(includes)}: ${e.message}`);
  }
  return e;
}

/** Asserts `fn` throws a CniError with `code` whose message includes `includes`. */
export function assertCniThrows(fn: () => unknown, code: number, includes?: string): CniError {
  try {
    fn();
  } catch (e) {
    return check(e, code, includes);
  }
  throw new Error("expected an error, got none");
}

/** Asserts `p` rejects with a CniError with `code` whose message includes `includes`. */
export async function assertCniRejects(
  p: Promise<unknown>,
  code: number,
  includes?: string,
): Promise<CniError> {
  try {
    await p;
  } catch (e) {
    return check(e, code, includes);
  }
  throw new Error("expected a rejection, got none");
}

/** A logger that records every line as `level: message`. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level}: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ""}`);
  };
  return {
    lines,
    debug: at("debug"),
    verbose: at("verbose"),
    error: at("error"),
    panic: at("panic"),
  };
}
