/**
 * libvirt tier for the STAND-IN base image (docs/base-image.md) and the test harness
 * (docs/libvirt.md "The test harness"): a real libvirtd in the network namespace
 * `gentoo-infra` boots the image under TCG and scripts/check-base-image proves from inside
 * the namespace that cloud-init finished, that the admin user logs in over SSH with the key
 * from user-data, that nginx and dnsmasq are there and that the serial console shows the
 * boot; every domain, network and file it made is gone afterwards.
 *
 * The harness is leased (`scripts/libvirt-harness use|release <pid>`): started when it is
 * not running, stopped by the last lease holder (and then checked to leave no process
 * behind); a harness started by hand is left running.
 * Needs root. A missing tool or root fails under CI=true (test/support/tools.ts).
 * Not proven here: the Pulumi components on libvirt (their own libvirt-tier tests) or a real
 * Gentoo image (docs/base-image.md says how a site points the components at one).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { inCi, requireTools } from "../support/tools";

const ROOT = path.resolve(__dirname, "../..");
const CACHE = process.env.GI_CACHE ?? path.join(ROOT, ".cache");
const NETNS = process.env.GI_NETNS ?? "gentoo-infra";
const HARNESS = path.join(ROOT, "scripts/libvirt-harness");
const STATE = path.join(CACHE, "libvirt-harness");
const APT_HINT = "run scripts/setup (step 30-apt installs it from scripts/apt-packages.txt)";
const TOOLS = [
  "libvirtd",
  "virtlogd",
  "virsh",
  "qemu-system-x86_64",
  "qemu-img",
  "genisoimage",
  "debootstrap",
  "mkfs.ext4",
  "sfdisk",
  "ssh",
  "ssh-keygen",
  "curl",
  "ip",
];
const MINUTE = 60_000;

function run(cmd: string, argv: readonly string[], timeout = 5 * MINUTE) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", timeout, cwd: ROOT });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`, error: r.error };
}

/** Like requireTools, for running as root: skipped locally, a failure under CI=true. */
function requireRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  const message = "needs root (network namespaces, libvirtd, debootstrap)";
  if (inCi) throw new Error(`CI=true and ${message}`);
  t.skip(message);
  return false;
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

describe("the STAND-IN base image boots under TCG in the libvirt harness", () => {
  let ready = false;
  let started: { libvirtd: number; virtlogd: number } | undefined;

  before(() => {
    // The tools and root are checked per test (skip or CI failure); here only the harness.
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
    ready = true;
  });

  after(() => {
    if (!ready || !started) return;
    const r = run(HARNESS, ["release", String(process.pid)]);
    assert.equal(r.status, 0, r.output);
    if (!/libvirt-harness: stopped$/m.test(r.output)) return; // still in use, or started by hand
    assert.equal(alive(started.libvirtd), false, "libvirtd still runs after stop");
    assert.equal(alive(started.virtlogd), false, "virtlogd still runs after stop");
    // stop removes the namespace when it made it and nothing is left in it; a namespace it
    // found in place stays, and must then be empty.
    if (existsSync(`/run/netns/${NETNS}`)) {
      assert.equal(
        run("ip", ["netns", "pids", NETNS]).output.trim(),
        "",
        "processes left in the namespace",
      );
    } else {
      assert.match(r.output, new RegExp(`removed netns ${NETNS}$`, "m"));
    }
  });

  it("runs libvirtd and virtlogd inside the namespace; start again changes nothing", (t) => {
    if (!requireRoot(t) || !requireTools(t, TOOLS, APT_HINT)) return;
    assert.ok(ready && started);
    const nsInode = run("stat", ["-L", "-c", "%i", `/run/netns/${NETNS}`]).output.trim();
    for (const pid of [started.libvirtd, started.virtlogd]) {
      const inode = run("stat", ["-L", "-c", "%i", `/proc/${pid}/ns/net`]).output.trim();
      assert.equal(inode, nsInode, `pid ${pid} is not in netns ${NETNS}`);
    }
    const again = run(HARNESS, ["start"]);
    assert.equal(again.status, 0, again.output);
    assert.match(again.output, /already running: libvirtd \d+ in netns/);
    assert.deepEqual({ libvirtd: pidOf("libvirtd"), virtlogd: pidOf("virtlogd") }, started);
    const status = run(HARNESS, ["status"]);
    assert.equal(status.status, 0, status.output);
    assert.equal(run("virsh", ["-c", "qemu:///system", "version"]).status, 0);
  });

  it("check-base-image: SSH with the user-data key, cloud-init done, nginx and dnsmasq, serial log; cleans up", {
    timeout: 40 * MINUTE,
  }, (t) => {
    if (!requireRoot(t) || !requireTools(t, TOOLS, APT_HINT)) return;
    assert.ok(ready);
    const r = run(path.join(ROOT, "scripts/check-base-image"), [], 35 * MINUTE);
    assert.equal(r.error, undefined, `${r.error}\n${r.output}`);
    assert.equal(r.status, 0, r.output);
    const ok = r.output.match(/OK boot_to_ssh=(\d+) boot_to_cloud_init_done=(\d+)/);
    assert.ok(ok, r.output);
    t.diagnostic(`boot to SSH ${ok[1]} s, to cloud-init done ${ok[2]} s (TCG)`);
    for (const line of [
      /SSH login as gi-admin with the user-data key after \d+ s/,
      /guest: cloud-init=done/,
      /guest: binaries=\/usr\/sbin\/nginx \/usr\/sbin\/dnsmasq/,
      /serial console log shows kernel, systemd, login prompt, runcmd marker and cloud-init's end/,
    ]) {
      assert.match(r.output, line);
    }
    const dom = r.output.match(/domain (gi-check-base-image-\S+) started/);
    const net = r.output.match(/network (gi-check-base-\d+) /);
    assert.ok(dom && net, r.output);
    assert.deepEqual(libvirtNames("list", dom[1]), [], "the check's domain is left");
    assert.deepEqual(libvirtNames("net-list", net[1]), [], "the check's network is left");
    const tmpDir = r.output.match(/serial log (\/\S+)\/console\.log/);
    assert.ok(tmpDir, r.output);
    assert.equal(run("test", ["-e", tmpDir[1]]).status, 1, `${tmpDir[1]} was not removed`);
  });

  it("build-base-image is cached: a second run is instant", { timeout: 30 * MINUTE }, (t) => {
    if (!requireRoot(t) || !requireTools(t, TOOLS, APT_HINT)) return;
    // The first run builds only if the inputs changed since the check above (someone edited
    // the package list meanwhile); the second must find the image up to date.
    const first = run(path.join(ROOT, "scripts/build-base-image"), [], 25 * MINUTE);
    assert.equal(first.status, 0, first.output);
    const t0 = Date.now();
    const r = run(path.join(ROOT, "scripts/build-base-image"), []);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /up to date: .*debian-standin-amd64\.qcow2/);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  });
});
