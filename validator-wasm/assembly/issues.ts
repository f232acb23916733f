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
  path: string = "";
  relatedEntry: i32 = -1;
  relatedOffset: i32 = -1;
  relatedLength: i32 = 0;
  relatedPath: string = "";
}

export let issues: Issue[] = [];
export let errorCount: i32 = 0;
export let warningCount: i32 = 0;
/** Index of the plan entry (0 for a single config) being checked. */
export let currentEntry: i32 = 0;

let segKeys: string[] = [];
let segIdx: i32[] = [];

export function resetIssues(): void {
  issues = [];
  errorCount = 0;
  warningCount = 0;
  currentEntry = 0;
  segKeys = [];
  segIdx = [];
}

export function setEntry(entry: i32): void {
  currentEntry = entry;
  segKeys.length = 0;
  segIdx.length = 0;
}

export function pushKey(key: string): void {
  segKeys.push(key);
  segIdx.push(-1);
}

export function pushIndex(i: i32): void {
  segKeys.push("");
  segIdx.push(i);
}

export function pop(): void {
  segKeys.pop();
  segIdx.pop();
}

/** The current path as text. */
export function currentPath(): string {
  let s = "";
  const n = segKeys.length;
  for (let k = 0; k < n; k++) {
    const idx = unchecked(segIdx[k]);
    if (idx < 0) {
      const key = unchecked(segKeys[k]);
      // A segment starting with "[" is a quoted map key and needs no dot.
      s += k == 0 || key.charCodeAt(0) == 0x5b ? key : "." + key;
    } else {
      s += "[" + idx.toString() + "]";
    }
  }
  return s;
}

/** The current path with `key` appended. */
export function pathWith(key: string): string {
  const p = currentPath();
  return p.length == 0 ? key : p + "." + key;
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
export function reportAt(code: i32, node: i32, path: string, severity: i32): Issue {
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
export function relate(issue: Issue, entry: i32, path: string, offset: i32, length: i32): void {
  issue.relatedEntry = entry;
  issue.relatedPath = path;
  issue.relatedOffset = offset;
  issue.relatedLength = length;
}
