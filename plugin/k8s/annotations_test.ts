import {
  parseDefaultNetworkAnnotation,
  parseNetworksAnnotation,
  runtimeConfigOf,
} from "./annotations.ts";
import { assertCniThrows, assertEquals } from "./_testing.ts";

const VALID: [string, unknown[]][] = [
  ["", []],
  ["   ", []],
  ["a", [{ name: "a", namespace: "pod-ns" }]],
  ["a,b", [{ name: "a", namespace: "pod-ns" }, { name: "b", namespace: "pod-ns" }]],
  [" a , other/b ", [{ name: "a", namespace: "pod-ns" }, { name: "b", namespace: "other" }]],
  ["a@net5", [{ name: "a", namespace: "pod-ns", interface: "net5" }]],
  ["ns1/a@fast0", [{ name: "a", namespace: "ns1", interface: "fast0" }]],
  [" ns1 / a @ fast0 ", [{ name: "a", namespace: "ns1", interface: "fast0" }]],
  ["a,a", [{ name: "a", namespace: "pod-ns" }, { name: "a", namespace: "pod-ns" }]],
  ["x-1,9z", [{ name: "x-1", namespace: "pod-ns" }, { name: "9z", namespace: "pod-ns" }]],
  ['[{"name":"a"}]', [{ name: "a", namespace: "pod-ns" }]],
  ["[]", []],
  [
    '[{"name":"a","namespace":"other","interface":"eth9","ips":["10.1.0.5/24","fd00::5"],' +
    '"mac":"02:00:00:00:00:01","cni-args":{"k":"v"},"default-route":["10.1.0.1"]}]',
    [{
      name: "a",
      namespace: "other",
      interface: "eth9",
      ips: ["10.1.0.5/24", "fd00::5"],
      mac: "02:00:00:00:00:01",
      cniArgs: { k: "v" },
      defaultRoute: ["10.1.0.1"],
    }],
  ],
  [
    '[{"name":"a","infiniband-guid":"c2:11","deviceID":"0000:03:00.1","bandwidth":{"ingressRate":1},' +
    '"portMappings":[{"containerPort":80,"hostPort":8080}],"ipam-claim-reference":"claim","x":1}]',
    [{
      name: "a",
      namespace: "pod-ns",
      infinibandGuid: "c2:11",
      portMappings: [{ containerPort: 80, hostPort: 8080 }],
      bandwidth: { ingressRate: 1 },
      deviceID: "0000:03:00.1",
      ipamClaimReference: "claim",
    }],
  ],
  ['[{"name":"a","namespace":""}]', [{ name: "a", namespace: "pod-ns" }]],
];

const INVALID: [string, string][] = [
  ["a/b/c", 'more than one "/"'],
  ["a@b@c", 'more than one "@"'],
  ["a,,b", "names no network"],
  ["ns/", "names no network"],
  ["a@", "empty interface name"],
  ["A", "not a DNS-1123 label"],
  ["a_b", "not a DNS-1123 label"],
  ["-a", "not a DNS-1123 label"],
  ["a-", "not a DNS-1123 label"],
  ["Ns/a", "namespace"],
  ["a".repeat(64), "at most 63"],
  ["[{", "not valid JSON"],
  ['{"name":"a"}', "must be a list"],
  ['"a"', "must be a list"],
  ["[1]", "element 0 is not an object"],
  ['[{"namespace":"x"}]', 'has no "name"'],
  ['[{"name":"a"},{"name":"B"}]', "element 1: name"],
  ['[{"name":5}]', '"name" must be a string'],
  ['[{"name":"a","ips":"10.0.0.1"}]', '"ips" must be a list of strings'],
  ['[{"name":"a","ips":["10.0.0.300"]}]', "is not an IP"],
  ['[{"name":"a","ips":["10.0.0.1/33"]}]', "is not an IP"],
  ['[{"name":"a","default-route":["10.0.0.0/24"]}]', "is not an IP address"],
  ['[{"name":"a","cni-args":[1]}]', '"cni-args" must be an object'],
  ['[{"name":"a","portMappings":{}}]', '"portMappings" must be a list of objects'],
  ['[{"name":"a","interface":7}]', '"interface" must be a string'],
];

Deno.test("parseNetworksAnnotation() reads every valid text and JSON form into selection elements", () => {
  for (const [value, expected] of VALID) {
    assertEquals(parseNetworksAnnotation(value, "pod-ns"), expected, JSON.stringify(value));
  }
});

Deno.test("parseNetworksAnnotation() refuses every invalid form with code 7 saying why", () => {
  for (const [value, why] of INVALID) {
    const e = assertCniThrows(() => parseNetworksAnnotation(value, "pod-ns"), 7, why);
    assertEquals(e.msg, 'Invalid pod annotation "k8s.v1.cni.cncf.io/networks"', value);
  }
});

Deno.test("parseDefaultNetworkAnnotation() takes one network whose namespace defaults to multusNamespace", () => {
  assertEquals(parseDefaultNetworkAnnotation("calico", "kube-system"), {
    name: "calico",
    namespace: "kube-system",
  });
  assertEquals(parseDefaultNetworkAnnotation(" other/calico ", "kube-system"), {
    name: "calico",
    namespace: "other",
  });
  assertEquals(parseDefaultNetworkAnnotation('{"name":"calico"}', "kube-system"), {
    name: "calico",
    namespace: "kube-system",
  });
  assertEquals(parseDefaultNetworkAnnotation('[{"name":"c","namespace":"x"}]', "kube-system"), {
    name: "c",
    namespace: "x",
  });
  assertCniThrows(() => parseDefaultNetworkAnnotation("a,b", "k"), 7, "exactly one network");
  assertCniThrows(() => parseDefaultNetworkAnnotation("a@eth1", "k"), 7, "remove");
  assertCniThrows(() => parseDefaultNetworkAnnotation("a/b/c", "k"), 7, 'more than one "/"');
  assertCniThrows(() => parseDefaultNetworkAnnotation("[]", "k"), 7, "exactly one network");
});

Deno.test("runtimeConfigOf() names the element's requests by their CNI capability", () => {
  const [el] = parseNetworksAnnotation(
    '[{"name":"a","ips":["10.0.0.2/24"],"mac":"02:00:00:00:00:09","infiniband-guid":"g",' +
      '"deviceID":"d","bandwidth":{"egressRate":5},"portMappings":[{"hostPort":1}],' +
      '"interface":"x0","cni-args":{"a":1}}]',
    "ns",
  );
  assertEquals(runtimeConfigOf(el!), {
    ips: ["10.0.0.2/24"],
    mac: "02:00:00:00:00:09",
    infinibandGUID: "g",
    portMappings: [{ hostPort: 1 }],
    bandwidth: { egressRate: 5 },
    deviceID: "d",
  });
  assertEquals(runtimeConfigOf({ name: "a", namespace: "b" }), {});
});
