/**
 * The multicni binary. With `CNI_COMMAND` set it is a CNI plugin; otherwise a CLI. This is the
 * only file that touches `Deno.env`, `Deno.stdin`, stdout and `Deno.exit`.
 *
 * @module
 */

import { MAX_STDIN_BYTES, runPlugin } from "./protocol/dispatch.ts";

async function readStdin(limit: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of Deno.stdin.readable) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
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
  // VERSION must answer whatever stdin holds (runtimes call it with junk) and read nothing else.
  const stdin = env.CNI_COMMAND === "VERSION" ? new Uint8Array() : await readStdin(MAX_STDIN_BYTES);
  const out = await runPlugin({ env, stdin }, async () => {
    const [{ handlers }, { denoExec }, { createLogger }] = await Promise.all([
      import("./core/commands.ts"),
      import("./invoke/exec.ts"),
      import("./log/logger.ts"),
    ]);
    return handlers({
      exec: denoExec,
      openLog: (conf) =>
        createLogger({
          logFile: conf.logFile,
          logLevel: conf.logLevel,
          logToStderr: conf.logToStderr,
          logOptions: conf.logOptions,
        }),
      baseEnv: env,
      now: () => new Date(),
    });
  });
  if (out.unexpected !== undefined) {
    const e = out.unexpected;
    writeAll(Deno.stderr, `multicni: unexpected error: ${e instanceof Error ? e.stack : e}\n`);
  } else if (out.error) {
    writeAll(Deno.stderr, `multicni: ${out.error.message}\n`);
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
