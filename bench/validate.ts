/**
 * `deno run -A bench/validate.ts`: what pre-flight validation costs, side by side.
 *
 * Per-config time for a 2 KB conflist and for a 50-attachment plan, three ways: the embedded
 * WebAssembly module (what ADD uses), the valibot schema, and a plain-TypeScript version of the
 * same algorithm (plugin/validator/plain.ts); plus what loading the module costs at start-up.
 * Prints a table (not a test; numbers vary by machine).
 *
 * @module
 */

const BATCHES = Number(Deno.env.get("BENCH_BATCHES") ?? 25);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median over batches of the mean time per call, in microseconds. */
function time(fn: () => unknown, perBatch: number): number {
  for (let i = 0; i < perBatch; i++) fn(); // warm-up
  const means: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = performance.now();
    for (let i = 0; i < perBatch; i++) fn();
    means.push(((performance.now() - t0) * 1000) / perBatch);
  }
  return median(means);
}

// Start-up: measured first, before anything else of the validator is loaded.
const tImport0 = performance.now();
const mod = await import("../plugin/validator/mod.ts");
const tImport = performance.now() - tImport0;
const internals = await import("../plugin/validator/_module.ts");
const tDecode0 = performance.now();
const bytes = internals.wasmBytes();
const tDecode = performance.now() - tDecode0;
const tCold0 = performance.now();
internals.instantiate();
const tCold = performance.now() - tCold0;
const tFirst0 = performance.now();
mod.validateConfig("x", '{"cniVersion":"1.0.0","name":"x","type":"bridge"}');
const tFirst = performance.now() - tFirst0;
const warmInstantiate = time(() => internals.instantiate(), 20) / 1000;

const { schemaValidate } = await import("../plugin/validator/schema.ts");
const { plainValidateConfig, plainValidatePlan } = await import("../plugin/validator/plain.ts");

/** A realistic conflist of about 2 KB: bridge with dual-stack host-local, then chained plugins. */
function config2k(): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "dual-stack-bridge",
      plugins: [
        {
          type: "bridge",
          bridge: "cni-br0",
          isGateway: true,
          isDefaultGateway: true,
          ipMasq: true,
          hairpinMode: true,
          mtu: 1450,
          vlan: 0,
          vlanTrunk: [{ minID: 100, maxID: 200 }, { id: 300 }],
          ipam: {
            type: "host-local",
            dataDir: "/var/lib/cni/networks",
            ranges: [
              [
                {
                  subnet: "10.244.0.0/24",
                  rangeStart: "10.244.0.10",
                  rangeEnd: "10.244.0.250",
                  gateway: "10.244.0.1",
                },
                { subnet: "10.244.1.0/24", rangeStart: "10.244.1.10", rangeEnd: "10.244.1.250" },
              ],
              [{
                subnet: "fd00:10:244::/64",
                rangeStart: "fd00:10:244::10",
                rangeEnd: "fd00:10:244::ffff",
              }],
            ],
            routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0" }, {
              dst: "192.168.0.0/16",
              gw: "10.244.0.1",
            }],
          },
          dns: {
            nameservers: ["10.96.0.10"],
            search: ["default.svc.cluster.local", "svc.cluster.local"],
          },
        },
        {
          type: "tuning",
          sysctl: { "net.core.somaxconn": "1024", "net.ipv4.conf.IFNAME.arp_notify": "1" },
          mtu: 1450,
        },
        { type: "portmap", capabilities: { portMappings: true }, snat: true, backend: "iptables" },
        {
          type: "bandwidth",
          capabilities: { bandwidth: true },
          ingressRate: 100000000,
          ingressBurst: 1000000,
          egressRate: 100000000,
          egressBurst: 1000000,
          unshapedSubnets: ["10.0.0.0/8", "fd00::/8"],
        },
        {
          type: "firewall",
          backend: "iptables",
          iptablesAdminChainName: "CNI-ADMIN",
          ingressPolicy: "same-bridge",
        },
        { type: "sbr", table: 100 },
        { type: "vrf", vrfname: "blue", table: 1001 },
      ],
      metadata: { owner: "platform-team", note: "x".repeat(240) },
    },
    null,
    1,
  );
}

/** 50 macvlan attachments with distinct subnets (the first is the default network). */
function plan50() {
  return Array.from({ length: 50 }, (_, i) => ({
    network: `net${i}`,
    ifname: i === 0 ? "eth0" : `net${i}`,
    config: JSON.stringify({
      cniVersion: "1.0.0",
      name: `net${i}`,
      type: "macvlan",
      master: "eth1",
      mode: "bridge",
      mtu: 9000,
      ipam: {
        type: "host-local",
        ranges: [[{
          subnet: `10.${i}.0.0/16`,
          rangeStart: `10.${i}.1.0`,
          rangeEnd: `10.${i}.1.255`,
        }]],
        routes: i === 0 ? [{ dst: "0.0.0.0/0" }] : [{ dst: `192.168.${i}.0/24` }],
      },
    }),
  }));
}

const text = config2k();
const plan = plan50();
const encoder = new TextEncoder();
const textBytes = encoder.encode(text);

for (
  const [what, issues] of [
    ["wasm", mod.validateConfig("x", text)],
    ["valibot", schemaValidate(text)],
    ["plain", plainValidateConfig(text)],
    ["wasm plan", mod.validatePlan(plan, { allowSubnetOverlap: false })],
  ] as const
) {
  if (issues.length > 0) {
    throw new Error(`benchmark input is not valid (${what}): ${JSON.stringify(issues)}`);
  }
}

const rows: [string, number, number, number][] = [
  [
    `one conflist, ${textBytes.length} B`,
    time(() => mod.validateConfig("x", text), 2000),
    time(() => schemaValidate(text), 1000),
    time(() => plainValidateConfig(text), 1000),
  ],
  [
    "same, module call only (bytes ready)",
    time(() => internals.runConfig(textBytes), 2000),
    NaN,
    NaN,
  ],
  [
    `plan of ${plan.length} attachments`,
    time(() => mod.validatePlan(plan, { allowSubnetOverlap: false }), 100),
    time(() => plan.forEach((e) => schemaValidate(e.config)), 50),
    time(() => plainValidatePlan(plan, false), 50),
  ],
];

const fmt = (us: number) => (Number.isNaN(us) ? "-" : us < 100 ? us.toFixed(1) : us.toFixed(0));
const lines = [
  "| validation (µs per call, median of batches) | WASM | valibot | plain TS |",
  "|---|---:|---:|---:|",
  ...rows.map(([name, w, v, p]) => `| ${name} | ${fmt(w)} | ${fmt(v)} | ${fmt(p)} |`),
  "",
  `Plan row: valibot checks the 50 configs one by one (it has no plan-level rules); WASM and plain TS`,
  "also check across the plan (subnet overlaps, interface names, default routes).",
  "",
  "| module start-up | ms |",
  "|---|---:|",
  `| import plugin/validator/mod.ts (no compile yet) | ${tImport.toFixed(3)} |`,
  `| base64 → ${bytes.length} bytes | ${tDecode.toFixed(3)} |`,
  `| compile + instantiate, first in process | ${tCold.toFixed(3)} |`,
  `| compile + instantiate, warm (median) | ${warmInstantiate.toFixed(3)} |`,
  `| first validateConfig after instantiate | ${tFirst.toFixed(3)} |`,
  "",
  `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${Deno.build.arch}`,
];
console.log(lines.join("\n"));
