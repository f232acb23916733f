/**
 * Input generators for the fuzzers: a seeded PRNG (so a CI failure is reproduced by its seed and
 * case number), random JSON values, a JSON writer that can emit duplicate keys and out-of-range
 * number literals, and byte-level mutations that leave chosen spans of the text intact.
 *
 * @module
 */

/** Seeded PRNG (mulberry32): small, fast, and the same sequence on every machine. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }
  /** A key of `weights`, chosen with probability proportional to its weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as [K, number][];
    let r = this.next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return entries[entries.length - 1]![0];
  }
  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** A number written literally, e.g. `1e400`, which JSON.stringify cannot produce. */
export class RawNumber {
  constructor(readonly text: string) {}
}

/** Number literals at and beyond the edges of what JavaScript and the config accept. */
export const EDGE_NUMBERS = [
  "0",
  "-0",
  "-1",
  "1e400",
  "-1e400",
  "1e-400",
  "1.7976931348623157e308",
  "9007199254740993",
  "123456789012345678901234567890",
  "0.0000001",
  "1E+2",
  "86400.0001",
  "4294967296",
  "2.5",
] as const;

/** Strings that have broken parsers, path handling or loggers before. */
export const EDGE_STRINGS = [
  "",
  " ",
  ".",
  "..",
  "../../etc/passwd",
  "/bin/sh",
  "a/b",
  "a\\b",
  "\u0000",
  "\ud800",
  "\udfff\ud800",
  "\u2028\u2029",
  "é".repeat(20),
  "💥",
  "$(touch /tmp/pwned)",
  "`id`",
  "a;b",
  "a=b",
  "%s%n%x",
  "\r\n",
  "__proto__",
  "constructor",
  "Bearer abc.def.ghi",
  "1.0.0",
  "0.3.1",
  "9.9.9",
  "x".repeat(300),
] as const;

const KEYS = [
  "cniVersion",
  "cniVersions",
  "name",
  "type",
  "plugins",
  "delegates",
  "ipam",
  "capabilities",
  "runtimeConfig",
  "args",
  "prevResult",
  "clusterNetwork",
  "defaultNetworks",
  "delegateTimeout",
  "maxParallel",
  "parallel",
  "logLevel",
  "logOptions",
  "retryDeleteOnError",
  "disableCheck",
  "disableGC",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "",
] as const;

/** A random JSON value of bounded size; numbers may be {@linkcode RawNumber}s. */
export function randomValue(rng: Rng, depth = 0): unknown {
  const kind = rng.weighted({
    str: 4,
    num: 3,
    bool: 1,
    null: 1,
    arr: depth < 4 ? 2 : 0,
    obj: depth < 4 ? 2 : 0,
  });
  switch (kind) {
    case "str":
      return rng.chance(0.6) ? rng.pick(EDGE_STRINGS) : randomString(rng, rng.int(40));
    case "num":
      return rng.chance(0.6)
        ? new RawNumber(rng.pick(EDGE_NUMBERS))
        : (rng.next() - 0.5) * 10 ** rng.int(20);
    case "bool":
      return rng.chance(0.5);
    case "null":
      return null;
    case "arr":
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    case "obj": {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) o[rng.pick(KEYS)] = randomValue(rng, depth + 1);
      return o;
    }
  }
}

/** A string of random code points, including controls and astral characters. */
export function randomString(rng: Rng, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) {
    const r = rng.next();
    s += r < 0.7
      ? String.fromCharCode(0x20 + rng.int(95))
      : r < 0.8
      ? String.fromCharCode(rng.int(0x20))
      : String.fromCodePoint(rng.int(0x10ffff) & ~0xf800 | (rng.chance(0.1) ? 0xd800 : 0));
  }
  return s;
}

/**
 * Writes JSON like JSON.stringify, except that {@linkcode RawNumber}s are written literally and,
 * with probability `dupChance` per object, one member is written twice with a random value first.
 */
