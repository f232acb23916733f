import { CniError, ErrorCode } from "./errors.ts";
import { convertResult, formatResult, parseResult, resultVersion } from "./result.ts";
import { type CniVersion, SUPPORTED_VERSIONS } from "./version.ts";

// ---- tiny local asserts (no external imports) ----

function assertEquals(actual: unknown, expected: unknown, context = ""): void {
  // JSON text comparison also checks key order, which the converters promise to keep stable.
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${context}\n  actual:   ${a}\n  expected: ${e}`);
}

function assertThrows(fn: () => unknown, code: number, message?: string, context = ""): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CniError)) throw new Error(`${context}: threw a non-CniError: ${e}`);
    assertEquals(e.code, code, `${context}: code of "${e.message}"`);
    if (message !== undefined) assertEquals(e.message, message, `${context}: message`);
    return;
  }
  throw new Error(`${context}: did not throw`);
}

// ---- the version families and how much each can hold ----

type Family = "legacy" | "v04" | "v10" | "v11";

const FAMILY: Record<CniVersion, Family> = {
  "0.1.0": "legacy",
  "0.2.0": "legacy",
  "0.3.0": "v04",
  "0.3.1": "v04",
  "0.4.0": "v04",
  "1.0.0": "v10",
  "1.1.0": "v11",
};

/** How much a family can express: 0.3.x/0.4.0 and 1.0.0 differ only in the derived `version`. */
const RANK: Record<Family, number> = { legacy: 0, v04: 1, v10: 1, v11: 2 };

/** Marks a family the case cannot be written in: converting to it fails with code 1. */
const CANNOT_WRITE: Record<string, unknown> = { fails: ErrorCode.IncompatibleVersion };

type Case = {
  /** Completes "convertResult() ... between every pair of versions". */
  what: string;
  /** The lowest family that holds everything in the case; from there up, nothing is lost. */
  lossless: Family;
  /** The expected result (without cniVersion) written in each family. */
  forms: Record<Family, Record<string, unknown>>;
};

const DNS = {
  nameservers: ["10.96.0.10"],
  domain: "cluster.local",
  search: ["default.svc.cluster.local", "svc.cluster.local"],
  options: ["ndots:5"],
};

const CASES: Case[] = [
  {
    what: "keeps a result that every version can express",
    lossless: "legacy",
    forms: {
      legacy: {
        ip4: { ip: "10.1.2.3/24", gateway: "10.1.2.1", routes: [{ dst: "0.0.0.0/0" }] },
        dns: DNS,
      },
      v04: {
        ips: [{ version: "4", address: "10.1.2.3/24", gateway: "10.1.2.1" }],
        routes: [{ dst: "0.0.0.0/0" }],
        dns: DNS,
      },
      v10: {
        ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1" }],
        routes: [{ dst: "0.0.0.0/0" }],
        dns: DNS,
      },
      v11: {
        ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1" }],
        routes: [{ dst: "0.0.0.0/0" }],
        dns: DNS,
      },
    },
  },
  {
    what: "keeps an IPv6-only result, routes included",
    lossless: "legacy",
    forms: {
      legacy: { ip6: { ip: "fd00::5/64", routes: [{ dst: "::/0", gw: "fd00::1" }] } },
      v04: {
        ips: [{ version: "6", address: "fd00::5/64" }],
        routes: [{ dst: "::/0", gw: "fd00::1" }],
      },
      v10: { ips: [{ address: "fd00::5/64" }], routes: [{ dst: "::/0", gw: "fd00::1" }] },
      v11: { ips: [{ address: "fd00::5/64" }], routes: [{ dst: "::/0", gw: "fd00::1" }] },
    },
  },
  {
    what: "keeps interfaces and indexes from 0.3.0 up and drops them for 0.2.0",
    lossless: "v04",
    forms: {
      legacy: { ip4: { ip: "10.1.2.3/24", gateway: "10.1.2.1" } },
      v04: {
        interfaces: [
          { name: "cni0", mac: "0a:58:0a:01:02:01" },
          { name: "eth0", mac: "0a:58:0a:01:02:03", sandbox: "/var/run/netns/pod" },
        ],
        ips: [{ version: "4", address: "10.1.2.3/24", gateway: "10.1.2.1", interface: 1 }],
      },
      v10: {
        interfaces: [
          { name: "cni0", mac: "0a:58:0a:01:02:01" },
          { name: "eth0", mac: "0a:58:0a:01:02:03", sandbox: "/var/run/netns/pod" },
        ],
        ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1", interface: 1 }],
      },
      v11: {
        interfaces: [
          { name: "cni0", mac: "0a:58:0a:01:02:01" },
          { name: "eth0", mac: "0a:58:0a:01:02:03", sandbox: "/var/run/netns/pod" },
        ],
        ips: [{ address: "10.1.2.3/24", gateway: "10.1.2.1", interface: 1 }],
      },
    },
  },
  {
    what:
      "keeps every address of a dual-stack result except in 0.2.0, which keeps the first of each family",
    lossless: "v04",
    forms: {
      legacy: {
        ip4: { ip: "10.1.2.3/24", routes: [{ dst: "0.0.0.0/0", gw: "10.1.2.1" }] },
        ip6: { ip: "fd00::3/64", gateway: "fd00::1", routes: [{ dst: "64:ff9b::/96" }] },
      },
      v04: {
        ips: [
          { version: "6", address: "fd00::3/64", gateway: "fd00::1" },
          { version: "4", address: "10.1.2.3/24" },
          { version: "4", address: "10.9.9.9/32" },
          { version: "6", address: "::ffff:10.0.0.1/128" },
        ],
        routes: [{ dst: "0.0.0.0/0", gw: "10.1.2.1" }, { dst: "64:ff9b::/96" }],
      },
      v10: {
        ips: [
          { address: "fd00::3/64", gateway: "fd00::1" },
          { address: "10.1.2.3/24" },
          { address: "10.9.9.9/32" },
          { address: "::ffff:10.0.0.1/128" },
        ],
        routes: [{ dst: "0.0.0.0/0", gw: "10.1.2.1" }, { dst: "64:ff9b::/96" }],
      },
      v11: {
        ips: [
          { address: "fd00::3/64", gateway: "fd00::1" },
          { address: "10.1.2.3/24" },
          { address: "10.9.9.9/32" },
          { address: "::ffff:10.0.0.1/128" },
        ],
        routes: [{ dst: "0.0.0.0/0", gw: "10.1.2.1" }, { dst: "64:ff9b::/96" }],
      },
    },
  },
  {
    what: "keeps the 1.1.0 interface and route fields only in 1.1.0",
    lossless: "v11",
    forms: {
      legacy: { ip4: { ip: "10.1.2.3/24", routes: [{ dst: "10.0.0.0/8", gw: "10.1.2.1" }] } },
      v04: {
        interfaces: [{ name: "net1", sandbox: "/var/run/netns/pod" }],
        ips: [{ version: "4", address: "10.1.2.3/24", interface: 0 }],
        routes: [{ dst: "10.0.0.0/8", gw: "10.1.2.1" }],
      },
      v10: {
        interfaces: [{ name: "net1", sandbox: "/var/run/netns/pod" }],
        ips: [{ address: "10.1.2.3/24", interface: 0 }],
        routes: [{ dst: "10.0.0.0/8", gw: "10.1.2.1" }],
      },
      v11: {
        interfaces: [{
          name: "net1",
          mtu: 9000,
          sandbox: "/var/run/netns/pod",
          socketPath: "/run/vhost/net1.sock",
          pciID: "0000:3b:00.1",
        }],
        ips: [{ address: "10.1.2.3/24", interface: 0 }],
        routes: [{
          dst: "10.0.0.0/8",
          gw: "10.1.2.1",
          mtu: 1400,
          advmss: 1360,
          priority: 100,
          table: 200,
          scope: 0,
        }],
      },
    },
  },
  {
    what: "keeps a result without addresses and refuses to write it as 0.2.0",
    lossless: "v04",
    forms: {
      legacy: CANNOT_WRITE,
      v04: { interfaces: [{ name: "eth0" }], routes: [], dns: {} },
      v10: { interfaces: [{ name: "eth0" }], routes: [], dns: {} },
      v11: { interfaces: [{ name: "eth0" }], routes: [], dns: {} },
    },
  },
  {
    what: "keeps empty lists as empty lists from 0.3.0 up",
    lossless: "v04",
    forms: {
      legacy: { ip4: { ip: "192.168.0.2/16" } },
      v04: { interfaces: [], ips: [{ version: "4", address: "192.168.0.2/16" }], routes: [] },
      v10: { interfaces: [], ips: [{ address: "192.168.0.2/16" }], routes: [] },
      v11: { interfaces: [], ips: [{ address: "192.168.0.2/16" }], routes: [] },
    },
  },
];

function wire(form: Record<string, unknown>, version: CniVersion): Record<string, unknown> {
  return { cniVersion: version, ...form };
}

for (const c of CASES) {
  Deno.test(`convertResult() ${c.what}, between every pair of versions`, async (t) => {
    for (const from of SUPPORTED_VERSIONS) {
      const source = c.forms[FAMILY[from]];
      if (source === CANNOT_WRITE) continue;
      const input = wire(source, from);
      for (const to of SUPPORTED_VERSIONS) {
        await t.step(`${from} -> ${to}`, () => {
          const target = c.forms[FAMILY[to]];
          const where = `${from} -> ${to}`;
          const knowsAll = RANK[FAMILY[from]] >= RANK[c.lossless];
          if (target === CANNOT_WRITE) {
            assertThrows(
              () => convertResult(input, from, to),
              ErrorCode.IncompatibleVersion,
              undefined,
              where,
            );
          } else if (knowsAll || RANK[FAMILY[from]] >= RANK[FAMILY[to]]) {
            assertEquals(convertResult(input, from, to), wire(target, to), where);
          } else {
            // Up from a version that already lost something: going back down restores the input.
            const there = convertResult(input, from, to);
            assertEquals(convertResult(there, to, from), input, `${where} -> ${from}`);
          }
        });
      }
    }
  });
}

// ---- malformed results ----

type Malformed = {
  what: string;
  versions: readonly CniVersion[];
  result: unknown;
  /** The CniError details; `{v}` stands for the version. */
  details: string;
};

const ALL = SUPPORTED_VERSIONS;
const LIST: readonly CniVersion[] = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];
const V04: readonly CniVersion[] = ["0.3.0", "0.3.1", "0.4.0"];
const LEGACY: readonly CniVersion[] = ["0.1.0", "0.2.0"];
const ip4 = (address: string, more: Record<string, unknown> = {}) => ({
  version: "4",
  address,
  ...more,
});

const MALFORMED: Malformed[] = [
  {
    what: "output that is not an object",
    versions: ALL,
    result: 5,
    details: "expected a JSON object, got 5",
  },
  { what: "a list", versions: ALL, result: [], details: "expected a JSON object, got []" },
  {
    what: "a different cniVersion",
    versions: ALL,
    result: { cniVersion: "9.9.9" },
    details: 'cniVersion "9.9.9" is not "{v}"',
  },
  {
    what: "an address that is not a CIDR",
    versions: LIST,
    result: { ips: [{ address: "x" }] },
    details: 'ips[0].address "x" is not a CIDR',
  },
  {
    what: "an address without prefix length",
    versions: LIST,
    result: { ips: [ip4("10.0.0.1")] },
    details: 'ips[0].address "10.0.0.1" is not a CIDR',
  },
  {
    what: "an address with a bad octet",
    versions: LIST,
    result: { ips: [ip4("10.0.0.256/24")] },
    details: 'ips[0].address "10.0.0.256/24" is not a CIDR',
  },
  {
    what: "a prefix length too long",
    versions: LIST,
    result: { ips: [ip4("10.0.0.1/33")] },
    details: 'ips[0].address "10.0.0.1/33" is not a CIDR',
  },
  {
    what: "an IPv6 address with two ::",
    versions: LIST,
    result: { ips: [ip4("fd00::1::2/64")] },
    details: 'ips[0].address "fd00::1::2/64" is not a CIDR',
  },
  {
    what: "an IPv6 address with a zone",
    versions: LIST,
    result: { ips: [ip4("fe80::1%eth0/64")] },
    details: 'ips[0].address "fe80::1%eth0/64" is not a CIDR',
  },
  {
    what: "a missing address",
    versions: LIST,
    result: { ips: [{ version: "4" }] },
    details: "ips[0].address is missing",
  },
  {
    what: "a gateway in CIDR form",
    versions: LIST,
    result: { ips: [ip4("10.0.0.2/24", { gateway: "10.0.0.1/24" })] },
    details: 'ips[0].gateway "10.0.0.1/24" is not an IP address',
  },
  {
    what: "an interface index past the interfaces list",
    versions: LIST,
    result: { interfaces: [{ name: "eth0" }], ips: [ip4("10.0.0.2/24", { interface: 1 })] },
    details: "ips[0].interface 1 does not index the interfaces list (length 1)",
  },
  {
    what: "a negative interface index",
    versions: LIST,
    result: { ips: [ip4("10.0.0.2/24", { interface: -1 })] },
    details: "ips[0].interface -1 is not a non-negative integer",
  },
  {
    what: "an interface without name",
    versions: LIST,
    result: { interfaces: [{ mac: "0a:58:0a:01:02:03" }] },
    details: "interfaces[0].name is missing",
  },
  {
    what: "interfaces that are not a list",
    versions: LIST,
    result: { interfaces: { name: "eth0" } },
    details: 'interfaces {"name":"eth0"} is not a list',
  },
  {
    what: "a route without destination",
    versions: LIST,
    result: { routes: [{ gw: "10.0.0.1" }] },
    details: "routes[0].dst is missing",
  },
  {
    what: "a route whose gateway is no address",
    versions: LIST,
    result: { routes: [{ dst: "0.0.0.0/0", gw: "gw" }] },
    details: 'routes[0].gw "gw" is not an IP address',
  },
  {
    what: "an address without version before 1.0.0",
    versions: V04,
    result: { ips: [{ address: "10.0.0.2/24" }] },
    details: "ips[0].version is missing",
  },
  {
    what: "a version that contradicts the address",
    versions: V04,
    result: { ips: [{ version: "6", address: "10.0.0.2/24" }] },
    details: 'ips[0].version "6" does not match address "10.0.0.2/24"',
  },
  {
    what: "a route MTU that is not a number in 1.1.0",
    versions: ["1.1.0"],
    result: { routes: [{ dst: "0.0.0.0/0", mtu: "1500" }] },
    details: 'routes[0].mtu "1500" is not a non-negative integer',
  },
  {
    what: "an interface MTU that is a fraction in 1.1.0",
    versions: ["1.1.0"],
    result: { interfaces: [{ name: "eth0", mtu: 1500.5 }] },
    details: "interfaces[0].mtu 1500.5 is not a non-negative integer",
  },
  {
    what: "name servers given as a string",
    versions: ALL,
    result: { dns: { nameservers: "10.96.0.10" } },
    details: 'dns.nameservers "10.96.0.10" is not a list',
  },
  {
    what: "a search domain that is not a string",
    versions: ALL,
    result: { dns: { search: ["svc", 1] } },
    details: "dns.search[1] 1 is not a string",
  },
  {
    what: "dns that is not an object",
    versions: ALL,
    result: { dns: "10.96.0.10" },
    details: 'dns "10.96.0.10" is not an object',
  },
  {
    what: "an IPv6 address in ip4",
    versions: LEGACY,
    result: { ip4: { ip: "fd00::2/64" } },
    details: 'ip4.ip "fd00::2/64" is not an IPv4 CIDR',
  },
  {
    what: "an ip6 address without prefix length",
    versions: LEGACY,
    result: { ip6: { ip: "fd00::2" } },
    details: 'ip6.ip "fd00::2" is not a CIDR',
  },
  {
    what: "a legacy route that is not a CIDR",
    versions: LEGACY,
    result: { ip4: { ip: "10.0.0.2/24", routes: [{ dst: "default" }] } },
    details: 'ip4.routes[0].dst "default" is not a CIDR',
  },
];

for (const m of MALFORMED) {
  Deno.test(`parseResult() rejects ${m.what} with code 102 and the field's path`, () => {
    for (const v of m.versions) {
      const message = `Result is not valid for cniVersion ${v}: ${m.details.replace("{v}", v)}`;
      assertThrows(() => parseResult(m.result, v), ErrorCode.DelegateBadOutput, message, v);
    }
  });
}

