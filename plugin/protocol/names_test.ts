import { assert } from "../../tests/_utils/mod.ts";
import {
  containerIdProblem,
  ifNameProblem,
  MAX_IFNAME_BYTES,
  networkNameProblem,
  pluginTypeProblem,
} from "./names.ts";

/** Runs `check` on every value and asserts which ones it accepts. */
function table(
  check: (s: string) => string | undefined,
  valid: readonly string[],
  invalid: readonly string[],
): void {
  for (const s of valid) {
    const problem = check(s);
    assert(problem === undefined, `${JSON.stringify(s)} should be valid, got "${problem}"`);
  }
  for (const s of invalid) {
    const problem = check(s);
    assert(typeof problem === "string" && problem !== "", `${JSON.stringify(s)} should be invalid`);
  }
}

Deno.test("containerIdProblem() accepts the spec's id pattern and rejects everything else", () => {
  table(
    containerIdProblem,
    ["a", "0", "abc123", "a-b_c.d", "A.B-C_D", "9f86d081884c7d65", "x".repeat(200)],
    [
      "",
      "-abc",
      ".abc",
      "_abc",
      "a/b",
      "a b",
      "a:b",
      "a;b",
      "é",
      "abc\n",
      "a\0b",
      "x".repeat(201),
    ],
  );
});

Deno.test("networkNameProblem() uses the same pattern as container ids", () => {
  table(
    networkNameProblem,
    ["multi", "default-net", "net.1", "a_b", "0net"],
    ["", "-net", "my net", "ns/name", "net@eth1", "ünet"],
  );
});

Deno.test("ifNameProblem() accepts at most 15 bytes and no '.', '..', '/', ':' or whitespace", () => {
  table(
    ifNameProblem,
    [
      "eth0",
      "net1",
      "a",
      "...",
      ".eth0",
      "abcdefghijklmno", // 15 bytes
      "ééééééé", // 7 characters, 14 bytes
      "é".repeat(7) + "a", // 15 bytes
      "veth-ü_1",
    ],
    [
      "",
      ".",
      "..",
      "abcdefghijklmnop", // 16 bytes
      "éééééééé", // 8 characters, 16 bytes
      "🙂🙂🙂🙂", // 4 characters, 16 bytes
      "a/b",
      "/",
      "a:b",
      "eth0:1",
      "a b",
      " eth0",
      "eth0 ",
      "a\tb",
      "a\nb",
      "a\u00a0b", // no-break space
    ],
  );
  assert(MAX_IFNAME_BYTES === 15, "IFNAMSIZ - 1 is 15");
});

Deno.test("ifNameProblem() counts bytes, not characters", () => {
  const ok = "ü".repeat(7); // 14 bytes
  const tooLong = "ü".repeat(8); // 16 bytes, but only 8 characters
  assert(ifNameProblem(ok) === undefined, "14 bytes fit");
  assert(ifNameProblem(tooLong)?.includes("15 bytes"), "16 bytes are named as too long");
});

Deno.test("pluginTypeProblem() accepts bare file names only", () => {
  table(
    pluginTypeProblem,
    ["bridge", "host-local", "macvlan", "..x", "x..", "a.b", "multus-shim"],
    ["", ".", "..", "../x", "../../bin/sh", "/bin/sh", "sub/dir", "a\\b", "a\0b"],
  );
});
