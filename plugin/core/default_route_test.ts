import type { Plan } from "./plan.ts";
import { parseDelegate } from "./delegate.ts";
import { applyDefaultRoutes, defaultRouteCommands } from "./default_route.ts";
import { assertCniRejects, assertEquals } from "../k8s/_testing.ts";

const d = parseDelegate({ cniVersion: "1.0.0", name: "n", type: "bridge" }, "1.0.0", "t");
const PLAN: Plan = {
  containerId: "c",
  netns: "/var/run/netns/p",
  ifname: "eth0",
  cniVersion: "1.0.0",
  attachments: [0, 1].map((index) => ({
    index,
    network: `n${index}`,
    ifname: index === 0 ? "eth0" : "net1",
    isDefault: index === 0,
    delegate: d,
    runtimeConfig: {},
    cniArgs: "",
    ...(index === 1 ? { defaultRoute: ["10.1.0.1", "fd00::1"] } : {}),
  })),
};

Deno.test("defaultRouteCommands() replaces the family's default routes with the requested gateway", () => {
  const ns = ["nsenter", "--net=/var/run/netns/p", "--", "ip"];
  assertEquals(defaultRouteCommands(PLAN), [
    [...ns, "-4", "route", "flush", "exact", "0.0.0.0/0"],
    [...ns, "-4", "route", "add", "default", "via", "10.1.0.1", "dev", "net1"],
    [...ns, "-6", "route", "flush", "exact", "::/0"],
    [...ns, "-6", "route", "add", "default", "via", "fd00::1", "dev", "net1"],
  ]);
});

Deno.test("applyDefaultRoutes() stops at the first failing command with code 5 naming it", async () => {
  const ran: string[] = [];
  await assertCniRejects(
    applyDefaultRoutes(PLAN, (cmd) => {
      ran.push(cmd.slice(4).join(" "));
      return Promise.resolve(
        cmd.includes("add")
          ? { code: 2, stderr: "Nexthop has invalid gateway" }
          : { code: 0, stderr: "" },
      );
    }),
    5,
    "Nexthop has invalid gateway",
  );
  assertEquals(ran, [
    "-4 route flush exact 0.0.0.0/0",
    "-4 route add default via 10.1.0.1 dev net1",
  ]);
});
