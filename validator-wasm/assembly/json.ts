/**
 * A JSON parser that checks well-formedness (RFC 8259, as `JSON.parse` accepts it) and records the
 * document as a flat tape of nodes in linear memory, without allocating an object per value.
 *
 * Node layout (16 bytes): start offset, end offset (exclusive), index of the node after the
 * subtree, kind (low byte) and flags. An object's children are key, value, key, value, ...
 *
 * @module
 */

import { Code } from "./codes";

export const K_OBJ: u32 = 1;
export const K_ARR: u32 = 2;
export const K_STR: u32 = 3;
export const K_NUM: u32 = 4;
export const K_TRUE: u32 = 5;
export const K_FALSE: u32 = 6;
export const K_NULL: u32 = 7;
/** Flag: the string contains escape sequences. */
const F_ESC: u32 = 0x100;

/** Go's encoding/json refuses documents nested deeper than this. */
export const MAX_DEPTH: i32 = 10000;

/** Base address of the document being read. */
export let src: usize = 0;
/** Base address of the tape. */
export let tape: usize = 0;
/** Number of nodes on the tape. */
export let nodeCount: i32 = 0;
/** Syntax error code, 0 when the document parsed. */
export let syntaxCode: i32 = 0;
/** Byte offset of the syntax error. */
export let syntaxOffset: i32 = 0;

// Static buffers live in the data segment (memory.data), not on the heap: every call starts by
// resetting the stub runtime's heap, which would reclaim heap objects created at start-up.
const stack: usize = memory.data(40008);

export function nodeStart(n: i32): i32 {
  return load<i32>(tape + (<usize> n << 4));
}
export function nodeEnd(n: i32): i32 {
  return load<i32>(tape + (<usize> n << 4), 4);
}
export function nodeSkip(n: i32): i32 {
  return load<i32>(tape + (<usize> n << 4), 8);
}
export function nodeKind(n: i32): u32 {
  return load<u32>(tape + (<usize> n << 4), 12) & 0xff;
}
function nodeFlags(n: i32): u32 {
  return load<u32>(tape + (<usize> n << 4), 12);
}

function push(kind: u32, start: i32, end: i32): i32 {
  const n = nodeCount++;
  const p = tape + (<usize> n << 4);
  store<i32>(p, start);
  store<i32>(p, end, 4);
  store<i32>(p, n + 1, 8);
  store<u32>(p, kind, 12);
  return n;
}

function fail(code: i32, at: i32): bool {
  syntaxCode = code;
  syntaxOffset = at;
  return false;
}

function skipWs(i: i32, len: i32): i32 {
  while (i < len) {
    const c = load<u8>(src + <usize> i);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    i++;
  }
  return i;
}

function isHex(c: u32): bool {
  return (c - 0x30 < 10) || ((c | 0x20) - 0x61 < 6);
}

/** Scans a string starting at the quote `i`; returns the offset after the closing quote or -1. */
function scanString(i: i32, len: i32): i32 {
  let flags: u32 = K_STR;
  const start = i;
  i++;
  while (true) {
    if (i >= len) return failAt(Code.SyntaxUnexpectedEnd, len);
    const c = <u32> load<u8>(src + <usize> i);
    if (c == 0x22) break;
    if (c < 0x20) return failAt(Code.SyntaxControlChar, i);
    if (c == 0x5c) {
      flags |= F_ESC;
      if (i + 1 >= len) return failAt(Code.SyntaxUnexpectedEnd, len);
      const e = <u32> load<u8>(src + <usize> (i + 1));
      if (e == 0x75) {
        for (let k = 2; k < 6; k++) {
          if (i + k >= len) return failAt(Code.SyntaxUnexpectedEnd, len);
          if (!isHex(<u32> load<u8>(src + <usize> (i + k)))) {
            return failAt(Code.SyntaxBadEscape, i + k);
          }
        }
        i += 6;
        continue;
      }
      if (
        e != 0x22 && e != 0x5c && e != 0x2f && e != 0x62 && e != 0x66 && e != 0x6e && e != 0x72 &&
        e != 0x74
      ) return failAt(Code.SyntaxBadEscape, i + 1);
      i += 2;
      continue;
    }
    i++;
  }
  // Content length (capped) and first byte in the flags word let key lookups reject a
  // non-matching key with one load (see strEquals).
  const contentLen = i - start - 1;
  const first: u32 = contentLen > 0 ? <u32> load<u8>(src + <usize> (start + 1)) : 0;
  flags |= (<u32> min(contentLen, 0x7fff) << 17) | (first << 9);
  push(flags, start, i + 1);
  return i + 1;
}

