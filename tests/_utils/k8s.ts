/**
 * Helpers for Kubernetes tests: making the fake API server (which runs in the test process, in
 * the host's network namespace) reachable from inside a test node's namespace, and CNI_ARGS for
 * a pod.
 *
 * @module
 */

import { REPO, type TestNode } from "./mod.ts";

/** A port inside a node namespace that leads to a server of the test process. */
export interface NetnsRelay {
  /** The port on 127.0.0.1 inside the node namespace. */
  port: number;
  /** Stops the relay (the process inside the namespace and the Unix socket); idempotent. */
  close(): Promise<void>;
}

async function pipe(a: Deno.Conn, b: Deno.Conn): Promise<void> {
  try {
    await Promise.all([a.readable.pipeTo(b.writable), b.readable.pipeTo(a.writable)]);
  } catch {
    // One side closed or reset.
  }
}

/**
 * Relays 127.0.0.1:<port> inside `node`'s namespace to 127.0.0.1:`targetPort` of the test
 * process: a small Deno process in the namespace forwards to a Unix socket in the node's temp
 * dir, and the test process forwards that socket to the target. Bytes only, so TLS is end to end.
 *
 * @param node the test node
 * @param targetPort the port of the server in the test process
 * @returns the port inside the namespace
 */
export async function exposeInNetns(node: TestNode, targetPort: number): Promise<NetnsRelay> {
  const path = `${node.dir}/apiserver-${targetPort}.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const conns = new Set<Deno.Conn>();
  const accepting = (async () => {
    try {
      for await (const c of listener) {
        conns.add(c);
        Deno.connect({ hostname: "127.0.0.1", port: targetPort })
          .then((t) => {
            conns.add(t);
            return pipe(c, t);
          })
          .catch(() => c.close());
      }
    } catch {
      // Listener closed.
    }
  })();
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      node.ns,
      Deno.execPath(),
      "run",
      "--quiet",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      `${REPO}/tests/_utils/_netns_relay.ts`,
      path,
    ],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the relay in the node namespace did not start");
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  let closed: Promise<void> | undefined;
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    listener.close();
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
    await accepting;
    await Deno.remove(path).catch(() => {});
  };
  return { port: Number(text.trim()), close: () => closed ??= close() };
}

/**
 * CNI_ARGS as the kubelet passes them for a pod.
 *
 * @param namespace the pod's namespace
 * @param name the pod's name
 * @param uid its UID, when given
 * @returns the `K=V;...` text
 */
export function podCniArgs(namespace: string, name: string, uid?: string): string {
  return [
    "IgnoreUnknown=1",
    `K8S_POD_NAMESPACE=${namespace}`,
    `K8S_POD_NAME=${name}`,
    "K8S_POD_INFRA_CONTAINER_ID=infra",
    ...(uid ? [`K8S_POD_UID=${uid}`] : []),
  ].join(";");
}
