/**
 * A Kubernetes API server test double: real HTTPS on 127.0.0.1 with its own CA (made with the
 * `openssl` CLI in a temp dir), bearer-token auth, and the real REST paths and object shapes for
 * pods, the pods `status` subresource (with resourceVersion conflicts), NetworkAttachmentDefinitions
 * and events. Faults are injected per request: any status (404, 409, 429, 500, ...), slow and
 * hanging responses, malformed bodies.
 *
 * @module
 */

/** A stored object: Pod, NetworkAttachmentDefinition or Event. */
export type Obj = Record<string, unknown> & {
  metadata: Record<string, unknown> & {
    name: string;
    namespace: string;
    annotations?: Record<string, string>;
  };
};

/** A fault injected into matching requests. */
export interface Fault {
  /** Only requests with this method (default: any). */
  method?: string;
  /** Only requests whose path contains this string or matches this pattern (default: any). */
  path?: string | RegExp;
  /** Answer with this status (and a Status body unless `body` is given). */
  status?: number;
  /** Answer with this raw body (e.g. malformed JSON); status 200 unless `status` is given. */
  body?: string;
  /** Extra response headers, e.g. `retry-after`. */
  headers?: Record<string, string>;
  /** Wait this long before answering (then answer normally unless status/body are given). */
  delayMs?: number;
  /** Never answer (until the client gives up or the server closes). */
  hang?: boolean;
  /** How many requests this fault applies to (default 1; Infinity for all). */
  times?: number;
}

/** One request the server saw. */
export interface SeenRequest {
  method: string;
  path: string;
  status: number;
}

async function run(cmd: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** PEM files of a throwaway CA, a server certificate for 127.0.0.1 and a client certificate. */
export interface TestCerts {
  ca: string;
  cert: string;
  key: string;
  clientCert: string;
  clientKey: string;
}

/**
 * Makes a CA, a server certificate (SAN 127.0.0.1, localhost) and a client certificate with
 * openssl, in `dir`.
 *
 * @param dir an existing directory
 * @returns the PEM texts
 */
export async function makeCerts(dir: string): Promise<TestCerts> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run([
    "openssl",
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=multicni-test-ca",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await Deno.writeTextFile(
    `${dir}/client.ext`,
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
  );
  for (const [who, cn] of [["server", "fake-apiserver"], ["client", "system:node:test"]]) {
    await run([
      "openssl",
      "req",
      ...ec,
      "-keyout",
      `${who}.key`,
      "-out",
      `${who}.csr`,
      "-subj",
      `/CN=${cn}`,
    ], dir);
    await run([
      "openssl",
      "x509",
      "-req",
      "-in",
      `${who}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${who}.crt`,
      "-days",
      "2",
      "-extfile",
      `${who}.ext`,
    ], dir);
  }
  const read = (f: string) => Deno.readTextFile(`${dir}/${f}`);
  return {
    ca: await read("ca.crt"),
    cert: await read("server.crt"),
    key: await read("server.key"),
    clientCert: await read("client.crt"),
    clientKey: await read("client.key"),
  };
}

function status(code: number, reason: string, message: string, headers = {}): Response {
  return Response.json({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  }, { status: code, headers });
}

const REASONS: Record<number, string> = {
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
};

const POD = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/status)?$/;
const NAD =
  /^\/apis\/k8s\.cni\.cncf\.io\/v1\/namespaces\/([^/]+)\/network-attachment-definitions\/([^/]+)$/;
const EVENTS = /^\/api\/v1\/namespaces\/([^/]+)\/events$/;

/** The fake API server. Start with {@linkcode FakeApiServer.start}; close when done. */
export class FakeApiServer {
  /** The bearer token it accepts. */
  readonly token: string;
  /** Temp dir holding the certificates and kubeconfigs (removed by close). */
  readonly dir: string;
  readonly certs: TestCerts;
  /** Pods by `namespace/name`. */
  readonly pods = new Map<string, Obj>();
  /** NADs by `namespace/name`. */
  readonly nads = new Map<string, Obj>();
  /** Events created, in order. */
  readonly events: Obj[] = [];
  /** Every request, in order. */
  readonly requests: SeenRequest[] = [];
  readonly #faults: Fault[] = [];
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #closing = Promise.withResolvers<void>();
  #rv = 100;

  private constructor(dir: string, certs: TestCerts, token: string) {
    this.dir = dir;
    this.certs = certs;
    this.token = token;
  }

