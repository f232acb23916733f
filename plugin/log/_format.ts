/**
 * Formatting of one log line, and the redaction that keeps secrets out of it.
 *
 * Redaction is done on the text that is about to be written, not on the caller's values: callers
 * pass whole delegate configs, kubeconfig errors and HTTP failures, and must not have to remember
 * which of them may carry a service-account token or a private key.
 *
 * @module
 */

import type { LogFields, LogLevel } from "./types.ts";

/** What replaces a secret. Contains no space or quote, so it never forces quoting. */
export const REDACTED = "[REDACTED]";

/** Field keys whose values are never written (token, password, kubeconfig `*-key-data`...). */
const SENSITIVE_KEY = /token|passw|pwd|secret|key|auth|bearer|cert|credential|cookie|private/i;

/** The same idea for keys met inside text (JSON, `k=v`, YAML): the key part of a match. */
const SENSITIVE_WORD = "token|passw(?:or)?d|pwd|secret|key|auth|bearer|cert|credential|cookie";

/** Fields written first, in this order, so lines of one container line up when grepped. */
const LEADING_KEYS = ["containerId", "network", "ifname"] as const;

const PEM_PRIVATE_KEY =
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
/** `"token":"..."`, also once escaped (`\"token\":\"...\"`) as in JSON embedded in a string. */
const JSON_MEMBER = new RegExp(
  `(\\\\*)"([^"\\\\]*(?:${SENSITIVE_WORD})[^"\\\\]*)\\1"(\\s*:\\s*)\\1"(?:[^"\\\\]|\\\\.)*?\\1"`,
  "gi",
);
const KEY_NAME = "[\\w.-]*(?:token|passw(?:or)?d|secret|key-data|certificate-data)[\\w.-]*";
/** `token=abc`, `?access_token=abc&`. */
const KEY_EQUALS = new RegExp(`\\b(${KEY_NAME})(\\s*=\\s*)[^\\s"',;&]+`, "gi");
/**
 * `password: hunter2hunter2`, YAML `client-key-data: LS0t...`. Values shorter than 8 characters
 * are kept so that "failed to read token: open /x" stays readable.
 */
const KEY_COLON = new RegExp(`\\b(${KEY_NAME})(\\s*:\\s*)[^\\s"',;&]{8,}`, "gi");
/** `https://user:password@host`. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi;

/**
 * Whether a field (or JSON member) with this key holds a secret.
 *
 * @param key the field name
 * @returns true when the value must be replaced by {@linkcode REDACTED}
 */
export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/**
 * Replaces secrets found in free text: bearer/basic credentials, PEM private keys, sensitive JSON
 * members, `token=...`-style pairs and passwords in URLs.
 *
 * @param text any text about to be logged
 * @returns the text with every secret replaced by {@linkcode REDACTED}
 */
export function redactText(text: string): string {
  return text
    .replace(PEM_PRIVATE_KEY, REDACTED)
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(JSON_MEMBER, `$1"$2$1"$3$1"${REDACTED}$1"`)
    .replace(KEY_EQUALS, `$1$2${REDACTED}`)
    .replace(KEY_COLON, `$1$2${REDACTED}`)
    .replace(URL_USERINFO, `$1${REDACTED}@`);
}

/** Escapes control and line-separator characters: one event must stay one line. */
function escapeControls(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/**
 * Quotes a value (JSON string syntax) when it would otherwise be ambiguous in `key=value` form or
 * would break the line.
 */
function quoteIfNeeded(text: string): string {
  if (text !== "" && !/[\s"'=\\\p{Cc}\u2028\u2029]/u.test(text)) return text;
  // JSON.stringify leaves DEL, C1 controls and U+2028/9 alone; escape those too.
  return escapeControls(JSON.stringify(text));
}

/** JSON replacer that blanks sensitive members of objects passed as field values. */
function redactMembers(key: string, value: unknown): unknown {
  if (key !== "" && isSensitiveKey(key)) return REDACTED;
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** Turns one field value into text, before quoting. */
function valueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  if (value === null || typeof value !== "object") {
    return typeof value === "function" ? "[function]" : String(value);
  }
  try {
    return JSON.stringify(value, redactMembers) ?? String(value);
  } catch {
    return "[unserializable]";
  }
}

/** Key text safe for `key=value` (no spaces, no `=`). */
function keyText(key: string): string {
  return key.replace(/[^\w.-]/g, "_") || "_";
}

/**
 * Formats one event as a single line (no trailing newline):
 * `2026-12-04T20:11:00.123Z [error] delegate ADD failed containerId=abc network=side code=7`.
 *
 * `containerId`, `network` and `ifname` come first, then the other fields in insertion order;
 * undefined fields are left out. Values are quoted (JSON string syntax) when they contain spaces,
 * quotes, `=` or control characters. Secrets are redacted in the message and in every value.
 *
 * @param time when the event happened
 * @param level the event's level
 * @param msg the message
 * @param fields context fields
 * @returns the line
 */
export function formatLine(time: Date, level: LogLevel, msg: string, fields?: LogFields): string {
  let stamp: string;
  try {
    stamp = time.toISOString();
  } catch {
    stamp = "0000-00-00T00:00:00.000Z"; // an invalid injected clock must not lose the event
  }
  let line = `${stamp} [${level}] ${escapeControls(redactText(msg))}`;
  if (!fields) return line;
  const keys = [
    ...LEADING_KEYS.filter((k) => Object.hasOwn(fields, k)),
    ...Object.keys(fields).filter((k) => !(LEADING_KEYS as readonly string[]).includes(k)),
  ];
  for (const key of keys) {
    const value = fields[key];
    if (value === undefined) continue;
    const text = isSensitiveKey(key) ? REDACTED : redactText(valueText(value));
    line += ` ${keyText(key)}=${quoteIfNeeded(text)}`;
  }
  return line;
}
