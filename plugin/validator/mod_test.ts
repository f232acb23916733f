import { assert, assertEquals } from "../../tests/_utils/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { issuesToError, validateConfig, validatePlan } from "./mod.ts";
import { instantiate, wasmBytes } from "./_module.ts";

const side = (ranges: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    cniVersion: "1.0.0",
    name: "side",
    plugins: [{ type: "macvlan", master: "eth0", ipam: { type: "host-local", ranges }, ...extra }],
  });

Deno.test("validateConfig() accepts a good conflist", () => {
  assertEquals(validateConfig("side", side([[{ subnet: "10.1.2.0/24" }]])), []);
});

Deno.test("validateConfig() names the network, path and value of a bad address", () => {
  const config = side([[{ subnet: "10.1.1.0/24" }, {
    subnet: "10.1.2.0/24",
    rangeEnd: "10.1.2.300",
  }]]);
  const issues = validateConfig("side", config);
  assertEquals(issues.length, 1);
  const err = issuesToError(issues);
  assert(err);
  assertEquals(err.code, ErrorCode.InvalidNetworkConfig);
  assertEquals(
    err.msg,
    'Invalid network config "side": plugins[0].ipam.ranges[0][1].rangeEnd "10.1.2.300" is not an IPv4 address',
  );
  assertEquals(
    issues[0]!.offset,
    new TextEncoder().encode(config).indexOf(0x22, config.indexOf("10.1.2.300") - 1),
  );
});

Deno.test("validateConfig() reports rangeEnd outside its subnet", () => {
  const issues = validateConfig("side", side([[{ subnet: "10.1.2.0/24", rangeEnd: "10.1.3.9" }]]));
  assertEquals(issues.map((i) => i.message), [
    'plugins[0].ipam.ranges[0][0].rangeEnd "10.1.3.9" is outside plugins[0].ipam.ranges[0][0].subnet "10.1.2.0/24"',
  ]);
});

Deno.test("validateConfig() gives the byte offset of a JSON syntax error", () => {
  const issues = validateConfig("x", '{"name": "x",, }');
  assertEquals(issues.length, 1);
  assertEquals(issues[0]!.offset, 13);
  assertEquals(issues[0]!.message, 'config is not valid JSON at byte 13: unexpected character ","');
});

Deno.test("validateConfig() counts offsets in UTF-8 bytes", () => {
  const issues = validateConfig("x", '{"d": "ñ", "name": 1, "type": "x"}');
  assertEquals(issues[0]!.path, "name");
  assertEquals(issues[0]!.offset, 20);
});

Deno.test("validateConfig() handles host bits the way host-local does", () => {
  const [issue] = validateConfig("n", side([[{ subnet: "10.1.2.5/24" }]]));
  assertEquals(
    issue?.message,
    'plugins[0].ipam.ranges[0][0].subnet "10.1.2.5/24" has host bits set (the network is 10.1.2.0/24)',
  );
});

Deno.test("validateConfig() checks IPv6 ranges with 128-bit arithmetic", () => {
  const ok = side([[{
    subnet: "fd00::/64",
    rangeStart: "fd00::ffff:ffff:ffff:0",
    rangeEnd: "fd00::ffff:ffff:ffff:ffff",
  }]]);
  assertEquals(validateConfig("v6", ok), []);
  const bad = side([[{
    subnet: "fd00::/64",
    rangeStart: "fd00::ffff:ffff:ffff:ffff",
    rangeEnd: "fd00::1",
  }]]);
  assertEquals(validateConfig("v6", bad).map((i) => i.path), [
    "plugins[0].ipam.ranges[0][0].rangeStart",
  ]);
  const outside = side([[{ subnet: "fd00::/64", gateway: "fd00:0:0:1::1" }]]);
  assertEquals(validateConfig("v6", outside).map((i) => i.path), [
    "plugins[0].ipam.ranges[0][0].gateway",
  ]);
});

Deno.test("validateConfig() reports overlapping ranges in one range set", () => {
  const issues = validateConfig(
    "n",
    side([[{ subnet: "10.0.0.0/16" }, { subnet: "10.0.5.0/24" }]]),
  );
  assertEquals(issues.map((i) => i.message), [
    "plugins[0].ipam.ranges[0][1] overlaps plugins[0].ipam.ranges[0][0] of the same range set",
  ]);
});

Deno.test("validateConfig() accepts the legacy host-local form", () => {
  const config = JSON.stringify({
    cniVersion: "0.3.1",
    name: "legacy",
    type: "bridge",
    ipam: {
      type: "host-local",
      subnet: "10.9.0.0/16",
      rangeStart: "10.9.1.0",
      gateway: "10.9.0.1",
    },
  });
  assertEquals(validateConfig("legacy", config), []);
});

Deno.test("validateConfig() checks the known keys of reference plugins only", () => {
  const bridge = JSON.stringify({ cniVersion: "1.0.0", name: "b", type: "bridge", mtu: "1500" });
  assertEquals(validateConfig("b", bridge).map((i) => i.message), ['mtu "1500" is not an integer']);
  const other = JSON.stringify({ cniVersion: "1.0.0", name: "b", type: "calico", mtu: "1500" });
  assertEquals(validateConfig("b", other), []);
});

