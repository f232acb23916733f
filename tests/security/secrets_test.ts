/**
 * SECURITY.md "Secrets": bearer tokens, passwords, private keys and kubeconfig contents never
 * reach the log file or stderr, at the most verbose log level, whether they come from the
 * config on stdin, a delegate's error output, or a kubeconfig that cannot be used.
 */

import { assert, assertEquals } from "../_utils/mod.ts";
import { type ProcRun, Sandbox } from "../faults/_sandbox.ts";

/** Every secret carries this marker (and a distinct number), so a leak is found by grep. */
const S = "Zq9SECRET";

function assertNoSecret(where: string, text: string): void {
  const at = text.indexOf(S);
  assert(at < 0, `${where} leaks a secret: …${text.slice(Math.max(0, at - 120), at + 40)}…`);
}

async function checkLogs(sb: Sandbox, r: ProcRun, logFile: string, what: string): Promise<void> {
  assertNoSecret(`${what}: stderr`, r.stderr);
  const log = await Deno.readTextFile(logFile).catch(() => "");
  assert(log.length + r.stderr.length > 0, `${what}: nothing was logged`);
  assertNoSecret(`${what}: log file`, log);
  assertEquals(await sb.leftoverProcesses(), [], "processes");
}

Deno.test("secrets in configs and delegate errors are not logged", async () => {
  const sb = await Sandbox.create();
  try {
    const logFile = `${sb.dir}/multicni.log`;
    const pem = `-----BEGIN RSA PRIVATE KEY-----\nMIIE${S}1abc\n-----END RSA PRIVATE KEY-----`;
    await sb.fake("ok");
    await sb.fake("leaky", {
      add: [
        `echo 'Authorization: Bearer ${S}2eyJhbGciOi' >&2`,
        `echo 'password=${S}3hunter2 token: ${S}4abcdefgh' >&2`,
        `printf '{"cniVersion":"1.0.0","code":150,"msg":"login failed",` +
        `"details":"{\\\\"token\\\\":\\\\"${S}5\\\\",\\\\"url\\\\":\\\\"https://u:${S}6@h/\\\\"}"}'`,
        "exit 1",
      ].join("\n"),
    });
    const conf = sb.meta([
      sb.net("main", "ok", { token: `${S}7`, tls: { key: pem }, password: `${S}8` }),
      sb.net("side", "leaky", { auth: { bearerToken: `${S}9` }, "client-key-data": `${S}10` }),
    ], { logFile, logLevel: "debug", logToStderr: true });
    const r = await sb.runJson(sb.cniEnv("ADD", "s1"), conf);
    assertEquals(r.code, 1, r.stdout);
    await checkLogs(sb, r, logFile, "ADD");
    // DEL without a cache logs the failed plan and every delegate error.
    const del = await sb.runJson(sb.cniEnv("DEL", "s1"), conf);
    await checkLogs(sb, del, logFile, "DEL");
  } finally {
    await sb.close();
  }
});

Deno.test("kubeconfig tokens and keys are not logged when the API cannot be reached", async () => {
  const sb = await Sandbox.create();
  try {
    const logFile = `${sb.dir}/multicni.log`;
    await sb.fake("ok");
    const kubeconfig = `${sb.dir}/kubeconfig`;
    const yaml = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
users:
- name: u
  user:
    token: ${S}12tokenvalue
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`;
    const env = sb.cniEnv("ADD", "k1", {
      CNI_ARGS: "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=k1",
    });
    const withCert = yaml.replace(
      "    token:",
      `    client-certificate-data: ${
        btoa(`-----BEGIN CERTIFICATE-----\n${S}15\n-----END CERTIFICATE-----`)
      }
    client-key-data: ${btoa(`-----BEGIN PRIVATE KEY-----\n${S}13\n-----END PRIVATE KEY-----`)}
    token:`,
    );
    const broken = yaml.replace("kind: Config", `kind: Config\n  token: ${S}14 : [unbalanced`);
    const cases = [["unreachable API", yaml], ["unusable client key", withCert], [
      "broken YAML",
      broken,
    ]];
    for (const [what, text] of cases) {
      await Deno.writeTextFile(kubeconfig, text!, { mode: 0o600 });
      const conf = sb.meta([sb.net("main", "ok")], {
        kubeconfig,
        logFile,
        logLevel: "debug",
        apiTimeoutSeconds: 1,
        apiDeadlineSeconds: 1,
      });
      const r = await sb.runJson(env, conf);
      await checkLogs(sb, r, logFile, what!);
      if (r.code === 0) {
        assertEquals((await sb.runJson({ ...env, CNI_COMMAND: "DEL" }, conf)).code, 0);
      }
    }
  } finally {
    await sb.close();
  }
});
