/**
 * libvirt tier: the harness's second hypervisor (`scripts/libvirt-harness use PID
 * --hypervisors 2`, docs/libvirt.md "A second hypervisor in the harness"): a second libvirtd in
 * its own network namespace and mount namespace, reached from the first namespace (where
 * `pulumi` and virsh run) only over qemu+ssh through a real sshd.
 * - virsh over the URI reaches another daemon than qemu:///system: a network defined on each is
 *   absent from the other, and the second's bridge exists only in the second namespace;
 * - the transit link routes each hypervisor's guest networks to the other namespace: TCP to an
 *   address on a libvirt bridge of the other hypervisor, both ways;
 * - a volume uploaded over the URI (virsh vol-upload) reads back identical, and lives in the
 *   second host's state directory, not in the machine's /var/lib/libvirt;
 * - the libvirt provider's Go client goes up over the same URI (a pool and an uploaded volume,
 *   read back with virsh), and destroys them;
 * - another client key, another host key in known_hosts (virsh) or in knownhosts (the provider):
 *   the connection is refused;
 * - the release that stops it leaves no process of its daemons, no namespace and no link.
 * - with its sshd blocked, the preview fails with one error naming it, and `up --target` of a
 *   new network on the first hypervisor still works.
 * The library on it (a BaseImage uploaded to its pool, a routed network, a builder there that
 * reaches the binhost on the first, a builder moved between them): test/libvirt/minimal.test.ts.
 * Needs root (the harness).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { freeSubnet } from "../support/blank-machine";
import {
  freeSecondSubnet,
  HARNESS,
  KVM2_DIR,
  NETNS,
  NETNS2,
  secondHypervisorUri,
  useLibvirtHarness,
} from "../support/harness";
import { libvirtOn, virsh as virsh1, virshQuiet as virsh1Quiet } from "../support/libvirt";
import { PulumiCommandError, PulumiProgram, TOOLCHAIN_HINT } from "../support/pulumi";
import { requireRoot, requireTools } from "../support/tools";

const isRoot = () => process.getuid?.() === 0;
useLibvirtHarness(isRoot, { hypervisors: 2 });

const id = randomBytes(2).toString("hex");
const prefix = `gi-hv2-${id}`;
let work = "";
let uri = "";

before(() => {
  if (!isRoot()) return;
  work = mkdtempSync(path.join(tmpdir(), "gi-hv2-"));
  uri = secondHypervisorUri();
});
after(() => {
  if (!isRoot()) return;
  removeTestObjects();
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * Removes what the tests made on both hypervisors (while they run): the networks are transient,
 * the second's pool persistent (its definition and directory would outlive a stop).
 */
function removeTestObjects(): void {
  if (existsSync(path.join(KVM2_DIR, "libvirtd.pid"))) {
    for (const args of [
      ["net-destroy", `${prefix}-net2`],
      ["vol-delete", "--pool", `${prefix}-pool`, "upload.raw"],
      ["pool-destroy", `${prefix}-pool`],
      ["pool-delete", `${prefix}-pool`],
      ["pool-undefine", `${prefix}-pool`],
    ]) {
      virsh2Quiet(uri, ...args);
    }
  }
  virsh1Quiet("net-destroy", `${prefix}-net1`);
}

