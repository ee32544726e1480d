/**
 * libvirt tier for the installer (docs/installer.md): installer/check-installer boots blank
 * TCG domains in the libvirt harness (network namespace `gentoo-infra`) with the installer
 * kernel and initramfs of scripts/build-installer, against install configurations rendered
 * by lib/pxe/install-config.ts and the stage STAND-IN of scripts/build-stage-standin served
 * by nginx inside the namespace (HTTPS from a throwaway CA). It proves, in this order:
 * an unreachable stage host and a stage digest mismatch each stop the installer with a
 * clear console message and a failure report, leaving no partition table and no boot code;
 * a BIOS machine then installs on that same disk (a new install after a failure works),
 * reports success, has the site's CA in the installed system's trust bundle, and boots the
 * stage (Debian systemd with real Portage) from its disk alone, showing host name,
 * environment and Stack, its installed address, Portage's version and "ready" (sshd
 * listens) on its serial console. Every domain, network, process and file it made is gone
 * afterwards. The check's uefi case (GI_CHECK_CASES) is not run here: the e2e tier installs a
 * UEFI machine (OVMF) through PxeInstallHost's whole PXE path, and one UEFI install per CI
 * run is enough (`installer/check-installer` alone runs all four cases).
 *
 * The harness is leased (`scripts/libvirt-harness use|release <pid>`): started when it is
 * not running, stopped by the last lease holder; one started by hand is left running.
 * Needs root. A missing tool or root fails
 * under CI=true (test/support/tools.ts).
 * Not proven here: PXE and iPXE (the installer is booted directly), PxeInstallHost's own
 * nginx and netboot switch (its render and component tiers), a real Gentoo stage, an SSH
 * login or an emerge from a binhost on the installed machine (the e2e tier).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { inCi, requireTools } from "../support/tools";

const ROOT = path.resolve(__dirname, "../..");
const CACHE = process.env.GI_CACHE ?? path.join(ROOT, ".cache");
const HARNESS = path.join(ROOT, "scripts/libvirt-harness");
const CHECK = path.join(ROOT, "installer/check-installer");
const STATE = path.join(CACHE, "libvirt-harness");
const APT_HINT = "run scripts/setup (step 30-apt installs it from scripts/apt-packages.txt)";
const TOOLS = [
  "libvirtd",
  "virtlogd",
  "virsh",
  "qemu-system-x86_64",
  "qemu-img",
  "nginx",
  "openssl",
  "sfdisk",
  "debugfs",
  "file",
  "jq",
  "zstd",
  "xz",
  "apt-get",
  "dpkg-deb",
  "ip",
  "chroot",
  "debootstrap",
];
const OVMF = "/usr/share/OVMF/OVMF_CODE_4M.fd";
const MINUTE = 60_000;

function run(
  cmd: string,
  argv: readonly string[],
  timeout = 5 * MINUTE,
  env: NodeJS.ProcessEnv = {},
) {
  const r = spawnSync(cmd, argv, {
    encoding: "utf8",
    timeout,
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`, error: r.error };
}

/** Like requireTools, for running as root: skipped locally, a failure under CI=true. */
function requireRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  const message = "needs root (network namespaces, libvirtd)";
  if (inCi) throw new Error(`CI=true and ${message}`);
  t.skip(message);
  return false;
}

/** Like requireTools, for OVMF (a file, not a command). */
function requireOvmf(t: TestContext): boolean {
  if (existsSync(OVMF)) return true;
  const message = `missing ${OVMF}: ${APT_HINT} (Debian: ovmf)`;
  if (inCi) throw new Error(`CI=true and ${message}`);
  t.skip(message);
  return false;
}

function ready(t: TestContext): boolean {
  return requireRoot(t) && requireTools(t, TOOLS, APT_HINT) && requireOvmf(t);
}

function pidOf(daemon: "libvirtd" | "virtlogd"): number {
  return Number(readFileSync(path.join(STATE, `${daemon}.pid`), "utf8").trim());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Names of libvirt objects (domains or networks) whose names start with `prefix`. */
function libvirtNames(kind: "list" | "net-list", prefix: string): string[] {
  const r = run("virsh", ["-q", "-c", "qemu:///system", kind, "--all", "--name"]);
  assert.equal(r.status, 0, r.output);
  return r.output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith(prefix));
}

