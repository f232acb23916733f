/**
 * A real runtime drives multicni (issue 6 §7): podman 4 with its CNI backend runs two busybox
 * containers whose network is multicni with two delegates (a bridge on eth0, a macvlan on
 * net1). Podman calls VERSION with junk values, sends K8S_POD_NAME in CNI_ARGS, and calls DEL
 * from its cleanup process with a stripped environment; the plugin in cni_plugin_dirs is the
 * dist/multicni launcher, which copes with that.
 *
 * Everything podman keeps (storage, run state, events, its tmp dir) lives in the test's temp
 * dir; the host links the test makes (a bridge, a veth pair as macvlan parent) are removed in
 * `finally`. Needs root, podman, runc and busybox-static (`.ci/setup` installs them).
 */

import { bundle, launcherScript } from "../../build.ts";
import { assert, assertEquals, CNI_BIN, sh, uniq } from "../_utils/mod.ts";

async function has(cmd: string): Promise<boolean> {
  return (await sh(["sh", "-c", `command -v ${cmd}`], { check: false })).code === 0;
}

const BUSYBOX = "/bin/busybox";
const missing = [
  ...(await has("podman")) ? [] : ["podman"],
  ...(await has("runc")) ? [] : ["runc"],
  // Copied into the container's empty root: it must not need a dynamic loader.
  ...(await Deno.stat(BUSYBOX).then(() => true, () => false)) &&
      (await sh(["ldd", BUSYBOX], { check: false })).code !== 0
    ? []
    : ["busybox-static"],
];
const IGNORE = missing.length > 0 || Deno.uid() !== 0;
if (IGNORE) {
  console.log(
    `podman_test: ignored: ${
      Deno.uid() !== 0 ? "needs root" : `missing ${missing.join(", ")} (run .ci/setup)`
    }`,
  );
}

/** The private podman setup of one test. */
class Podman {
  readonly conf: string;
  constructor(readonly dir: string) {
    this.conf = `${dir}/containers.conf`;
  }

  async setup(): Promise<void> {
    const d = this.dir;
    for (const sub of ["rootfs/bin", "rootfs/proc", "rootfs/sys", "rootfs/dev", "rootfs/etc"]) {
      await Deno.mkdir(`${d}/${sub}`, { recursive: true });
    }
    await Deno.mkdir(`${d}/rootfs/tmp`, { mode: 0o1777 });
    await Deno.copyFile(BUSYBOX, `${d}/rootfs/bin/busybox`);
    for (const tool of ["sh", "ip", "ping", "sleep", "kill"]) {
      await Deno.symlink("busybox", `${d}/rootfs/bin/${tool}`);
    }
    for (const sub of ["bin", "net", "tmp", "cache", "ipam"]) await Deno.mkdir(`${d}/${sub}`);
    // What `deno task build:dev` writes to dist/ (a bundle and a launcher with absolute paths
    // and DENO_DIR baked in, so the cleanup process's stripped environment does not matter),
    // built into this test's dir so that no other test's dist/ changes under it.
    const entry = await bundle(`${d}/bundle`);
    await Deno.writeTextFile(
      `${d}/bin/multicni`,
      launcherScript(["--no-config", entry], "the podman test's build"),
      { mode: 0o755 },
    );
    await Deno.writeTextFile(
      this.conf,
      [
        "[containers]",
        // Podman's defaults exceed what this sandbox allows.
        'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
        "[network]",
        'network_backend = "cni"',
        `cni_plugin_dirs = ["${d}/bin", "${CNI_BIN}"]`,
        `network_config_dir = "${d}/net"`,
        "[engine]",
        // crun fails on this host's hybrid cgroups; runc works.
        'runtime = "runc"',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `tmp_dir = "${d}/tmp"`,
        "",
      ].join("\n"),
    );
  }

  run(args: string[], check = true) {
    return sh(
      // vfs: no overlay mounts that could outlive the test under its temp dir.
      [
        "podman",
        "--root",
        `${this.dir}/storage`,
        "--runroot",
        `${this.dir}/run`,
        "--storage-driver",
        "vfs",
        ...args,
      ],
      {
        check,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin",
          HOME: Deno.env.get("HOME") ?? "/root",
          CONTAINERS_CONF: this.conf,
        },
      },
    );
  }
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, (performance.now() - t) / 1000];
}

/** `ifname → [a.b.c.d/len]` inside a container. */
async function addrs(pm: Podman, name: string): Promise<Record<string, string[]>> {
  const r = await pm.run(["exec", name, "ip", "-o", "-4", "addr"]);
  const out: Record<string, string[]> = {};
  for (const line of r.stdout.trim().split("\n")) {
    const m = line.match(/^\d+:\s+(\S+)\s+inet\s+(\S+)/);
    if (m) (out[m[1]!] ??= []).push(m[2]!);
  }
  return out;
}

async function linkNames(args: string[] = []): Promise<string[]> {
  const r = await sh(["ip", "-j", "link", "show", ...args]);
  return (JSON.parse(r.stdout || "[]") as { ifname: string }[]).map((l) => l.ifname);
}

async function dirList(path: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) out.push(e.name);
  } catch {
    // Missing: empty.
  }
  return out.sort();
}