// ---- single behaviours ----

Deno.test("parseResult() accepts every textual form of IPv4 and IPv6 addresses", () => {
  const addresses = [
    "0.0.0.0/0",
    "255.255.255.255/32",
    "::/0",
    "::1/128",
    "fe80::1/64",
    "2001:DB8:0:0:0:0:0:1/128",
    "2001:db8::/32",
    "1::/16",
    "::ffff:10.0.0.1/128",
    "64:ff9b::192.0.2.33/96",
  ];
  for (const address of addresses) {
    assertEquals(parseResult({ ips: [{ address }] }, "1.1.0").ips, [{ address }], address);
  }
});

Deno.test("parseResult() rejects malformed addresses of either family", () => {
  const addresses = [
    "01.2.3.4/8",
    "1.2.3/8",
    "1.2.3.4/",
    "/24",
    "1.2.3.4/024x",
    "1:2:3:4:5:6:7:8:9/64",
    "1:2:3:4:5:6:7/64",
    ":1::/64",
    "2001:db8::g/64",
    "::10.0.0.256/128",
  ];
  for (const address of addresses) {
    assertThrows(() => parseResult({ ips: [{ address }] }, "1.1.0"), 102, undefined, address);
  }
});

Deno.test("parseResult() drops unknown keys and fields newer than the result's version", () => {
  const parsed = parseResult({
    cniVersion: "1.0.0",
    vendorExtension: true,
    interfaces: [{ name: "eth0", mtu: 1500, pciID: "0000:3b:00.1", extra: 1 }],
    routes: [{ dst: "0.0.0.0/0", table: 100 }],
    dns: { nameservers: ["10.96.0.10"], ttl: 5 },
  }, "1.0.0");
  assertEquals(parsed, {
    interfaces: [{ name: "eth0" }],
    routes: [{ dst: "0.0.0.0/0" }],
    dns: { nameservers: ["10.96.0.10"] },
  });
});