function failAt(code: i32, at: i32): i32 {
  fail(code, at);
  return -1;
}

function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

function scanNumber(i: i32, len: i32): i32 {
  const start = i;
  if (load<u8>(src + <usize> i) == 0x2d) i++;
  if (i >= len) return failAt(Code.SyntaxUnexpectedEnd, len);
  let c = <u32> load<u8>(src + <usize> i);
  if (c == 0x30) {
    i++;
  } else if (isDigit(c)) {
    while (i < len && isDigit(<u32> load<u8>(src + <usize> i))) i++;
  } else return failAt(Code.SyntaxBadNumber, i);
  if (i < len && load<u8>(src + <usize> i) == 0x2e) {
    i++;
    if (i >= len) return failAt(Code.SyntaxUnexpectedEnd, len);
    if (!isDigit(<u32> load<u8>(src + <usize> i))) return failAt(Code.SyntaxBadNumber, i);
    while (i < len && isDigit(<u32> load<u8>(src + <usize> i))) i++;
  }
  if (i < len && (load<u8>(src + <usize> i) | 0x20) == 0x65) {
    i++;
    if (i < len) {
      c = <u32> load<u8>(src + <usize> i);
      if (c == 0x2b || c == 0x2d) i++;
    }
    if (i >= len) return failAt(Code.SyntaxUnexpectedEnd, len);
    if (!isDigit(<u32> load<u8>(src + <usize> i))) return failAt(Code.SyntaxBadNumber, i);
    while (i < len && isDigit(<u32> load<u8>(src + <usize> i))) i++;
  }
  push(K_NUM, start, i);
  return i;
}

function scanLiteral(i: i32, len: i32, word: string, kind: u32): i32 {
  const n = word.length;
  for (let k = 0; k < n; k++) {
    if (i + k >= len) return failAt(Code.SyntaxUnexpectedEnd, len);
    if (<u32> load<u8>(src + <usize> (i + k)) != <u32> word.charCodeAt(k)) {
      return failAt(Code.SyntaxUnexpectedChar, i + k);
    }
  }
  push(kind, i, i + n);
  return i + n;
}

/** Scans `"key" :` at `i`; returns the offset after the colon or -1. */
function scanKey(i: i32, len: i32): i32 {
  i = skipWs(i, len);
  if (i >= len) return failAt(Code.SyntaxUnexpectedEnd, len);
  if (load<u8>(src + <usize> i) != 0x22) return failAt(Code.SyntaxUnexpectedChar, i);
  i = scanString(i, len);
  if (i < 0) return -1;
  i = skipWs(i, len);
  if (i >= len) return failAt(Code.SyntaxUnexpectedEnd, len);
  if (load<u8>(src + <usize> i) != 0x3a) return failAt(Code.SyntaxUnexpectedChar, i);
  return i + 1;
}

/**
 * Parses `len` bytes at `base` onto the tape at `tapeBase` (room for `len + 1` nodes needed).
 *
 * @returns true when the text is one well-formed JSON value
 */