async function ipamReservations(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const net of await dirList(dir)) {
    for (const f of await dirList(`${dir}/${net}`)) {
      if (f !== "lock" && !f.startsWith("last_reserved_ip")) out.push(`${net}/${f}`);
    }
  }
  return out;
}

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name:
    "podman runs containers on multicni: eth0 and net1 are set, net1 carries a ping, removal leaves nothing",
  ignore: IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "multicni-podman-" });
    const pm = new Podman(dir);
    const tag = uniq("");
    const [bridge, parent, net] = [`mcpb${tag}`, `mcpv${tag}`, `mcpn-${tag}`];
    const names = [`mcpc1-${tag}`, `mcpc2-${tag}`];
    // Made by podman outside its configured dirs: libcni's result cache and runc's state root.
    const outside = ["/var/lib/cni/results", "/var/lib/cni", "/run/runc"];
    const existed = await Promise.all(
      outside.map((p) => Deno.stat(p).then(() => true, () => false)),
    );
    // Podman names its namespaces netns-<uuid>; other tests' namespaces come and go meanwhile.
    const podmanNetns = async () =>
      (await dirList("/run/netns")).filter((n) => n.startsWith("netns-"));
    const netnsBefore = await podmanNetns();
    try {
      await pm.setup();
      await sh(["ip", "link", "add", parent, "type", "veth", "peer", "name", `${parent}p`]);
      await sh(["ip", "link", "set", parent, "up"]);
      await sh(["ip", "link", "set", `${parent}p`, "up"]);
      const ipam = (subnet: string) => ({ type: "host-local", subnet, dataDir: `${dir}/ipam` });
      await Deno.writeTextFile(
        `${dir}/net/${net}.conflist`,
        JSON.stringify({
          cniVersion: "1.0.0",
          name: net,
          plugins: [{
            type: "multicni",
            cniDir: `${dir}/cache`,
            binDir: `${dir}/bin`,
            confDir: `${dir}/net`,
            delegates: [
              {
                cniVersion: "1.0.0",
                name: "pm-main",
                type: "bridge",
                bridge,
                isGateway: true,
                ipam: ipam("10.231.0.0/24"),
              },
              {
                cniVersion: "1.0.0",
                name: "pm-side",
                plugins: [{
                  type: "macvlan",
                  master: parent,
                  mode: "bridge",
                  ipam: ipam("10.232.0.0/24"),
                }],
              },
            ],
          }],
        }),
      );

      const runArgs = (name: string, cmd: string[]) => [
        "run",
        "-d",
        "--name",
        name,
        "--network",
        net,
        "--rootfs",
        `${dir}/rootfs`,
        ...cmd,
      ];
      const [, t1] = await timed(() => pm.run(runArgs(names[0]!, ["sleep", "300"])));
      // The second container exits by itself when told to: podman's cleanup process (with its
      // stripped environment) then runs DEL.
      const loop = "trap 'exit 0' TERM; while :; do sleep 0.2; done";
      const [, t2] = await timed(() => pm.run(runArgs(names[1]!, ["sh", "-c", loop])));

      const a1 = await addrs(pm, names[0]!);
      const a2 = await addrs(pm, names[1]!);
      assertEquals(a1, { lo: ["127.0.0.1/8"], eth0: ["10.231.0.2/24"], net1: ["10.232.0.2/24"] });
      assertEquals(a2, { lo: ["127.0.0.1/8"], eth0: ["10.231.0.3/24"], net1: ["10.232.0.3/24"] });

      const [ping, tp] = await timed(() =>
        pm.run(["exec", names[0]!, "ping", "-c", "1", "-W", "2", "10.232.0.3"], false)
      );
      assertEquals(ping.code, 0, `ping over net1: ${ping.stdout}${ping.stderr}`);

      // multicni saw podman's CNI_ARGS and cached each container's plan.
      const ids = await Promise.all(
        names.map(async (n) => (await pm.run(["inspect", "--format", "{{.Id}}", n])).stdout.trim()),
      );
      assertEquals(await dirList(`${dir}/cache`), [...ids].sort());
      const rec = JSON.parse(await Deno.readTextFile(`${dir}/cache/${ids[0]}`)) as {
        attachments: { network: string; ifname: string; state: string; cniArgs: string }[];
      };
      assertEquals(
        rec.attachments.map((a) => [a.network, a.ifname, a.state]),
        [["pm-main", "eth0", "added"], ["pm-side", "net1", "added"]],
      );
      assert(
        rec.attachments[0]!.cniArgs.includes(`K8S_POD_NAME=${names[0]}`),
        rec.attachments[0]!.cniArgs,
      );
      assertEquals((await linkNames(["master", bridge])).length, 2, "two veth ends on the bridge");

      const [, tdel] = await timed(async () => {
        await pm.run(["exec", names[1]!, "kill", "-TERM", "1"]);
        await waitFor(
          async () => !(await dirList(`${dir}/cache`)).includes(ids[1]!),
          15_000,
          "the cleanup process to DEL the exited container",
        );
      });
      const [, trm] = await timed(() => pm.run(["rm", "-f", "-t", "0", ...names]));

      assertEquals(await dirList(`${dir}/cache`), [], "cache files left");
      assertEquals(await ipamReservations(`${dir}/ipam`), [], "IPAM reservations left");
      assertEquals(await linkNames(["master", bridge]), [], "veth ends left on the bridge");
      // A macvlan lives in its container's namespace and goes with it; the veth ends of the
      // bridge live on the host (checked above), as do the podman namespaces.
      assertEquals(await podmanNetns(), netnsBefore, "podman netns left");
      console.log(
        `podman timings (s): run ${t1.toFixed(2)} and ${t2.toFixed(2)} (ADD of 2 networks ` +
          `included), ping ${tp.toFixed(2)}, exit -> cleanup DEL ${tdel.toFixed(2)}, ` +
          `rm ${trm.toFixed(2)}`,
      );
    } finally {
      await pm.run(["rm", "-a", "-f", "-t", "0"], false).catch(() => {});
      for (const link of [bridge, parent]) {
        await sh(["ip", "link", "del", link], { check: false });
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      // Removed only when this test made them and they are empty again (not recursive).
      for (const [i, p] of outside.entries()) {
        if (!existed[i]) await Deno.remove(p).catch(() => {});
      }
    }
  },
});
