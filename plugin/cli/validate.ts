/**
 * `multicni validate PATH...`: runs the pre-flight validator over network config files, the way
 * ADD would check them, and prints `file:line:col: message` per issue.
 *
 * Files may be JSONC (comments, trailing commas): when a file is not plain JSON, npm
 * `jsonc-parser` (loaded here, never on the CNI path) checks it as JSONC, and the validator then
 * runs on the text with comments and trailing commas blanked out, so positions stay true.
 * A multicni (or Multus) config's inline `delegates` are validated too.
 *
 * @module
 */

import { validateConfig, type ValidationIssue } from "../validator/mod.ts";
import { parseArgs, wantsJson } from "./_args.ts";

/** `multicni validate --help`. */
export const VALIDATE_HELP = `usage: multicni validate PATH... [--format text|json]

Checks network config files (.conf, .conflist, .json, .jsonc; JSON with comments is accepted)
and directories of them with the validator ADD runs before any delegate: JSON syntax, netconf
schema, known keys of the reference plugins, IPAM ranges. Prints file:line:col: message per
issue. Exit status: 0 no errors (warnings allowed), 1 errors, 2 usage error.

options:
  --format text|json   output format (default: text)
`;

const EXTENSIONS = [".conf", ".conflist", ".json", ".jsonc"];

type Jsonc = typeof import("jsonc-parser");
let jsoncModule: Promise<Jsonc> | undefined;
function jsonc(): Promise<Jsonc> {
  return jsoncModule ??= import("jsonc-parser");
}

/** One reported issue with its position in the file. */
export interface FileIssue {
  file: string;
  line: number;
  column: number;
  severity: "error" | "warning";
  network: string;
  path: string;
  message: string;
}

async function collect(path: string, out: string[], explicit: boolean): Promise<void> {
  const info = await Deno.stat(path);
  if (info.isDirectory) {
    const names: string[] = [];
    for await (const e of Deno.readDir(path)) names.push(e.name);
    names.sort();
    for (const name of names) await collect(`${path.replace(/\/+$/, "")}/${name}`, out, false);
  } else if (explicit || EXTENSIONS.some((ext) => path.endsWith(ext))) {
    out.push(path);
  }
}

/** Line and column (1-based, UTF-16 units) of a UTF-16 index. */
function position(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: index - start + 1 };
}

/** The UTF-16 index of a UTF-8 byte offset into `text`. */
function utf16Index(text: string, byteOffset: number): number {
  const bytes = new TextEncoder().encode(text);
  return new TextDecoder().decode(bytes.subarray(0, byteOffset)).length;
}

/** jsonc-parser's `SyntaxKind` values (a const enum, not readable under isolatedModules). */
const Kind = {
  CloseBrace: 2,
  CloseBracket: 4,
  Comma: 5,
  LineComment: 12,
  BlockComment: 13,
  LineBreak: 14,
  Trivia: 15,
  EOF: 17,
} as const;

/** Replaces comments and trailing commas by spaces (line breaks kept), so offsets still match. */
function blankJsonc(j: Jsonc, text: string): string {
  const chars = text.split("");
  const scanner = j.createScanner(text, false);
  let pendingComma = -1;
  for (let kind: number = scanner.scan(); kind !== Kind.EOF; kind = scanner.scan()) {
    const at = scanner.getTokenOffset();
    const len = scanner.getTokenLength();
    switch (kind) {
      case Kind.LineComment:
      case Kind.BlockComment:
        for (let i = at; i < at + len; i++) {
          if (chars[i] !== "\n" && chars[i] !== "\r") chars[i] = " ";
        }
        break;
      case Kind.Trivia:
      case Kind.LineBreak:
        break;
      case Kind.Comma:
        pendingComma = at;
        break;
      default:
        if (
          pendingComma >= 0 &&
          (kind === Kind.CloseBrace || kind === Kind.CloseBracket)
        ) chars[pendingComma] = " ";
        pendingComma = -1;
    }
  }
  return chars.join("");
}

/** A path such as `plugins[0].ipam["x"]` as segments for jsonc-parser. */
function segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.[\]]+)/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[2] !== undefined) out.push(JSON.parse(m[2]) as string);
    else if (m[3] !== undefined) out.push(m[3]);
  }
  return out;
}

interface Located {
  issue: ValidationIssue;
  index: number;
}

/** Validates `text` (plain JSON); `base` is where it starts in the file (UTF-16 index). */
async function check(name: string, text: string, base: number): Promise<Located[]> {
  const issues = validateConfig(name, text);
  const out: Located[] = [];
  let tree: import("jsonc-parser").Node | undefined;
  for (const issue of issues) {
    let index = 0;
    if (issue.offset !== undefined) index = utf16Index(text, issue.offset);
    else if (issue.path !== "") {
      // Issues about a whole object (overlaps, missing ranges) point at that object.
      const j = await jsonc();
      tree ??= j.parseTree(text);
      let segs = segments(issue.path);
      let node = tree && j.findNodeAtLocation(tree, segs);
      while (!node && segs.length > 0) {
        segs = segs.slice(0, -1);
        node = tree && j.findNodeAtLocation(tree, segs);
      }
      index = node?.offset ?? 0;
    }
    out.push({ issue, index: base + index });
  }
  return out;
}