/** `virsh -c uri ARGS` inside the first namespace, where the site's clients run. */
function virsh2Quiet(connect: string, ...args: string[]) {
  return spawnSync("ip", ["netns", "exec", NETNS, "virsh", "-q", "-c", connect, ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
}
/** virsh and the clean-up helpers against the second hypervisor, from the first namespace. */
const second = () => libvirtOn({ uri, netns: NETNS });

function virsh2(...args: string[]): string {
  const r = virsh2Quiet(uri, ...args);
  assert.equal(r.status, 0, `virsh -c ${uri} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A libvirt network without DHCP or DNS: a bridge holding `address`/24. */
function networkXml(name: string, bridge: string, address: string): string {
  return `<network><name>${name}</name><bridge name='${bridge}'/><dns enable='no'/><ip address='${address}' netmask='255.255.255.0'/></network>`;
}

/** Writes `text` to a file in the work directory; returns its path. */
function workFile(name: string, text: string | Buffer): string {
  const file = path.join(work, name);
  writeFileSync(file, text);
  return file;
}

/** The addresses of `netns` (`ip -4 -o addr`), one per line. */
function addresses(netns: string): string {
  return spawnSync("ip", ["-n", netns, "-4", "-o", "addr"], { encoding: "utf8" }).stdout;
}

/**
 * Listens on `address:port` inside `listenNs`, connects from `connectNs` and returns what the
 * connection read (the listener answers with `greeting`), or the client's error.
 */
async function tcpAcross(
  listenNs: string,
  connectNs: string,
  address: string,
  port: number,
  greeting: string,
): Promise<string> {
  const server = spawn(
    "ip",
    [
      ...["netns", "exec", listenNs, process.execPath, "-e"],
      `require("net").createServer((s) => s.end(process.argv[3])).listen(Number(process.argv[2]), process.argv[1], () => console.log("listening"))`,
      address,
      String(port),
      greeting,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.on("data", (d: Buffer) => {
        if (d.toString().includes("listening")) resolve();
      });
      server.on("exit", (code) => reject(new Error(`listener exited with ${code}`)));
      setTimeout(() => reject(new Error("listener did not start")), 10_000);
    });
    const client = spawnSync(
      "ip",
      [
        ...["netns", "exec", connectNs, process.execPath, "-e"],
        `const s = require("net").connect(Number(process.argv[2]), process.argv[1]); s.setTimeout(5000, () => { console.log("timeout"); process.exit(1) }); s.on("data", (d) => process.stdout.write(d)); s.on("error", (e) => { console.log(e.message); process.exit(1) })`,
        address,
        String(port),
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    return client.stdout.trim();
  } finally {
    server.kill();
  }
}

test("virsh over the qemu+ssh URI reaches a second libvirtd, not the first", (t) => {
  if (!requireRoot(t, "libvirtd")) return;
  assert.match(uri, /^qemu\+ssh:\/\/root@10\.255\.254\.2\/system\?keyfile=/);
  const third = [...Array(254).keys()]
    .map((i) => i + 1)
    .find((i) => !addresses(NETNS2).includes(` 10.252.${i}.`));
  assert.ok(third, "a free /24 in 10.252.0.0/16");
  const net2 = workFile("net2.xml", networkXml(`${prefix}-net2`, `gi${id}b2`, `10.252.${third}.1`));
  const subnet1 = freeSubnet(NETNS, 200, 254);
  const net1 = workFile(
    "net1.xml",
    networkXml(`${prefix}-net1`, `gi${id}b1`, subnet1.replace(/0\/24$/, "1")),
  );
  virsh2("net-create", net2);
  virsh1("net-create", net1);
  const names2 = virsh2("net-list", "--all", "--name").split("\n").filter(Boolean);
  const names1 = virsh1("net-list", "--all", "--name").split("\n").filter(Boolean);
  assert.ok(names2.includes(`${prefix}-net2`), "the second's network is on the second");
  assert.ok(!names2.includes(`${prefix}-net1`), "the first's network is not on the second");
  assert.ok(names1.includes(`${prefix}-net1`), "the first's network is on the first");
  assert.ok(!names1.includes(`${prefix}-net2`), "the second's network is not on the first");
  const linkIn = (ns: string) =>
    spawnSync("ip", ["-n", ns, "link", "show", `gi${id}b2`], { encoding: "utf8" }).status === 0;
  assert.ok(linkIn(NETNS2), "the second's bridge is in the second namespace");
  assert.ok(!linkIn(NETNS), "the second's bridge is not in the first namespace");
});

test("the transit link routes each hypervisor's guest networks to the other namespace", async (t) => {
  if (!requireRoot(t, "libvirtd")) return;
  const xml2 = virsh2("net-dumpxml", `${prefix}-net2`);
  const bridge2 = /<ip address='([\d.]+)'/.exec(xml2)?.[1];
  const bridge1 = /<ip address='([\d.]+)'/.exec(virsh1("net-dumpxml", `${prefix}-net1`))?.[1];
  assert.ok(bridge1 && bridge2, "both networks run (the test before)");
  assert.equal(await tcpAcross(NETNS2, NETNS, bridge2, 18471, "kvm2"), "kvm2", "first to second");
  assert.equal(await tcpAcross(NETNS, NETNS2, bridge1, 18472, "kvm1"), "kvm1", "second to first");
});

test("a volume uploaded over the URI reads back identical, stored by the second host", (t) => {
  if (!requireRoot(t, "libvirtd")) return;
  const pool = `${prefix}-pool`;
  const target = `/var/lib/libvirt/images/${pool}`;
  virsh2("pool-define-as", pool, "dir", "--target", target);
  virsh2("pool-build", pool);
  virsh2("pool-start", pool);
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const upload = workFile("upload.raw", data);
  virsh2("vol-create-as", pool, "upload.raw", String(data.length), "--format", "raw");
  virsh2("vol-upload", "--pool", pool, "upload.raw", upload);
  const download = path.join(work, "download.raw");
  virsh2("vol-download", "--pool", pool, "upload.raw", download);
  assert.ok(readFileSync(download).equals(data), "the volume reads back as uploaded");
  assert.ok(
    readFileSync(path.join(KVM2_DIR, "host/lib/images", pool, "upload.raw")).equals(data),
    "the second host's /var/lib/libvirt is its own directory",
  );
  assert.ok(!existsSync(target), "the machine's /var/lib/libvirt does not hold it");
  assert.equal(virsh1Quiet("pool-info", pool).status, 1, "the first has no such pool");
});

test("the libvirt provider goes up and down over the same URI", async (t) => {
  if (!requireRoot(t, "libvirtd")) return;
  if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return;
  const program = await PulumiProgram.create("test/libvirt/fixtures/second-hypervisor", {
    stack: `lv-hv2-${id}`,
    netns: NETNS,
  });
  const stackPool = `gi-${program.stack}`;
  const data = randomBytes(2 * 1024 * 1024 + 5);
  let destroyed = false;
  try {
    await program.setConfig("uri", uri);
    await program.setConfig("source", workFile("source.raw", data));
    let start = Date.now();
    await program.up();
    t.diagnostic(`up over qemu+ssh: ${(Date.now() - start) / 1000} s`);
    const download = path.join(work, "provider.raw");
    virsh2("vol-download", "--pool", stackPool, `${stackPool}-upload.raw`, download);
    assert.ok(readFileSync(download).equals(data), "the provider's upload reads back identical");
    start = Date.now();
    await program.destroy();
    destroyed = true;
    t.diagnostic(`destroy over qemu+ssh: ${(Date.now() - start) / 1000} s`);
    assert.equal(virsh2Quiet(uri, "pool-info", stackPool).status, 1, "destroy removed the pool");
  } finally {
    if (!destroyed) {
      virsh2Quiet(uri, "vol-delete", "--pool", stackPool, `${stackPool}-upload.raw`);
      virsh2Quiet(uri, "pool-destroy", stackPool);
      virsh2Quiet(uri, "pool-undefine", stackPool);
    }
    await program.cleanup({ force: !destroyed });
  }
});

test("the second hypervisor unreachable: one error naming it; up --target of the first's resources still works", async (t) => {
  if (!requireRoot(t, "libvirtd")) return;
  if (!requireTools(t, ["pulumi", "iptables"], TOOLCHAIN_HINT)) return;
  const program = await PulumiProgram.create("test/libvirt/fixtures/two-hypervisors", {
    stack: `lv-two-${id}`,
    netns: NETNS,
  });
  const stackPrefix = `gi-${program.stack}`;
  // The second's sshd refuses connections from the first namespace while this rule is in.
  const rule = ["OUTPUT", "-p", "tcp", "-d", "10.255.254.2", "--dport", "22"];
  const iptables = (...args: string[]) =>
    spawnSync("ip", ["netns", "exec", NETNS, "iptables", ...args], { encoding: "utf8" });
  let destroyed = false;
  try {
    await program.setConfig("uri", uri);
    await program.setConfig("subnet1", freeSubnet(NETNS, 240, 249));
    await program.setConfig("subnet2", freeSecondSubnet());
    await program.up();
    assert.deepEqual(second().libvirtObjects(stackPrefix).sort(), [
      `network ${stackPrefix}-lan2`,
      `pool ${stackPrefix}`,
    ]);

    const block = iptables("-I", ...rule, "-j", "REJECT", "--reject-with", "tcp-reset");
    assert.equal(block.status, 0, block.stderr);
    try {
      const preview = await program.preview().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(preview instanceof PulumiCommandError, "the preview fails");
      const out = `${preview.stdout}${preview.stderr}`;
      const expected = `Hypervisor "kvm2" (${uri}) cannot be reached at 10.255.254.2:22 (ssh)`;
      assert.equal(out.split(expected).length - 1, 1, out);

      // What lives on the first hypervisor is still deployed, with --target.
      await program.setConfig("extra", freeSubnet(NETNS, 230, 239));
      const type = "gentoo-infra:libvirt:GuestNetwork";
      const urn = (suffix: string) => `urn:pulumi:${program.stack}::two-hypervisors::${suffix}`;
      await program.run([
        ...["up", "--yes", "--skip-preview", "--non-interactive", "--stack", program.stack],
        ...["--target", urn(`${type}::lan1b`)],
        ...["--target", urn(`${type}$libvirt:index/network:Network::lan1b`)],
      ]);
      assert.match(virsh1("net-info", `${stackPrefix}-lan1b`), /Active:\s+yes/);
    } finally {
      iptables("-D", ...rule, "-j", "REJECT", "--reject-with", "tcp-reset");
    }
    await program.up({ expectNoChanges: true });
    await program.destroy();
    destroyed = true;
    assert.deepEqual(second().libvirtObjects(stackPrefix), [], "nothing left on kvm2");
    assert.equal(virsh1Quiet("net-info", `${stackPrefix}-lan1`).status, 1, "nor on kvm1");
  } finally {
    if (!destroyed) {
      second().removeLibvirtObjects(stackPrefix);
      for (const net of ["lan1", "lan1b"]) {
        virsh1Quiet("net-destroy", `${stackPrefix}-${net}`);
        virsh1Quiet("net-undefine", `${stackPrefix}-${net}`);
      }
      virsh1Quiet("pool-destroy", stackPrefix);
      virsh1Quiet("pool-undefine", stackPrefix);
    }
    await program.cleanup({ force: !destroyed });
  }
});

test("the URI is refused with another client key or another host key", async (t) => {
  if (!requireRoot(t, "libvirtd")) return;
  const client = path.join(KVM2_DIR, "client");
  const other = path.join(work, "other");
  for (const key of [`${other}_key`, `${other}_host_key`]) {
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    assert.equal(r.status, 0);
  }
  const otherKey = uri.replace(`keyfile=${client}/id_ed25519`, `keyfile=${other}_key`);
  assert.notEqual(otherKey, uri);
  const refusedKey = virsh2Quiet(otherKey, "uri");
  assert.notEqual(refusedKey.status, 0, "an unknown client key is refused");
  assert.match(refusedKey.stderr, /Permission denied \(publickey\)/);

  // known_hosts with another key for the address; virsh's ssh reads it through its own config.
  const hostPub = readFileSync(`${other}_host_key.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  const knownHosts = workFile("known_hosts", `10.255.254.2 ${hostPub}\n`);
  const config = readFileSync(path.join(client, "ssh_config"), "utf8").replace(
    `${client}/known_hosts`,
    knownHosts,
  );
  const sshConfig = workFile("ssh_config", config);
  const ssh = workFile("ssh", `#!/bin/sh\nexec ssh -F ${sshConfig} "$@"\n`);
  spawnSync("chmod", ["755", ssh]);
  const otherHost = uri
    .replace(`command=${client}/ssh`, `command=${ssh}`)
    .replace(`knownhosts=${client}/known_hosts`, `knownhosts=${knownHosts}`);
  const refusedHost = virsh2Quiet(otherHost, "uri");
  assert.notEqual(refusedHost.status, 0, "another host key is refused");
  assert.match(refusedHost.stderr, /Host key verification failed/);

  if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return;
  const program = await PulumiProgram.create("test/libvirt/fixtures/second-hypervisor", {
    stack: `lv-hv2k-${id}`,
    netns: NETNS,
  });
  try {
    await program.setConfig("uri", otherHost);
    await program.setConfig("source", workFile("refused.raw", "x"));
    await assert.rejects(program.up(), (error: unknown) => {
      assert.ok(error instanceof PulumiCommandError);
      assert.match(`${error.stdout}${error.stderr}`, /knownhosts: key mismatch/);
      return true;
    });
  } finally {
    await program.cleanup({ force: true });
  }
});

test("the release that started it stops the second hypervisor and leaves nothing", (t) => {
  if (!requireRoot(t, "libvirtd")) return;
  if (!existsSync(path.join(KVM2_DIR, "started-by-use"))) {
    t.skip("the second hypervisor was started by hand (start --hypervisors 2): a release keeps it");
    return;
  }
  removeTestObjects();
  const pids = ["libvirtd", "virtlogd", "sshd"].map((d) =>
    Number(readFileSync(path.join(KVM2_DIR, `${d}.pid`), "utf8")),
  );
  const r = spawnSync(HARNESS, ["release", String(process.pid)], { encoding: "utf8" });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  const running = pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  const released = `${r.stdout}${r.stderr}`.trim();
  assert.deepEqual(
    running,
    [],
    `no daemon of the second hypervisor runs; release said:\n${released}`,
  );
  const namespaces = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
  assert.ok(
    !namespaces.split("\n").some((l) => l.split(" ")[0] === NETNS2),
    `no namespace; release said:\n${released}`,
  );
  const link = spawnSync("ip", ["-n", NETNS, "link", "show", "gi-kvm2"], { encoding: "utf8" });
  assert.notEqual(link.status, 0, "no transit link in the first namespace");
});
