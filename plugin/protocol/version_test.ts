import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { CniError, ErrorCode } from "./errors.ts";
import {
  compareVersions,
  CURRENT_VERSION,
  isSupportedVersion,
  negotiateVersion,
  requireVersionFor,
  SUPPORTED_VERSIONS,
} from "./version.ts";

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    assert(e instanceof CniError, `threw a non-CniError: ${e}`);
    return e.code;
  }
  return undefined;
}

Deno.test("SUPPORTED_VERSIONS lists 0.1.0 through 1.1.0 oldest first", () => {
  assertEquals(SUPPORTED_VERSIONS, ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]);
  assertEquals(CURRENT_VERSION, "1.1.0");
  const sorted = [...SUPPORTED_VERSIONS].sort(compareVersions);
  assertEquals(sorted, SUPPORTED_VERSIONS);
});

Deno.test("isSupportedVersion() accepts only the exact version strings", () => {
  for (const v of SUPPORTED_VERSIONS) assert(isSupportedVersion(v), v);
  for (
    const v of ["", "1.1", "1.1.0 ", "v1.0.0", "2.0.0", "0.3.2", 1, null, undefined, ["1.0.0"]]
  ) {
    assert(!isSupportedVersion(v), `${JSON.stringify(v)} is not supported`);
  }
});

Deno.test("compareVersions() compares numerically, not as text", () => {
  assert(compareVersions("0.4.0", "0.10.0") < 0, "0.4.0 < 0.10.0");
  assert(compareVersions("1.0.0", "0.4.0") > 0, "1.0.0 > 0.4.0");
  assert(compareVersions("1.1.0", "1.1.0") === 0, "equal");
  assert(compareVersions("0.3.1", "0.3.0") > 0, "patch counts");
});

Deno.test("compareVersions() fails with code 1 for anything but x.y.z", () => {
  for (const [a, b] of [["1.0", "1.0.0"], ["1.0.0", "latest"], ["", "1.0.0"], ["1.0.0-rc1", "1"]]) {
    assertEquals(codeOf(() => compareVersions(a!, b!)), ErrorCode.IncompatibleVersion, `${a} ${b}`);
  }
});

Deno.test("negotiateVersion() reads cniVersion, empty or missing meaning 0.1.0", () => {
  for (const v of SUPPORTED_VERSIONS) assertEquals(negotiateVersion({ cniVersion: v }), v);
  assertEquals(negotiateVersion({}), "0.1.0");
  assertEquals(negotiateVersion({ cniVersion: "" }), "0.1.0");
});

Deno.test("negotiateVersion() fails with code 1 for an unsupported or malformed cniVersion", () => {
  for (const v of ["2.0.0", "1.1", "0.5.0", 1, true, null, { v: 1 }]) {
    const code = codeOf(() => negotiateVersion({ cniVersion: v }));
    // null counts as missing, like an absent key.
    if (v === null) assertEquals(code, undefined, "null cniVersion");
    else assertEquals(code, ErrorCode.IncompatibleVersion, JSON.stringify(v));
  }
});

Deno.test("negotiateVersion() picks the highest supported entry of cniVersions", () => {
  const cases: [unknown[], string][] = [
    [["0.4.0", "1.0.0", "1.1.0"], "1.1.0"],
    [["1.1.0", "0.4.0", "1.0.0"], "1.1.0"],
    [["0.3.1", "2.0.0", "1.0.0", "9.9.9"], "1.0.0"],
    [["0.1.0"], "0.1.0"],
    [["junk", 7, null, "0.4.0"], "0.4.0"],
  ];
  for (const [list, want] of cases) {
    assertEquals(negotiateVersion({ cniVersions: list }), want, JSON.stringify(list));
  }
});

Deno.test("negotiateVersion() prefers cniVersions over cniVersion", () => {
  assertEquals(negotiateVersion({ cniVersion: "0.3.1", cniVersions: ["1.0.0", "1.1.0"] }), "1.1.0");
  // Even a broken cniVersion does not matter when the list has a usable entry.
  assertEquals(negotiateVersion({ cniVersion: "7.0.0", cniVersions: ["0.4.0"] }), "0.4.0");
});

Deno.test("negotiateVersion() fails with code 1 when cniVersions has no supported entry", () => {
  for (const list of [[], ["2.0.0"], ["1.1", "x"], [1, 2]]) {
    assertEquals(
      codeOf(() => negotiateVersion({ cniVersion: "1.0.0", cniVersions: list })),
      ErrorCode.IncompatibleVersion,
      JSON.stringify(list),
    );
  }
});

Deno.test("requireVersionFor() gates CHECK below 0.4.0 and GC and STATUS below 1.1.0", () => {
  const minimum: Record<string, string> = {
    ADD: "0.1.0",
    DEL: "0.1.0",
    VERSION: "0.1.0",
    CHECK: "0.4.0",
    GC: "1.1.0",
    STATUS: "1.1.0",
  };
  for (const [command, min] of Object.entries(minimum)) {
    for (const v of SUPPORTED_VERSIONS) {
      const allowed = compareVersions(v, min) >= 0;
      const code = codeOf(() => requireVersionFor(command, v));
      assertEquals(code, allowed ? undefined : ErrorCode.IncompatibleVersion, `${command} at ${v}`);
    }
  }
});

Deno.test("requireVersionFor() names the command and both versions in its error", () => {
  try {
    requireVersionFor("GC", "1.0.0");
    throw new Error("did not throw");
  } catch (e) {
    assert(e instanceof CniError, String(e));
    assert(e.msg.includes("GC") && e.msg.includes("1.1.0"), e.msg);
    assert(e.details.includes("1.0.0"), e.details);
  }
});
