/**
 * e2e tier (issues 7, 12, 13, 18): one site, examples/minimal, goes up once on the harness's
 * two hypervisors (TCG, Pulumi inside the first's network namespace) with its two builders
 * (linux on the first, and tools, an application Stack on linux, on the second: its own libvirtd
 * reached over qemu+ssh, its guests routed to the first's, so that everything tools builds
 * crosses from one hypervisor to the other), the binhost serving a private copy of the stand-in tree and
 * overlay over git, the install host with one registered machine, web1 (BIOS), and a real
 * HTTP listener in the namespace that receives every build outcome. Two more environments of
 * the same program, staging and production, come up after development's scenarios (each VM
 * scenario runs alone on the machine: overlapping them only made each slower).
 * Every scenario runs on that one site, in this order:
 * - a preview names the commits the binhost will serve;
 * - `up` starts the first build on each builder: real Portage in the builder's throwaway root
 *   clones the pinned commits from the binhost, emerges @world and the kernel stand-in into
 *   gpkg signed with the RootCa's package-signing key, verifies them, publishes;
 * - `gentoo-infra promote development staging --release` cuts the release branch at develop
 *   (commit A) before develop moves;
 * - a blank domain with an unknown MAC network-boots, gets the install host's default script
 *   (nginx logs the request), boots locally and nothing is written: its qcow2 stays empty;
 * - install failure paths, each with its cause on the serial console and in the install
 *   host's status (`gi-pxe-status`): web1 boots the installer while the binhost's nginx is
 *   stopped, then while the binhost serves a corrupted stage; each time the installer stops
 *   before anything bootable is written, reports `failed`, powers off, and its netboot stays on;
 * - the rerun installs web1: a lease from the install host's dnsmasq, iPXE loads its per-MAC
 *   script and the installer, the installer fetches the stage from the binhost over HTTPS
 *   (digest checked), reports success, the netboot switches to local boot, and web1 boots its
 *   own disk (host name, environment and Stack on the console);
 * - the binhost's `Packages` of development/amd64/linux lists exactly the linux Stack's
 *   packages, and that of development/amd64/tools exactly what tools adds: the base's
 *   packages came from the binhost, not from a second build; every served package verifies
 *   with gpg against the public signing key alone; each outcome reached the listener;
 *   `gentoo-infra build-status` shows the last builds; a second build with nothing new builds
 *   nothing and leaves the served index byte-identical;
 * - web1, running from its disk, pins its tree and overlay to the development snapshot from
 *   the binhost (`gentoo-infra-sync`) and installs net-misc/openssh with its dependency
 *   (`emerge --getbinpkg --usepkgonly`), signatures verified against a keyring holding the
 *   farm's key only; with the binhost compromised (index entries updated to match),
 *   app-admin/sudo altered by one byte is refused with "BAD signature" and sys-apps/baselayout
 *   re-signed by another key with "unknown key"; neither is installed;
 * - a tree update rolls out (docs/roll-out-a-tree-update.md): develop of the tree moves to the
 *   stand-in's `fix` commit (sys-libs/zlib 1.3.2, then sys-apps/baselayout 2.17-r1); the
 *   preview names the new commit and replaces nothing; `up` makes the builders build it; web1
 *   follows with `gentoo-infra-sync` and `emerge -uDN @world` from the binhost and has both;
 * - pinning the tree to the stand-in's `broken` commit (a failing ebuild): each build reports
 *   failure at update-world, and what was published stays intact and served;
 * - from web1's disk afterwards (qemu-img convert + debugfs): binrepos.conf is the binhost's
 *   client configuration for its Stack, Puppet is configured for the site's server and the
 *   machine's environment, and the host and Puppet certificates verify against the RootCa;
 * - staging and production (linux only; staging without machines, production with web1 in
 *   UEFI) go up, each its own Pulumi stack on its own network, and build the release and
 *   master commits (A);
 * - staging previews no change until `gentoo-infra promote development staging` moves its
 *   release branch; then its preview names the commit and replaces nothing, `up` makes its
 *   builder build it, and it serves the same packages as development; development builds
 *   nothing for it;
 * - production's web1 is switched on by the package's CLI (`gentoo-infra machine boot`, while
 *   staging builds), as a user watching a machine install does: OVMF's PXE loads snponly.efi
 *   over TFTP, the installer runs, its local-boot script exits to the firmware, which boots
 *   the disk's EFI system partition, and it installs sys-apps/baselayout from production's
 *   binhost; a second boot of it is refused;
 * - the zero-day path: the fix alone is cherry-picked onto master (`promote development
 *   production --allow-skip --cherry-pick`), production's preview names the new master commit,
 *   its builder builds baselayout-2.17-r1 and not the zlib bump, production's web1 upgrades to
 *   it and keeps zlib-1.3.1; development builds nothing and previews no change; production's
 *   web1's disk has production's binrepos.conf, Puppet environment and certificates;
 * - destroy (Pulumi and the test's own domains) leaves nothing with the stack's prefix.
 * Prints the time from starting each blank VM to its first boot from disk.
 * STAND-INS: the guest image, the installer and the stage are built from Debian packages
 * (docs/base-image.md, docs/installer.md), builders and the stage with real Portage from
 * PyPI; the Gentoo tree and overlay are scripts/build-tree-standin's; BIOS iPXE is QEMU's NIC
 * ROM. Not proven here: catalyst stages; staging → production by fast-forward (the same
 * command as development → staging, proven on real repositories in the unit tier).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { BINHOST_ROOT } from "../../lib/binhost/upload";
import { machineBootPlan } from "../../lib/cli/machine-boot";
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
import {
  fetchFromBinhost,
  type NotifyListener,
  packageName,
  parsePackagesIndex,
  startNotifyListener,
  verifyGpkg,
} from "../support/build-site";
import {
  freeSecondSubnet,
  NETNS,
  secondHypervisorUri,
  useLibvirtHarness,
} from "../support/harness";
import {
  installedCommand,
  MACHINE_EMERGE,
  type SshTarget,
  sshRunner,
  withCompromisedPackage,
} from "../support/installed-machine";
import { libvirtObjects, libvirtOn, removeLibvirtObjects } from "../support/libvirt";
import { PulumiProgram, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { scenarioSteps } from "../support/steps";
import { requireFiles, requireRoot, requireTools } from "../support/tools";

const CACHE = process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache");
const TREES = path.join(CACHE, "trees");
const FILES = [
  path.join(CACHE, "images/debian-standin-amd64.qcow2"),
  path.join(CACHE, "installer/amd64/vmlinuz"),
  path.join(CACHE, "installer/amd64/initrd.img"),
  path.join(CACHE, "stages/stage4-amd64-standin.tar.zst"),
  path.join(TREES, "gentoo.git"),
  path.join(TREES, "overlay.git"),
  path.join(TREES, "distfiles"),
  OVMF.code,
  OVMF.vars,
];
const LINUX = "development/amd64/linux";
const TOOLS = "development/amd64/tools";
const STAGING = "staging/amd64/linux";
const PRODUCTION = "production/amd64/linux";
/** The release branch the test cuts for staging. */
const RELEASE = "release/2026.12";
/** What each build profile's repository must hold: the Stack's packages, nothing else. */
const EXPECTED = {
  [LINUX]: [
    "app-admin/sudo",
    "net-misc/openssh",
    "sys-apps/baselayout",
    "sys-kernel/gentoo-kernel",
    "sys-libs/zlib",
  ],
  [TOOLS]: ["app-admin/gi-site-tools"],
};
/** A first build under TCG: boot, clone, emerge of five packages, sign, upload. */
const BUILD_TIMEOUT = 30 * 60_000;
// examples/minimal's machines: web<N> has MAC 52:54:00:47:49:<50+N-1>.
const WEB1 = { mac: "52:54:00:47:49:50", hostname: "web1", file: "52-54-00-47-49-50" };
const UNKNOWN_MAC = "52:54:00:47:49:ef";
/** Where Portage on a machine caches the packages it fetched from the binhost. */
const MACHINE_PACKAGE_CACHE = "/var/cache/binhost";
const isRoot = () => process.getuid?.() === 0;
useLibvirtHarness(isRoot, { hypervisors: 2 });

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