export function parse(base: usize, len: i32, tapeBase: usize): bool {
  src = base;
  tape = tapeBase;
  nodeCount = 0;
  syntaxCode = 0;
  syntaxOffset = 0;
  let depth = 0;
  let i = 0;
  let expectValue = true;
  while (true) {
    if (expectValue) {
      i = skipWs(i, len);
      if (i >= len) return fail(Code.SyntaxUnexpectedEnd, len);
      const c = <u32> load<u8>(src + <usize> i);
      if (c == 0x7b || c == 0x5b) {
        if (depth >= MAX_DEPTH) return fail(Code.SyntaxTooDeep, i);
        const n = push(c == 0x7b ? K_OBJ : K_ARR, i, 0);
        store<i32>(stack + (<usize> depth << 2), n);
        depth++;
        i = skipWs(i + 1, len);
        if (i >= len) return fail(Code.SyntaxUnexpectedEnd, len);
        const d = <u32> load<u8>(src + <usize> i);
        if (d == c + 2) {
          close(n, i);
          depth--;
          i++;
          expectValue = false;
          continue;
        }
        if (c == 0x7b) {
          i = scanKey(i, len);
          if (i < 0) return false;
        }
        continue;
      }
      if (c == 0x22) i = scanString(i, len);
      else if (c == 0x2d || isDigit(c)) i = scanNumber(i, len);
      else if (c == 0x74) i = scanLiteral(i, len, "true", K_TRUE);
      else if (c == 0x66) i = scanLiteral(i, len, "false", K_FALSE);
      else if (c == 0x6e) i = scanLiteral(i, len, "null", K_NULL);
      else return fail(Code.SyntaxUnexpectedChar, i);
      if (i < 0) return false;
      expectValue = false;
    } else {
      i = skipWs(i, len);
      if (depth == 0) {
        if (i < len) return fail(Code.SyntaxTrailing, i);
        return true;
      }
      if (i >= len) return fail(Code.SyntaxUnexpectedEnd, len);
      const c = <u32> load<u8>(src + <usize> i);
      const top = load<i32>(stack + (<usize> (depth - 1) << 2));
      const kind = nodeKind(top);
      if (c == 0x2c) {
        i++;
        if (kind == K_OBJ) {
          i = scanKey(i, len);
          if (i < 0) return false;
        }
        expectValue = true;
      } else if ((c == 0x7d && kind == K_OBJ) || (c == 0x5d && kind == K_ARR)) {
        close(top, i);
        depth--;
        i++;
      } else return fail(Code.SyntaxUnexpectedChar, i);
    }
  }
}

function close(n: i32, at: i32): void {
  const p = tape + (<usize> n << 4);
  store<i32>(p, at + 1, 4);
  store<i32>(p, nodeCount, 8);
}

// ---- reading values -------------------------------------------------------------------------

/** Decoder state for {@link nextChar}: position and end of the string's content. */
let dPos: i32 = 0;
let dEnd: i32 = 0;

function hexVal(c: u32): u32 {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}

function readU4(at: i32): u32 {
  return (hexVal(<u32> load<u8>(src + <usize> at)) << 12) |
    (hexVal(<u32> load<u8>(src + <usize> (at + 1))) << 8) |
    (hexVal(<u32> load<u8>(src + <usize> (at + 2))) << 4) |
    hexVal(<u32> load<u8>(src + <usize> (at + 3)));
}

/** Starts decoding string node `n`. */
export function beginChars(n: i32): void {
  dPos = nodeStart(n) + 1;
  dEnd = nodeEnd(n) - 1;
}

/**
 * The next character of the string being decoded: ASCII as itself, an escape decoded, any
 * non-ASCII byte as 0x80 or more (exact value irrelevant: every rule treats non-ASCII alike).
 * Returns -1 at the end.
 */
export function nextChar(): i32 {
  if (dPos >= dEnd) return -1;
  const c = <u32> load<u8>(src + <usize> dPos);
  if (c != 0x5c) {
    dPos++;
    return <i32> c;
  }
  const e = <u32> load<u8>(src + <usize> (dPos + 1));
  dPos += 2;
  if (e == 0x75) {
    const v = readU4(dPos);
    dPos += 4;
    // A surrogate pair is one character.
    if (
      v >= 0xd800 && v < 0xdc00 && dPos + 6 <= dEnd && load<u8>(src + <usize> dPos) == 0x5c &&
      load<u8>(src + <usize> (dPos + 1)) == 0x75
    ) {
      const w = readU4(dPos + 2);
      if (w >= 0xdc00 && w < 0xe000) dPos += 6;
    }
    return <i32> v;
  }
  if (e == 0x62) return 8;
  if (e == 0x66) return 12;
  if (e == 0x6e) return 10;
  if (e == 0x72) return 13;
  if (e == 0x74) return 9;
  return <i32> e;
}

