import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { parseArgs, seconds, UsageError, wantsJson } from "./_args.ts";

const spec = {
  values: { format: undefined, dir: "/d" },
  switches: ["watch"],
  positionals: { min: 0, max: 1 },
};

function usage(args: string[], s = spec): string {
  try {
    parseArgs(args, s);
  } catch (e) {
    assert(e instanceof UsageError, `expected a UsageError, got ${e}`);
    return e.message;
  }
  throw new Error(`${JSON.stringify(args)} should be a usage error`);
}

Deno.test("parseArgs() reads values in both spellings, switches, positionals and defaults", () => {
  const p = parseArgs(["--format", "json", "--watch", "id1"], spec);
  assertEquals(p.values, { format: "json", dir: "/d" });
  assert(p.switches.has("watch"));
  assertEquals(p.positionals, ["id1"]);
  assertEquals(parseArgs(["--dir=/x"], spec).values.dir, "/x");
  assertEquals(parseArgs(["--", "--not-an-option"], spec).positionals, ["--not-an-option"]);
});

Deno.test("parseArgs() turns unknown options, missing values and extra arguments into usage errors", () => {
  assertEquals(usage(["--nope"]), 'unknown option "--nope"');
  assertEquals(usage(["-x"]), 'unknown option "-x"');
  assertEquals(usage(["--dir"]), 'option "--dir" needs a value');
  assertEquals(usage(["--watch=1"]), 'option "--watch" takes no value');
  assertEquals(usage(["a", "b"]), 'unexpected argument "b"');
  assertEquals(usage([], { ...spec, positionals: { min: 1, max: 1 } }), "missing argument");
});

Deno.test("parseArgs() accepts -h and --help without the required arguments", () => {
  const p = parseArgs(["-h"], { positionals: { min: 1, max: 1 } });
  assert(p.help);
  assert(parseArgs(["--help"], {}).help);
});

Deno.test("wantsJson() and seconds() refuse values they do not understand", () => {
  assert(wantsJson(parseArgs(["--format", "json"], spec)));
  assert(!wantsJson(parseArgs([], spec)));
  const bad = parseArgs(["--format", "yaml"], spec);
  let threw = false;
  try {
    wantsJson(bad);
  } catch (e) {
    threw = e instanceof UsageError;
  }
  assert(threw, "--format yaml should be a usage error");
  const t = { values: { t: "1.5" } };
  assertEquals(seconds(parseArgs([], t), "t"), 1.5);
  threw = false;
  try {
    seconds(parseArgs(["--t", "soon"], t), "t");
  } catch (e) {
    threw = e instanceof UsageError;
  }
  assert(threw, "--t soon should be a usage error");
});
