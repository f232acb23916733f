/**
 * Deterministic generator of network configs for the differential test: valid configs from
 * templates, then mutations (wrong types, bad addresses, missing keys, broken text), and a few
 * adversarial cases (deep nesting, huge numbers, unicode, megabyte strings).
 *
 * @module
 */

/** A seeded pseudo-random source (mulberry32). */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A random element. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const TYPES = [
  "bridge",
  "macvlan",
  "ipvlan",
  "ptp",
  "host-device",
  "vlan",
  "tuning",
  "portmap",
  "bandwidth",
  "firewall",
  "sbr",
  "vrf",
  "flannel",
  "calico",
  "my-plugin",
];
const VERSIONS = ["0.3.1", "0.4.0", "1.0.0", "1.1.0", "0.1.0", "0.2.0", "0.3.0"];

function v4Subnet(r: Rng): { subnet: string; base: number[]; prefix: number } {
  const prefix = r.pick([8, 16, 20, 24, 24, 24, 26, 28, 30]);
  const a = [10, r.int(256), r.int(256), 0];
  const host = 32 - prefix;
  let n = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8)) >>> 0;
  n = host >= 32 ? 0 : ((n >>> host) << host) >>> 0;
  const base = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return { subnet: `${base.join(".")}/${prefix}`, base, prefix };
}

function v4Range(r: Rng): Obj {
  const { subnet, base, prefix } = v4Subnet(r);
  const out: Obj = { subnet };
  const size = 2 ** (32 - prefix);
  const addr = (off: number) => {
    const n = ((base[0]! << 24) | (base[1]! << 16) | (base[2]! << 8) | base[3]!) >>> 0;
    const x = (n + off) >>> 0;
    return [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255].join(".");
  };
  if (r.chance(0.5)) out.rangeStart = addr(1 + r.int(Math.max(1, size / 2)));
  if (r.chance(0.5)) out.rangeEnd = addr(Math.max(1, size - 2 - r.int(Math.max(1, size / 4))));
  if (r.chance(0.4)) out.gateway = addr(1);
  return out;
}

function v6Range(r: Rng): Obj {
  const g = r.int(0xffff).toString(16);
  const prefix = r.pick([48, 64, 64, 112, 120]);
  const out: Obj = { subnet: `fd00:${g}::/${prefix}` };
  if (r.chance(0.5)) out.rangeStart = `fd00:${g}::${(10 + r.int(50)).toString(16)}`;
  if (r.chance(0.5)) out.rangeEnd = `fd00:${g}::${(60 + r.int(100)).toString(16)}`;
  if (r.chance(0.3)) out.gateway = `fd00:${g}::1`;
  return out;
}

function routes(r: Rng): Json[] {
  const out: Json[] = [];
  for (let i = r.int(3); i > 0; i--) {
    out.push(r.pick<Obj>([
      { dst: "0.0.0.0/0" },
      { dst: "192.168.0.0/16", gw: "10.0.0.1" },
      { dst: "::/0", gw: "fd00::1" },
      { dst: "172.16.0.0/12", priority: 100, table: 10 },
    ]));
  }
  return out;
}

function ipam(r: Rng): Obj {
  const kind = r.pick(["host-local", "host-local", "host-local", "static", "dhcp", "whereabouts"]);
  if (kind === "host-local") {
    const o: Obj = { type: "host-local" };
    if (r.chance(0.3)) Object.assign(o, v4Range(r));
    else {
      const sets: Json[] = [];
      for (let s = 1 + r.int(2); s > 0; s--) {
        const set: Json[] = [];
        const v6 = r.chance(0.3);
        for (let k = 1 + r.int(2); k > 0; k--) set.push(v6 ? v6Range(r) : v4Range(r));
        sets.push(set);
      }
      o.ranges = sets;
    }
    if (r.chance(0.4)) o.routes = routes(r);
    if (r.chance(0.2)) o.dataDir = "/var/lib/cni/networks";
    return o;
  }
  if (kind === "static") {
    return {
      type: "static",
      addresses: [{ address: `10.${r.int(256)}.0.${r.int(256)}/24`, gateway: "10.0.0.1" }],
      routes: routes(r),
      dns: { nameservers: ["8.8.8.8"], domain: "example.org", search: ["a.example"] },
    };
  }
  if (kind === "dhcp") {
    return { type: "dhcp", request: [{ skipDefault: false, option: "classless-static-routes" }] };
  }
  return { type: kind, range: "10.9.0.0/16" };
}

