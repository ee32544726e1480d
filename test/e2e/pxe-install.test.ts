/**
 * e2e tier (issue 7): blank machines install themselves from PxeInstallHost and boot their
 * own disks. examples/minimal goes up on the harness's libvirtd (TCG, Pulumi inside the
 * network namespace) with two registered machines, web1 (BIOS) and web2 (UEFI, OVMF); then,
 * in the example's network:
 * - a blank domain with an unknown MAC network-boots, gets the install host's default script
 *   (nginx logs the request), boots locally and nothing is written: its qcow2 stays empty;
 * - failure paths, each with its cause on the serial console and in the install host's
 *   status (`gi-pxe-status`): web1 boots the installer while the binhost's nginx is stopped
 *   (unreachable binhost), then while the binhost serves a corrupted stage (digest
 *   mismatch); each time the installer stops before anything bootable is written (no
 *   partition table, the first 2 MiB zero), reports `failed` with the cause, powers off, and
 *   its netboot stays on;
 * - the rerun after the failures installs: a lease from the install host's dnsmasq, iPXE
 *   (QEMU's NIC ROM) loads its per-MAC script and the installer over HTTP, the installer
 *   reads its install configuration (with the site's root certificate), fetches the stage
 *   from the binhost over HTTPS (its name resolved by the install host's DNS, its digest
 *   checked), reports success, the install host switches its netboot to local boot, and the
 *   machine reboots into its own disk: the serial console shows host name, environment and
 *   Stack;
 * - web1, still running from its disk, pins its tree and overlay to the development snapshot
 *   from the binhost's git (`gentoo-infra-sync`) and installs net-misc/openssh with its
 *   dependency from the linux build profile (`emerge --getbinpkg --usepkgonly`), each
 *   package's signatures verified against a keyring that holds the farm's key only (made by
 *   the trust helper Portage runs, as getuto would); then, with the binhost compromised (the
 *   index entry updated to match), app-admin/sudo altered by one byte is refused with
 *   Portage's "BAD signature" and sys-apps/baselayout re-signed by another key with
 *   "unknown key"; neither is installed;
 * - web2 does the same with UEFI: OVMF's PXE loads the install host's snponly.efi over
 *   TFTP, which runs the same script; after the install its local-boot script exits to the
 *   firmware (`exit 1`), which boots the disk's EFI system partition;
 * - from the disks afterwards (qemu-img convert + debugfs): binrepos.conf is the binhost's
 *   client configuration for its Stack, Puppet is configured for the site's server and the
 *   machine's environment, and the host and Puppet certificates verify against the RootCa;
 * - destroy (Pulumi and the test's own domains) leaves nothing with the stack's prefix.
 * Prints the time from starting each blank VM to its first boot from disk.
 * STAND-INS: the guest image, the installer and the stage are built from Debian packages
 * (docs/base-image.md, docs/installer.md), the stage with real Portage; BIOS iPXE is QEMU's
 * NIC ROM.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { BINHOST_ROOT } from "../../lib/binhost/upload";
import { alterOneByte, resignWithNewKey } from "../support/binpkg-tamper";
import {
  type BlankMachine,
  defineBlankMachine,
  diskHasData,
  FIRST_DISK_BOOT,
  freeSubnet,
  isRunning,
  OVMF,
  readSerial,
  removeDomain,
  run,
  sleep,
  startDomain,
  stopDomain,
  tail,
  waitFor,
} from "../support/blank-machine";
import { NETNS, useLibvirtHarness } from "../support/harness";
import {
  installedCommand,
  MACHINE_EMERGE,
  type SshTarget,
  sshRunner,
  waitForBuild,
  withCompromisedPackage,
} from "../support/installed-machine";
import { libvirtObjects, removeLibvirtObjects } from "../support/libvirt";
import { PulumiProgram, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { scenarioSteps } from "../support/steps";
import { requireFiles, requireRoot, requireTools } from "../support/tools";

const CACHE = process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache");
const FILES = [
  path.join(CACHE, "images/debian-standin-amd64.qcow2"),
  path.join(CACHE, "installer/amd64/vmlinuz"),
  path.join(CACHE, "installer/amd64/initrd.img"),
  path.join(CACHE, "stages/stage4-amd64-standin.tar.zst"),
  OVMF.code,
  OVMF.vars,
];
// examples/minimal's machines: web<N> has MAC 52:54:00:47:49:<50+N-1>.
const WEB1 = { mac: "52:54:00:47:49:50", hostname: "web1", file: "52-54-00-47-49-50" };
const WEB2 = { mac: "52:54:00:47:49:51", hostname: "web2", file: "52-54-00-47-49-51" };
const UNKNOWN_MAC = "52:54:00:47:49:ef";
const isRoot = () => process.getuid?.() === 0;
useLibvirtHarness(isRoot);

interface Server {
  address: string;
  user: string;
  privateKeyOpenssh: string;
}

/** The partition table of a raw disk image (sfdisk --json), or undefined when it has none. */
function partitionTable(raw: string) {
  const r = run("sfdisk", ["--json", raw]);
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout).partitiontable as {
    sectorsize?: number;
    partitions: { name?: string; start: number }[];
  };
}