Deno.test("parseResult() treats a missing cniVersion and null fields as absent", () => {
  const parsed = parseResult({
    ips: [{ version: "4", address: "10.0.0.2/24", gateway: null }],
    dns: null,
  }, "0.4.0");
  assertEquals(parsed, { ips: [{ address: "10.0.0.2/24" }] });
});

Deno.test("convertResult() to 0.2.0 explains why a result without addresses cannot be written", () => {
  assertThrows(
    () => convertResult({ cniVersion: "1.0.0", interfaces: [{ name: "eth0" }] }, "1.0.0", "0.2.0"),
    ErrorCode.IncompatibleVersion,
    "Cannot convert result to cniVersion 0.2.0: it has no IP address, and that version needs ip4 or ip6",
  );
});

Deno.test("convertResult() reports a malformed input with code 102 before converting", () => {
  assertThrows(
    () => convertResult({ ips: [{ address: "x" }] }, "1.0.0", "1.1.0"),
    ErrorCode.DelegateBadOutput,
    'Result is not valid for cniVersion 1.0.0: ips[0].address "x" is not a CIDR',
  );
});

Deno.test("convertResult() to 0.2.0 drops routes of a family that has no address", () => {
  const result = {
    ips: [{ address: "10.0.0.2/24" }],
    routes: [{ dst: "::/0" }, { dst: "0.0.0.0/0" }],
  };
  assertEquals(convertResult(result, "1.1.0", "0.1.0"), {
    cniVersion: "0.1.0",
    ip4: { ip: "10.0.0.2/24", routes: [{ dst: "0.0.0.0/0" }] },
  });
});

Deno.test("formatResult() writes cniVersion first and shares no lists with its input", () => {
  const internal = { dns: { search: ["svc"] }, ips: [{ address: "10.0.0.2/24" }] };
  const out = formatResult(internal, "1.1.0");
  assertEquals(Object.keys(out), ["cniVersion", "ips", "dns"]);
  internal.dns.search.push("later");
  assertEquals(out.dns, { search: ["svc"] });
});

Deno.test("resultVersion() reads a string cniVersion and nothing else", () => {
  assertEquals(resultVersion({ cniVersion: "0.4.0", ips: "junk" }), "0.4.0");
  assertEquals(resultVersion({ cniVersion: 4 }), undefined);
  assertEquals(resultVersion({}), undefined);
  assertEquals(resultVersion(null), undefined);
  assertEquals(resultVersion(["1.0.0"]), undefined);
});
