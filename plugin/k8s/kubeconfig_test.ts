import { inClusterAccess, loadKubeconfig } from "./kubeconfig.ts";
import { assert, assertCniRejects, assertEquals } from "./_testing.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "multicni-kc-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const b64 = (s: string) => btoa(s);

function kubeconfig(cluster: string[], user: string[], current = "ctx"): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "# written by hand",
    "clusters:",
    "- name: other",
    "  cluster: {server: 'https://other:6443'}",
    "- name: main",
    "  cluster:",
    ...cluster.map((l) => `    ${l}`),
    "users:",
    "- name: me",
    "  user:",
    ...user.map((l) => `    ${l}`),
    "contexts:",
    "- name: ctx",
    "  context: {cluster: main, user: me, namespace: x}",
    `current-context: ${current}`,
  ].join("\n");
}

Deno.test("loadKubeconfig() resolves the current context's cluster, CA data and token", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/kc`,
      kubeconfig([
        "server: https://10.0.0.1:6443/",
        `certificate-authority-data: ${b64("CA PEM")}`,
      ], ['token: "abc"']),
    );
    assertEquals(await loadKubeconfig(`${dir}/kc`), {
      server: "https://10.0.0.1:6443",
      source: `${dir}/kc`,
      caCert: "CA PEM",
      token: "abc",
    });
  });
});

Deno.test("loadKubeconfig() reads files relative to the kubeconfig: CA, tokenFile, client certificate", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/sub/ca.crt`, "CA");
    await Deno.writeTextFile(`${dir}/sub/token`, "tok\n");
    await Deno.writeTextFile(`${dir}/sub/c.crt`, "CERT");
    await Deno.writeTextFile(`${dir}/sub/c.key`, "KEY");
    await Deno.writeTextFile(
      `${dir}/sub/kc`,
      kubeconfig(["server: https://api:6443", "certificate-authority: ca.crt"], [
        "tokenFile: token",
        "client-certificate: c.crt",
        `client-key: ${dir}/sub/c.key`,
      ]),
    );
    const a = await loadKubeconfig(`${dir}/sub/kc`);
    assertEquals(a.caCert, "CA");
    assertEquals(a.token, "tok");
    assertEquals(a.clientCert, { cert: "CERT", key: "KEY" });
  });
});

Deno.test("loadKubeconfig() accepts JSON and client certificate data", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/kc.json`,
      JSON.stringify({
        "current-context": "c",
        clusters: [{ name: "k", cluster: { server: "https://h:1" } }],
        users: [{
          name: "u",
          user: { "client-certificate-data": b64("C"), "client-key-data": b64("K") },
        }],
        contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
      }),
    );
    const a = await loadKubeconfig(`${dir}/kc.json`);
    assertEquals(a.clientCert, { cert: "C", key: "K" });
    assertEquals(a.token, undefined);
  });
});

Deno.test("loadKubeconfig() refuses what it cannot honour with code 7 and never quotes secrets", async () => {
  await withDir(async (dir) => {
    const cases: [string, string][] = [
      [kubeconfig(["server: https://a:1"], ["token: t"], "nope"), 'no entry named "nope"'],
      [
        kubeconfig(["server: https://a:1", "insecure-skip-tls-verify: true"], ["token: t"]),
        "insecure-skip-tls-verify",
      ],
      [kubeconfig(["server: https://a:1"], ["exec: {command: aws}"]), "exec and auth-provider"],
      [kubeconfig(["server: ftp://a"], ["token: t"]), "server URL"],
      [kubeconfig(["server: https://a:1"], ["client-certificate-data: Q0VSVA=="]), "client-key"],
      [kubeconfig(["server: https://a:1", "certificate-authority: nope.crt"], []), "nope.crt"],
      [kubeconfig(["server: https://a:1", "certificate-authority-data: '%%%'"], []), "base64"],
      ["apiVersion: v1\nclusters: [", "not valid YAML"],
      ["- a list", "not a YAML mapping"],
      ["kind: Config", "current-context is not set"],
    ];
    for (const [text, why] of cases) {
      await Deno.writeTextFile(`${dir}/kc`, text);
      const e = await assertCniRejects(loadKubeconfig(`${dir}/kc`), 7, why);
      assert(!e.message.includes("token: t"), e.message);
    }
    await assertCniRejects(loadKubeconfig(`${dir}/missing`), 7, "cannot read");
  });
});

Deno.test("inClusterAccess() uses KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/token`, "sa-token\n");
    await Deno.writeTextFile(`${dir}/ca.crt`, "SA CA");
    const env = { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" };
    assertEquals(await inClusterAccess(env, dir), {
      server: "https://[fd00::1]:443",
      token: "sa-token",
      caCert: "SA CA",
      source: "in-cluster service account",
    });
    await Deno.remove(`${dir}/token`);
    await assertCniRejects(inClusterAccess(env, dir), 7, "set kubeconfig instead");
  });
});
