/**
 * Turns the module's issue codes into sentences: the JSON path, the offending value as written,
 * and the reason.
 *
 * @module
 */

import { Code } from "../../validator-wasm/assembly/codes.ts";
import { formatIp, mask, parseCidr } from "./_net.ts";

const KNOWN_VERSIONS = "0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0";
const MAX_VALUE_CHARS = 60;
const decoder = new TextDecoder();

/** Where a value sits: its config bytes, byte offset and length. */
export interface ValueRef {
  bytes: Uint8Array;
  offset: number;
  length: number;
  path: string;
  /** The network of the other attachment, for plan-level issues. */
  network?: string;
  /** The interface name of the attachment, for plan-level issues. */
  ifname?: string;
}

function source(v: ValueRef): string {
  if (v.offset < 0) return "";
  const text = decoder.decode(v.bytes.subarray(v.offset, v.offset + Math.min(v.length, 256)));
  return text.length > MAX_VALUE_CHARS || v.length > 256
    ? `${text.slice(0, MAX_VALUE_CHARS)}… (${v.length} bytes)`
    : text;
}

function stringValue(v: ValueRef): string {
  try {
    const parsed = JSON.parse(decoder.decode(v.bytes.subarray(v.offset, v.offset + v.length)));
    return typeof parsed === "string" ? parsed : "";
  } catch {
    return "";
  }
}

function subject(v: ValueRef): string {
  const path = v.path === "" ? "config" : v.path;
  const value = source(v);
  return value === "" ? path : `${path} ${value}`;
}

function family(v: ValueRef, what: string): string {
  const s = stringValue(v);
  if (s.includes(":")) return `an IPv6 ${what}`;
  if (s.includes(".")) return `an IPv4 ${what}`;
  return `an IP ${what}`;
}

function syntaxReason(code: number, v: ValueRef): string {
  switch (code) {
    case Code.SyntaxUnexpectedChar: {
      const ch = decoder.decode(v.bytes.subarray(v.offset, v.offset + 4)).slice(0, 1);
      return `unexpected character ${JSON.stringify(ch)}`;
    }
    case Code.SyntaxUnexpectedEnd:
      return "unexpected end of input";
    case Code.SyntaxBadEscape:
      return "invalid escape sequence in a string";
    case Code.SyntaxControlChar:
      return "control character in a string (escape it)";
    case Code.SyntaxBadNumber:
      return "invalid number";
    case Code.SyntaxTooDeep:
      return "nested deeper than 10000 levels";
    default:
      return "unexpected data after the JSON value";
  }
}

/**
 * The sentence for one issue, without the network prefix.
 *
 * @param code the issue code
 * @param at the value the issue is about
 * @param related the other value it refers to, when any
 * @returns the message
 */
export function describe(code: number, at: ValueRef, related?: ValueRef): string {
  const s = subject(at);
  const r = related ? subject(related) : "";
  const of = related?.network !== undefined ? ` of network ${JSON.stringify(related.network)}` : "";
  switch (code) {
    case Code.SyntaxUnexpectedChar:
    case Code.SyntaxUnexpectedEnd:
    case Code.SyntaxBadEscape:
    case Code.SyntaxControlChar:
    case Code.SyntaxBadNumber:
    case Code.SyntaxTooDeep:
    case Code.SyntaxTrailing:
      return `config is not valid JSON at byte ${at.offset}: ${syntaxReason(code, at)}`;
    case Code.RootNotObject:
      return "config is not a JSON object";
    case Code.Missing:
      return `${s} is required`;
    case Code.NotString:
      return `${s} is not a string`;
    case Code.NotBoolean:
      return `${s} is not a boolean`;
    case Code.NotInteger:
      return `${s} is not an integer`;
    case Code.NotUint32:
      return `${s} is not an integer between 0 and 4294967295`;
    case Code.NotUint64:
      return `${s} is not a non-negative integer`;
    case Code.NotObject:
      return `${s} is not an object`;
    case Code.NotArray:
      return `${s} is not a list`;
    case Code.UnknownVersion:
      return `${s} is not a known CNI version (known: ${KNOWN_VERSIONS})`;
    case Code.NoKnownVersion:
      return `${at.path} lists no known CNI version (known: ${KNOWN_VERSIONS})`;
    case Code.BadName:
      return `${s} does not match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$`;
    case Code.BadPluginType:
      return `${s} is not a bare file name (no "/", not "." or "..")`;
    case Code.EmptyPlugins:
      return `${at.path} is empty: a conflist needs at least one plugin`;
    case Code.NotIp:
      return `${s} is not ${family(at, "address")}`;
    case Code.NotCidr:
      return `${s} is not ${family(at, "prefix")} in CIDR form (address/length)`;
    case Code.HostBits: {
      const c = parseCidr(stringValue(at));
      const net = c
        ? ` (the network is ${
          formatIp({ ...c, value: c.value & mask(c.family, c.prefix) })
        }/${c.prefix})`
        : "";
      return `${s} has host bits set${net}`;
    }
    case Code.SubnetTooSmall:
      return `${s} is too small to allocate addresses from`;
    case Code.FamilyMismatch:
      return `${s} is not of the same IP family as ${r}`;
    case Code.OutsideSubnet:
      return `${s} is outside ${r}`;
    case Code.StartAfterEnd:
      if (!related) return `${s} is after the last address of the subnet`;
      return at.path.endsWith("rangeEnd")
        ? `${s} is before the first address of ${r}`
        : `${s} is after ${r}`;
    case Code.RangeOverlap:
      return `${at.path} overlaps ${related?.path ?? "another range"} of the same range set`;
    case Code.RangeSetMixed:
      return `${at.path} is not of the same IP family as ${related?.path ?? "its range set"}`;
    case Code.RangeSetEmpty:
      return `${at.path} is an empty range set`;
    case Code.NoRanges:
      return `${at.path} has no IP ranges: set "ranges" or "subnet"`;
    case Code.RangeSetOverlap:
      return `${at.path} overlaps range set ${related?.path ?? ""}`;
    case Code.DuplicateIfname:
      return `interface name ${JSON.stringify(at.ifname ?? "")} is also used by network ${
        JSON.stringify(related?.network ?? "")
      }`;
    case Code.SubnetOverlap:
      return `${s} overlaps ${r}${of}`;
    case Code.MultipleDefaultRoutes: {
      const fam = stringValue(at).includes(":") ? "IPv6" : "IPv4";
      const what = at.path.endsWith("isDefaultGateway")
        ? "a default route"
        : `an ${fam} default route`;
      return `${s} requests ${what}, and so does ${r}${of}`;
    }
    default:
      return `${s} is invalid (code ${code})`;
  }
}