describe("the installer's shell scripts", () => {
  it("are shellcheck-clean (POSIX sh for what runs in the guests)", (t) => {
    if (!requireTools(t, ["shellcheck"], APT_HINT)) return;
    const r = run("shellcheck", [
      "-x",
      "installer/init",
      "installer/udhcpc.script",
      "installer/standin/report",
      "installer/lib.sh",
      "installer/check-installer",
      "scripts/build-installer",
      "scripts/build-stage-standin",
    ]);
    assert.equal(r.status, 0, r.output);
    for (const file of ["installer/init", "installer/udhcpc.script", "installer/standin/report"]) {
      assert.match(readFileSync(path.join(ROOT, file), "utf8"), /^#!\/bin\/sh\n/, file);
    }
  });
});

describe("the installer installs a blank TCG machine (BIOS) and fails safely", () => {
  let harnessUp = false;
  let started: { libvirtd: number; virtlogd: number } | undefined;

  before(() => {
    if (
      process.getuid?.() !== 0 ||
      TOOLS.some((c) => spawnSync("sh", ["-c", `command -v ${c}`]).status !== 0)
    ) {
      return;
    }
    // A lease (not start/stop): test files run in parallel, and the last one to finish
    // stops a harness that a lease started; one started by hand is left running.
    const r = run(HARNESS, ["use", String(process.pid)]);
    assert.equal(r.status, 0, r.output);
    started = { libvirtd: pidOf("libvirtd"), virtlogd: pidOf("virtlogd") };
    harnessUp = true;
  });

  after(() => {
    if (!harnessUp || !started) return;
    const r = run(HARNESS, ["release", String(process.pid)]);
    assert.equal(r.status, 0, r.output);
    if (!/libvirt-harness: stopped$/m.test(r.output)) return; // still in use, or started by hand
    // Only the daemons: processes of other files' guests (without a lease) may remain in the
    // namespace; this file's own domains, network and nginx are checked by the test above.
    assert.equal(alive(started.libvirtd), false, "libvirtd still runs after stop");
    assert.equal(alive(started.virtlogd), false, "virtlogd still runs after stop");
  });

  it("build-installer and build-stage-standin are cached: a second run is quick", (t) => {
    if (!ready(t)) return;
    for (const script of ["scripts/build-installer", "scripts/build-stage-standin"]) {
      const first = run(path.join(ROOT, script), [], 20 * MINUTE);
      assert.equal(first.status, 0, first.output);
      const t0 = Date.now();
      const again = run(path.join(ROOT, script), []);
      assert.equal(again.status, 0, again.output);
      assert.match(again.output, /^up to date: /m);
      assert.ok(Date.now() - t0 < 15_000, `${script} took ${Date.now() - t0} ms when cached`);
    }
    const stage = path.join(CACHE, "stages/stage4-amd64-standin.tar.zst");
    const digest = readFileSync(`${stage}.sha512`, "utf8");
    assert.match(digest, /^[0-9a-f]{128} {2}stage4-amd64-standin\.tar\.zst\n$/);
    const listing = run("tar", ["--zstd", "-tf", stage]);
    assert.equal(listing.status, 0, listing.output);
    const entries = new Set(listing.output.split("\n"));
    for (const entry of [
      "./usr/sbin/init",
      "./usr/sbin/sshd",
      "./usr/local/bin/emerge",
      "./usr/lib/gentoo-infra/standin-report",
      "./etc/systemd/system/gentoo-infra-standin-report.service",
      "./etc/systemd/system/gentoo-infra-ssh-hostkey.service",
      "./etc/os-release",
      "./etc/resolv.conf",
      "./etc/machine-id",
    ]) {
      assert.ok(entries.has(entry), `${entry} missing from the stage`);
    }
    for (const entry of [
      "./usr/bin/cloud-init",
      "./usr/sbin/nginx",
      "./usr/sbin/dnsmasq",
      "./etc/cloud/",
    ]) {
      assert.ok(!entries.has(entry), `${entry} is in the stage`);
    }
    assert.doesNotMatch(listing.output, /^\.\/etc\/ssh\/ssh_host_/m, "SSH host keys in the stage");
    assert.match(listing.output, /^\.\/boot\/vmlinuz-\S+-cloud-amd64$/m);
    assert.match(listing.output, /^\.\/boot\/initrd\.img-\S+-cloud-amd64$/m);
  });

  it("check-installer: unreachable stage host and digest mismatch fail safely; BIOS installs on the same disk and boots from it", {
    timeout: 60 * MINUTE,
  }, (t) => {
    if (!ready(t)) return;
    assert.ok(harnessUp);
    // The uefi case is left to the e2e tier, where a UEFI machine installs through the whole
    // PXE path (OVMF, snponly.efi, iPXE) of PxeInstallHost: one UEFI install per CI run.
    const r = run(CHECK, [], 55 * MINUTE, { GI_CHECK_CASES: "unreachable mismatch bios" });
    assert.equal(r.error, undefined, `${r.error}\n${r.output}`);
    assert.equal(r.status, 0, r.output);
    for (const line of [
      /OK unreachable: FAILED: could not fetch https:\/\/\S+:8443\/\S+: host unreachable/,
      /OK unreachable: report status=failed, no partition table and no boot code left/,
      /OK mismatch: FAILED: stage digest mismatch/,
      /OK mismatch: report status=failed, no partition table and no boot code left/,
      /OK bios: installed and reported status=success/,
      /OK bios: disk has GPT \(gpt bios-boot swap root\)/,
      /OK bios: booted from disk in [\d.]+ s: gentoo-infra stage STAND-IN: hostname=web-bios fqdn=web-bios\.check\.test environment=production stack=web/,
      /OK bios: the CA is in \/etc\/gentoo-infra\/ca\.pem and system-trusted/,
      /OK bios: gentoo-infra stage STAND-IN: \w+ 52:54:00:67:01:01 192\.168\.\d+\.21\/24/,
      /OK bios: gentoo-infra stage STAND-IN: portage: Portage \d[\w.]*; ready \(sshd listens\)/,
    ]) {
      assert.match(r.output, line);
    }
    const summary = r.output.match(/OK bios_install=.*$/m);
    assert.ok(summary, r.output);
    t.diagnostic(summary[0]);
    assert.deepEqual(libvirtNames("list", "gi-check-installer-"), []);
    assert.deepEqual(libvirtNames("net-list", "gi-check-inst-"), []);
    const work = r.output.match(/work directory (\/\S+),/);
    assert.ok(work, r.output);
    assert.equal(existsSync(work[1]), false, `${work[1]} was not removed`);
    const nginx = r.output.match(/nginx (\d+) serves/);
    assert.ok(nginx, r.output);
    assert.equal(alive(Number(nginx[1])), false, "nginx still runs");
  });
});
