/**
 * The multicni config validator: entry points exported to the host.
 *
 * Protocol (no imports, no exceptions, no string bindings):
 * 1. `inputPtr(len)` forgets the previous call and returns the address of a `len`-byte buffer.
 * 2. The host writes the UTF-8 input there and calls `validate(len)` for one config, or
 *    `validatePlan(len)` for a plan record list (see below). Both return a status:
 *    0 no issues, 1 warnings only, 2 errors, 3 malformed plan records.
 * 3. The host reads the issues with the `issue*` accessors. `issuePath(i)` and
 *    `issueRelatedPath(i)` copy the path as UTF-8 into the buffer at `outputPtr()` and return its
 *    length in bytes. Offsets and lengths are byte positions within the config the issue belongs
 *    to (-1 when the issue is not about one value).
 *
 * Plan records (all integers u32 little-endian, no padding):
 *
 *     flags (bit 0: allowSubnetOverlap) · count ·
 *     count × ( ifnameLength · ifname bytes · configLength · config bytes )
 *
 * `issueEntry(i)` is the index of the record an issue belongs to; `issueRelatedEntry(i)` the
 * other record a plan-level issue refers to (-1 when none).
 *
 * @module
 */

import { Code, Severity } from "./codes";
import { parse, syntaxCode, syntaxOffset } from "./json";
import { checkConfig } from "./netconf";
import {
  errorCount,
  Issue,
  issues,
  Path,
  pathText,
  relate,
  reportAt,
  resetIssues,
  setEntry,
  warningCount,
} from "./issues";
import { current, resetSummary, SubnetRef, Summary } from "./summary";
import { cmp128, maskHi, maskLo } from "./ip";

let input: usize = 0;
const OUT_SIZE: i32 = 1024;
const out: usize = memory.data(1024);

/** Resets the module and returns a buffer for `len` input bytes. */
export function inputPtr(len: i32): usize {
  __reset();
  resetIssues();
  resetSummary();
  input = heap.alloc(<usize> max(len, 1));
  return input;
}

/** Address of the output buffer that `issuePath` and `issueRelatedPath` fill. */
export function outputPtr(): usize {
  return out;
}

function status(): i32 {
  return errorCount > 0 ? 2 : warningCount > 0 ? 1 : 0;
}

function checkOne(base: usize, len: i32, entry: i32): void {
  setEntry(entry);
  resetSummary();
  const tape = heap.alloc((<usize> len + 1) << 4);
  if (!parse(base, len, tape)) {
    const issue = reportAt(syntaxCode, -1, null, Severity.Error);
    issue.offset = syntaxOffset;
    return;
  }
  checkConfig();
}

/** Validates the single config of `len` bytes in the input buffer. */
export function validate(len: i32): i32 {
  resetIssues();
  checkOne(input, len, 0);
  return status();
}

/** Validates a plan record list of `len` bytes in the input buffer. */
export function validatePlan(len: i32): i32 {
  resetIssues();
  if (len < 8) return 3;
  const flags = load<u32>(input);
  const count = load<i32>(input, 4);
  let at: usize = 8;
  const limit = <usize> len;
  const summaries: Summary[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > limit) return 3;
    const ifLen = <usize> load<u32>(input + at);
    if (at + 4 + ifLen + 4 > limit) return 3;
    const ifPtr = input + at + 4;
    at += 4 + ifLen;
    const confLen = <usize> load<u32>(input + at);
    if (at + 4 + confLen > limit) return 3;
    checkOne(input + at + 4, <i32> confLen, i);
    at += 4 + confLen;
    current.ifnamePtr = ifPtr;
    current.ifnameLen = <i32> ifLen;
    summaries.push(current);
  }
  checkAcrossPlan(summaries, (flags & 1) != 0);
  return status();
}

function sameBytes(a: usize, alen: i32, b: usize, blen: i32): bool {
  return alen == blen && memory.compare(a, b, <usize> alen) == 0;
}

function subnetsOverlap(a: SubnetRef, b: SubnetRef): bool {
  if (a.family != b.family) return false;
  const p = min(a.prefix, b.prefix);
  const mh = maskHi(a.family, p);
  const ml = maskLo(a.family, p);
  return cmp128(a.hi & mh, a.lo & ml, b.hi & mh, b.lo & ml) == 0;
}

function checkAcrossPlan(s: Summary[], allowOverlap: bool): void {
  for (let j = 0; j < s.length; j++) {
    const b = unchecked(s[j]);
    setEntry(j);
    for (let i = 0; i < j; i++) {
      const a = unchecked(s[i]);
      if (sameBytes(a.ifnamePtr, a.ifnameLen, b.ifnamePtr, b.ifnameLen)) {
        const issue = reportAt(Code.DuplicateIfname, -1, null, Severity.Error);
        relate(issue, i, null, -1, 0);
        break;
      }
    }
    for (let k = 0; k < b.subnets.length; k++) {
      const y = unchecked(b.subnets[k]);
      let found = false;
      for (let i = 0; i < j && !found; i++) {
        const a = unchecked(s[i]);
        for (let m = 0; m < a.subnets.length; m++) {
          const x = unchecked(a.subnets[m]);
          if (subnetsOverlap(x, y)) {
            const issue = reportAt(
              Code.SubnetOverlap,
              -1,
              y.path,
              allowOverlap ? Severity.Warning : Severity.Error,
            );
            issue.offset = y.offset;
            issue.length = y.length;
            relate(issue, i, x.path, x.offset, x.length);
            found = true;
            break;
          }
        }
      }
    }
    for (let family = 4; family <= 6; family += 2) {
      const mine = family == 4 ? b.v4 : b.v6;
      if (mine == null) continue;
      for (let i = 0; i < j; i++) {
        const a = unchecked(s[i]);
        const theirs = family == 4 ? a.v4 : a.v6;
        if (theirs == null) continue;
        const issue = reportAt(Code.MultipleDefaultRoutes, -1, mine.path, Severity.Error);
        issue.offset = mine.offset;
        issue.length = mine.length;
        relate(issue, i, theirs.path, theirs.offset, theirs.length);
        break;
      }
    }
  }
}

function issueAt(i: i32): Issue {
  return unchecked(issues[i]);
}

/** Number of issues kept (at most 64). */
export function issueCount(): i32 {
  return issues.length;
}

/** Number of issues found, including those not kept. */
export function issueTotal(): i32 {
  return errorCount + warningCount;
}

export function issueCode(i: i32): i32 {
  return issueAt(i).code;
}

export function issueSeverity(i: i32): i32 {
  return issueAt(i).severity;
}

export function issueEntry(i: i32): i32 {
  return issueAt(i).entry;
}

export function issueOffset(i: i32): i32 {
  return issueAt(i).offset;
}

export function issueLength(i: i32): i32 {
  return issueAt(i).length;
}

export function issueRelatedEntry(i: i32): i32 {
  return issueAt(i).relatedEntry;
}

export function issueRelatedOffset(i: i32): i32 {
  return issueAt(i).relatedOffset;
}

export function issueRelatedLength(i: i32): i32 {
  return issueAt(i).relatedLength;
}

function writePath(p: Path | null): i32 {
  const s = pathText(p);
  // Paths hold the bytes of the source (keys are ASCII; quoted map keys copy source bytes).
  const n = min(s.length, OUT_SIZE);
  for (let k = 0; k < n; k++) store<u8>(out + <usize> k, <u8> s.charCodeAt(k));
  return n;
}

export function issuePath(i: i32): i32 {
  return writePath(issueAt(i).path);
}

export function issueRelatedPath(i: i32): i32 {
  return writePath(issueAt(i).relatedPath);
}
