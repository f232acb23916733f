/**
 * Type checks of single fields, following Go's encoding/json: a known key must hold the JSON type
 * of its Go field, and `null` is accepted everywhere (Go leaves the field at its zero value).
 *
 * @module
 */

import { Code } from "./codes";
import {
  arrayLength,
  decodeShort,
  get,
  K_ARR,
  K_FALSE,
  K_NULL,
  K_NUM,
  K_OBJ,
  K_STR,
  K_TRUE,
  nodeEnd,
  nodeKind,
  nodeSkip,
  nodeStart,
  numberValue,
  src,
  strIsEmpty,
} from "./json";
import { parseCidr, parseIp } from "./ip";
import { pop, pushIndex, pushKey, report, reportKey } from "./issues";

/** Go `int` (64 bit). */
export const INT: i32 = 0;
/** Go `uint32`. */
export const U32: i32 = 1;
/** Go `uint64`. */
export const U64: i32 = 2;

const TWO_63: f64 = 9223372036854775808.0;
const TWO_64: f64 = 18446744073709551616.0;

/** Tells whether number node `n` fits an integer field of `kind` (`JSON.parse` semantics). */
export function fitsInteger(n: i32, kind: i32): bool {
  const v = numberValue(n);
  if (!isFinite(v) || Math.floor(v) != v) return false;
  if (kind == U32) return v >= 0 && v <= 4294967295.0;
  if (kind == U64) return v >= 0 && v <= TWO_64;
  return v >= -TWO_63 && v <= TWO_63;
}

function integerCode(kind: i32): i32 {
  return kind == U32 ? Code.NotUint32 : kind == U64 ? Code.NotUint64 : Code.NotInteger;
}

/** Key `key` of `obj`, when present and not null. */
function value(obj: i32, key: string): i32 {
  const v = get(obj, key);
  return v >= 0 && nodeKind(v) != K_NULL ? v : -1;
}

export function optString(obj: i32, key: string): i32 {
  const v = value(obj, key);
  if (v < 0) return -1;
  if (nodeKind(v) != K_STR) {
    reportKey(Code.NotString, key, v);
    return -1;
  }
  return v;
}

/** A boolean field; returns the node when it is `true`, else -1. */
export function optBool(obj: i32, key: string): i32 {
  const v = value(obj, key);
  if (v < 0) return -1;
  const k = nodeKind(v);
  if (k != K_TRUE && k != K_FALSE) {
    reportKey(Code.NotBoolean, key, v);
    return -1;
  }
  return k == K_TRUE ? v : -1;
}

export function optInt(obj: i32, key: string, kind: i32): void {
  const v = value(obj, key);
  if (v < 0) return;
  if (nodeKind(v) != K_NUM || !fitsInteger(v, kind)) reportKey(integerCode(kind), key, v);
}

/** An object field; returns the object node or -1 (absent, null or reported). */
export function optObject(obj: i32, key: string): i32 {
  const v = value(obj, key);
  if (v < 0) return -1;
  if (nodeKind(v) != K_OBJ) {
    reportKey(Code.NotObject, key, v);
    return -1;
  }
  return v;
}

/** An array field; returns the array node or -1 (absent, null or reported). */
export function optArray(obj: i32, key: string): i32 {
  const v = value(obj, key);
  if (v < 0) return -1;
  if (nodeKind(v) != K_ARR) {
    reportKey(Code.NotArray, key, v);
    return -1;
  }
  return v;
}

/** A list of strings (null elements allowed). */
export function optStringArray(obj: i32, key: string): void {
  const arr = optArray(obj, key);
  if (arr < 0) return;
  pushKey(key);
  const end = nodeSkip(arr);
  let i = 0;
  for (let c = arr + 1; c < end; c = nodeSkip(c)) {
    const k = nodeKind(c);
    if (k != K_STR && k != K_NULL) {
      pushIndex(i);
      report(Code.NotString, c);
      pop();
    }
    i++;
  }
  pop();
}

/** An object whose values are all strings (`map[string]string`) or all booleans. */
export function optMap(obj: i32, key: string, ofBooleans: bool): void {
  const m = optObject(obj, key);
  if (m < 0) return;
  pushKey(key);
  const end = nodeSkip(m);
  for (let c = m + 1; c < end; c = nodeSkip(c + 1)) {
    const v = c + 1;
    const k = nodeKind(v);
    const ok = k == K_NULL || (ofBooleans ? (k == K_TRUE || k == K_FALSE) : k == K_STR);
    if (!ok) {
      // Map keys are data, not schema: the path quotes them as in the source.
      reportMapValue(ofBooleans ? Code.NotBoolean : Code.NotString, c, v);
    }
  }
  pop();
}

function reportMapValue(code: i32, keyNode: i32, v: i32): void {
  pushKey(keySource(keyNode));
  report(code, v);
  pop();
}

/** A map key as a path segment: its JSON source in brackets, e.g. `["net.ipv4.ip_forward"]`. */
function keySource(keyNode: i32): string {
  let s = "[";
  const a = nodeStart(keyNode);
  const b = nodeEnd(keyNode);
  for (let i = a; i < b; i++) s += String.fromCharCode(<i32> load<u8>(src + <usize> i));
  return s + "]";
}

/** A string field holding an IP address (empty means unset, like Go's net.IP). */
export function optIp(obj: i32, key: string): i32 {
  const v = optString(obj, key);
  if (v < 0 || strIsEmpty(v)) return -1;
  if (!decodeShort(v) || !parseIp()) {
    reportKey(Code.NotIp, key, v);
    return -1;
  }
  return v;
}

/** A required string field holding a CIDR; returns the node when valid. */
export function reqCidr(obj: i32, key: string): i32 {
  const v = get(obj, key);
  if (v < 0 || nodeKind(v) == K_NULL) {
    reportKey(Code.Missing, key, -1);
    return -1;
  }
  if (nodeKind(v) != K_STR) {
    reportKey(Code.NotString, key, v);
    return -1;
  }
  if (!decodeShort(v) || !parseCidr()) {
    reportKey(Code.NotCidr, key, v);
    return -1;
  }
  return v;
}

/** Iterates an array of objects: reports non-objects, calls `each` for objects. */
export function eachObject(arr: i32, key: string, each: (el: i32) => void): void {
  pushKey(key);
  const end = nodeSkip(arr);
  let i = 0;
  for (let c = arr + 1; c < end; c = nodeSkip(c)) {
    pushIndex(i);
    if (nodeKind(c) != K_OBJ) report(Code.NotObject, c);
    else each(c);
    pop();
    i++;
  }
  pop();
}

export { arrayLength };