test("blank machines PXE-install themselves from examples/minimal and boot their own disks", async (t) => {
  if (!requireRoot(t, "network namespaces, libvirtd")) return;
  const tools = ["pulumi", "virsh", "ssh", "ip", "qemu-img", "debugfs", "sfdisk", "openssl", "cmp"];
  if (!requireTools(t, tools, TOOLCHAIN_HINT)) return;
  if (!requireFiles(t, FILES, "run scripts/setup (images, Debian's ovmf)")) return;

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
  let outputs: Record<string, unknown> = {};
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
  const sshOk = (name: string, command: string) => {
    const r = ssh(name, command);
    assert.equal(r.status, 0, `${name}: ${command}: ${r.stderr}`);
    return r.stdout;
  };
  const machineSsh = sshRunner(NETNS, work);
  /**
   * Powers an installed machine off cleanly (`systemctl poweroff` over SSH as root), so that
   * its root filesystem is unmounted and its journal checkpointed before the test reads the
   * disk with debugfs; a hard stop after 3 minutes.
   */
  const powerOff = async (m: BlankMachine, hostname: string) => {
    const target = (outputs.machines as Record<string, SshTarget> | undefined)?.[hostname];
    assert.ok(target, `${hostname} in the machines output`);
    machineSsh.ssh(hostname, target, "systemctl poweroff", 30_000);
    await waitFor(
      `${hostname} powers off`,
      3 * 60_000,
      () => (isRunning(m.name) ? undefined : true),
      () => tail(readSerial(m.log)),
      2000,
    ).catch((error) => {
      stopDomain(m.name);
      throw error;
    });
  };
  /** The install host's status row of a machine (`gi-pxe-status`), split into its cells. */
  const status = (mac: string) => {
    const rows = sshOk("pxe", "sudo -n gi-pxe-status -H").split("\n");
    const row = rows.find((r) => r.startsWith(mac));
    assert.ok(row, `gi-pxe-status lists ${mac}:\n${rows.join("\n")}`);
    const [, host, generation, netboot, ...last] = row.split(/ {2,}/);
    return { host, generation, netboot, last: last.join("  ") };
  };
  const blank = (role: string, mac: string, firmware: "bios" | "uefi") => {
    const m = defineBlankMachine(work, `${prefix}-e2e-${role}`, mac, firmware, `${prefix}-lan`);
    domains.push(m.name);
    return m;
  };
  /** Starts `m` and returns what its console printed since (a reader). */
  const boot = (m: BlankMachine) => {
    const from = readSerial(m.log).length;
    startDomain(m.name);
    return () => readSerial(m.log).slice(from);
  };
  /**
   * Runs the installer on `m` into a failure with `cause` on its console and checks that it
   * leaves nothing bootable; the install host's status shows `reported` (the cause, cut at
   * 400 characters).
   */
  const failedInstall = async (m: BlankMachine, cause: RegExp, reported = cause) => {
    const log = boot(m);
    await waitFor(
      `${m.name}'s installer stops and powers off`,
      15 * 60_000,
      () => (isRunning(m.name) ? undefined : true),
      () => tail(log(), 60),
      1000,
    );
    const text = log();
    assert.match(text, new RegExp(`FAILED: ${cause.source}`), tail(text, 60));
    assert.match(text, /nothing bootable is left on it/);
    assert.match(text, /reported status=failed generation=1/);
    assert.doesNotMatch(text, /SUCCESS: /);
    const raw = path.join(work, `${m.name}.raw`);
    const r = run("qemu-img", ["convert", "-U", "-O", "raw", m.disk, raw]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(partitionTable(raw), undefined, "no partition table is left");
    assert.equal(
      run("cmp", ["-s", "-n", String(2 * 1024 * 1024), raw, "/dev/zero"]).status,
      0,
      "the first 2 MiB (boot code, GPT) are zero",
    );
    rmSync(raw);
    const s = status(WEB1.file);
    assert.equal(s.netboot, "install", "netboot stays on after a failure");
    assert.match(s.last, new RegExp(`^failed \\(generation 1, \\S+\\): ${reported.source}`));
    return text;
  };
  /** Boots a machine that will install; returns seconds from start to its first disk boot. */
  const install = async (m: BlankMachine, hostname: string, keepRunning = false) => {
    const t0 = Date.now();
    const log = boot(m);
    await waitFor(
      `${hostname}'s installer reports success`,
      15 * 60_000,
      () => {
        const text = log();
        if (/FAILED: /.test(text)) assert.fail(`the installer failed:\n${tail(text, 60)}`);
        return new RegExp(`SUCCESS: installed ${hostname}\\.`).test(text) ? true : undefined;
      },
      () => tail(log(), 60),
    );
    const installed = (Date.now() - t0) / 1000;
    const line = await waitFor(
      `${hostname} boots from its disk`,
      10 * 60_000,
      () => FIRST_DISK_BOOT.exec(log())?.[0],
      () => tail(log(), 60),
    );
    const seconds = (Date.now() - t0) / 1000;
    t.diagnostic(
      `${hostname} (${m.firmware}): blank VM start to install reported ${installed.toFixed(1)} s, to first boot from disk ${seconds.toFixed(1)} s`,
    );
    assert.match(
      line,
      new RegExp(
        `hostname=${hostname} fqdn=${hostname}\\.\\S+ environment=development stack=linux arch=amd64 generation=1`,
      ),
    );
    assert.equal(
      (log().match(/SUCCESS: installed/g) ?? []).length,
      1,
      "it installed once: the netboot switch served the local-boot script after the report",
    );
    await waitFor(
      `${hostname}'s stand-in system is ready`,
      10 * 60_000,
      () => (/gentoo-infra stage STAND-IN: ready/.test(log()) ? true : undefined),
      () => tail(log()),
    );
    if (!keepRunning) await powerOff(m, hostname);
    return log();
  };
  /** Reads files from the root filesystem of an installed (stopped) machine's disk. */
  const installedDisk = (m: BlankMachine) => {
    const raw = path.join(work, `${m.name}.raw`);
    const r = run("qemu-img", ["convert", "-U", "-O", "raw", m.disk, raw]);
    assert.equal(r.status, 0, r.stderr);
    const table = partitionTable(raw);
    const root = table?.partitions.find((p) => p.name === "root");
    assert.ok(table && root, `a partition named root on ${m.name}`);
    const image = `${raw}?offset=${root.start * (table.sectorsize ?? 512)}`;
    return {
      table,
      cat: (file: string) => {
        const c = run("debugfs", ["-R", `cat ${file}`, image]);
        assert.equal(c.status, 0, c.stderr);
        assert.ok(c.stdout.length > 0, `${file} on ${m.name}'s disk: ${c.stderr}`);
        return c.stdout;
      },
      mode: (file: string) =>
        /Mode: +(0[0-7]+)/.exec(run("debugfs", ["-R", `stat ${file}`, image]).stdout)?.[1],
    };
  };

  try {
    await step("examples/minimal goes up with web1 (BIOS) and web2 (UEFI) registered", async () => {
      await program.setConfig("subnet", freeSubnet(NETNS, 160, 199));
      await program.setConfig("machineCount", "2");
      await program.setConfig("web2Firmware", "uefi");
      await program.up();
      outputs = await program.outputs({ showSecrets: true });
      servers = outputs.servers as Record<string, Server>;
      assert.equal(sshOk("pxe", "systemctl is-active dnsmasq nginx"), "active\nactive\n");
      for (const [m, generation] of [
        [WEB1, "1"],
        [WEB2, "1"],
      ] as const) {
        assert.deepEqual(status(m.file), {
          host: m.hostname,
          generation,
          netboot: "install",
          last: "none",
        });
      }
    });

    await step("an unknown MAC boots locally and nothing is written", async () => {
      const m = blank("unknown", UNKNOWN_MAC, "bios");
      const log = boot(m);
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
        () => tail(log()),
      );
      // Time for iPXE to run the script (local boot of a blank disk fails and the firmware
      // retries); nothing may write to the disk meanwhile.
      await sleep(20_000);
      stopDomain(m.name);
      assert.equal(diskHasData(m.disk), false, "the unknown machine's disk has no data");
      assert.doesNotMatch(log(), /gentoo-infra installer/);
    });

    const web1 = blank(WEB1.hostname, WEB1.mac, "bios");
    await step(
      "an unreachable binhost stops the installer before the disk is bootable",
      async () => {
        sshOk("binhost", "sudo -n systemctl stop nginx");
        try {
          await failedInstall(
            web1,
            /could not fetch https:\/\/binhost\.\S+\/stage4-amd64-standin\.tar\.zst: host unreachable or connection refused/,
          );
        } finally {
          sshOk("binhost", "sudo -n systemctl start nginx");
        }
      },
    );

    await step("a stage that does not match its digest stops the installer", async () => {
      const stageUrl = new URL((outputs.urls as { stage: string }).stage);
      const stage = `${BINHOST_ROOT}${stageUrl.pathname}`;
      // A corrupted mirror: one byte more than the stage whose digest the configuration has.
      sshOk("binhost", `sudo -n cp -p ${stage} ${stage}.good && echo x | sudo -n tee -a ${stage}`);
      try {
        await failedInstall(
          web1,
          /stage digest mismatch for https:\/\/binhost\.\S+: expected sha512 [0-9a-f]{128}, got [0-9a-f]{128}; the stage was not unpacked/,
          /stage digest mismatch for https:\/\/binhost\.\S+: expected sha512 [0-9a-f]{128}, got [0-9a-f]+/,
        );
      } finally {
        sshOk("binhost", `sudo -n mv ${stage}.good ${stage}`);
      }
    });

    await step(
      "the rerun after the failures installs web1 (BIOS) and it boots its own disk",
      async () => {
        const text = await install(web1, WEB1.hostname, true);
        assert.match(
          text,
          /HTTPS downloads are verified against the configuration's root certificate/,
        );
        const s = status(WEB1.file);
        assert.equal(s.netboot, "local");
        assert.match(
          s.last,
          /^success \(generation 1, \S+\): installed web1\.\S+ \(development\/amd64\/linux, generation 1, bios\) in [0-9.]+ s$/,
        );
      },
    );

    // The installed machine consumes the binhost: its Stack's packages, signed by the farm.
    const onWeb1 = (command: string) => {
      const target = (outputs.machines as Record<string, SshTarget>)[WEB1.hostname];
      assert.ok(target, "web1 in the machines output");
      return machineSsh.ssh("web1", target, command);
    };
    const linuxDir = `${BINHOST_ROOT}/development/amd64/linux`;
    const onBinhost = (command: string) => sshOk("binhost", command);
    await step(
      "web1, running from its disk, installs a package of its Stack from the binhost, signature verified",
      async () => {
        const builds = outputs.builds as Record<string, { server: string; statusFile: string }>;
        const linux = builds["development/amd64/linux"];
        assert.ok(linux, "the linux build profile in the builds output");
        await waitForBuild(
          () => {
            const r = ssh(linux.server, `sudo -n cat ${linux.statusFile}`);
            return r.status === 0 ? r.stdout : undefined;
          },
          "the linux build",
          30 * 60_000,
        );
        assert.match(readSerial(web1.log), /gentoo-infra stage STAND-IN: portage: Portage 3\.\d+/);
        const sync = onWeb1("gentoo-infra-sync");
        assert.equal(sync.status, 0, `${sync.stdout}${sync.stderr}`);
        assert.match(
          sync.stdout,
          /gentoo-infra-sync: gentoo at [0-9a-f]{40}, \S+ at [0-9a-f]{40} \(development\)/,
        );
        const r = onWeb1(`${MACHINE_EMERGE} net-misc/openssh 2>&1`);
        assert.equal(r.status, 0, tail(r.stdout, 60));
        assert.match(onWeb1(installedCommand("net-misc/openssh")).stdout, /^openssh-\S+\n$/);
        assert.match(
          onWeb1(installedCommand("sys-libs/zlib")).stdout,
          /^zlib-\S+\n$/,
          "its dependency too",
        );
        // The keyring Portage verified with: the farm's key (valid: locally signed) and the
        // local trust key, nothing else; made by the trust helper Portage ran.
        const keys = onWeb1(
          "gpg --batch --with-colons --homedir /etc/portage/gnupg --list-keys 2>/dev/null | grep ^pub | cut -d: -f2 | sort | tr '\\n' ' '",
        ).stdout;
        assert.equal(keys, "f u ");
      },
    );

    await step(
      "a package altered by one byte on the binhost is refused with Portage's signature error; nothing is installed",
      async () => {
        await withCompromisedPackage(onBinhost, linuxDir, "app-admin/sudo", alterOneByte, () => {
          const r = onWeb1(`${MACHINE_EMERGE} app-admin/sudo 2>&1`);
          assert.notEqual(r.status, 0, tail(r.stdout, 60));
          assert.match(r.stdout, /BAD signature/, tail(r.stdout, 60));
          assert.equal(onWeb1(installedCommand("app-admin/sudo")).stdout, "");
        });
      },
    );

    await step(
      "a package signed by another key is refused the same way; nothing is installed",
      async () => {
        const resign = (g: Buffer) => resignWithNewKey(g).gpkg;
        await withCompromisedPackage(onBinhost, linuxDir, "sys-apps/baselayout", resign, () => {
          const r = onWeb1(`${MACHINE_EMERGE} sys-apps/baselayout 2>&1`);
          assert.notEqual(r.status, 0, tail(r.stdout, 60));
          assert.match(r.stdout, /unknown key|NO_PUBKEY/, tail(r.stdout, 60));
          assert.equal(onWeb1(installedCommand("sys-apps/baselayout")).stdout, "");
        });
        await powerOff(web1, WEB1.hostname);
      },
    );

    const web2 = blank(WEB2.hostname, WEB2.mac, "uefi");
    await step("web2 (UEFI, OVMF) installs over PXE and boots its own disk", async () => {
      const text = await install(web2, WEB2.hostname);
      assert.match(
        text,
        /BdsDxe: starting Boot[0-9A-F]+ "UEFI PXEv4/,
        "OVMF booted from the network",
      );
      assert.match(text, /BdsDxe: starting Boot[0-9A-F]+ "UEFI Misc Device"/, "then from the disk");
      const s = status(WEB2.file);
      assert.equal(s.netboot, "local");
      assert.match(
        s.last,
        /^success \(generation 1, \S+\): installed web2\.\S+ .*uefi\) in [0-9.]+ s$/,
      );
    });

    await step(
      "the install host took web1's and web2's install files off its web root",
      async () => {
        const out = sshOk(
          "pxe",
          `cat /srv/pxe/www/ipxe/${WEB1.file}.ipxe /srv/pxe/www/ipxe/${WEB2.file}.ipxe; ls /srv/pxe/www/install /srv/pxe/www/secrets`,
        );
        assert.match(out, /web1 .* is installed \(generation 1\); boot its local disk/);
        assert.match(
          out,
          /web2 .* is installed \(generation 1\); boot its local disk\.\n.*\nexit 1/,
        );
        assert.doesNotMatch(
          out,
          /52-54-00-47-49-5[01]\.json|^52-54-00-47-49-5[01]$/m,
          "no install configuration or secrets left",
        );
      },
    );

    await step(
      "the installed disks: binrepos.conf, Puppet, host and Puppet certificates from the RootCa",
      async () => {
        const ca = path.join(work, "root.pem");
        writeFileSync(ca, outputs.caCertificatePem as string);
        const clientConfig = outputs.clientConfig as Record<string, { binreposConf: string }>;
        const domain = new URL((outputs.urls as { binhost: string }).binhost).hostname.replace(
          /^binhost\./,
          "",
        );
        for (const [m, hostname] of [
          [web1, WEB1.hostname],
          [web2, WEB2.hostname],
        ] as const) {
          const disk = installedDisk(m);
          const fqdn = `${hostname}.${domain}`;
          const binrepos = disk.cat("/etc/portage/binrepos.conf/gentoo-infra.conf");
          assert.equal(binrepos, clientConfig["development/amd64/linux"]?.binreposConf);
          assert.match(binrepos, /sync-uri = https:\/\/binhost\.[^/]+\/development\/amd64\/linux/);
          assert.match(
            disk.cat("/etc/gentoo-infra/machine"),
            new RegExp(`stack=linux\\n(.*\\n)*firmware=${m.firmware}`),
          );
          // Puppet: the site's server, the machine's environment, its FQDN as certname.
          assert.equal(
            disk.cat("/etc/puppetlabs/puppet/puppet.conf"),
            `# Rendered by gentoo-infra's installer configuration.\n[agent]\nserver = puppet.${domain}\nenvironment = development\ncertname = ${fqdn}\n`,
          );
          assert.match(
            disk.cat("/etc/puppetlabs/puppet/csr_attributes.yaml"),
            /"?1\.2\.840\.113549\.1\.9\.7"?: \S{32}/,
            "the one-time autosign token as challengePassword",
          );
          assert.equal(disk.mode("/etc/puppetlabs/puppet/csr_attributes.yaml"), "0600");
          assert.equal(disk.mode(`/etc/puppetlabs/puppet/ssl/private_keys/${fqdn}.pem`), "0600");
          assert.equal(disk.mode("/etc/ssl/gentoo-infra/host.key"), "0600");
          const file = (name: string, content: string) => {
            const p = path.join(work, `${hostname}-${name}`);
            writeFileSync(p, content);
            return p;
          };
          const host = file("host.pem", disk.cat("/etc/ssl/gentoo-infra/host.pem"));
          let v = run("openssl", ["verify", "-CAfile", ca, "-untrusted", host, host]);
          assert.equal(v.status, 0, `${v.stdout}${v.stderr}`);
          assert.match(
            run("openssl", ["x509", "-in", host, "-noout", "-subject"]).stdout,
            new RegExp(`CN ?= ?${hostname}\\.`),
          );
          const puppetChain = file(
            "puppet-ca.pem",
            disk.cat("/etc/puppetlabs/puppet/ssl/certs/ca.pem"),
          );
          const agent = file(
            "puppet.pem",
            disk.cat(`/etc/puppetlabs/puppet/ssl/certs/${fqdn}.pem`),
          );
          v = run("openssl", ["verify", "-CAfile", ca, "-untrusted", puppetChain, agent]);
          assert.equal(v.status, 0, `${v.stdout}${v.stderr}`);
          if (m.firmware === "uefi") {
            assert.equal(disk.table.partitions[0]?.name, "efi", "an EFI system partition first");
          }
        }
      },
    );

    await step("destroy leaves no domain, volume, pool or network", async () => {
      for (const name of domains) removeDomain(name);
      domains.length = 0;
      await program.destroy();
      destroyed = true;
      assert.deepEqual(libvirtObjects(prefix), []);
      assert.equal(existsSync(`/var/lib/libvirt/images/${prefix}`), false);
    });
  } finally {
    for (const name of domains) removeDomain(name);
    if (!destroyed) {
      await program.destroy().catch(() => undefined);
      removeLibvirtObjects(prefix); // when destroy could not run (a timed-out up keeps the lock)
    }
    await program.cleanup({ force: !destroyed });
    rmSync(work, { recursive: true, force: true });
  }
});
