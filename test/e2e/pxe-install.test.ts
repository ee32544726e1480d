/**
 * e2e tier (issue 7, parts 1 and 3): a blank machine installs itself from PxeInstallHost and
 * boots its own disk. examples/minimal goes up on the harness's libvirtd (TCG, Pulumi inside
 * the network namespace); then, in the example's network:
 * - a blank domain with an unknown MAC network-boots, gets the install host's default script
 *   (nginx logs the request), boots locally and nothing is written: its qcow2 stays empty;
 * - a blank domain with web1's MAC (network boot, then disk) gets a lease from the install
 *   host's dnsmasq, iPXE (QEMU's NIC ROM) loads its per-MAC script, the installer and the
 *   site's root certificate over HTTP, the installer fetches the stage from the binhost over
 *   HTTPS (its name resolved by the install host's DNS, its digest checked), reports success,
 *   the install host switches its netboot to local boot, and the machine reboots into its own
 *   disk: the serial console shows its host name, environment and Stack; from the disk
 *   afterwards (qemu-img convert + debugfs): binrepos.conf is the binhost's client
 *   configuration for its Stack, and its host certificate verifies against the RootCa;
 * - destroy (Pulumi and the test's own domains) leaves nothing with the stack's prefix.
 * Prints the time from starting the blank VM to its first boot from disk.
 * STAND-INS: the guest image, the installer and the stage are built from Debian packages
 * (docs/base-image.md, docs/installer.md); iPXE is QEMU's NIC ROM (the install host's TFTP
 * serves undionly.kpxe to firmware that is not iPXE).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { NETNS, useLibvirtHarness } from "../support/harness";
import { LIBVIRT_URI, libvirtObjects, virsh } from "../support/libvirt";
import { PulumiProgram, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { scenarioSteps } from "../support/steps";
import { requireFiles, requireRoot, requireTools } from "../support/tools";

const CACHE = process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache");
const FILES = [
  path.join(CACHE, "images/debian-standin-amd64.qcow2"),
  path.join(CACHE, "installer/amd64/vmlinuz"),
  path.join(CACHE, "installer/amd64/initrd.img"),
  path.join(CACHE, "stages/stage4-amd64-standin.tar.xz"),
];
const WEB1 = { mac: "52:54:00:47:49:50", hostname: "web1" };
const UNKNOWN_MAC = "52:54:00:47:49:ef";
const isRoot = () => process.getuid?.() === 0;
useLibvirtHarness(isRoot);

interface Server {
  address: string;
  user: string;
  privateKeyOpenssh: string;
}

function run(file: string, args: string[], timeout = 120_000) {
  return spawnSync(file, args, { encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024 });
}

/** A /24 in 192.168.160-199 that no interface in the namespace uses (the CI's example uses .150). */
function freeSubnet(): string {
  const used = run("ip", ["netns", "exec", NETNS, "ip", "-4", "-o", "addr"]).stdout;
  for (let third = 160; third < 200; third++) {
    if (!used.includes(` 192.168.${third}.`)) return `192.168.${third}.0/24`;
  }
  throw new Error("no free /24 in 192.168.160-199 inside the namespace");
}

/** A blank machine: empty qcow2 disk, network boot then disk, virtio NIC, serial console to a file. */
function domainXml(name: string, mac: string, network: string, disk: string, log: string): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='network'/>
    <boot dev='hd'/>
    <bios useserial='yes'/>
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <source network='${network}'/>
      <mac address='${mac}'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'><source path='${log}'/><target port='0'/></serial>
    <console type='file'><source path='${log}'/><target type='serial' port='0'/></console>
  </devices>
