/**
 * Random network configs for the fuzzers, derived from valid base configs: the input classes
 * of issue 8 (random bytes, token soup, truncation, byte and structural mutation, duplicate
 * keys, invalid UTF-8, out-of-range numbers) and deep nesting.
 *
 * @module
 */

import { BAD_UTF8, memberSpans, mutateBytes, mutateTree, type Rng, writeJson } from "./_gen.ts";
import { PATH_KEYS } from "./_bases.ts";

export const enc = new TextEncoder();

/** An input class. */
export type Category =
  | "random-bytes"
  | "token-soup"
  | "truncated"
  | "byte-mutated"
  | "structural"
  | "duplicate-keys"
  | "invalid-utf8"
  | "edge-numbers";

/** One random stdin of `category`, derived from base config text `base`. */
export function generate(rng: Rng, category: Category, base: Record<string, unknown>): Uint8Array {
  const text = JSON.stringify(base);
  const protect = memberSpans(text, PATH_KEYS);
  const afterPaths = Math.max(...protect.map(([, e]) => e));
  switch (category) {
    case "random-bytes":
      return rng.bytes(rng.int(2000));
    case "token-soup": {
      const tokens = ["{", "}", "[", "]", ":", ",", '"', '"name"', '"delegates"', "null", "1e9"];
      return enc.encode(Array.from({ length: rng.int(300) }, () => rng.pick(tokens)).join(""));
    }
    case "truncated": {
      // Cut after the path keys, so a cut that still parses cannot redirect the cache.
      const bytes = enc.encode(text);
      return bytes.subarray(0, afterPaths + rng.int(bytes.length - afterPaths));
    }
    case "byte-mutated":
      return mutateBytes(rng, enc.encode(text), protect, 1 + rng.int(8));
    case "structural": {
      const tree = structuredClone(base);
      for (let n = 1 + rng.int(3); n > 0; n--) mutateTree(rng, tree, new Set(PATH_KEYS));
      return enc.encode(writeJson(rng, tree));
    }
    case "duplicate-keys":
      return enc.encode(writeJson(rng, base, 0.7));
    case "invalid-utf8": {
      const bytes = Array.from(enc.encode(text));
      // Inside a string value after the path keys: the name of a delegate, or a new key.
      const at = text.indexOf('"name":"', afterPaths) + 8;
      bytes.splice(at > 8 ? at : bytes.length - 1, 0, ...rng.pick(BAD_UTF8));
      return new Uint8Array(bytes);
    }
    case "edge-numbers": {
      const tree = structuredClone(base);
      const key = rng.pick(["delegateTimeout", "maxParallel", "readinessTimeout", "logOptions"]);
      const num = rng.pick([
        "1e400",
        "-1e400",
        "1e-400",
        "-0",
        "0",
        "-1",
        "9007199254740993",
        "1.5",
      ]);
      const value = key === "logOptions" ? `{"maxSize":${num},"maxBackups":${num}}` : num;
      return enc.encode(writeJson(rng, tree).replace(/}$/, `,"${key}":${value}}`));
    }
  }
}

/** Nesting `depth` levels deep inside a delegate (objects or arrays). */
export function deep(
  base: Record<string, unknown>,
  depth: number,
  open: string,
  close: string,
): string {
  const text = JSON.stringify(base);
  const nest = `${open.repeat(depth)}1${close.repeat(depth)}`;
  return text.replace('"type":"fz-ok"', `"type":"fz-ok","deep":${nest}`);
}

/** How often each class is drawn. */
export const CATEGORY_WEIGHTS: Record<Category, number> = {
  "random-bytes": 2,
  "token-soup": 1,
  "truncated": 3,
  "byte-mutated": 4,
  "structural": 6,
  "duplicate-keys": 1,
  "invalid-utf8": 1,
  "edge-numbers": 2,
};
