/**
 * Run inside a network namespace by `exposeInNetns` (tests/_utils/k8s.ts): listens on 127.0.0.1
 * there, prints the port, and passes every connection through to the Unix socket given as the
 * only argument (Unix sockets are reachable across network namespaces). Bytes only: TLS stays
 * end to end.
 *
 * @module
 */

const socket = Deno.args[0]!;
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(listener.addr.port);

for await (const conn of listener) {
  (async () => {
    try {
      const up = await Deno.connect({ transport: "unix", path: socket });
      await Promise.all([conn.readable.pipeTo(up.writable), up.readable.pipeTo(conn.writable)]);
    } catch {
      // A side went away: the other is closed by pipeTo.
    }
  })();
}