Deno.test("validateConfig() refuses a type that is a path", () => {
  const config = JSON.stringify({ cniVersion: "1.0.0", name: "n", type: "../../bin/sh" });
  assertEquals(validateConfig("n", config).map((i) => i.path), ["type"]);
});

Deno.test("validateConfig() survives a megabyte string and deep nesting", () => {
  const big = JSON.stringify({
    cniVersion: "1.0.0",
    name: "n",
    type: "x",
    blob: "a".repeat(1 << 20),
  });
  assertEquals(validateConfig("n", big), []);
  // The root object is level 1, so the 10000th "[" (at byte 48 + 9999) is one level too deep.
  const deep = `{"cniVersion":"1.0.0","name":"n","type":"x","d":${"[".repeat(10001)}${
    "]".repeat(10001)
  }}`;
  assertEquals(validateConfig("n", deep).map((i) => i.message), [
    "config is not valid JSON at byte 10047: nested deeper than 10000 levels",
  ]);
  assertEquals(validateConfig("n", side([[{ subnet: "10.1.2.0/24" }]])), []);
});

Deno.test("validatePlan() reports duplicate interface names and overlapping subnets", () => {
  const a = side([[{ subnet: "10.1.0.0/16" }]]);
  const b = side([[{ subnet: "10.1.2.0/24" }]]);
  const issues = validatePlan([
    { network: "a", ifname: "net1", config: a },
    { network: "b", ifname: "net1", config: b },
  ], { allowSubnetOverlap: false });
  assertEquals(issues.map((i) => [i.severity, i.network, i.message]), [
    ["error", "b", 'interface name "net1" is also used by network "a"'],
    [
      "error",
      "b",
      'plugins[0].ipam.ranges[0][0].subnet "10.1.2.0/24" overlaps plugins[0].ipam.ranges[0][0].subnet "10.1.0.0/16" of network "a"',
    ],
  ]);
});

Deno.test("validatePlan() turns subnet overlaps into warnings when allowed", () => {
  const a = side([[{ subnet: "10.1.0.0/16" }]]);
  const issues = validatePlan([
    { network: "a", ifname: "net1", config: a },
    { network: "b", ifname: "net2", config: a },
  ], { allowSubnetOverlap: true });
  assertEquals(issues.map((i) => i.severity), ["warning"]);
  assertEquals(issuesToError(issues), undefined);
});

Deno.test("validatePlan() refuses two IPv4 default routes but allows one per family", () => {
  const route = (dst: string) =>
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "r",
      type: "macvlan",
      ipam: { type: "static", addresses: [], routes: [{ dst }] },
    });
  const ok = validatePlan([
    { network: "a", ifname: "net1", config: route("0.0.0.0/0") },
    { network: "b", ifname: "net2", config: route("::/0") },
  ], { allowSubnetOverlap: false });
  assertEquals(ok, []);
  const bad = validatePlan([
    { network: "a", ifname: "net1", config: route("0.0.0.0/0") },
    { network: "b", ifname: "net2", config: route("0.0.0.0/0") },
  ], { allowSubnetOverlap: false });
  assertEquals(bad.map((i) => i.message), [
    'ipam.routes[0].dst "0.0.0.0/0" requests an IPv4 default route, and so does ipam.routes[0].dst "0.0.0.0/0" of network "a"',
  ]);
});

Deno.test("validatePlan() checks every config of the plan", () => {
  const good = side([[{ subnet: "10.1.0.0/24" }]]);
  const bad = side([[{ subnet: "10.2.0.0/24", rangeEnd: "10.3.0.1" }]]);
  const issues = validatePlan([
    { network: "first", ifname: "eth0", config: good },
    { network: "second", ifname: "net1", config: bad },
  ], { allowSubnetOverlap: false });
  const err = issuesToError(issues);
  assert(err);
  assert(
    err.msg.startsWith('Invalid network config "second": plugins[0].ipam.ranges[0][0].rangeEnd'),
  );
});

Deno.test("issuesToError() lists further issues in details", () => {
  const config = JSON.stringify({ cniVersion: "7", name: "bad name", type: "." });
  const err = issuesToError(validateConfig("n", config));
  assert(err);
  assertEquals(
    err.msg.startsWith('Invalid network config "n": cniVersion "7" is not a known CNI version'),
    true,
  );
  assertEquals(err.details.split("\n").length, 2);
});

Deno.test("the embedded module imports nothing and loads in about a millisecond", () => {
  const module = new WebAssembly.Module(wasmBytes() as Uint8Array<ArrayBuffer>);
  assertEquals(WebAssembly.Module.imports(module), []);
  const t0 = performance.now();
  instantiate();
  // Generous bound: this is not a benchmark (see bench/validate.ts), only a guard against a
  // module that grew by an order of magnitude.
  assert(performance.now() - t0 < 50);
});
