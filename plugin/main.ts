/**
 * The multicni binary. With `CNI_COMMAND` set it is a CNI plugin; otherwise a CLI. This is the
 * only file that touches `Deno.env`, `Deno.stdin`, stdout and `Deno.exit`.
 *
 * @module
 */

import { MAX_STDIN_BYTES, runPlugin } from "./protocol/dispatch.ts";

/**
 * Reads stdin to the end, synchronously: nothing else runs yet, and the stream API costs ~5 ms
 * more per call (measured), paid by every pod twice.
 */
function readStdin(limit: number): Uint8Array | undefined {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  let size = 0;
  for (;;) {
    const n = Deno.stdin.readSync(buf);
    if (n === null || n === 0) break;
    size += n;
    if (size > limit) return undefined;
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function writeAll(fd: typeof Deno.stdout | typeof Deno.stderr, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  while (at < bytes.length) at += fd.writeSync(bytes.subarray(at));
}

async function plugin(): Promise<number> {
  const env = Deno.env.toObject();
  // VERSION answers in the version stdin asks for; a person typing the command at a terminal
  // gets an answer without having to type a config.
  const stdin = env.CNI_COMMAND === "VERSION" && Deno.stdin.isTerminal()
    ? new Uint8Array()
    : readStdin(MAX_STDIN_BYTES);
  const out = await runPlugin(
    { env, stdin },
    async () => (await import("./wiring.ts")).realHandlers(env),
  );
  if (out.exitCode !== 0) {
    // The logger redacts its lines; these bypass it, and a delegate's error text can carry a
    // token. Loaded only on failure, so a successful call pays nothing for it.
    const { redactText } = await import("./log/_format.ts");
    if (out.unexpected !== undefined) {
      const e = out.unexpected;
      const text = e instanceof Error ? e.stack ?? e.message : String(e);
      writeAll(Deno.stderr, `multicni: unexpected error: ${redactText(text)}\n`);
    } else if (out.error) {
      writeAll(Deno.stderr, `multicni: ${redactText(out.error.message)}\n`);
    }
  }
  writeAll(Deno.stdout, out.stdout);
  return out.exitCode;
}

async function cli(): Promise<number> {
  const { main } = await import("./cli/mod.ts");
  return await main(Deno.args);
}

if (import.meta.main) {
  const code = Deno.env.get("CNI_COMMAND") !== undefined ? await plugin() : await cli();
  Deno.exit(code);
}
