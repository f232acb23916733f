/**
 * How to reach the Kubernetes API: a kubeconfig file (its current context) or the in-cluster
 * service account (KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA).
 *
 * Secrets read here (tokens, keys) are never put into an error message or a log line.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";

/** Everything needed to open a connection to the API server. */
export interface ClusterAccess {
  /** Base URL, e.g. `https://10.96.0.1:443`, without a trailing slash. */
  server: string;
  /** Bearer token. */
  token?: string;
  /** Basic auth, for old kubeconfigs. */
  basic?: { username: string; password: string };
  /** PEM CA bundle that signs the server's certificate (added to the system roots). */
  caCert?: string;
  /** PEM client certificate and key. */
  clientCert?: { cert: string; key: string };
  /** Where this came from, for messages: the kubeconfig path or "in-cluster service account". */
  source: string;
}

/** Where a pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

function bad(source: string, why: string): CniError {
  return new CniError(ErrorCode.InvalidNetworkConfig, `Invalid kubeconfig "${source}"`, why);
}

async function readSecretFile(path: string, source: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw bad(source, `cannot read ${what} "${path}": ${(e as Error).message}`);
  }
}

function decodeBase64(data: string, source: string, what: string): string {
  try {
    const bin = atob(data.replace(/\s+/g, ""));
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    throw bad(source, `${what} is not valid base64`);
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** Finds `{name, <key>: {...}}` in one of the kubeconfig's named lists. */
function named(
  doc: Record<string, unknown>,
  list: string,
  key: string,
  name: string,
  source: string,
): Record<string, unknown> {
  const items = doc[list];
  if (items !== undefined && items !== null && !Array.isArray(items)) {
    throw bad(source, `${list} is not a list`);
  }
  const found = (items ?? []).find((i: unknown) => isObject(i) && i.name === name);
  if (!isObject(found) || !isObject(found[key])) {
    throw bad(source, `${list} has no entry named "${name}"`);
  }
  return found[key];
}

function optString(o: Record<string, unknown>, key: string, source: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw bad(source, `${key} is not a string`);
  return v;
}

/** Reads a value given inline as base64 (`<key>-data`) or as a file (`<key>`). */
async function dataOrFile(
  o: Record<string, unknown>,
  key: string,
  baseDir: string,
  source: string,
): Promise<string | undefined> {
  const data = optString(o, `${key}-data`, source);
  if (data !== undefined) return decodeBase64(data, source, `${key}-data`);
  const file = optString(o, key, source);
  if (file === undefined) return undefined;
  return await readSecretFile(file.startsWith("/") ? file : `${baseDir}/${file}`, source, key);
}

/** Parses kubeconfig text: JSON directly, YAML through js-yaml (loaded only then). */
async function parseDocument(text: string, source: string): Promise<Record<string, unknown>> {
  let doc: unknown;
  try {
    if (text.trimStart().startsWith("{")) {
      doc = JSON.parse(text);
    } else {
      const { load } = await import("js-yaml");
      doc = load(text);
    }
  } catch (e) {
    throw bad(source, `not valid YAML or JSON: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!isObject(doc)) throw bad(source, "not a YAML mapping");
  return doc;
}

/**
 * Reads a kubeconfig file and resolves its current context: server, CA, and the user's token,
 * token file, client certificate or basic credentials. Relative file paths are relative to the
 * kubeconfig's directory, as kubectl resolves them.
 *
 * @param path the kubeconfig file
 * @returns the access settings
 * @throws {CniError} code 7 when the file cannot be read or lacks what is needed
 */
export async function loadKubeconfig(path: string): Promise<ClusterAccess> {
  const text = await readSecretFile(path, path, "the file");
  const doc = await parseDocument(text, path);
  const baseDir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
  const current = optString(doc, "current-context", path);
  if (!current) throw bad(path, "current-context is not set");
  const context = named(doc, "contexts", "context", current, path);
  const clusterName = optString(context, "cluster", path);
  if (!clusterName) throw bad(path, `context "${current}" names no cluster`);
  const cluster = named(doc, "clusters", "cluster", clusterName, path);
  const server = optString(cluster, "server", path);
  if (!server || !/^https?:\/\//.test(server)) {
    throw bad(path, `cluster "${clusterName}" has no http(s) server URL`);
  }
  if (cluster["insecure-skip-tls-verify"] === true) {
    // Deno's HTTP client cannot switch certificate checks off per client.
    throw bad(
      path,
      `cluster "${clusterName}" sets insecure-skip-tls-verify, which multicni does not support: ` +
        "give certificate-authority or certificate-authority-data instead",
    );
  }
  const access: ClusterAccess = { server: server.replace(/\/+$/, ""), source: path };
  const ca = await dataOrFile(cluster, "certificate-authority", baseDir, path);
  if (ca !== undefined) access.caCert = ca;
  const userName = optString(context, "user", path);
  if (userName) await addUser(access, named(doc, "users", "user", userName, path), baseDir);
  return access;
}

async function addUser(
  access: ClusterAccess,
  user: Record<string, unknown>,
  baseDir: string,
): Promise<void> {
  const source = access.source;
  if (user.exec !== undefined || user["auth-provider"] !== undefined) {
    throw bad(
      source,
      "exec and auth-provider credentials are not supported: use a token or a " +
        "client certificate",
    );
  }
  const token = optString(user, "token", source);
  const tokenFile = optString(user, "tokenFile", source);
  if (token !== undefined) access.token = token.trim();
  else if (tokenFile !== undefined) {
    const p = tokenFile.startsWith("/") ? tokenFile : `${baseDir}/${tokenFile}`;
    access.token = (await readSecretFile(p, source, "tokenFile")).trim();
  }
  const cert = await dataOrFile(user, "client-certificate", baseDir, source);
  const key = await dataOrFile(user, "client-key", baseDir, source);
  if ((cert === undefined) !== (key === undefined)) {
    throw bad(source, "a client certificate needs both client-certificate and client-key");
  }
  if (cert !== undefined && key !== undefined) access.clientCert = { cert, key };
  const username = optString(user, "username", source);
  const password = optString(user, "password", source);
  if (username !== undefined && password !== undefined && access.token === undefined) {
    access.basic = { username, password };
  }
}

/**
 * The in-cluster service account: the API server at KUBERNETES_SERVICE_HOST:PORT, the token and
 * CA mounted into the pod.
 *
 * @param env the environment
 * @param dir where the service account is mounted
 * @returns the access settings
 * @throws {CniError} code 7 when the token or CA cannot be read
 */
export async function inClusterAccess(
  env: Readonly<Record<string, string>>,
  dir = SERVICE_ACCOUNT_DIR,
): Promise<ClusterAccess> {
  const source = "in-cluster service account";
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "";
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const read = async (file: string) => {
    try {
      return await Deno.readTextFile(`${dir}/${file}`);
    } catch (e) {
      throw new CniError(
        ErrorCode.InvalidNetworkConfig,
        `Cannot use the ${source}`,
        `cannot read "${dir}/${file}": ${(e as Error).message}; set kubeconfig instead`,
      );
    }
  };
  return {
    server: `https://${h}:${port}`,
    token: (await read("token")).trim(),
    caCert: await read("ca.crt"),
    source,
  };
}