async function checkFile(file: string): Promise<FileIssue[]> {
  const text = new TextDecoder().decode(await Deno.readFile(file));
  const fallback = file.replace(/^.*\//, "").replace(/\.[^.]*$/, "");
  const nameOf = (s: string) => {
    try {
      const v = JSON.parse(s);
      return typeof v?.name === "string" ? v.name : fallback;
    } catch {
      return fallback;
    }
  };
  let plain = text;
  let found = await check(nameOf(text), text, 0);
  const syntax = found.length === 1 && found[0]!.issue.path === "" &&
    found[0]!.issue.message.startsWith("config is not valid JSON");
  if (syntax) {
    const j = await jsonc();
    const errors: import("jsonc-parser").ParseError[] = [];
    j.parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
    if (errors.length > 0) {
      return errors.slice(0, 1).map((e) => ({
        file,
        ...position(text, e.offset),
        severity: "error" as const,
        network: fallback,
        path: "",
        message: `config is not valid JSON (nor JSONC): ${j.printParseErrorCode(e.error)}`,
      }));
    }
    plain = blankJsonc(j, text);
    found = await check(nameOf(plain), plain, 0);
  }
  found.push(...await delegates(plain));
  return found.map(({ issue, index }) => ({
    file,
    ...position(text, index),
    severity: issue.severity,
    network: issue.network,
    path: issue.path,
    message: issue.message,
  }));
}

/** Validates the inline `delegates` of a multicni/Multus config, paths prefixed. */
async function delegates(text: string): Promise<Located[]> {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return [];
  }
  const list = (root as { delegates?: unknown } | null)?.delegates;
  if (!Array.isArray(list) || list.length === 0) return [];
  const j = await jsonc();
  const tree = j.parseTree(text);
  const out: Located[] = [];
  for (let i = 0; i < list.length; i++) {
    const node = tree && j.findNodeAtLocation(tree, ["delegates", i]);
    if (!node) continue;
    const slice = text.slice(node.offset, node.offset + node.length);
    const name = (list[i] as { name?: unknown } | null)?.name;
    for (
      const l of await check(
        typeof name === "string" ? name : `delegates[${i}]`,
        slice,
        node.offset,
      )
    ) {
      const path = l.issue.path === "" ? `delegates[${i}]` : `delegates[${i}].${l.issue.path}`;
      const message = l.issue.path === "" || !l.issue.message.startsWith(l.issue.path)
        ? `delegates[${i}]: ${l.issue.message}`
        : `delegates[${i}].${l.issue.message}`;
      out.push({ issue: { ...l.issue, path, message }, index: l.index });
    }
  }
  return out;
}

/**
 * Runs `multicni validate`.
 *
 * @param args arguments after `validate`
 * @param io output channels
 * @returns the exit code: 0 no errors, 1 errors (or unreadable paths)
 * @throws {UsageError} for bad arguments
 */
export async function validateCommand(
  args: string[],
  io: { stdout: (s: string) => void; stderr: (s: string) => void },
): Promise<number> {
  const p = parseArgs(args, {
    values: { format: undefined },
    positionals: { min: 1, max: Infinity },
  });
  if (p.help) {
    io.stdout(VALIDATE_HELP);
    return 0;
  }
  const json = wantsJson(p);
  const files: string[] = [];
  let failed = false;
  for (const path of p.positionals) {
    try {
      await collect(path, files, true);
    } catch (e) {
      io.stderr(`${path}: cannot read: ${(e as Error).message}\n`);
      failed = true;
    }
  }
  const issues: FileIssue[] = [];
  for (const file of files) {
    try {
      issues.push(...await checkFile(file));
    } catch (e) {
      io.stderr(`${file}: cannot read: ${(e as Error).message}\n`);
      failed = true;
    }
  }
  const errors = issues.filter((i) => i.severity === "error").length;
  if (json) {
    io.stdout(`${JSON.stringify({ files: files.length, errors, issues })}\n`);
  } else {
    for (const i of issues) {
      const tag = i.severity === "warning" ? "warning: " : "";
      io.stdout(`${i.file}:${i.line}:${i.column}: ${tag}${i.message}\n`);
    }
    const warnings = issues.length - errors;
    io.stderr(
      `Checked ${files.length} file${files.length === 1 ? "" : "s"}: ${errors} error${
        errors === 1 ? "" : "s"
      }, ${warnings} warning${warnings === 1 ? "" : "s"}\n`,
    );
  }
  return failed || errors > 0 ? 1 : 0;
}