function pluginKeys(r: Rng, type: string): Obj {
  switch (type) {
    case "bridge":
      return {
        bridge: "cni0",
        isGateway: true,
        isDefaultGateway: r.chance(0.3),
        ipMasq: r.chance(0.5),
        mtu: 1500,
        hairpinMode: false,
        vlan: r.int(4095),
        vlanTrunk: [{ minID: 10, maxID: 20 }, { id: 30 }],
      };
    case "macvlan":
      return { master: "eth0", mode: "bridge", mtu: 9000, linkInContainer: false, bcqueuelen: 100 };
    case "ipvlan":
      return { master: "eth1", mode: "l2", mtu: 1500 };
    case "ptp":
      return { ipMasq: true, mtu: 1450 };
    case "host-device":
      return { device: "eth2", pciBusID: "0000:00:1f.6" };
    case "vlan":
      return { master: "eth0", vlanId: 100, mtu: 1500 };
    case "tuning":
      return { sysctl: { "net.core.somaxconn": "500" }, mac: "c2:b0:57:49:47:f1", promisc: true };
    case "portmap":
      return { snat: true, capabilities: { portMappings: true }, conditionsV4: ["-s", "1.2.3.4"] };
    case "bandwidth":
      return { ingressRate: 123, ingressBurst: 456, egressRate: 1e9, egressBurst: 1e6 };
    case "firewall":
      return { backend: "iptables", iptablesAdminChainName: "CNI-ADMIN" };
    case "sbr":
      return { table: 100 };
    case "vrf":
      return { vrfname: "blue", table: 1001 };
    default:
      return { foo: r.int(10), bar: "baz" };
  }
}

function plugin(r: Rng): Obj {
  const type = r.pick(TYPES);
  const p: Obj = { type, ...pluginKeys(r, type) };
  if (
    ["bridge", "macvlan", "ipvlan", "ptp", "host-device", "vlan"].includes(type) || r.chance(0.2)
  ) {
    p.ipam = ipam(r);
  }
  if (r.chance(0.1)) p.dns = { nameservers: ["1.1.1.1"] };
  return p;
}

/** A valid-looking config (conf or conflist). */
export function generateConfig(r: Rng): Obj {
  const name = r.pick(["net1", "side", "macvlan-conf", "a.b_c-d", "N9"]);
  if (r.chance(0.5)) {
    return { cniVersion: r.pick(VERSIONS), name, ...plugin(r) };
  }
  const plugins: Json[] = [];
  for (let i = 1 + r.int(3); i > 0; i--) plugins.push(plugin(r));
  const list: Obj = { cniVersion: r.pick(VERSIONS), name, plugins };
  if (r.chance(0.1)) list.cniVersions = ["1.0.0", "1.1.0"];
  return list;
}

const WEIRD_STRINGS = [
  "",
  ".",
  "..",
  "a/b",
  "10.1.2.300",
  "10.1.2.3",
  "10.01.2.3",
  "1.2.3.4/33",
  "10.0.0.1/24",
  "10.0.0.0/24",
  "10.0.0.0/31",
  "fd00::/64",
  "fd00::1/64",
  "::ffff:10.0.0.1",
  "fe80::1%eth0",
  "1:2:3:4:5:6:7:8:9",
  "::",
  "::/0",
  "0.0.0.0/0",
  "1.2.3.4/024",
  "name with space",
  "ñet",
  "\u{1F600}",
  "\ud800",
  "host-local",
  "static",
  "dhcp",
  "bridge",
  "1.0.0",
  "0.5.0",
  "x".repeat(300),
  "10.0.1.0/24",
  "10.0.0.255",
  "10.0.0.254",
  "2001:db8::1",
  "1::2::3",
  "::1.2.3.4",
  "1.2.3",
];
const WEIRD_NUMBERS = [
  0,
  -1,
  1.5,
  1e400,
  -1e400,
  4294967295,
  4294967296,
  2 ** 63,
  2 ** 64,
  2 ** 65,
  -0,
  1e-400,
  123456789012345678901234567890,
  9000,
  0.1,
];

/** A random JSON value of any kind, biased to values the rules care about. */
function weirdValue(r: Rng): Json {
  switch (r.int(8)) {
    case 0:
    case 1:
    case 2:
      return r.pick(WEIRD_STRINGS);
    case 3:
      return r.pick(WEIRD_NUMBERS);
    case 4:
      return r.pick([true, false, null]);
    case 5:
      return r.pick<Json>([[], [1], ["a"], [[]], [{}], [{ subnet: "10.5.0.0/16" }]]);
    case 6:
      return r.pick<Json>([{}, { type: "host-local" }, { subnet: "10.0.0.0/8" }, { a: 1 }]);
    default:
      return r.pick<Json>([[[]], [null], { dst: "0.0.0.0/0" }, "0.0.0.0/0"]);
  }
}

/** Every (parent, key) location in a value. */
function locations(root: Json): [Obj | Json[], string | number][] {
  const out: [Obj | Json[], string | number][] = [];
  const stack: Json[] = [root];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (Array.isArray(x)) {
      x.forEach((c, i) => {
        out.push([x, i]);
        stack.push(c);
      });
    } else if (typeof x === "object" && x !== null) {
      for (const [k, c] of Object.entries(x)) {
        out.push([x, k]);
        stack.push(c);
      }
    }
  }
  return out;
}