/**
 * Runs the package's CLI (scripts/gentoo-infra) inside the namespace with the stack outputs
 * on standard input, as `scripts/site boot` does.
 */
function gentooInfra(
  args: readonly string[],
  outputs: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      "ip",
      ["netns", "exec", NETNS, path.join(REPO_ROOT, "scripts/gentoo-infra"), ...args],
      { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(outputs);
  });
}

/** The operator who cherry-picks (git records a committer). */
const OPERATOR = {
  GIT_AUTHOR_NAME: "gentoo-infra e2e",
  GIT_AUTHOR_EMAIL: "e2e@gentoo-infra.invalid",
  GIT_COMMITTER_NAME: "gentoo-infra e2e",
  GIT_COMMITTER_EMAIL: "e2e@gentoo-infra.invalid",
};

/** The commit a branch of a stand-in clone points at. */
function commitOf(clone: string, branch: string): string {
  const r = run("git", ["-C", clone, "rev-parse", `refs/heads/${branch}`]);
  assert.equal(r.status, 0, `${clone} has a ${branch} branch: ${r.stderr}`);
  return r.stdout.trim();
}

test("one site, three environments: the farm builds, blank machines PXE-install and install from the binhost, a tree update is promoted, a fix cherry-picked", async (t) => {
  if (!requireRoot(t, "network namespaces, libvirtd")) return;
  const tools = [
    ...["pulumi", "virsh", "ssh", "ip", "qemu-img", "debugfs", "sfdisk", "openssl", "cmp"],
    ...["curl", "gpg", "git"],
  ];
  if (!requireTools(t, tools, TOOLCHAIN_HINT)) return;
  const hint = "run scripts/setup (images, scripts/build-tree-standin, Debian's ovmf)";
  if (!requireFiles(t, FILES, hint)) return;

  const id = randomBytes(2).toString("hex");
  const program = await PulumiProgram.create("examples/minimal", {
    netns: NETNS,
    stack: `px-${id}`,
  });
  const prefix = `gi-${program.stack}`;
  /** virsh on the second hypervisor, from the first namespace over qemu+ssh. */
  const second = () => libvirtOn({ uri: secondHypervisorUri(), netns: NETNS });
  // Staging and production: the same program, a Pulumi stack each (config `environment`).
  const staging = await PulumiProgram.create("examples/minimal", {
    netns: NETNS,
    stack: `st-${id}`,
  });
  const production = await PulumiProgram.create("examples/minimal", {
    netns: NETNS,
    stack: `pr-${id}`,
  });
  const environmentPrograms = [staging, production];
  const destroyedEnvironments = new Set<PulumiProgram>();
  const work = mkdtempSync(path.join(tmpdir(), "gi-pxe-e2e-"));
  // QEMU runs as libvirt-qemu: it must reach the disks and logs libvirt hands it.
  chmodSync(work, 0o755);
  // A private copy of the stand-in tree and overlay (the site reads their develop branches):
  // the tree update below moves develop here, never in the shared cache.
  const trees = path.join(work, "trees");
  mkdirSync(trees);
  for (const repo of ["gentoo.git", "overlay.git"]) {
    const r = run("git", [
      "clone",
      "--quiet",
      "--mirror",
      path.join(TREES, repo),
      path.join(trees, repo),
    ]);
    assert.equal(r.status, 0, r.stderr);
  }
  symlinkSync(path.join(TREES, "distfiles"), path.join(trees, "distfiles"));
  const gentooClone = path.join(trees, "gentoo.git");
  const overlayClone = path.join(trees, "overlay.git");
  const baseCommit = commitOf(gentooClone, "develop");
  const bumpCommit = commitOf(gentooClone, "bump");
  const fixCommit = commitOf(gentooClone, "fix");
  const brokenCommit = commitOf(gentooClone, "broken");
  /** staging's and production's `up` (awaited in `finally` when a step failed during it). */
  let environmentsUp: Promise<void> | undefined;
  let stagingOutputs: Record<string, unknown> = {};
  /** `gentoo-infra machine boot web1` of production, started during staging's build. */
  let productionBoot: ReturnType<typeof gentooInfra> | undefined;
  let productionWeb1: BlankMachine | undefined;
  let bootStarted = 0;
  let productionOutputs: Record<string, unknown> = {};
  let listener: NotifyListener | undefined;
  const domains: string[] = [];
  let destroyed = false;
  const step = scenarioSteps(t);
  let servers: Record<string, Server> = {};
  let outputs: Record<string, unknown> = {};
  const machineSsh = sshRunner(NETNS, work);
  /** Runs `command` on one of the site's servers (pxe, binhost, builder-…) as its admin. */
  const ssh = (name: string, command: string, timeout = 120_000) => {
    const server = servers[name];
    assert.ok(server, `server ${name} in the outputs`);
    return machineSsh.ssh(name, server, command, timeout);
  };
  const sshOk = (name: string, command: string) => {
    const r = ssh(name, command);
    assert.equal(r.status, 0, `${name}: ${command}: ${r.stderr}`);
    return r.stdout;
  };
  const ca = path.join(work, "ca.pem");
  const binhost = () => (outputs.urls as { binhost: string }).binhost;
  const get = (url: string, output?: string) => {
    const r = fetchFromBinhost(NETNS, ca, servers.binhost?.address ?? "", url, output);
    assert.equal(r.status, 0, `GET ${url}: ${r.stderr}`);
    return r.body;
  };
  const index = (profile: string) => get(`${binhost()}${profile}/Packages`);
  const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
  const builderOf = (profile: string) => `builder-${profile.replaceAll("/", "-")}`;
  const unitOf = (profile: string) => `gentoo-infra-build-${profile.replaceAll("/", "-")}.service`;
  /** The builder's journal, shown when an outcome is not what the test wants. */
  const journal = (profile: string, site = outputs) => {
    const server = (site.servers as Record<string, Server>)[builderOf(profile)];
    assert.ok(server, `${builderOf(profile)} in the outputs`);
    const command = `sudo -n journalctl -u ${unitOf(profile)} --no-pager -n 80`;
    return machineSsh.ssh(builderOf(profile), server, command, 120_000).stdout;
  };
  /**
   * The next outcome of `profile` after the first `after`, which must be a success; `site` is
   * the outputs of the stack that builds it (development's by default).
   */
  /**
   * The next outcome of `profile` after the first `after`, or with `commit`, the next one of a
   * build of that tree commit: a scheduled build (the timer's random delay may start one while
   * a step runs) that ends after a change was pushed reports the old commit first, and the
   * build of the new one follows it (the units' request file, lib/buildfarm/systemd-units.ts).
   */
  const outcomeOf = async (profile: string, after: number, commit?: string) => {
    assert.ok(listener);
    const end = Date.now() + BUILD_TIMEOUT;
    for (let n = after; ; n++) {
      const outcome = await listener.next(profile, n, Math.max(1000, end - Date.now()));
      if (commit === undefined || outcome.treeCommit === commit) return outcome;
      t.diagnostic(`${profile}: a build of ${outcome.treeCommit} ended first (${outcome.status})`);
    }
  };
  const success = async (profile: string, after: number, site = outputs, commit?: string) => {
    const outcome = await outcomeOf(profile, after, commit);
    assert.equal(
      outcome.status,
      "success",
      `${JSON.stringify(outcome)}\n${journal(profile, site)}`,
    );
    return outcome;
  };
  /** The package versions (cpv) the binhost of `site` serves for `profile`, sorted. */
  const servedOf = (site: Record<string, unknown>, profile: string) => {
    const caFile = path.join(work, `ca-${profile.split("/")[0]}.pem`);
    writeFileSync(caFile, site.caCertificatePem as string);
    const binhostServer = (site.servers as Record<string, Server>).binhost;
    const url = `${(site.urls as { binhost: string }).binhost}${profile}/Packages`;
    const r = fetchFromBinhost(NETNS, caFile, binhostServer?.address ?? "", url);
    assert.equal(r.status, 0, `GET ${url}: ${r.stderr}`);
    return parsePackagesIndex(r.body.toString())
      .map((e) => e.cpv)
      .sort();
  };
  /** The steps of a `pulumi preview --json` of `of` (development's stack by default). */
  const previewSteps = async (of = program) => {
    const preview = await of.run([
      ...["preview", "--non-interactive", "--json", "--stack", of.stack],
    ]);
    return JSON.parse(preview.stdout).steps as {
      op: string;
      urn: string;
      newState?: { inputs?: unknown };
    }[];
  };
  /** What a preview changes: each step that is not `same`, as "<op> <urn>". */
  const changesOf = (steps: Awaited<ReturnType<typeof previewSteps>>) =>
    steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn}`);
  /**
   * Checks the preview of a tree snapshot change: the binhost's push of the tree names
   * `commit`; nothing is replaced or deleted but the commands that push files and run them
   * (they are replaced when their triggers, the content they push, change: that is how they
   * run again); no VM, disk, cloud-init disk or network changes.
   */
  const assertSnapshotPreview = (
    steps: Awaited<ReturnType<typeof previewSteps>>,
    commit: string,
    label: string,
  ) => {
    const push = steps.find((s) => /binhost-git-gentoo$/.test(s.urn));
    assert.ok(
      push && JSON.stringify(push.newState?.inputs).includes(commit),
      `${label}: the preview's push names ${commit}`,
    );
    const changed = steps.filter((s) => s.op !== "same");
    for (const s of changed) t.diagnostic(`${label} preview: ${s.op} ${s.urn.split("::").pop()}`);
    const command = /\$command:(remote|local):Command::|::command:(remote|local):Command::/;
    assert.deepEqual(
      changed
        .filter((s) => /replace|delete/.test(s.op) && !command.test(s.urn))
        .map((s) => `${s.op} ${s.urn}`),
      [],
      `${label}: a tree update replaces or deletes nothing but the push commands`,
    );
    assert.deepEqual(
      changed.filter((s) => /libvirt:index\//.test(s.urn)).map((s) => `${s.op} ${s.urn}`),
      [],
      `${label}: no VM, disk, cloud-init disk or network changes`,
    );
  };
  /**
   * Powers an installed machine off cleanly (`systemctl poweroff` over SSH as root), so that
   * its root filesystem is unmounted and its journal checkpointed before the test reads the
   * disk with debugfs; a hard stop after 3 minutes.
   */
  const powerOff = async (m: BlankMachine, hostname: string, site = outputs) => {
    const target = (site.machines as Record<string, SshTarget> | undefined)?.[hostname];
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
  /**
   * Checks what the install wrote on a stopped machine's disk, for the site (`site`: a stack's
   * outputs) of `environment`: binrepos.conf is the binhost's client configuration of its
   * Stack, Puppet is configured for the site's server and the machine's environment, and the
   * host and Puppet certificates verify against the site's RootCa; a UEFI disk starts with an
   * EFI system partition.
   */
  const assertInstalledDisk = (
    m: BlankMachine,
    hostname: string,
    site: Record<string, unknown>,
    environment: string,
  ) => {
    const label = `${environment} ${hostname}`;
    const root = path.join(work, `${environment}-root.pem`);
    writeFileSync(root, site.caCertificatePem as string);
    const clientConfig = site.clientConfig as Record<string, { binreposConf: string }>;
    const domain = new URL((site.urls as { binhost: string }).binhost).hostname.replace(
      /^binhost\./,
      "",
    );
    const profile = `${environment}/amd64/linux`;
    const disk = installedDisk(m);
    const fqdn = `${hostname}.${domain}`;
    const binrepos = disk.cat("/etc/portage/binrepos.conf/gentoo-infra.conf");
    assert.equal(binrepos, clientConfig[profile]?.binreposConf, label);
    assert.match(binrepos, new RegExp(`sync-uri = https://binhost\\.[^/]+/${profile}`));
    assert.match(
      disk.cat("/etc/gentoo-infra/machine"),
      new RegExp(
        `environment=${environment}\\n(.*\\n)*stack=linux\\n(.*\\n)*firmware=${m.firmware}`,
      ),
    );
    // Puppet: the site's server, the machine's environment, its FQDN as certname.
    assert.equal(
      disk.cat("/etc/puppetlabs/puppet/puppet.conf"),
      `# Rendered by gentoo-infra's installer configuration.\n[agent]\nserver = puppet.${domain}\nenvironment = ${environment}\ncertname = ${fqdn}\n`,
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
      const p = path.join(work, `${environment}-${hostname}-${name}`);
      writeFileSync(p, content);
      return p;
    };
    const host = file("host.pem", disk.cat("/etc/ssl/gentoo-infra/host.pem"));
    let v = run("openssl", ["verify", "-CAfile", root, "-untrusted", host, host]);
    assert.equal(v.status, 0, `${label}: ${v.stdout}${v.stderr}`);
    assert.match(
      run("openssl", ["x509", "-in", host, "-noout", "-subject"]).stdout,
      new RegExp(`CN ?= ?${hostname}\\.`),
    );
    const puppetChain = file("puppet-ca.pem", disk.cat("/etc/puppetlabs/puppet/ssl/certs/ca.pem"));
    const agent = file("puppet.pem", disk.cat(`/etc/puppetlabs/puppet/ssl/certs/${fqdn}.pem`));
    v = run("openssl", ["verify", "-CAfile", root, "-untrusted", puppetChain, agent]);
    assert.equal(v.status, 0, `${label}: ${v.stdout}${v.stderr}`);
    if (m.firmware === "uefi") {
      assert.equal(disk.table.partitions[0]?.name, "efi", "an EFI system partition first");
    }
  };

  try {
    await step("a preview names the commits the binhost will serve", async () => {
      const subnet = freeSubnet(NETNS, 160, 199);
      const gateway = subnet.replace(/\.0\/24$/, ".1");
      listener = await startNotifyListener(NETNS, gateway, 20000 + (process.pid % 10000));
      await program.setConfig("subnet", subnet);
      await program.setConfig("notifyUrl", listener.url);
      await program.setConfig("treeDir", trees);
      await program.setConfig("machineCount", "1");
      // The tools builder on the second hypervisor (examples/minimal `remoteLibvirtUri`).
      await program.setConfig("remoteLibvirtUri", secondHypervisorUri());
      await program.setConfig("remoteSubnet", freeSecondSubnet());
      const push = (await previewSteps()).find((s) => /binhost-git-gentoo$/.test(s.urn));
      assert.ok(push, "the preview has the push of the tree to the binhost");
      assert.ok(
        JSON.stringify(push.newState?.inputs).includes(commitOf(gentooClone, "develop")),
        "the push names the develop commit",
      );
    });

    await step("examples/minimal goes up with web1 (BIOS) registered", async () => {
      await program.up();
      outputs = await program.outputs({ showSecrets: true });
      servers = outputs.servers as Record<string, Server>;
      writeFileSync(ca, outputs.caCertificatePem as string);
      assert.match(
        second().virsh("domstate", `${prefix}-farm-development-amd64-tools`),
        /running/,
        "the tools builder runs on the second hypervisor",
      );
      assert.equal(sshOk("pxe", "systemctl is-active dnsmasq nginx"), "active\nactive\n");
      assert.deepEqual(status(WEB1.file), {
        host: WEB1.hostname,
        generation: "1",
        netboot: "install",
        last: "none",
      });
    });

    await step("the release branch for staging is cut at develop (commit A)", async () => {
      const cut = await gentooInfra(
        [
          ...["promote", "development", "staging", "--release", RELEASE],
          ...["--repo", gentooClone, "--repo", overlayClone],
        ],
        "",
      );
      assert.equal(cut.code, 0, `${cut.stdout}${cut.stderr}`);
      assert.match(
        cut.stdout,
        new RegExp(`started ${RELEASE} at ${baseCommit.slice(0, 12)} from develop`),
      );
      assert.equal(commitOf(gentooClone, RELEASE), baseCommit);
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

    await step("linux builds its Stack's packages, signed, and publishes them", async () => {
      const outcome = await success(LINUX, 0);
      assert.deepEqual(
        // Outcome packages are PKGDIR paths: <category>/<package>/<PF>-<build id>.gpkg.tar.
        [...new Set(outcome.packages.map((p) => p.split("/").slice(0, 2).join("/")))].sort(),
        EXPECTED[LINUX],
      );
      assert.equal(outcome.published, true);
      assert.ok(outcome.durationSeconds > 0 && outcome.phases.emerge !== undefined);
      const served = parsePackagesIndex(index(LINUX).toString());
      assert.deepEqual([...new Set(served.map((e) => packageName(e.cpv)))].sort(), EXPECTED[LINUX]);
    });

    await step("tools stores only what it adds to linux", async () => {
      await success(TOOLS, 0);
      const served = parsePackagesIndex(index(TOOLS).toString());
      assert.deepEqual(served.map((e) => packageName(e.cpv)).sort(), EXPECTED[TOOLS]);
    });

    await step(
      "every served package verifies with gpg against the public signing key",
      async () => {
        const key = outputs.packageSigningPublicKey as string;
        const list = spawnSync("gpg", ["--with-colons", "--show-keys"], { input: key });
        const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(list.stdout.toString())?.[1];
        assert.ok(fpr, "the public signing key has a fingerprint");
        for (const profile of [LINUX, TOOLS]) {
          for (const entry of parsePackagesIndex(index(profile).toString())) {
            const file = path.join(work, "pkg.gpkg.tar");
            get(`${binhost()}${profile}/${entry.path}`, file);
            assert.deepEqual(verifyGpkg(file, key, fpr), [], `${profile}/${entry.path}`);
            rmSync(file);
          }
        }
      },
    );

    await step("gentoo-infra build-status shows each builder's last build", async () => {
      const status = spawnSync(
        "ip",
        ["netns", "exec", NETNS, path.join(REPO_ROOT, "scripts/gentoo-infra"), "build-status"],
        { input: JSON.stringify(outputs), encoding: "utf8", timeout: 120_000 },
      );
      assert.equal(status.status, 0, status.stderr);
      for (const profile of [LINUX, TOOLS]) {
        assert.match(status.stdout, new RegExp(`${profile}  \\(`));
      }
      assert.equal(status.stdout.match(/last build: success/g)?.length, 2, status.stdout);
    });

    await step(
      "a second build with nothing new builds nothing; the index stays byte-identical",
      async () => {
        assert.ok(listener);
        const before = sha256(index(LINUX));
        const after = listener.count(LINUX);
        const unit = unitOf(LINUX);
        const r = ssh(
          builderOf(LINUX),
          // A start while the unit still runs (the runner cleaning up after it reported) would
          // join that job instead of starting a build.
          `while [ "$(systemctl show -p ActiveState --value ${unit})" = activating ]; do sleep 2; done; sudo -n systemctl start ${unit}`,
          BUILD_TIMEOUT,
        );
        assert.equal(r.status, 0, `${r.stderr}\n${journal(LINUX)}`);
        const outcome = await success(LINUX, after);
        assert.deepEqual(outcome.packages, []);
        assert.equal(outcome.published, false);
        assert.equal(sha256(index(LINUX)), before);
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
        // Portage keeps the refused download in the machine's package cache; with the same
        // size as the good package it would stop the next emerge at its digest check. After
        // an incident the operator removes it (docs/pxe-install-host.md).
        assert.equal(onWeb1(`rm -rf ${MACHINE_PACKAGE_CACHE}/*/app-admin/sudo`).status, 0);
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
        assert.equal(onWeb1(`rm -rf ${MACHINE_PACKAGE_CACHE}/*/sys-apps/baselayout`).status, 0);
      },
    );

    await step(
      "a tree update rolls out: develop moves to a zlib bump and a baselayout fix, the preview names it and replaces nothing, the builders build it, web1 upgrades from the binhost",
      async () => {
        assert.ok(listener);
        const linuxBuilds = listener.count(LINUX);
        const toolsBuilds = listener.count(TOOLS);
        // What an operator's merges to develop do to the clone the site reads: the bump, then
        // the fix (the stand-in's `fix` is a child of `bump`).
        assert.equal(
          run("git", ["-C", gentooClone, "merge-base", "--is-ancestor", bumpCommit, fixCommit])
            .status,
          0,
          "fix is on top of bump",
        );
        const moved = run("git", [
          "-C",
          gentooClone,
          "update-ref",
          "refs/heads/develop",
          fixCommit,
        ]);
        assert.equal(moved.status, 0, moved.stderr);
        assertSnapshotPreview(await previewSteps(), fixCommit, "development");
        await program.up();
        const linux = await success(LINUX, linuxBuilds, outputs, fixCommit);
        assert.equal(linux.treeCommit, fixCommit);
        assert.equal(linux.published, true);
        for (const built of [
          /^sys-libs\/zlib\/zlib-1\.3\.2-/,
          /^sys-apps\/baselayout\/baselayout-2\.17-r1-/,
        ]) {
          assert.ok(
            linux.packages.some((p) => built.test(p)),
            `linux built ${built.source}: ${linux.packages.join(" ")}`,
          );
        }
        const served = servedOf(outputs, LINUX);
        assert.ok(served.includes("sys-libs/zlib-1.3.2"), served.join(" "));
        assert.ok(served.includes("sys-apps/baselayout-2.17-r1"), served.join(" "));
        const tools = await success(TOOLS, toolsBuilds, outputs, fixCommit);
        assert.equal(tools.treeCommit, fixCommit);

        const sync = onWeb1("gentoo-infra-sync");
        assert.equal(sync.status, 0, `${sync.stdout}${sync.stderr}`);
        assert.match(sync.stdout, new RegExp(`gentoo at ${fixCommit}`));
        const r = onWeb1(`${MACHINE_EMERGE} --update --deep --newuse @world 2>&1`);
        assert.equal(r.status, 0, tail(r.stdout, 60));
        assert.equal(onWeb1(installedCommand("sys-libs/zlib")).stdout, "zlib-1.3.2\n");
        assert.equal(
          onWeb1(installedCommand("sys-apps/baselayout")).stdout,
          "baselayout-2.17-r1\n",
        );
        assert.match(onWeb1(installedCommand("net-misc/openssh")).stdout, /^openssh-\S+\n$/);
        await powerOff(web1, WEB1.hostname);
      },
    );

    await step(
      "a failing ebuild fails the build and leaves the published repository served",
      async () => {
        assert.ok(listener);
        const before = index(LINUX);
        const entries = parsePackagesIndex(before.toString());
        const linuxBuilds = listener.count(LINUX);
        const toolsBuilds = listener.count(TOOLS);
        await program.setConfig("gentooCommit", brokenCommit);
        await program.up();
        const outcome = await outcomeOf(LINUX, linuxBuilds, brokenCommit);
        assert.equal(outcome.status, "failure", JSON.stringify(outcome));
        assert.equal(outcome.step, "update-world");
        assert.equal(outcome.treeCommit, brokenCommit);
        assert.equal(outcome.published, false);
        assert.equal(sha256(index(LINUX)), sha256(before), "the served index is unchanged");
        for (const entry of entries) {
          get(`${binhost()}${LINUX}/${entry.path}`, "/dev/null");
        }
        // tools builds the same broken snapshot: it fails too, and its repository stays.
        const tools = await outcomeOf(TOOLS, toolsBuilds, brokenCommit);
        assert.equal(tools.status, "failure", JSON.stringify(tools));
      },
    );

    await step("the install host took web1's install files off its web root", async () => {
      const out = sshOk(
        "pxe",
        `cat /srv/pxe/www/ipxe/${WEB1.file}.ipxe; ls /srv/pxe/www/install /srv/pxe/www/secrets`,
      );
      assert.match(out, /web1 .* is installed \(generation 1\); boot its local disk/);
      assert.doesNotMatch(
        out,
        new RegExp(`${WEB1.file}\\.json|^${WEB1.file}$`, "m"),
        "no install configuration or secrets left",
      );
    });

    await step(
      "web1's disk: binrepos.conf, Puppet, host and Puppet certificates from the RootCa",
      async () => {
        assertInstalledDisk(web1, WEB1.hostname, outputs, "development");
      },
    );

    await step(
      "staging and production, the same program's stacks, go up at the release branch and master and build their commit (A)",
      async () => {
        assert.ok(listener);
        // The release branch was cut at A before develop moved; master is A.
        assert.equal(commitOf(gentooClone, RELEASE), baseCommit);
        assert.equal(commitOf(gentooClone, "master"), baseCommit);
        const port = new URL(listener.url).port;
        let from = 160;
        for (const [env, environment, machines] of [
          [staging, "staging", "0"],
          [production, "production", "1"],
        ] as const) {
          const subnet = freeSubnet(NETNS, from, 199);
          from = Number(subnet.split(".")[2]) + 1;
          const gateway = subnet.replace(/\.0\/24$/, ".1");
          await env.setConfig("environment", environment);
          await env.setConfig("subnet", subnet);
          await env.setConfig("notifyUrl", `http://${gateway}:${port}/builds`);
          await env.setConfig("treeDir", trees);
          await env.setConfig("tools", "false");
          await env.setConfig("machineCount", machines);
        }
        // production's web1 installs with UEFI (OVMF), from its install host.
        await production.setConfig("web1Firmware", "uefi");
        // Both at once: two stacks of two and three VMs; development's scenarios are done.
        const ups = [staging.up(), production.up()];
        environmentsUp = Promise.allSettled(ups).then(() => undefined);
        await Promise.all(ups);
        stagingOutputs = await staging.outputs({ showSecrets: true });
        productionOutputs = await production.outputs({ showSecrets: true });
        for (const [profile, site] of [
          [STAGING, stagingOutputs],
          [PRODUCTION, productionOutputs],
        ] as const) {
          assert.deepEqual(site.buildProfiles, [profile]);
          const first = await success(profile, 0, site);
          assert.equal(first.treeCommit, baseCommit, `${profile} built its branch's commit`);
          const served = servedOf(site, profile);
          assert.ok(served.includes("sys-libs/zlib-1.3.1"), served.join(" "));
          assert.ok(!served.includes("sys-libs/zlib-1.3.2"), served.join(" "));
        }
        assert.equal(
          (stagingOutputs.servers as Record<string, unknown>).pxe,
          undefined,
          "staging has no machines and so no install host",
        );
      },
    );

    await step(
      "staging previews no change until promoted; then it builds the promoted commit and serves the same packages as development, which builds nothing",
      async () => {
        assert.ok(listener);
        assert.deepEqual(
          changesOf(await previewSteps(staging)),
          [],
          "develop moved, staging's release branch did not: staging previews no change",
        );
        const developmentBuilds = [listener.count(LINUX), listener.count(TOOLS)];
        const stagingBuilds = listener.count(STAGING);
        const promoted = await gentooInfra(
          ["promote", "development", "staging", "--repo", gentooClone, "--repo", overlayClone],
          "",
        );
        assert.equal(promoted.code, 0, `${promoted.stdout}${promoted.stderr}`);
        t.diagnostic(promoted.stdout.trim());
        assert.equal(commitOf(gentooClone, RELEASE), fixCommit, "a fast-forward to develop");
        assertSnapshotPreview(await previewSteps(staging), fixCommit, "staging");
        await staging.up();
        // While staging's builder builds, production's web1 installs (the next scenarios'
        // machine, from production's install host, at master = A).
        const plan = machineBootPlan(productionOutputs, WEB1.hostname);
        domains.push(plan.domain.name);
        productionWeb1 = { ...plan.domain, firmware: "uefi" };
        bootStarted = Date.now();
        productionBoot = gentooInfra(
          ["machine", "boot", WEB1.hostname, "--package", "sys-apps/baselayout"],
          JSON.stringify(productionOutputs),
        );
        const built = await success(STAGING, stagingBuilds, stagingOutputs, fixCommit);
        assert.equal(built.treeCommit, fixCommit);
        assert.equal(built.published, true);
        assert.deepEqual(
          servedOf(stagingOutputs, STAGING),
          servedOf(outputs, LINUX),
          "staging serves the package versions development serves",
        );
        assert.deepEqual(
          [listener.count(LINUX), listener.count(TOOLS)],
          developmentBuilds,
          "development's builders built nothing for staging's promotion",
        );
      },
    );

    await step(
      "gentoo-infra machine boot web1 (production, UEFI): it installs over PXE, boots its own disk and installs a package from the binhost; a second boot is refused",
      async () => {
        assert.ok(productionBoot && productionWeb1, "production's web1 was switched on");
        const m = productionWeb1;
        const r = await productionBoot;
        t.diagnostic(
          `web1 (production, uefi) with gentoo-infra machine boot: switched on to sys-apps/baselayout installed ${((Date.now() - bootStarted) / 1000).toFixed(1)} s (beside staging's build)`,
        );
        for (const line of r.stdout.split("\n").filter((l) => !l.startsWith("  console |"))) {
          t.diagnostic(line);
        }
        assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
        assert.match(
          r.stdout,
          /web1: a blank UEFI machine \(\S+, MAC 52:54:00:47:49:50, 4 GiB disk\) is switched on/,
        );
        assert.match(r.stdout, /console \| .*gentoo-infra installer/);
        assert.match(
          r.stdout,
          /web1: install host: netboot local, last report: success \(generation 1/,
        );
        assert.match(r.stdout, /web1: ready: sshd listens/);
        assert.match(r.stdout, new RegExp(`gentoo-infra-sync: gentoo at ${baseCommit}`));
        // production's web1 installed from production's install host, at the commit A.
        assert.match(
          r.stdout,
          /web1: installed sys-apps\/baselayout-2\.17 from the binhost; Portage verified its signature/,
        );
        const text = readSerial(m.log);
        assert.match(
          FIRST_DISK_BOOT.exec(text)?.[0] ?? "",
          /hostname=web1 fqdn=web1\.\S+ environment=production stack=linux arch=amd64 generation=1/,
        );
        assert.match(
          text,
          /BdsDxe: starting Boot[0-9A-F]+ "UEFI PXEv4/,
          "OVMF booted from the network",
        );
        assert.match(
          text,
          /BdsDxe: starting Boot[0-9A-F]+ "UEFI Misc Device"/,
          "then from the disk",
        );
        // A second boot of the same machine is refused before anything is touched.
        const again = await gentooInfra(
          ["machine", "boot", WEB1.hostname],
          JSON.stringify(productionOutputs),
        );
        assert.equal(again.code, 1);
        assert.match(again.stderr, /exists already .*gentoo-infra machine remove web1/);
      },
    );

    await step(
      "a fix cherry-picked into production reaches its builder and its machine without the rest of development; development is unaffected",
      async () => {
        assert.ok(listener);
        const target = (productionOutputs.machines as Record<string, SshTarget>)[WEB1.hostname];
        assert.ok(target, "production's web1 in its machines output");
        const onMachine = (command: string) => {
          const r = machineSsh.ssh("production-web1", target, command);
          assert.equal(
            r.status,
            0,
            `production web1: ${command}: ${tail(r.stdout, 60)}${r.stderr}`,
          );
          return r.stdout;
        };

        const developmentBuilds = [listener.count(LINUX), listener.count(TOOLS)];
        const productionBuilds = listener.count(PRODUCTION);
        const picked = await gentooInfra(
          [
            ...["promote", "development", "production", "--allow-skip"],
            ...["--cherry-pick", fixCommit, "--repo", gentooClone],
          ],
          "",
          OPERATOR,
        );
        assert.equal(picked.code, 0, `${picked.stdout}${picked.stderr}`);
        t.diagnostic(picked.stdout.trim());
        const master = commitOf(gentooClone, "master");
        assert.equal(
          run("git", ["-C", gentooClone, "rev-parse", `${master}^`]).stdout.trim(),
          baseCommit,
          "master is A plus the picked fix, one commit",
        );
        assert.equal(
          run("git", ["-C", gentooClone, "merge-base", "--is-ancestor", bumpCommit, master]).status,
          1,
          "the bump is not on master",
        );
        assertSnapshotPreview(await previewSteps(production), master, "production");
        await production.up();
        const built = await success(PRODUCTION, productionBuilds, productionOutputs, master);
        assert.equal(built.treeCommit, master);
        assert.ok(
          built.packages.some((p) => /^sys-apps\/baselayout\/baselayout-2\.17-r1-/.test(p)),
          built.packages.join(" "),
        );
        const served = servedOf(productionOutputs, PRODUCTION);
        assert.ok(served.includes("sys-apps/baselayout-2.17-r1"), served.join(" "));
        assert.ok(!served.includes("sys-libs/zlib-1.3.2"), served.join(" "));

        assert.match(onMachine("gentoo-infra-sync"), new RegExp(`gentoo at ${master}`));
        onMachine(`${MACHINE_EMERGE} --update --deep --newuse @world 2>&1`);
        assert.equal(onMachine(installedCommand("sys-apps/baselayout")), "baselayout-2.17-r1\n");
        assert.equal(onMachine(installedCommand("sys-libs/zlib")), "zlib-1.3.1\n");

        // Development: no build, and its preview shows no change.
        assert.deepEqual([listener.count(LINUX), listener.count(TOOLS)], developmentBuilds);
        assert.deepEqual(changesOf(await previewSteps()), [], "development previews no change");
        assert.equal(commitOf(gentooClone, "develop"), fixCommit);

        // What production's install wrote on web1's disk (the UEFI layout, production's
        // binrepos.conf, Puppet environment and certificates from production's RootCa).
        assert.ok(productionWeb1);
        await powerOff(productionWeb1, WEB1.hostname, productionOutputs);
        assertInstalledDisk(productionWeb1, WEB1.hostname, productionOutputs, "production");
      },
    );

    await step("destroy leaves no domain, volume, pool or network", async () => {
      const removed = await gentooInfra(
        ["machine", "remove", "--all"],
        JSON.stringify(productionOutputs),
      );
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /web1: removed domain \S+-machine-web1, /);
      assert.equal(existsSync(machineBootPlan(productionOutputs, WEB1.hostname).dir), false);
      for (const name of domains) removeDomain(name);
      domains.length = 0;
      for (const env of environmentPrograms) {
        await env.destroy();
        destroyedEnvironments.add(env);
        assert.deepEqual(libvirtObjects(`gi-${env.stack}`), []);
      }
      await program.destroy();
      destroyed = true;
      assert.deepEqual(libvirtObjects(prefix), []);
      assert.equal(existsSync(`/var/lib/libvirt/images/${prefix}`), false);
      assert.deepEqual(second().libvirtObjects(prefix), [], "nor on the second hypervisor");
    });
  } finally {
    listener?.stop();
    for (const name of domains) removeDomain(name);
    // An up still running holds its stack's lock, a machine boot its domain: let them end.
    await environmentsUp?.catch(() => undefined);
    await productionBoot?.catch(() => undefined);
    for (const env of environmentPrograms) {
      if (!destroyedEnvironments.has(env)) {
        await env.destroy().catch(() => undefined);
        removeLibvirtObjects(`gi-${env.stack}`);
      }
      await env.cleanup({ force: !destroyedEnvironments.has(env) });
    }
    if (!destroyed) {
      await program.destroy().catch(() => undefined);
      removeLibvirtObjects(prefix); // when destroy could not run (a timed-out up keeps the lock)
      second().removeLibvirtObjects(prefix);
    }
    await program.cleanup({ force: !destroyed });
    rmSync(work, { recursive: true, force: true });
  }
});
