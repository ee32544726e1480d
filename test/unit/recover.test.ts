/**
 * The pure plan of `gentoo-infra recover` (lib/cli/recover.ts): what it does with each pending
 * operation of a killed run, when it releases a lock, which processes it stops, and the virsh
 * commands of a removal. The engine tier (test/engine/recover.test.ts) and the libvirt tier
 * (test/libvirt/minimal.test.ts) run it after real kills.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  existsCommand,
  isDamagedSidecar,
  isStackFile,
  leftoverPlugins,
  lockVerdict,
  type ProcessInfo,
  pluginEngine,
  RecoveryRefused,
  recoveryPlan,
  removalCommands,
  type StateResource,
  withoutPendingOperations,
} from "../../lib/cli/recover";

const stack = "urn:pulumi:dev::site";
const kvm = {
  urn: `${stack}::pulumi:providers:libvirt::kvm`,
  type: "pulumi:providers:libvirt",
  id: "0b1c",
  inputs: { uri: "qemu:///system" },
};
const viaKvm = `${kvm.urn}::${kvm.id}`;
const pending = (type: string, resource: StateResource) => ({ type, resource });

test("recoveryPlan: interrupted libvirt creates are removed on their hypervisor, other creates dropped, updates and deletes refreshed", () => {
  const plan = recoveryPlan({
    resources: [kvm],
    pending_operations: [
      pending("creating", {
        urn: `${stack}::libvirt:index/domain:Domain::web`,
        type: "libvirt:index/domain:Domain",
        inputs: { name: "gi-dev-web" },
        provider: viaKvm,
      }),
      pending("creating", {
        urn: `${stack}::libvirt:index/volume:Volume::web-disk`,
        type: "libvirt:index/volume:Volume",
        inputs: { name: "gi-dev-web.qcow2", pool: "gi-dev" },
        provider: viaKvm,
      }),
      pending("creating", {
        urn: `${stack}::libvirt:index/cloudInitDisk:CloudInitDisk::web-init`,
        type: "libvirt:index/cloudInitDisk:CloudInitDisk",
        inputs: { name: "gi-dev-web-init.iso", pool: "gi-dev" },
        provider: viaKvm,
      }),
      pending("creating", {
        urn: `${stack}::libvirt:index/network:Network::lan`,
        type: "libvirt:index/network:Network",
        inputs: { name: "gi-dev-lan" },
        provider: viaKvm,
      }),
      pending("creating", {
        urn: `${stack}::libvirt:index/pool:Pool::pool`,
        type: "libvirt:index/pool:Pool",
        inputs: { name: "gi-dev" },
        provider: viaKvm,
      }),
      pending("creating", {
        urn: `${stack}::command:remote:Command::web-ready`,
        type: "command:remote:Command",
      }),
      pending("creating", {
        urn: `${stack}::tls:index/locallySignedCert:LocallySignedCert::web`,
        type: "tls:index/locallySignedCert:LocallySignedCert",
      }),
      pending("updating", {
        urn: `${stack}::pulumi-nodejs:dynamic:Resource::web-files`,
        type: "pulumi-nodejs:dynamic:Resource",
      }),
      pending("deleting", {
        urn: `${stack}::libvirt:index/domain:Domain::old`,
        type: "libvirt:index/domain:Domain",
        inputs: { name: "gi-dev-old" },
        provider: viaKvm,
      }),
    ],
  });
  assert.deepEqual(
    plan.removals.map((r) => [r.kind, r.name, r.pool, r.uri]),
    [
      ["domain", "gi-dev-web", undefined, "qemu:///system"],
      ["volume", "gi-dev-web.qcow2", "gi-dev", "qemu:///system"],
      ["volume", "gi-dev-web-init.iso", "gi-dev", "qemu:///system"],
      ["network", "gi-dev-lan", undefined, "qemu:///system"],
      ["pool", "gi-dev", undefined, "qemu:///system"],
    ],
  );
  assert.deepEqual(plan.dropped, [
    `${stack}::command:remote:Command::web-ready`,
    `${stack}::tls:index/locallySignedCert:LocallySignedCert::web`,
  ]);
  assert.deepEqual(plan.refreshed, [
    `${stack}::pulumi-nodejs:dynamic:Resource::web-files`,
    `${stack}::libvirt:index/domain:Domain::old`,
  ]);
});

test("recoveryPlan: no pending operation, nothing to do", () => {
  assert.deepEqual(recoveryPlan({ resources: [kvm] }), {
    removals: [],
    dropped: [],
    refreshed: [],
  });
});

test("recoveryPlan refuses, naming each, interrupted libvirt creates whose name, pool or hypervisor it cannot read", () => {
  assert.throws(
    () =>
      recoveryPlan({
        resources: [kvm],
        pending_operations: [
          pending("creating", {
            urn: `${stack}::libvirt:index/domain:Domain::a`,
            type: "libvirt:index/domain:Domain",
            inputs: { name: "gi-dev-a" },
            provider: `${stack}::pulumi:providers:libvirt::gone::1`,
          }),
          pending("creating", {
            urn: `${stack}::libvirt:index/volume:Volume::b`,
            type: "libvirt:index/volume:Volume",
            inputs: { name: "b.qcow2" },
            provider: viaKvm,
          }),
          pending("creating", {
            urn: `${stack}::libvirt:index/network:Network::c`,
            type: "libvirt:index/network:Network",
            inputs: {
              name: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" },
            },
            provider: viaKvm,
          }),
          pending("creating", {
            urn: `${stack}::libvirt:index/domain:Domain::d`,
            type: "libvirt:index/domain:Domain",
            inputs: { name: "--help" },
            provider: viaKvm,
          }),
        ],
      }),
    (e: Error) =>
      e instanceof RecoveryRefused &&
      /4 interrupted libvirt create/.test(e.message) &&
      /::d: the state holds no plain name/.test(e.message) &&
      /::a: the state holds no plain provider uri/.test(e.message) &&
      /::b: the state holds no plain pool/.test(e.message) &&
      /::c: the state holds no plain name/.test(e.message),
  );
});

test("withoutPendingOperations keeps everything else", () => {
  const deployment = { manifest: { time: "t" }, resources: [kvm], pending_operations: [] };
  assert.deepEqual(withoutPendingOperations(deployment), {
    manifest: { time: "t" },
    resources: [kvm],
  });
});

test("removalCommands and existsCommand: virsh, per kind", () => {
  const base = { urn: "u", uri: "qemu:///system" };
  assert.deepEqual(removalCommands({ ...base, kind: "domain", name: "d" }), [
    ["destroy", "d"],
    ["undefine", "--nvram", "d"],
  ]);
  assert.deepEqual(removalCommands({ ...base, kind: "volume", name: "v", pool: "p" }), [
    ["vol-delete", "--pool", "p", "v"],
  ]);
  assert.deepEqual(removalCommands({ ...base, kind: "network", name: "n" }), [
    ["net-destroy", "n"],
    ["net-undefine", "n"],
  ]);
  assert.deepEqual(removalCommands({ ...base, kind: "pool", name: "p" }), [
    ["pool-destroy", "p"],
    ["pool-delete", "p"],
    ["pool-undefine", "p"],
  ]);
  assert.deepEqual(existsCommand({ ...base, kind: "volume", name: "v", pool: "p" }), [
    "vol-info",
    "--pool",
    "p",
    "v",
  ]);
});

test("lockVerdict: only a lock of this host whose process no longer runs pulumi is stale", () => {
  const lock = { pid: 42, hostname: "vm", timestamp: "2026-12-04T04:00:00Z" };
  assert.deepEqual(lockVerdict(lock, { hostname: "vm", runsPulumi: () => false }), { stale: true });
  const running = lockVerdict(lock, { hostname: "vm", runsPulumi: (pid) => pid === 42 });
  assert.equal(running.stale, false);
  assert.match(running.stale ? "" : running.why, /pulumi \(pid 42\) still runs/);
  const elsewhere = lockVerdict(lock, { hostname: "ci", runsPulumi: () => false });
  assert.match(elsewhere.stale ? "" : elsewhere.why, /pid 42 on host vm .*pulumi cancel/);
});

const proc = (pid: number, argv: string[], extra: Partial<ProcessInfo> = {}): ProcessInfo => ({
  pid,
  argv,
  cwd: "/site",
  ppid: 1,
  pgid: pid,
  ...extra,
});

test("pluginEngine: the engine address of Pulumi's plugins, and of nothing else", () => {
  const home = "/root/.pulumi/plugins";
  assert.equal(
    pluginEngine(
      proc(1, [`${home}/resource-libvirt-v0.5.4/pulumi-resource-libvirt`, "127.0.0.1:4000"]),
    ),
    "127.0.0.1:4000",
  );
  assert.equal(
    pluginEngine(proc(1, ["/bin/pulumi-language-nodejs", "127.0.0.1:4001"])),
    "127.0.0.1:4001",
  );
  assert.equal(
    pluginEngine(
      proc(1, [
        "node",
        "/n/node_modules/@pulumi/pulumi/cmd/run/index.js",
        "--monitor",
        "127.0.0.1:9",
        "--engine",
        "127.0.0.1:4002",
        "index.ts",
      ]),
    ),
    "127.0.0.1:4002",
  );
  assert.equal(
    pluginEngine(
      proc(1, [
        "node",
        "/n/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js",
        "127.0.0.1:4003",
      ]),
    ),
    "127.0.0.1:4003",
  );
  assert.equal(pluginEngine(proc(1, ["nc", "127.0.0.1:4000"])), undefined);
  assert.equal(pluginEngine(proc(1, ["/bin/pulumi-resource-x", "10.0.0.1:4000"])), undefined);
});

test("leftoverPlugins: the site's plugins whose engine is gone, with what runs under them or in their group", () => {
  const all = [
    proc(10, ["/p/pulumi-resource-command", "127.0.0.1:4000"]),
    proc(11, ["sh", "-c", "sleep 600"], { ppid: 10, pgid: 10, cwd: "/tmp" }),
    proc(12, ["sleep", "600"], { ppid: 1, pgid: 10, cwd: "/tmp" }), // its shell was killed
    proc(13, ["sleep", "5"], { ppid: 11, pgid: 10, cwd: "/tmp" }),
    proc(20, ["/p/pulumi-resource-command", "127.0.0.1:5000"]), // a run that goes on
    proc(21, ["sh"], { ppid: 20, pgid: 20 }),
    proc(30, ["/p/pulumi-resource-command", "127.0.0.1:4000"], { cwd: "/other-site" }),
    proc(40, ["bash"], { pgid: 40 }),
  ];
  assert.deepEqual(
    leftoverPlugins(all, "/site", new Set(["127.0.0.1:5000"])).map((p) => p.pid),
    [10, 11, 12, 13],
  );
  assert.deepEqual(
    leftoverPlugins(all, "/site", new Set(["127.0.0.1:4000", "127.0.0.1:5000"])),
    [],
  );
});

test("isStackFile: the checkpoint, its backup, history and lock of the stack, and nothing of another", () => {
  const root = "/state/.pulumi";
  for (const file of [
    "stacks/site/dev.json",
    "stacks/site/dev.json.attrs",
    "stacks/site/dev.json.bak.attrs",
    "stacks/dev.json",
    "history/site/dev/dev-1796358537.history.json.attrs",
    "locks/organization/site/dev/0966b483.json",
    "locks/dev/0966b483.json.attrs",
  ]) {
    assert.equal(isStackFile(`${root}/${file}`, "dev"), true, file);
  }
  for (const file of [
    "stacks/site/development.json",
    "stacks/site/prod.json.attrs",
    "history/site/prod/dev.json",
    "locks/organization/site/prod/dev.json",
    "meta.yaml",
  ]) {
    assert.equal(isStackFile(`${root}/${file}`, "dev"), false, file);
  }
});

test("isDamagedSidecar: empty, cut short or not an object", () => {
  assert.equal(isDamagedSidecar('{"user.content_type":"application/json","md5":"KJ18"}\n'), false);
  for (const text of ["", '{"user.content_type":"appl', "null", "42"]) {
    assert.equal(isDamagedSidecar(text), true, JSON.stringify(text));
  }
});

test("gentoo-infra recover without --stack is a usage error (exit 2), and --help lists it", async () => {
  const { run } = await import("../../lib/cli/run");
  let err = "";
  let out = "";
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t) };
  assert.equal(await run(["recover"], io), 2);
  assert.match(err, /recover needs --stack NAME/);
  assert.equal(await run(["recover", "--stack", "dev", "extra"], io), 2);
  assert.equal(await run(["--help"], io), 0);
  assert.match(
    out,
    /gentoo-infra recover --stack NAME \[--dir DIR\] \[--pulumi COMMAND\] \[--dry-run\]/,
  );
});
