/**
 * IPv4 and IPv6 addresses and prefixes as 128-bit numbers (two u64 halves), parsed the way Go's
 * `net.ParseIP` and `net.ParseCIDR` read them (netip rules: no leading zeros in IPv4 fields, at most
 * four hex digits per IPv6 field, an embedded IPv4 only in the last 32 bits, no zones).
 *
 * IPv4 values live in the low 32 bits of `lo` with `hi` zero; family is 4 or 6.
 *
 * @module
 */

import { scratch, scratchLen } from "./json";

/** Result of the last parse. */
export let ipHi: u64 = 0;
export let ipLo: u64 = 0;
export let ipFamily: i32 = 0;
export let prefixLen: i32 = 0;

function ch(i: i32): u32 {
  return <u32> load<u8>(scratch + <usize> i);
}

function parseV4(start: i32, end: i32): i64 {
  let value: u32 = 0;
  let fields = 0;
  let i = start;
  while (true) {
    let digits = 0;
    let field: u32 = 0;
    const fieldStart = i;
    while (i < end && ch(i) - 0x30 < 10) {
      field = field * 10 + (ch(i) - 0x30);
      digits++;
      i++;
      if (digits > 3) return -1;
    }
    if (digits == 0 || field > 255) return -1;
    if (digits > 1 && ch(fieldStart) == 0x30) return -1;
    value = (value << 8) | field;
    fields++;
    if (i == end) break;
    if (ch(i) != 0x2e || fields == 4) return -1;
    i++;
  }
  return fields == 4 ? <i64> value : -1;
}

function hexDigit(c: u32): i32 {
  if (c - 0x30 < 10) return <i32> (c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32> (l - 0x61 + 10);
  return -1;
}

const groups: usize = memory.data(32);

function setGroup(i: i32, v: u32): void {
  store<u32>(groups + (<usize> i << 2), v);
}

function getGroup(i: i32): u32 {
  return load<u32>(groups + (<usize> i << 2));
}

function parseV6(start: i32, end: i32): bool {
  let gi = 0;
  let ellipsis = -1;
  let i = start;
  if (end - start >= 2 && ch(i) == 0x3a && ch(i + 1) == 0x3a) {
    ellipsis = 0;
    i += 2;
    if (i == end) return finishV6(gi, ellipsis);
  }
  while (i < end) {
    let value: u32 = 0;
    let digits = 0;
    let j = i;
    while (j < end && digits < 5) {
      const h = hexDigit(ch(j));
      if (h < 0) break;
      value = (value << 4) | <u32> h;
      digits++;
      j++;
    }
    if (digits == 0) return false;
    if (j < end && ch(j) == 0x2e) {
      if (ellipsis < 0 && gi != 6) return false;
      if (gi + 2 > 8) return false;
      const v4 = parseV4(i, end);
      if (v4 < 0) return false;
      setGroup(gi++, <u32> (v4 >> 16));
      setGroup(gi++, <u32> (v4 & 0xffff));
      i = end;
      break;
    }
    if (digits > 4 || gi >= 8) return false;
    setGroup(gi++, value);
    i = j;
    if (i == end) break;
    if (ch(i) != 0x3a) return false;
    i++;
    if (i < end && ch(i) == 0x3a) {
      if (ellipsis >= 0) return false;
      ellipsis = gi;
      i++;
      if (i == end) break;
    } else if (i == end) return false;
  }
  return finishV6(gi, ellipsis);
}

function finishV6(gi: i32, ellipsis: i32): bool {
  if (gi < 8) {
    if (ellipsis < 0) return false;
    const tail = gi - ellipsis;
    for (let k = 0; k < tail; k++) {
      setGroup(7 - k, getGroup(gi - 1 - k));
    }
    for (let k = ellipsis; k < 8 - tail; k++) setGroup(k, 0);
  } else if (ellipsis >= 0) return false;
  let hi: u64 = 0;
  let lo: u64 = 0;
  for (let k = 0; k < 4; k++) hi = (hi << 16) | <u64> getGroup(k);
  for (let k = 4; k < 8; k++) lo = (lo << 16) | <u64> getGroup(k);
  ipHi = hi;
  ipLo = lo;
  ipFamily = 6;
  return true;
}

/** Parses scratch[start, end) as an address (netip.ParseAddr without zones). */
function parseAddr(start: i32, end: i32): bool {
  for (let i = start; i < end; i++) {
    const c = ch(i);
    if (c == 0x2e) {
      const v = parseV4(start, end);
      if (v < 0) return false;
      ipHi = 0;
      ipLo = <u64> v;
      ipFamily = 4;
      return true;
    }
    if (c == 0x3a) return parseV6(start, end);
    if (c == 0x25) return false;
  }
  return false;
}

/** Parses the decoded scratch text as an IP address. */
export function parseIp(): bool {
  return parseAddr(0, scratchLen);
}

/** Parses the decoded scratch text as `address/prefix` (net.ParseCIDR). */
export function parseCidr(): bool {
  let slash = -1;
  for (let i = 0; i < scratchLen; i++) {
    if (ch(i) == 0x2f) {
      slash = i;
      break;
    }
  }
  if (slash < 0) return false;
  if (!parseAddr(0, slash)) return false;
  let n = 0;
  let digits = 0;
  for (let i = slash + 1; i < scratchLen; i++) {
    const d = ch(i) - 0x30;
    if (d >= 10) return false;
    if (n < 0xffff) n = n * 10 + <i32> d;
    digits++;
  }
  if (digits == 0 || n > (ipFamily == 4 ? 32 : 128)) return false;
  prefixLen = n;
  return true;
}

/** Number of address bits of a family. */
export function familyBits(family: i32): i32 {
  return family == 4 ? 32 : 128;
}

/** High half of the mask of a prefix, as a 128-bit mask over the family's bits. */
export function maskHi(family: i32, prefix: i32): u64 {
  if (family == 4) return 0;
  if (prefix >= 64) return 0xffffffffffffffff;
  if (prefix == 0) return 0;
  return 0xffffffffffffffff << <u64> (64 - prefix);
}

/** Low half of the mask of a prefix. */
export function maskLo(family: i32, prefix: i32): u64 {
  if (family == 4) {
    if (prefix == 0) return 0;
    return (0xffffffff << <u64> (32 - prefix)) & 0xffffffff;
  }
  if (prefix <= 64) return 0;
  return 0xffffffffffffffff << <u64> (128 - prefix);
}

/** Compares two 128-bit numbers. */
export function cmp128(ah: u64, al: u64, bh: u64, bl: u64): i32 {
  if (ah != bh) return ah < bh ? -1 : 1;
  if (al != bl) return al < bl ? -1 : 1;
  return 0;
}
