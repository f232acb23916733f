import { K8sClient } from "./client.ts";
import { loadKubeconfig } from "./kubeconfig.ts";
import { FakeApiServer } from "../../tests/_utils/fake_apiserver.ts";
import { assert, assertCniRejects, assertEquals, recordingLogger } from "./_testing.ts";

const POD = "/api/v1/namespaces/default/pods/web";
const GET = { what: "GET pod default/web", method: "GET", path: POD } as const;

async function withServer(
  fn: (
    api: FakeApiServer,
    client: (limits?: { timeoutMs: number; deadlineMs: number }) => Promise<K8sClient>,
  ) => Promise<void>,
): Promise<void> {
  const api = await FakeApiServer.start();
  const clients: K8sClient[] = [];
  try {
    api.addPod("default", "web");
    const access = await loadKubeconfig(await api.kubeconfig());
    await fn(api, (limits = { timeoutMs: 2000, deadlineMs: 5000 }) => {
      const c = new K8sClient(access, limits, recordingLogger());
      clients.push(c);
      return Promise.resolve(c);
    });
  } finally {
    for (const c of clients) c.close();
    await api.close();
  }
}

Deno.test("K8sClient reads a pod over HTTPS with the CA and token of a kubeconfig", async () => {
  await withServer(async (api, client) => {
    const res = await (await client()).request(GET);
    assertEquals(res.status, 200);
    assertEquals((res.body as { metadata: { name: string } }).metadata.name, "web");
    assertEquals(api.requests.map((r) => `${r.method} ${r.path} ${r.status}`), [`GET ${POD} 200`]);
  });
});

Deno.test("K8sClient retries 500, 503 and 429 (waiting retry-after) and then succeeds", async () => {
  await withServer(async (api, client) => {
    api.inject({ status: 500 });
    api.inject({ status: 503 });
    api.inject({ status: 429, headers: { "retry-after": "1" } });
    const t0 = Date.now();
    const res = await (await client()).request(GET);
    assertEquals(res.status, 200);
    assertEquals(api.requests.map((r) => r.status), [500, 503, 429, 200]);
    assert(Date.now() - t0 >= 1000, "retry-after was not honoured");
  });
});

Deno.test("K8sClient returns expected statuses and fails at once on other 4xx", async () => {
  await withServer(async (api, client) => {
    const c = await client();
    const missing = await c.request({
      ...GET,
      path: "/api/v1/namespaces/default/pods/nope",
      expect: [404],
    });
    assertEquals(missing.status, 404);
    api.inject({ status: 400 });
    await assertCniRejects(c.request(GET), 11, "HTTP 400");
    assertEquals(api.requests.length, 2);
  });
});

Deno.test("K8sClient fails on a wrong token with 401 and names the credentials, without retrying", async () => {
  await withServer(async (api) => {
    const access = await loadKubeconfig(await api.kubeconfig({ token: "wrong-secret-token" }));
    const log = recordingLogger();
    const c = new K8sClient(access, { timeoutMs: 1000, deadlineMs: 3000 }, log);
    try {
      const e = await assertCniRejects(c.request(GET), 11, "HTTP 401");
      assert(e.message.includes("credentials"), e.message);
      assert(!e.message.includes("wrong-secret-token"), "token in the message");
      assert(!log.lines.join("\n").includes("wrong-secret-token"), "token in the log");
      assertEquals(api.requests.length, 1);
    } finally {
      c.close();
    }
  });
});

Deno.test("K8sClient gives up a hanging request after apiTimeoutSeconds and says so", async () => {
  await withServer(async (api, client) => {
    api.inject({ hang: true, times: Infinity });
    const t0 = Date.now();
    const e = await assertCniRejects(
      (await client({ timeoutMs: 300, deadlineMs: 1000 })).request(GET),
      11,
      'Kubernetes API call "GET pod default/web" failed',
    );
    const took = Date.now() - t0;
    assert(e.details.includes("apiTimeoutSeconds"), e.details);
    assert(e.details.includes("apiDeadlineSeconds"), e.details);
    assert(took >= 600 && took < 2000, `took ${took} ms`);
  });
});

Deno.test("K8sClient honours the deadline when a slow server answers after it", async () => {
  await withServer(async (api, client) => {
    api.inject({ delayMs: 1500 });
    const t0 = Date.now();
    await assertCniRejects(
      (await client({ timeoutMs: 5000, deadlineMs: 500 })).request(GET),
      11,
      "GET pod",
    );
    assert(Date.now() - t0 < 1200, `took ${Date.now() - t0} ms`);
  });
});

Deno.test("K8sClient answers a slow response within the timeout normally", async () => {
  await withServer(async (api, client) => {
    api.inject({ delayMs: 200 });
    assertEquals((await (await client()).request(GET)).status, 200);
  });
});

Deno.test("K8sClient refuses a malformed body without retrying", async () => {
  await withServer(async (api, client) => {
    api.inject({ body: '{"kind": "Pod", ' });
    await assertCniRejects((await client()).request(GET), 11, "not JSON");
    assertEquals(api.requests.length, 1);
  });
});

Deno.test("K8sClient retries a refused connection until the deadline and reports the last error", async () => {
  await withServer(async (api) => {
    const closed = await FakeApiServer.start();
    const url = closed.url;
    await closed.close();
    const access = await loadKubeconfig(await api.kubeconfig({ server: url }));
    const log = recordingLogger();
    const c = new K8sClient(access, { timeoutMs: 200, deadlineMs: 700 }, log);
    try {
      const e = await assertCniRejects(c.request(GET), 11, "GET pod default/web");
      assert(e.details.includes("cannot connect"), e.details);
      assert(log.lines.filter((l) => l.includes("attempt")).length >= 2, log.lines.join("\n"));
    } finally {
      c.close();
    }
  });
});

Deno.test("K8sClient refuses a server whose certificate the configured CA did not sign", async () => {
  await withServer(async (api) => {
    const other = await FakeApiServer.start();
    try {
      // The kubeconfig of `api` (its CA) pointed at `other` (signed by another CA).
      const access = await loadKubeconfig(
        await api.kubeconfig({ server: other.url, token: other.token }),
      );
      const c = new K8sClient(access, { timeoutMs: 500, deadlineMs: 600 }, recordingLogger());
      try {
        await assertCniRejects(c.request(GET), 11, "GET pod");
        assertEquals(other.requests.length, 0);
      } finally {
        c.close();
      }
    } finally {
      await other.close();
    }
  });
});
