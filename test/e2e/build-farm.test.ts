/**
 * e2e tier (issue 12): the build farm builds for real. examples/minimal goes up on the
 * harness's libvirtd (TCG, Pulumi inside the network namespace) with its two builders
 * (linux, and tools: an application Stack on linux), the binhost serving the stand-in tree
 * and overlay over git (the commits read from scripts/build-tree-standin's clones) and the
 * stand-in's distfile; a real HTTP listener in the namespace receives every outcome. Then:
 * - `up` starts the first build on each builder: real Portage in the builder's throwaway root
 *   clones the pinned commits from the binhost, emerges @world and the kernel stand-in into
 *   gpkg signed with the RootCa's package-signing key, verifies them, publishes;
 * - the binhost's `Packages` of development/amd64/linux lists exactly the linux Stack's
 *   packages (its @system, the dependency, the kernel), and that of development/amd64/tools
 *   exactly what tools adds (its application package): the base's packages came from the
 *   binhost, not from a second build;
 * - every served package verifies with gpg against the public signing key alone (Manifest
 *   signature, detached signatures, sizes and SHA512);
 * - each outcome reached the listener (status, packages, duration, phases);
 *   `gentoo-infra build-status` shows the last builds;
 * - a second build with nothing new builds nothing and leaves the served index byte-identical;
 * - pinning the tree to the stand-in's `broken` branch (a failing ebuild): the build reports
 *   failure at update-world, and what was published before stays intact and served.
 * STAND-INS: the builder userland is Debian (scripts/build-base-image) with real Portage from
 * PyPI; the Gentoo tree and overlay are scripts/build-tree-standin's. Not proven here:
 * machines installing from the binhost with Portage (issue 13), catalyst stages.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { freeSubnet, run } from "../support/blank-machine";
import {
  fetchFromBinhost,
  type NotifyListener,
  packageName,
  parsePackagesIndex,
  startNotifyListener,
  verifyGpkg,
} from "../support/build-site";
import { NETNS, useLibvirtHarness } from "../support/harness";
import { libvirtObjects, removeLibvirtObjects } from "../support/libvirt";
import { PulumiProgram, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { scenarioSteps } from "../support/steps";
import { requireFiles, requireRoot, requireTools } from "../support/tools";

const CACHE = process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache");
const TREES = path.join(CACHE, "trees");
const FILES = [
  path.join(CACHE, "images/debian-standin-amd64.qcow2"),
  path.join(CACHE, "installer/amd64/vmlinuz"),
  path.join(CACHE, "installer/amd64/initrd.img"),
  path.join(TREES, "gentoo.git"),
  path.join(TREES, "overlay.git"),
];
const LINUX = "development/amd64/linux";
const TOOLS = "development/amd64/tools";
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
const isRoot = () => process.getuid?.() === 0;
useLibvirtHarness(isRoot);

interface Server {
  address: string;
  user: string;
  privateKeyOpenssh: string;
}

test("the build farm builds, signs and publishes with real Portage; a no-op rebuild changes nothing; a failing build keeps what was published", async (t) => {
  if (!requireRoot(t, "network namespaces, libvirtd")) return;
  if (!requireTools(t, ["pulumi", "virsh", "ssh", "ip", "curl", "gpg", "git"], TOOLCHAIN_HINT)) {
    return;
  }
  if (!requireFiles(t, FILES, "run scripts/setup (images, scripts/build-tree-standin)")) return;

  const broken = run("git", ["-C", path.join(TREES, "gentoo.git"), "rev-parse", "broken"]);
  assert.equal(broken.status, 0, `the stand-in tree has a broken branch: ${broken.stderr}`);
  const brokenCommit = broken.stdout.trim();

  const subnet = freeSubnet(NETNS, 170, 199);
  const prefix3 = subnet.replace(/\.0\/24$/, "");
  const program = await PulumiProgram.create("examples/minimal", {
    netns: NETNS,
    stack: `bf-${randomBytes(2).toString("hex")}`,
  });
  const prefix = `gi-${program.stack}`;
  const work = mkdtempSync(path.join(tmpdir(), "gi-build-e2e-"));
  let destroyed = false;
  let listener: NotifyListener | undefined;
  const step = scenarioSteps(t);
  let outputs: Record<string, unknown> = {};
  let servers: Record<string, Server> = {};
  const ssh = (name: string, command: string, timeout = 120_000) => {
    const server = servers[name];
    assert.ok(server, `server ${name} in the outputs`);
    const key = path.join(work, `${name}.key`);
    writeFileSync(key, server.privateKeyOpenssh);
    chmodSync(key, 0o600);
    return run(
      "ip",
      [
        ...["netns", "exec", NETNS, "ssh", "-i", key, "-o", "BatchMode=yes"],
        ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
        `${server.user}@${server.address}`,
        command,
      ],
      timeout,
    );
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
  /** The last outcome, with the builder's journal when it is not what the test wants. */
  const journal = (profile: string) => {
    const name = `builder-${profile.replaceAll("/", "-")}`;
    const unit = `gentoo-infra-build-${profile.replaceAll("/", "-")}.service`;
    return ssh(name, `sudo -n journalctl -u ${unit} --no-pager -n 80`).stdout;
  };

  try {
    await step("a preview names the commits the binhost will serve", async () => {
      listener = await startNotifyListener(NETNS, `${prefix3}.1`, 20000 + (process.pid % 10000));
      await program.setConfig("subnet", subnet);
      await program.setConfig("notifyUrl", listener.url);
      const gentoo = run("git", ["-C", path.join(TREES, "gentoo.git"), "rev-parse", "develop"]);
      const preview = await program.run([
        ...["preview", "--non-interactive", "--json", "--stack", program.stack],
      ]);
      const steps = JSON.parse(preview.stdout).steps as {
        urn: string;
        newState?: { inputs?: unknown };
      }[];
      const push = steps.find((s) => /binhost-git-gentoo$/.test(s.urn));
      assert.ok(push, "the preview has the push of the tree to the binhost");
      assert.ok(
        JSON.stringify(push.newState?.inputs).includes(gentoo.stdout.trim()),
        "the push names the develop commit",
      );
    });

    await step("up starts the first build of each builder", async () => {
      await program.up();
      outputs = await program.outputs({ showSecrets: true });
      servers = outputs.servers as Record<string, Server>;
      writeFileSync(ca, outputs.caCertificatePem as string);
    });

    const signing = () => {
      const key = outputs.packageSigningPublicKey as string;
      const list = spawnSync("gpg", ["--with-colons", "--show-keys"], { input: key });
      const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(list.stdout.toString())?.[1];
      assert.ok(fpr, "the public signing key has a fingerprint");
      return { key, fpr };
    };

    await step("linux builds its Stack's packages, signed, and publishes them", async () => {
      assert.ok(listener);
      const outcome = await listener.next(LINUX, 0, BUILD_TIMEOUT);
      assert.equal(outcome.status, "success", `${JSON.stringify(outcome)}\n${journal(LINUX)}`);
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
      assert.ok(listener);
      const outcome = await listener.next(TOOLS, 0, BUILD_TIMEOUT);
      assert.equal(outcome.status, "success", `${JSON.stringify(outcome)}\n${journal(TOOLS)}`);
      const served = parsePackagesIndex(index(TOOLS).toString());
      assert.deepEqual(served.map((e) => packageName(e.cpv)).sort(), EXPECTED[TOOLS]);
    });

    await step(
      "every served package verifies with gpg against the public signing key",
      async () => {
        const { key, fpr } = signing();
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
        const r = ssh(
          `builder-${LINUX.replaceAll("/", "-")}`,
          // A start while the unit still runs (the runner cleaning up after it reported) would
          // join that job instead of starting a build.
          'unit=gentoo-infra-build-development-amd64-linux.service; while [ "$(systemctl show -p ActiveState --value $unit)" = activating ]; do sleep 2; done; sudo -n systemctl start $unit',
          BUILD_TIMEOUT,
        );
        assert.equal(r.status, 0, `${r.stderr}\n${journal(LINUX)}`);
        const outcome = await listener.next(LINUX, 1, 60_000);
        assert.equal(outcome.status, "success");
        assert.deepEqual(outcome.packages, []);
        assert.equal(outcome.published, false);
        assert.equal(sha256(index(LINUX)), before);
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
        const outcome = await listener.next(LINUX, linuxBuilds, BUILD_TIMEOUT);
        assert.equal(outcome.status, "failure", JSON.stringify(outcome));
        assert.equal(outcome.step, "update-world");
        assert.equal(outcome.treeCommit, brokenCommit);
        assert.equal(outcome.published, false);
        assert.equal(sha256(index(LINUX)), sha256(before), "the served index is unchanged");
        for (const entry of entries) {
          get(`${binhost()}${LINUX}/${entry.path}`, "/dev/null");
        }
        // tools builds the same broken snapshot: it fails too, and its repository stays.
        const tools = await listener.next(TOOLS, toolsBuilds, BUILD_TIMEOUT);
        assert.equal(tools.status, "failure", JSON.stringify(tools));
      },
    );

    await step("destroy leaves no domain, volume, pool or network", async () => {
      await program.destroy();
      destroyed = true;
      assert.deepEqual(libvirtObjects(prefix), []);
      assert.equal(existsSync(`/var/lib/libvirt/images/${prefix}`), false);
    });
  } finally {
    listener?.stop();
    if (!destroyed) {
      await program.destroy().catch(() => undefined);
      removeLibvirtObjects(prefix);
    }
    await program.cleanup({ force: !destroyed });
    rmSync(work, { recursive: true, force: true });
  }
});
