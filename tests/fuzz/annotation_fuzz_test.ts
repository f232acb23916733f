/**
 * Fuzzing the Kubernetes pod annotations multicni parses (`k8s.v1.cni.cncf.io/networks` and
 * `v1.multus-cni.io/default-network`): text items, JSON lists, and mutations of valid values.
 * Every value must either parse into elements that obey the multi-network spec's rules
 * (DNS-1123 names, valid interface names, IP addresses) or be refused with a CniError of code 7,
 * never another exception, and quickly (no pathological regular expressions).
 *
 * `FUZZ_CASES` sets the number of random cases (CI: 2000), `FUZZ_SEED` the seed.
 */

import {
  isIp,
  parseDefaultNetworkAnnotation,
  parseNetworksAnnotation,
  runtimeConfigOf,
} from "../../plugin/k8s/annotations.ts";
import { CniError } from "../../plugin/protocol/errors.ts";
import { mutateBytes, randomString, randomValue, Rng, writeJson } from "./_gen.ts";
import { Tally } from "./_check.ts";
import { caseCount, seed } from "./_run.ts";

const VALID = [
  "a",
  "a, b",
  "other/b@fast0",
  "ns-1/net-2@net9,plain",
  '[{"name":"a"}]',
  '[{"name":"b","namespace":"x","interface":"e1","ips":["10.1.2.3/24"],"mac":"c2:00:00:00:00:01"}]',
  '[{"name":"c","default-route":["10.1.2.1"],"cni-args":{"k":"v"},"portMappings":[]}]',
  '{"name":"d","namespace":"kube-system"}',
] as const;

/** Large values, each run once. */
const HUGE = [
  "a,".repeat(100_000),
  `[${'{"name":"a"},'.repeat(50_000)}{"name":"b"}]`,
  "a".repeat(1_000_000),
  "/".repeat(100_000),
  "@".repeat(100_000) + "x",
  "[".repeat(100_000),
  " ,".repeat(100_000),
];

const PIECES = ["a", "b-1", "/", "@", ",", " ", "[", "]", "{", "}", '"', ":", "name", "ns", ".."];

/** DNS-1123 label, as the multi-network spec requires for names and namespaces. */
function dnsLabel(s: unknown): boolean {
  return typeof s === "string" && s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

function generate(rng: Rng): string {
  switch (rng.weighted({ soup: 3, text: 2, json: 3, mutated: 4 })) {
    case "soup":
      return Array.from({ length: rng.int(30) }, () => rng.pick(PIECES)).join("");
    case "text":
      return Array.from({ length: 1 + rng.int(4) }, () => randomString(rng, rng.int(20))).join(",");
    case "json": {
      const list = Array.from({ length: rng.int(3) }, () => randomValue(rng, 1));
      return writeJson(rng, rng.chance(0.8) ? list : randomValue(rng), 0.2);
    }
    case "mutated": {
      const bytes = new TextEncoder().encode(rng.pick(VALID));
      return new TextDecoder().decode(mutateBytes(rng, bytes, [], 1 + rng.int(4)));
    }
  }
}

Deno.test("fuzz: pod annotations parse into valid elements or fail with code 7", () => {
  const tally = new Tally();
  const s = seed(0xa77);
  const rng = new Rng(s);
  const n = caseCount(2000);
  const values = [...HUGE, ...VALID];
  for (let i = 0; i < n; i++) values.push(generate(rng));
  for (const [i, value] of values.entries()) {
    const id = `seed ${s} case ${i} ${JSON.stringify(value.slice(0, 120))}`;
    for (const which of ["networks", "default-network"] as const) {
      tally.count(which);
      const started = performance.now();
      try {
        const els = which === "networks"
          ? parseNetworksAnnotation(value, "pod-ns")
          : [parseDefaultNetworkAnnotation(value, "kube-system")];
        for (const el of els) {
          // The interface name is checked where every source's names are: planFor() (code 7,
          // tests/security/names_test.ts).
          const bad = !dnsLabel(el.name) || !dnsLabel(el.namespace) ||
            (el.interface !== undefined && typeof el.interface !== "string") ||
            (el.ips ?? []).some((ip) => !isIp(ip.split("/")[0]!)) ||
            (el.defaultRoute ?? []).some((gw) => !isIp(gw));
          if (bad) {
            tally.fail(id, [{ what: "accepted an invalid element", detail: JSON.stringify(el) }]);
          }
          runtimeConfigOf(el);
        }
      } catch (e) {
        if (!(e instanceof CniError) || e.code !== 7) {
          tally.fail(id, [{ what: `${which} threw`, detail: String((e as Error)?.stack ?? e) }]);
        }
      }
      const ms = performance.now() - started;
      if (ms > 1000) tally.fail(id, [{ what: "slow", detail: `${which}: ${Math.round(ms)} ms` }]);
    }
  }
  tally.report("annotation fuzz");
});