const KNOWN_KEYS = [
  "cniVersion",
  "cniVersions",
  "name",
  "type",
  "plugins",
  "ipam",
  "subnet",
  "rangeStart",
  "rangeEnd",
  "gateway",
  "ranges",
  "routes",
  "dst",
  "gw",
  "mtu",
  "dns",
  "capabilities",
  "addresses",
  "address",
  "isDefaultGateway",
  "vlanTrunk",
  "sysctl",
  "bcqueuelen",
  "table",
  "ingressRate",
  "prevResult",
  "nameservers",
  "request",
  "provide",
];

/** Applies 1 to 3 structural mutations. */
export function mutate(r: Rng, config: Obj): Obj {
  const copy = structuredClone(config) as Obj;
  for (let n = 1 + r.int(3); n > 0; n--) {
    const locs = locations(copy);
    if (locs.length === 0) break;
    const [parent, key] = r.pick(locs);
    const op = r.int(4);
    if (op === 0 && !Array.isArray(parent)) delete parent[key as string];
    else if (op === 1 && !Array.isArray(parent)) parent[r.pick(KNOWN_KEYS)] = weirdValue(r);
    else if (Array.isArray(parent)) parent[key as number] = weirdValue(r);
    else parent[key as string] = weirdValue(r);
  }
  return copy;
}

/** Breaks the text: deletes, inserts or duplicates a few characters. */
export function mutateText(r: Rng, text: string): string {
  const at = r.int(text.length + 1);
  switch (r.int(6)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) +
        r.pick(["{", "}", "[", "]", ",", ":", '"', "\\", "\n", "\u0001", "x", "-", "0"]) +
        text.slice(at);
    case 2:
      return text.slice(0, at);
    case 3:
      return text.replace(/"name":/, '"name": "dup", "name":');
    case 4:
      return text.replace(
        /"type":"([a-z])/,
        (_m, c) => `"type":"\\u00${c.charCodeAt(0).toString(16)}`,
      );
    default:
      return " \t\r\n" + text + r.pick(["", " ", "\n", " x", "{}"]);
  }
}

/** Hand-written adversarial configs. */
export function adversarial(): string[] {
  const ok = (extra: string) => `{"cniVersion":"1.0.0","name":"adv","type":"my-plugin"${extra}}`;
  const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
  const mb = "a".repeat(1 << 20);
  return [
    ok(`,"deep":${nest(9999)}`),
    ok(`,"deep":${nest(10000)}`),
    nest(10000),
    nest(10001),
    "[".repeat(200000),
    ok(`,"x":1e400,"y":-1e400,"z":123456789012345678901234567890123456789`),
    `{"cniVersion":"1.0.0","name":"adv","type":"bridge","mtu":1e400}`,
    `{"cniVersion":"1.0.0","name":"adv","type":"bridge","mtu":1E2,"vlan":-0,"vlanTrunk":[{"id":2.5e-324}]}`,
    `{"cniVersion":"1.0.0","name":"adv","type":"bandwidth","ingressRate":18446744073709551615,"egressRate":18446744073709551617,"egressBurst":36893488147419103232}`,
    `{"cniVersion":"1.0.0","name":"adv","type":"macvlan","bcqueuelen":4294967295.0}`,
    `{"cniVersion":"1.0.0","name":"\u00f1et","type":"bridge"}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"\\u0062ridge","mtu":"x"}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"\\ud83d\\ude00","\\u006dtu":"x"}`,
    `{"cniVersion":"1.0.0","name":"\\ud800","type":"x"}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"\u{1F600}/x"}`,
    `{"cniVersion":"1.0.0","name":"${mb}","type":"x"}`,
    `{"cniVersion":"1.0.0","name":"${mb} ","type":"x"}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"${mb}/"}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","blob":"${mb}"}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"bridge","ipam":{"type":"host-local","subnet":"${
      "1".repeat(1 << 20)
    }"}}`,
    " ".repeat(1 << 20) + ok(""),
    `{"cniVersion":"1.0.0","name":"ok","type":"x","s":"\\u12"}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","s":"\\x"}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","n":01}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","n":-}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","n":1.}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","n":.5}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","n":1e}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x"} x`,
    `\ufeff${ok("")}`,
    "",
    "null",
    "[]",
    `"str"`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","ipam":{"type":"host-local","ranges":[[{"subnet":"fd00::/64","rangeStart":"fd00::ffff:ffff:ffff:ffff","rangeEnd":"fd00::1"}],[{"subnet":"::/1"}],[{"subnet":"8000::/1","gateway":"::1"}]]}}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","ipam":{"type":"host-local","ranges":[[{"subnet":"0.0.0.0/0"},{"subnet":"10.0.0.0/30","rangeStart":"10.0.0.3"}]]}}`,
    `{"cniVersion":"1.0.0","name":"ok","type":"x","ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24","rangeEnd":"10.0.0.255"},{"subnet":"10.0.1.0/24","rangeStart":"10.0.0.0"}]]}}`,
  ];
}