/** Tells whether string node `n` equals the ASCII text `s`. */
export function strEquals(n: i32, s: string): bool {
  const len = s.length;
  const w = nodeFlags(n);
  if ((w & F_ESC) == 0) {
    if ((w >>> 17) != <u32> len) return false;
    if (len == 0) return true;
    if (((w >>> 9) & 0xff) != <u32> s.charCodeAt(0)) return false;
    const start = nodeStart(n) + 1;
    for (let k = 1; k < len; k++) {
      if (<u32> load<u8>(src + <usize> (start + k)) != <u32> s.charCodeAt(k)) return false;
    }
    return true;
  }
  beginChars(n);
  for (let k = 0; k < len; k++) {
    if (nextChar() != s.charCodeAt(k)) return false;
  }
  return nextChar() < 0;
}

/** Scratch buffer for short ASCII values (addresses, versions). */
export const scratch: usize = memory.data(128);
export let scratchLen: i32 = 0;

/**
 * Decodes string node `n` into {@link scratch} when it is short ASCII.
 *
 * @returns false when it is longer than the scratch buffer or holds a non-ASCII character
 */
export function decodeShort(n: i32): bool {
  beginChars(n);
  let k = 0;
  while (true) {
    const c = nextChar();
    if (c < 0) break;
    if (c >= 0x80 || k >= 128) return false;
    store<u8>(scratch + <usize> k, <u8> c);
    k++;
  }
  scratchLen = k;
  return true;
}

/** Tells whether string node `n` is empty. */
export function strIsEmpty(n: i32): bool {
  return nodeEnd(n) - nodeStart(n) == 2;
}

/**
 * Value of object `obj`'s key `key` (the last one when repeated, as `JSON.parse` does), or -1.
 */
export function get(obj: i32, key: string): i32 {
  let found = -1;
  const end = nodeSkip(obj);
  let c = obj + 1;
  while (c < end) {
    if (strEquals(c, key)) found = c + 1;
    c = nodeSkip(c + 1);
  }
  return found;
}

/** Value of `key` when present and not null, else -1. */
export function getSet(obj: i32, key: string): i32 {
  const v = get(obj, key);
  return v >= 0 && nodeKind(v) != K_NULL ? v : -1;
}

/** Number of elements of array node `arr`. */
export function arrayLength(arr: i32): i32 {
  let count = 0;
  const end = nodeSkip(arr);
  let c = arr + 1;
  while (c < end) {
    count++;
    c = nodeSkip(c);
  }
  return count;
}

// ---- numbers --------------------------------------------------------------------------------

/** The number node `n` as the nearest double, the way `JSON.parse` reads it. */
export function numberValue(n: i32): f64 {
  let i = nodeStart(n);
  const end = nodeEnd(n);
  let neg = false;
  if (load<u8>(src + <usize> i) == 0x2d) {
    neg = true;
    i++;
  }
  let mant: u64 = 0;
  let digits = 0;
  let exp: i32 = 0;
  let seenPoint = false;
  while (i < end) {
    const c = <u32> load<u8>(src + <usize> i);
    if (c == 0x2e) {
      seenPoint = true;
      i++;
      continue;
    }
    if (!isDigit(c)) break;
    if (digits < 19) {
      if (mant != 0 || c != 0x30) {
        mant = mant * 10 + <u64> (c - 0x30);
        if (mant != 0) digits++;
      }
      if (seenPoint) exp--;
    } else if (!seenPoint) {
      exp++;
    }
    i++;
  }
  if (i < end) {
    i++; // e or E
    let eneg = false;
    const s = <u32> load<u8>(src + <usize> i);
    if (s == 0x2d || s == 0x2b) {
      eneg = s == 0x2d;
      i++;
    }
    let e: i32 = 0;
    while (i < end) {
      if (e < 100000) e = e * 10 + <i32> (load<u8>(src + <usize> i) - 0x30);
      i++;
    }
    exp += eneg ? -e : e;
  }
  let v: f64 = <f64> mant;
  if (mant == 0) v = 0;
  else if (exp > 400) v = Infinity;
  else if (exp < -400) v = 0;
  else if (exp >= 0) {
    v = exp <= 22 ? v * pow10(exp) : v * Math.pow(10, <f64> exp);
  } else if (exp >= -22) {
    v = v / pow10(-exp);
  } else if (exp >= -300) {
    v = v / Math.pow(10, <f64> -exp);
  } else {
    v = (v / Math.pow(10, <f64> (-exp - 300))) / 1e300;
  }
  return neg ? -v : v;
}

function pow10(e: i32): f64 {
  let r: f64 = 1;
  for (let k = 0; k < e; k++) r *= 10;
  return r;
}