  /**
   * Makes certificates and starts serving on 127.0.0.1 (a free port).
   *
   * @param opts the token to accept
   * @returns the running server
   */
  static async start(opts: { token?: string } = {}): Promise<FakeApiServer> {
    const dir = await Deno.makeTempDir({ prefix: "multicni-apiserver-" });
    try {
      const certs = await makeCerts(dir);
      const s = new FakeApiServer(dir, certs, opts.token ?? `tok-${crypto.randomUUID()}`);
      s.#server = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        cert: certs.cert,
        key: certs.key,
        onListen: () => {},
      }, (req) => s.#handle(req));
      return s;
    } catch (e) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw e;
    }
  }

  /** The port it listens on. */
  get port(): number {
    return this.#server!.addr.port;
  }

  /** Its base URL. */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /**
   * Adds (or replaces) a pod.
   *
   * @param namespace its namespace
   * @param name its name
   * @param annotations its annotations
   * @param uid its UID (default: a random one)
   * @returns the stored object
   */
  addPod(
    namespace: string,
    name: string,
    annotations: Record<string, string> = {},
    uid?: string,
  ): Obj {
    const pod: Obj = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace,
        uid: uid ?? crypto.randomUUID(),
        resourceVersion: String(++this.#rv),
        annotations,
      },
      spec: { containers: [{ name: "c", image: "busybox" }], nodeName: "node1" },
      status: { phase: "Pending" },
    };
    this.pods.set(`${namespace}/${name}`, pod);
    return pod;
  }

  /**
   * Adds a NetworkAttachmentDefinition.
   *
   * @param namespace its namespace
   * @param name its name
   * @param config `spec.config`: an object (stored as JSON text), raw text, or undefined for an
   *   empty spec
   */
  addNad(namespace: string, name: string, config?: unknown): void {
    const spec = config === undefined
      ? {}
      : { config: typeof config === "string" ? config : JSON.stringify(config) };
    this.nads.set(`${namespace}/${name}`, {
      apiVersion: "k8s.cni.cncf.io/v1",
      kind: "NetworkAttachmentDefinition",
      metadata: { name, namespace, uid: crypto.randomUUID(), resourceVersion: String(++this.#rv) },
      spec,
    });
  }

  /** Changes a pod behind the client's back (as another writer would): a new resourceVersion. */
  touchPod(namespace: string, name: string): void {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (pod) pod.metadata.resourceVersion = String(++this.#rv);
  }

  /** A pod's annotations. */
  annotations(namespace: string, name: string): Record<string, string> {
    return this.pods.get(`${namespace}/${name}`)?.metadata.annotations ?? {};
  }

  /** Injects a fault into the next matching request(s). */
  inject(f: Fault): void {
    this.#faults.push({ times: 1, ...f });
  }

  /**
   * Writes a kubeconfig for this server into its temp dir.
   *
   * @param o the server URL to name (default: this server), token (default: the right one),
   *   file name
   * @returns the path
   */
  async kubeconfig(o: { server?: string; token?: string; file?: string } = {}): Promise<string> {
    const path = `${this.dir}/${o.file ?? "kubeconfig"}`;
    await Deno.writeTextFile(`${this.dir}/kc-ca.crt`, this.certs.ca);
    await Deno.writeTextFile(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "  - name: test",
        "    cluster:",
        `      server: "${o.server ?? this.url}"`,
        "      certificate-authority: kc-ca.crt",
        "users:",
        "  - name: node",
        "    user:",
        `      token: "${o.token ?? this.token}"`,
        "contexts:",
        "  - name: ctx",
        "    context:",
        "      cluster: test",
        "      user: node",
        "current-context: ctx",
        "",
      ].join("\n"),
    );
    return path;
  }

  /** Stops serving (hanging requests are released) and removes the temp dir. */
  async close(): Promise<void> {
    this.#closing.resolve();
    try {
      if (this.#server) await this.#server.shutdown();
    } finally {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  #takeFault(method: string, path: string): Fault | undefined {
    const i = this.#faults.findIndex((f) =>
      (!f.method || f.method === method) &&
      (!f.path || (typeof f.path === "string" ? path.includes(f.path) : f.path.test(path)))
    );
    if (i < 0) return undefined;
    const f = this.#faults[i]!;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.#faults.splice(i, 1);
    return f;
  }

  async #handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    const res = await this.#answer(req, path);
    this.requests.push({ method: req.method, path, status: res.status });
    return res;
  }

  async #answer(req: Request, path: string): Promise<Response> {
    if (req.headers.get("authorization") !== `Bearer ${this.token}`) {
      return status(401, "Unauthorized", "Unauthorized");
    }
    const f = this.#takeFault(req.method, path);
    if (f?.hang) {
      // Released by close(); a client that gave up has closed its connection already.
      await this.#closing.promise;
      return status(503, "ServiceUnavailable", "the server was stopped");
    }
    if (f?.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
    if (f?.body !== undefined) {
      return new Response(f.body, {
        status: f.status ?? 200,
        headers: { "content-type": "application/json", ...f.headers },
      });
    }
    if (f?.status) {
      return status(f.status, REASONS[f.status] ?? "Unknown", "injected fault", f.headers);
    }
    return await this.#rest(req, path);
  }

  async #rest(req: Request, path: string): Promise<Response> {
    let m = POD.exec(path);
    if (m) {
      const key = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      const pod = this.pods.get(key);
      if (!pod) return status(404, "NotFound", `pods "${m[2]}" not found`);
      if (req.method === "GET" && !m[3]) return Response.json(pod);
      if (req.method === "PUT" && m[3]) return this.#putStatus(pod, await req.json());
      return status(405, "MethodNotAllowed", "method not allowed");
    }
    m = NAD.exec(path);
    if (m && req.method === "GET") {
      const nad = this.nads.get(`${m[1]}/${m[2]}`);
      if (!nad) {
        return status(
          404,
          "NotFound",
          `network-attachment-definitions.k8s.cni.cncf.io "${m[2]}" not found`,
        );
      }
      return Response.json(nad);
    }
    m = EVENTS.exec(path);
    if (m && req.method === "POST") {
      const ev = await req.json() as Obj;
      if (ev?.kind !== "Event" || ev.metadata?.namespace !== m[1]) {
        return status(400, "BadRequest", "not an Event of this namespace");
      }
      this.events.push(ev);
      return Response.json(ev, { status: 201 });
    }
    return status(404, "NotFound", "the server could not find the requested resource");
  }

  /** The status subresource: metadata.annotations and status are taken, on a matching version. */
  #putStatus(pod: Obj, body: Obj): Response {
    if (body?.metadata?.resourceVersion !== pod.metadata.resourceVersion) {
      return status(
        409,
        "Conflict",
        `Operation cannot be fulfilled on pods "${pod.metadata.name}": the object has been ` +
          "modified; please apply your changes to the latest version and try again",
      );
    }
    pod.metadata.annotations = { ...body.metadata.annotations };
    if (body.status) pod.status = body.status;
    pod.metadata.resourceVersion = String(++this.#rv);
    return Response.json(pod);
  }
}
