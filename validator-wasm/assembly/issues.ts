/**
 * Issues found so far and the JSON path of the value being checked.
 *
 * The path is a stack of segments (a key or an index); an issue copies it as ASCII text such as
 * `plugins[0].ipam.ranges[0][1].rangeEnd`.
 *
 * @module
 */

import { Severity } from "./codes";
import { nodeEnd, nodeStart } from "./json";

/** At most this many issues are kept; further ones are counted but dropped. */
export const MAX_ISSUES: i32 = 64;

export class Issue {
  code: i32 = 0;
  severity: i32 = Severity.Error;
  entry: i32 = 0;
  offset: i32 = -1;
  length: i32 = 0;
  path: Path | null = null;
  relatedEntry: i32 = -1;
  relatedOffset: i32 = -1;
  relatedLength: i32 = 0;
  relatedPath: Path | null = null;
}

export let issues: Issue[] = [];
export let errorCount: i32 = 0;
export let warningCount: i32 = 0;
/** Index of the plan entry (0 for a single config) being checked. */
export let currentEntry: i32 = 0;

/**
 * A JSON path as a persistent list, innermost segment first: taking a snapshot for an issue or a
 * range is one pointer, and the text is only built when the host asks for it.
 */
export class Path {
  constructor(
    public parent: Path | null,
    public key: string,
    public idx: i32,
  ) {}
}

let cur: Path | null = null;

export function resetIssues(): void {
  issues = [];
  errorCount = 0;
  warningCount = 0;
  currentEntry = 0;
  cur = null;
}

export function setEntry(entry: i32): void {
  currentEntry = entry;
  cur = null;
}

export function pushKey(key: string): void {
  cur = new Path(cur, key, -1);
}

export function pushIndex(i: i32): void {
  cur = new Path(cur, "", i);
}

export function pop(): void {
  cur = changetype<Path>(cur).parent;
}

/** The current path. */
export function currentPath(): Path | null {
  return cur;
}

/** The current path with `key` appended. */
export function pathWith(key: string): Path | null {
  return new Path(cur, key, -1);
}

/** The text of a path, e.g. `plugins[0].ipam.ranges[0][1]`. */
export function pathText(p: Path | null): string {
  const segs: Path[] = [];
  let q = p;
  while (q != null) {
    segs.push(q);
    q = q.parent;
  }
  let s = "";
  for (let k = segs.length - 1; k >= 0; k--) {
    const seg = unchecked(segs[k]);
    if (seg.idx >= 0) s += "[" + seg.idx.toString() + "]";
    // A segment starting with "[" is a quoted map key and needs no dot.
    else if (s.length == 0 || seg.key.charCodeAt(0) == 0x5b) s += seg.key;
    else s += "." + seg.key;
  }
  return s;
}

/** Number of issues of any severity recorded so far. */
export function issueTotal(): i32 {
  return errorCount + warningCount;
}

/** Records an issue about value node `node` (or -1) at the current path. */
export function report(code: i32, node: i32): Issue {
  return reportAt(code, node, currentPath(), Severity.Error);
}

/** Records an issue about value node `node` (or -1) at the current path plus `key`. */
export function reportKey(code: i32, key: string, node: i32): Issue {
  return reportAt(code, node, pathWith(key), Severity.Error);
}

/** Records an issue with an explicit path and severity. */
export function reportAt(code: i32, node: i32, path: Path | null, severity: i32): Issue {
  const issue = new Issue();
  issue.code = code;
  issue.severity = severity;
  issue.entry = currentEntry;
  issue.path = path;
  if (node >= 0) {
    issue.offset = nodeStart(node);
    issue.length = nodeEnd(node) - nodeStart(node);
  }
  if (severity == Severity.Error) errorCount++;
  else warningCount++;
  if (issues.length < MAX_ISSUES) issues.push(issue);
  return issue;
}

/** Adds the related value (another field or another entry's field) to an issue. */
export function relate(
  issue: Issue,
  entry: i32,
  path: Path | null,
  offset: i32,
  length: i32,
): void {
  issue.relatedEntry = entry;
  issue.relatedPath = path;
  issue.relatedOffset = offset;
  issue.relatedLength = length;
}
