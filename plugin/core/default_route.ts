/**
 * `default-route` of a Kubernetes selection element: the pod's default route of that family goes through
 * the requested gateway on that attachment's interface, and every other default route of the
 * family is removed (as Multus does). Done with `ip` inside the pod's namespace via `nsenter`,
 * after every delegate has run.
 *
 * @module
 */

import { CniError, ErrorCode } from "../protocol/errors.ts";
import type { Plan } from "./plan.ts";

/** Runs a command; resolves to its exit code and stderr. */
export type RunCommand = (cmd: string[]) => Promise<{ code: number; stderr: string }>;

/** Runs a command with Deno.Command. */
export const denoRun: RunCommand = async (cmd) => {
  const [bin, ...args] = cmd;
  const out = await new Deno.Command(bin!, { args, stdout: "null", stderr: "piped" }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr).trim() };
};

/**
 * The commands that move the default routes the plan's attachments ask for (`defaultRoute`).
 *
 * @param plan the plan
 * @returns the commands in order; none when no attachment asks
 */
export function defaultRouteCommands(plan: Plan): string[][] {
  const out: string[][] = [];
  const ns = (cmd: string[]) => ["nsenter", `--net=${plan.netns}`, "--", "ip", ...cmd];
  for (const a of plan.attachments) {
    for (const gw of a.defaultRoute ?? []) {
      const fam = gw.includes(":") ? "-6" : "-4";
      out.push(ns([fam, "route", "flush", "exact", fam === "-6" ? "::/0" : "0.0.0.0/0"]));
      out.push(ns([fam, "route", "add", "default", "via", gw, "dev", a.ifname]));
    }
  }
  return out;
}

/**
 * Moves the default routes as the plan's attachments ask.
 *
 * @param plan the executed plan
 * @param run runs a command
 * @throws {CniError} code 5 naming the command that failed
 */
export async function applyDefaultRoutes(plan: Plan, run: RunCommand = denoRun): Promise<void> {
  for (const cmd of defaultRouteCommands(plan)) {
    let r: { code: number; stderr: string };
    try {
      r = await run(cmd);
    } catch (e) {
      r = { code: -1, stderr: (e as Error).message };
    }
    if (r.code !== 0) {
      throw new CniError(
        ErrorCode.IoFailure,
        "Cannot set the default route the pod asked for",
        `"${cmd.slice(3).join(" ")}" failed: ${r.stderr}`,
      );
    }
  }
}