</domain>
`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 500 ms until it returns a value; fails with `describe()` after `ms`. */
async function waitFor<T>(
  what: string,
  ms: number,
  check: () => T | undefined,
  describe: () => string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) assert.fail(`${what}: not within ${ms / 1000} s\n${describe()}`);
    await sleep(500);
  }
}

const readLog = (file: string) => (existsSync(file) ? readFileSync(file, "latin1") : "");
const tail = (text: string, lines = 40) => text.split("\n").slice(-lines).join("\n");

test("a blank machine PXE-installs itself from examples/minimal and boots its own disk", async (t) => {
  if (!requireRoot(t, "network namespaces, libvirtd")) return;
  const tools = ["pulumi", "virsh", "ssh", "ip", "qemu-img", "debugfs", "sfdisk", "openssl"];
  if (!requireTools(t, tools, TOOLCHAIN_HINT)) return;
  if (!requireFiles(t, FILES, "run scripts/setup (images) and scripts/build-stage-standin")) return;

  const program = await PulumiProgram.create("examples/minimal", {
    netns: NETNS,
    stack: `px-${randomBytes(2).toString("hex")}`,
  });
  const prefix = `gi-${program.stack}`;
  const work = mkdtempSync(path.join(tmpdir(), "gi-pxe-e2e-"));
  // QEMU runs as libvirt-qemu: it must reach the disks and logs libvirt hands it.
  chmodSync(work, 0o755);
  const domains: string[] = [];
  let destroyed = false;
  const step = scenarioSteps(t);
  let servers: Record<string, Server> = {};
  const ssh = (name: string, command: string) => {
    const server = servers[name];
    assert.ok(server, `server ${name} in the outputs`);
    const key = path.join(work, `${name}.key`);
    writeFileSync(key, server.privateKeyOpenssh);
    chmodSync(key, 0o600);
    return run("ip", [
      ...["netns", "exec", NETNS, "ssh", "-i", key, "-o", "BatchMode=yes"],
      ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
      `${server.user}@${server.address}`,
      command,
    ]);
  };
  /** Defines and starts a blank machine; returns its disk and serial log paths. */
  const startBlank = (role: string, mac: string) => {
    const name = `${prefix}-e2e-${role}`;
    const disk = path.join(work, `${role}.qcow2`);
    const log = path.join(work, `${role}.log`);
    const r = run("qemu-img", ["create", "-q", "-f", "qcow2", disk, "4G"]);
    assert.equal(r.status, 0, r.stderr);
    const xml = path.join(work, `${role}.xml`);
    writeFileSync(xml, domainXml(name, mac, `${prefix}-lan`, disk, log));
    virsh("define", xml);
    domains.push(name);
    virsh("start", name);
    return { name, disk, log };
  };
  const stopDomain = (name: string) => {
    run("virsh", ["-c", LIBVIRT_URI, "destroy", name]);
  };

  try {
    let outputs: Record<string, unknown> = {};
    await step(
      "examples/minimal goes up (binhost with the stage, install host, builder)",
      async () => {
        await program.setConfig("subnet", freeSubnet());
        await program.up();
        outputs = await program.outputs({ showSecrets: true });
        servers = outputs.servers as Record<string, Server>;
        const r = ssh("pxe", "systemctl is-active dnsmasq nginx");
        assert.equal(r.stdout.trim(), "active\nactive", r.stderr);
      },
    );

    await step("an unknown MAC boots locally and nothing is written", async () => {
      const m = startBlank("unknown", UNKNOWN_MAC);
      await waitFor(
        "the install host serves the unknown MAC its default script",
        10 * 60_000,
        () => {
          const r = ssh(
            "pxe",
            "sudo -n grep -c 'GET /ipxe/default.ipxe' /var/log/nginx/access.log",
          );
          return Number(r.stdout.trim()) > 0 ? true : undefined;
        },
        () => tail(readLog(m.log)),
      );
      // Time for iPXE to run the script (local boot of a blank disk fails and the firmware
      // retries); nothing may write to the disk meanwhile.
      await sleep(20_000);
      stopDomain(m.name);
      const map = JSON.parse(run("qemu-img", ["map", "--output=json", "-U", m.disk]).stdout) as {
        data: boolean;
      }[];
      assert.deepEqual(
        map.filter((e) => e.data),
        [],
        "the unknown machine's disk has no data",
      );
      assert.doesNotMatch(readLog(m.log), /gentoo-infra installer/);
    });

    let seconds = 0;
    let web1 = { name: "", disk: "", log: "" };
    await step("web1 network-boots, installs, reports, and reboots into its own disk", async () => {
      const t0 = Date.now();
      web1 = startBlank(WEB1.hostname, WEB1.mac);
      const log = () => readLog(web1.log);
      await waitFor(
        "the installer reports success",
        15 * 60_000,
        () => {
          const text = log();
          if (/FAILED: /.test(text)) assert.fail(`the installer failed:\n${tail(text, 60)}`);
          return /SUCCESS: installed web1\./.test(text) ? true : undefined;
        },
        () => tail(log(), 60),
      );
      const installed = (Date.now() - t0) / 1000;
      const line = await waitFor(
        "web1 boots from its disk",
        10 * 60_000,
        () => /gentoo-infra stage STAND-IN: hostname=.*/.exec(log())?.[0],
        () => tail(log(), 60),
      );
      seconds = (Date.now() - t0) / 1000;
      t.diagnostic(
        `blank VM start to install reported: ${installed.toFixed(1)} s; to first boot from disk: ${seconds.toFixed(1)} s`,
      );
      assert.match(
        line,
        /hostname=web1 fqdn=web1\.\S+ environment=development stack=linux arch=amd64 generation=1/,
      );
      assert.equal(
        (log().match(/gentoo-infra installer \[/g) ?? []).length > 0,
        true,
        "the installer ran",
      );
      assert.equal(
        (log().match(/SUCCESS: installed/g) ?? []).length,
        1,
        "it installed once: the netboot switch served the local-boot script after the report",
      );
      await waitFor(
        "web1's stand-in system is ready",
        5 * 60_000,
        () => (/gentoo-infra stage STAND-IN: ready/.test(log()) ? true : undefined),
        () => tail(log()),
      );
    });

    await step("the install host switched web1's netboot to local boot", async () => {
      const mac = WEB1.mac.replaceAll(":", "-");
      const r = ssh(
        "pxe",
        `cat /srv/pxe/www/ipxe/${mac}.ipxe; ls /srv/pxe/www/install /srv/pxe/www/secrets`,
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /is installed \(generation 1\); boot its local disk/);
      assert.doesNotMatch(
        r.stdout,
        new RegExp(`${mac}`),
        "no install configuration or secrets left",
      );
    });

    await step(
      "the installed disk: binrepos.conf and a host certificate from the RootCa",
      async () => {
        stopDomain(web1.name);
        const raw = path.join(work, "web1.raw");
        let r = run("qemu-img", ["convert", "-U", "-O", "raw", web1.disk, raw]);
        assert.equal(r.status, 0, r.stderr);
        r = run("sfdisk", ["--json", raw]);
        assert.equal(r.status, 0, r.stderr);
        const table = JSON.parse(r.stdout).partitiontable as {
          sectorsize?: number;
          partitions: { name?: string; start: number }[];
        };
        const root = table.partitions.find((p) => p.name === "root");
        assert.ok(root, `a partition named root: ${r.stdout}`);
        const image = `${raw}?offset=${root.start * (table.sectorsize ?? 512)}`;
        const cat = (file: string) => {
          const c = run("debugfs", ["-R", `cat ${file}`, image]);
          assert.equal(c.status, 0, c.stderr);
          assert.ok(c.stdout.length > 0, `${file} on the installed disk`);
          return c.stdout;
        };
        const clientConfig = outputs.clientConfig as Record<string, { binreposConf: string }>;
        const binrepos = cat("/etc/portage/binrepos.conf/gentoo-infra.conf");
        assert.equal(binrepos, clientConfig["development/amd64/linux"]?.binreposConf);
        assert.match(binrepos, /sync-uri = https:\/\/binhost\.[^/]+\/development\/amd64\/linux/);
        assert.match(cat("/etc/gentoo-infra/machine"), /stack=linux/);
        const ca = path.join(work, "root.pem");
        writeFileSync(ca, outputs.caCertificatePem as string);
        const host = path.join(work, "host.pem");
        writeFileSync(host, cat("/etc/ssl/gentoo-infra/host.pem"));
        const v = run("openssl", ["verify", "-CAfile", ca, "-untrusted", host, host]);
        assert.equal(v.status, 0, `${v.stdout}${v.stderr}`);
        const subject = run("openssl", ["x509", "-in", host, "-noout", "-subject"]).stdout;
        assert.match(subject, /CN ?= ?web1\./);
      },
    );

    await step("destroy leaves no domain, volume, pool or network", async () => {
      for (const name of domains) {
        stopDomain(name);
        virsh("undefine", name);
      }
      domains.length = 0;
      await program.destroy();
      destroyed = true;
      assert.deepEqual(libvirtObjects(prefix), []);
      assert.equal(existsSync(`/var/lib/libvirt/images/${prefix}`), false);
    });
  } finally {
    for (const name of domains) {
      run("virsh", ["-c", LIBVIRT_URI, "destroy", name]);
      run("virsh", ["-c", LIBVIRT_URI, "undefine", name]);
    }
    if (!destroyed) await program.destroy().catch(() => undefined);
    await program.cleanup({ force: !destroyed });
    rmSync(work, { recursive: true, force: true });
  }
});
