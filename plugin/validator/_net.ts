/**
 * IP address and prefix parsing for the TypeScript rule implementations, with the same rules as
 * the WebAssembly validator (Go's netip: no leading zeros in IPv4 fields, at most four hex digits
 * per IPv6 field, an embedded IPv4 only in the last 32 bits, no zones).
 *
 * @module
 */

/** An address as a 128-bit number (IPv4 in the low 32 bits). */
export interface Ip {
  family: 4 | 6;
  value: bigint;
}

/** A parsed `address/prefix`; `value` keeps the host bits. */
export interface Cidr extends Ip {
  prefix: number;
}

function parseV4(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p[0] === "0")) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

function parseV6(s: string): bigint | undefined {
  const groups: number[] = [];
  let ellipsis = -1;
  let i = 0;
  if (s.startsWith("::")) {
    ellipsis = 0;
    i = 2;
    if (i === s.length) return finishV6(groups, ellipsis);
  }
  while (i < s.length) {
    const m = /^[0-9a-fA-F]{1,5}/.exec(s.slice(i, i + 5));
    if (!m) return undefined;
    const digits = m[0];
    const j = i + digits.length;
    if (s[j] === ".") {
      if ((ellipsis < 0 && groups.length !== 6) || groups.length + 2 > 8) return undefined;
      const v4 = parseV4(s.slice(i));
      if (v4 === undefined) return undefined;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      i = s.length;
      break;
    }
    if (digits.length > 4 || groups.length >= 8) return undefined;
    groups.push(parseInt(digits, 16));
    i = j;
    if (i === s.length) break;
    if (s[i] !== ":") return undefined;
    i++;
    if (s[i] === ":") {
      if (ellipsis >= 0) return undefined;
      ellipsis = groups.length;
      i++;
      if (i === s.length) break;
    } else if (i === s.length) return undefined;
  }
  return finishV6(groups, ellipsis);
}

function finishV6(groups: number[], ellipsis: number): bigint | undefined {
  if (groups.length < 8) {
    if (ellipsis < 0) return undefined;
    const zeros = new Array<number>(8 - groups.length).fill(0);
    groups.splice(ellipsis, 0, ...zeros);
  } else if (ellipsis >= 0) return undefined;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

/**
 * Parses an IP address the way Go's `net.ParseIP` does.
 *
 * @param s the text
 * @returns the address, or undefined when `s` is not one
 */
export function parseIp(s: string): Ip | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === ".") {
      const v = parseV4(s);
      return v === undefined ? undefined : { family: 4, value: BigInt(v) };
    }
    if (c === ":") {
      const v = parseV6(s);
      return v === undefined ? undefined : { family: 6, value: v };
    }
    if (c === "%") return undefined;
  }
  return undefined;
}

/**
 * Parses `address/prefix` the way Go's `net.ParseCIDR` does.
 *
 * @param s the text
 * @returns the prefix, or undefined when `s` is not a CIDR
 */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const bits = s.slice(slash + 1);
  if (!ip || !/^[0-9]+$/.test(bits)) return undefined;
  const prefix = bits.length > 5 ? Infinity : Number(bits);
  if (prefix > familyBits(ip.family)) return undefined;
  return { ...ip, prefix };
}

/** Number of address bits of a family. */
export function familyBits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** The network mask of a prefix, as a number over the family's bits. */
export function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
}

/** Formats an address (IPv6 without zero compression, which is enough for messages). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((ip.value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}