export function writeJson(rng: Rng, v: unknown, dupChance = 0): string {
  if (v instanceof RawNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map((x) => writeJson(rng, x, dupChance)).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const members = Object.entries(v as Record<string, unknown>).map(([k, x]) =>
      `${JSON.stringify(k)}:${writeJson(rng, x, dupChance)}`
    );
    if (members.length > 0 && rng.chance(dupChance)) {
      const keys = Object.keys(v);
      const k = rng.pick(keys);
      members.splice(
        rng.int(members.length),
        0,
        `${JSON.stringify(k)}:${writeJson(rng, randomValue(rng, 2))}`,
      );
    }
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** Every path to a value inside a JSON tree, as key lists. */
export function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === "object" && !(v instanceof RawNumber)) {
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  }
  return out;
}

/**
 * One structural mutation of a parsed config at a random place that is not protected: replace a
 * value, delete a member, or add one. Mutates `root` in place.
 */
export function mutateTree(rng: Rng, root: Record<string, unknown>, protect: Set<string>): string {
  const candidates = paths(root).filter((p) => p.length > 0 && !protect.has(String(p[0])));
  const target = rng.pick(candidates.length ? candidates : [["name"]]);
  const parent = target.slice(0, -1).reduce<unknown>(
    (o, k) => (o as Record<string | number, unknown>)[k],
    root,
  ) as Record<string | number, unknown> | unknown[];
  const key = target[target.length - 1]!;
  const op = rng.weighted({ replace: 6, remove: 2, add: 2 });
  if (op === "replace") {
    (parent as Record<string | number, unknown>)[key] = randomValue(rng);
  } else if (op === "remove") {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete (parent as Record<string, unknown>)[key];
  } else if (!Array.isArray(parent)) {
    const keys = KEYS.filter((k) => target.length > 1 || !protect.has(k));
    Object.defineProperty(parent, rng.pick(keys), {
      value: randomValue(rng),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else parent.push(randomValue(rng));
  return `${op} ${target.join(".")}`;
}

/**
 * Byte-level mutations (flip, insert, delete, overwrite with JSON punctuation) outside the
 * protected `[start, end)` spans.
 */
export function mutateBytes(
  rng: Rng,
  input: Uint8Array,
  protect: readonly [number, number][],
  count: number,
): Uint8Array {
  const bytes = Array.from(input);
  const punct = Array.from(new TextEncoder().encode('{}[]:,"\\0123456789.-eE tfn'));
  const free = (i: number) => !protect.some(([s, e]) => i >= s && i < e);
  for (let n = 0; n < count; n++) {
    const i = rng.int(bytes.length + 1);
    if (!free(i) || !free(i - 1)) continue;
    const op = rng.weighted({ flip: 2, insert: 2, delete: 2, punct: 3 });
    // Inserting or deleting shifts the protected spans; only do it after the last one.
    const afterAll = protect.every(([, e]) => i >= e);
    if (op === "flip" && i < bytes.length) bytes[i] = bytes[i]! ^ (1 << rng.int(8));
    else if (op === "punct" && i < bytes.length) bytes[i] = rng.pick(punct);
    else if (op === "insert" && afterAll) {
      bytes.splice(i, 0, rng.chance(0.5) ? rng.int(256) : rng.pick(punct));
    } else if (op === "delete" && afterAll && i < bytes.length) bytes.splice(i, 1);
  }
  return new Uint8Array(bytes);
}

/** The `[start, end)` spans of `"key":<value>` members of `text` for the given keys. */
export function memberSpans(text: string, keys: readonly string[]): [number, number][] {
  const out: [number, number][] = [];
  for (const k of keys) {
    const re = new RegExp(`"${k}":"(?:[^"\\\\]|\\\\.)*"`, "g");
    for (const m of text.matchAll(re)) out.push([m.index!, m.index! + m[0].length]);
  }
  return out;
}

/** Invalid UTF-8 sequences: stray continuation, overlong, surrogate, beyond U+10FFFF, cut. */
export const BAD_UTF8: readonly number[][] = [
  [0x80],
  [0xff],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xfe, 0xfe, 0xff, 0xff],
];
