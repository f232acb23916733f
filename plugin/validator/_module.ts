/**
 * Host side of the WebAssembly validator: instantiates the embedded module once per process (on
 * first use), copies UTF-8 input into the module's buffer and reads issues back through its
 * accessors. See validator-wasm/assembly/index.ts for the protocol and the plan record format.
 *
 * @module
 */

import { WASM_BASE64 } from "./_wasm.ts";

/** One issue as the module reports it; offsets are UTF-8 byte offsets into the config. */
export interface RawIssue {
  code: number;
  severity: number;
  entry: number;
  offset: number;
  length: number;
  path: string;
  relatedEntry: number;
  relatedOffset: number;
  relatedLength: number;
  relatedPath: string;
}

interface Exports {
  memory: WebAssembly.Memory;
  inputPtr(len: number): number;
  outputPtr(): number;
  validate(len: number): number;
  validatePlan(len: number): number;
  issueCount(): number;
  issueTotal(): number;
  issueCode(i: number): number;
  issueSeverity(i: number): number;
  issueEntry(i: number): number;
  issueOffset(i: number): number;
  issueLength(i: number): number;
  issueRelatedEntry(i: number): number;
  issueRelatedOffset(i: number): number;
  issueRelatedLength(i: number): number;
  issuePath(i: number): number;
  issueRelatedPath(i: number): number;
}

/** Status `validatePlan` returns for malformed plan records. */
export const STATUS_BAD_INPUT = 3;

let exportsCache: Exports | undefined;
const decoder = new TextDecoder();

/** The compiled module's bytes. */
export function wasmBytes(): Uint8Array {
  return Uint8Array.fromBase64(WASM_BASE64);
}

/**
 * Compiles and instantiates the module now (normally done lazily on first use).
 *
 * @returns the module's exports
 */
export function instantiate(): Exports {
  const module = new WebAssembly.Module(wasmBytes() as Uint8Array<ArrayBuffer>);
  exportsCache = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
  return exportsCache;
}

function wasm(): Exports {
  return exportsCache ?? instantiate();
}

/** Forgets the instance, e.g. after a trap left it in an unknown state. */
export function discardInstance(): void {
  exportsCache = undefined;
}

function readIssues(w: Exports): RawIssue[] {
  const count = w.issueCount();
  const out: RawIssue[] = [];
  for (let i = 0; i < count; i++) {
    const pathLen = w.issuePath(i);
    const path = decoder.decode(new Uint8Array(w.memory.buffer, w.outputPtr(), pathLen));
    const relLen = w.issueRelatedPath(i);
    const relatedPath = decoder.decode(new Uint8Array(w.memory.buffer, w.outputPtr(), relLen));
    out.push({
      code: w.issueCode(i),
      severity: w.issueSeverity(i),
      entry: w.issueEntry(i),
      offset: w.issueOffset(i),
      length: w.issueLength(i),
      path,
      relatedEntry: w.issueRelatedEntry(i),
      relatedOffset: w.issueRelatedOffset(i),
      relatedLength: w.issueRelatedLength(i),
      relatedPath,
    });
  }
  return out;
}

/**
 * Runs the module's single-config check.
 *
 * @param bytes the config as UTF-8
 * @returns status (0 ok, 1 warnings, 2 errors) and the issues
 */
export function runConfig(bytes: Uint8Array): { status: number; issues: RawIssue[] } {
  const w = wasm();
  const ptr = w.inputPtr(bytes.length);
  new Uint8Array(w.memory.buffer, ptr, bytes.length).set(bytes);
  const status = w.validate(bytes.length);
  return { status, issues: status === 0 ? [] : readIssues(w) };
}

/**
 * Runs the module's plan check over record-encoded entries.
 *
 * @param entries interface name and config per attachment, as UTF-8
 * @param allowSubnetOverlap report overlapping subnets as warnings
 * @returns status and the issues
 */
export function runPlan(
  entries: readonly { ifname: Uint8Array; config: Uint8Array }[],
  allowSubnetOverlap: boolean,
): { status: number; issues: RawIssue[] } {
  let size = 8;
  for (const e of entries) size += 8 + e.ifname.length + e.config.length;
  const w = wasm();
  const ptr = w.inputPtr(size);
  const mem = new Uint8Array(w.memory.buffer, ptr, size);
  const view = new DataView(w.memory.buffer, ptr, size);
  view.setUint32(0, allowSubnetOverlap ? 1 : 0, true);
  view.setUint32(4, entries.length, true);
  let at = 8;
  for (const e of entries) {
    view.setUint32(at, e.ifname.length, true);
    mem.set(e.ifname, at + 4);
    at += 4 + e.ifname.length;
    view.setUint32(at, e.config.length, true);
    mem.set(e.config, at + 4);
    at += 4 + e.config.length;
  }
  const status = w.validatePlan(size);
  return { status, issues: status === 0 || status === STATUS_BAD_INPUT ? [] : readIssues(w) };
}
