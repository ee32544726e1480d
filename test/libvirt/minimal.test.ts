/**
 * libvirt tier: examples/minimal (RootCa, two Stacks, BinhostMirror, PxeInstallHost, a builder
 * per Stack) goes up with the real engine and providers on the harness's two hypervisors (TCG;
 * Pulumi runs in the first's network namespace `gentoo-infra`, so that SSH reaches the guests):
 * the binhost, the install host and linux's builder on the first (qemu:///system), the tools
 * builder on the second (`remoteLibvirtUri`: qemu+ssh, docs/libvirt.md), on a routed network;
 * - the base image is uploaded to the second hypervisor's pool over qemu+ssh; each hypervisor
 *   holds exactly its domains;
 * - every server's domain runs and cloud-init finished on it (each Server's `<name>-ready`
 *   command waits for `cloud-init status --wait`; up fails otherwise), the tools builder
 *   reached through the route;
 * - guest to guest across the hypervisors: the tools builder, with the values its build script
 *   uses, lists the binhost's git over HTTPS (root CA checked) and its upload area over SSH
 *   (the upload key, the binhost's host key pinned, rrsync);
 * - the binhost answers HTTPS with its RootCa certificate, verified by `curl --cacert`;
 * - dnsmasq and nginx run on the install host;
 * - a second up reports no changes;
 * - a build asked for while one runs (the builder's after-change command, run on linux's
 *   builder during its first build: the request file its path unit watches) does not start a
 *   second one alongside, and starts once when the running build ends (stopped with
 *   `systemctl kill`), then no more (real systemd);
 * - pull requests as a site repository has them: the program runs from a temporary git
 *   repository (a copy of examples/minimal, its stack configuration committed on main; see
 *   `siteRepository`), and each branch made from main is checked out for a real preview. The
 *   preview report (gentoo-infra preview-report) lists exactly what each branch means and
 *   nothing else: pr/no-change (a README) says no change; pr/promote-tree (gentooCommit: builder
 *   and binhost commits, the files that follow); pr/revoke (a certificate of the `certificates`
 *   config revoked: its CRL re-signed, the binhost's copy of it); pr/firmware (web1Firmware
 *   uefi: web1's install configuration, dnsmasq with the same hosts); pr/add-machine
 *   (machineCount 2: its hostname and MAC,
 *   certificates, dnsmasq's hosts, its files);
 * - pr/add-machine, merged into main and brought up, changes the install host's files in place:
 *   no VM is replaced;
 * - pr/move-builder (toolsHypervisor local) moves the tools builder: its preview replaces its
 *   VM and disks and the report says from which hypervisor to which; brought up, the builder
 *   runs on the first hypervisor (cloud-init done) and nothing of it is left on the second;
 * - destroy leaves no domain, volume, pool or network (virsh) and no pool directory on either.
 * Not proven here: that the binhost serves the re-signed CRL (pr/revoke is previewed, not brought
 * up; the engine tier's test/engine/pki.test.ts brings a revocation up and openssl rejects the
 * certificate).
 * STAND-INS: the guest image (scripts/build-base-image), the installer and the stage are built
 * from Debian packages; see docs/base-image.md and docs/installer.md. Not proven here: that a
 * machine installs or that the builders build (the e2e tier: test/e2e/site.test.ts; here
 * the first build starts and runs in the background).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { builderAfterChange } from "../../lib/buildfarm/builder-layout";
import { builderUnitStem, buildRequestFile } from "../../lib/buildfarm/systemd-units";
import { type PreviewJson, previewReport, type StepState } from "../../lib/cli/preview-report";
import { isRunning } from "../../lib/cli/recover";
import { shQuote } from "../../lib/host/shell";
import { serialLogPath } from "../../lib/libvirt/domain-xml";
import { readSerial, tail, waitFor } from "../support/blank-machine";
import {
  freeSecondSubnet,
  NETNS,
  secondHypervisorUri,
  useLibvirtHarness,
} from "../support/harness";
import { libvirtObjects, libvirtOn, removeLibvirtObjects, virsh } from "../support/libvirt";
import {
  type KilledRun,
  PulumiProgram,
  processesWorkingIn,
  REPO_ROOT,
  type StepStarted,
  TOOLCHAIN_HINT,
} from "../support/pulumi";
import { scenarioSteps } from "../support/steps";
import { requireFiles, requireRoot, requireTools } from "../support/tools";

const CACHE = process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache");
const IMAGES = [
  path.join(CACHE, "images/debian-standin-amd64.qcow2"),
  path.join(CACHE, "installer/amd64/vmlinuz"),
  path.join(CACHE, "installer/amd64/initrd.img"),
];
const isRoot = () => process.getuid?.() === 0;

/**
 * Where the first up is killed (SIGKILL of the CLI as a step starts), in the order a run
 * reaches them: each kill is followed by `gentoo-infra recover`, and the next run goes on.
 */
const KILL_POINTS: readonly {
  what: string;
  when: (step: StepStarted) => boolean;
  /** How long after the step starts: long enough for the step to be under way. */
  afterMs: number;
}[] = [
  {
    what: "while a certificate is signed",
    when: (s) =>
      s.op === "create" && s.type === "pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate",
    afterMs: 0,
  },
  {
    what: "while a base image is uploaded",
    when: (s) =>
      s.op === "create" &&
      s.type === "libvirt:index/volume:Volume" &&
      s.urn.includes("gentoo-infra:libvirt:BaseImage$"),
    afterMs: 2000,
  },
  {
    what: "while a domain is created",
    when: (s) => s.op === "create" && s.type === "libvirt:index/domain:Domain",
    afterMs: 1500,
  },
  {
    what: "while cloud-init is awaited",
    when: (s) =>
      s.op === "create" && s.type === "command:remote:Command" && s.urn.endsWith("-ready"),
    afterMs: 3000,
  },
  {
    what: "while files are pushed",
    when: (s) => s.op === "create" && s.type === "pulumi-nodejs:dynamic/gentoo-infra:FilePush",
    afterMs: 500,
  },
];

/** The libvirt resource types, by the kind of object libvirtObjects lists. */
const LIBVIRT_KIND: Readonly<Record<string, string>> = {
  "libvirt:index/domain:Domain": "domain",
  "libvirt:index/volume:Volume": "volume",
  "libvirt:index/cloudInitDisk:CloudInitDisk": "volume",
  "libvirt:index/network:Network": "network",
  "libvirt:index/pool:Pool": "pool",
};

/**
 * With GI_SAVE_PREVIEWS=<dir>, each pull request's preview is written to <dir>/<branch>.json,
 * trimmed to what the report reads (the unit tier's test/unit/testdata/preview-report/ are
 * made so: docs/contributing.md).
 */
function savePreview(branch: string, preview: PreviewJson): void {
  const dir = process.env.GI_SAVE_PREVIEWS;
  if (!dir) return;
  const state = (s: StepState | undefined) => {
    if (!s) return undefined;
    const { __provider: _, ...inputs } = s.inputs ?? {};
    return { type: s.type, inputs, ...(s.provider ? { provider: s.provider } : {}) };
  };
  const steps = (preview.steps ?? []).map((step) => ({
    op: step.op,
    urn: step.urn,
    ...(step.oldState ? { oldState: state(step.oldState) } : {}),
    ...(step.newState ? { newState: state(step.newState) } : {}),
  }));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, `${branch.replace(/^pr\//, "")}.json`),
    `${JSON.stringify({ steps }, null, 1)}\n`,
  );
}
useLibvirtHarness(isRoot, { hypervisors: 2 });

interface Servers {
  [name: string]: { address: string; user: string; privateKeyOpenssh: string };
}

/**
 * A site repository as a user keeps one, in `root`: a git repository (branch main, user set
 * locally) at `<root>/sites/minimal` holding a copy of examples/minimal's program, committed.
 * Its `../../lib` resolves to `<root>/lib`: the library's files (lib, package.json,
 * tsconfig.json, node_modules) and the cache are symlinks into this repository, standing in for
 * the installed package; the program runs from the copy, so a checked-out branch is what Pulumi
 * runs.
 */
function siteRepository(root: string): { dir: string; git: (...args: string[]) => string } {
  for (const entry of ["lib", "package.json", "tsconfig.json", "node_modules"]) {
    symlinkSync(path.join(REPO_ROOT, entry), path.join(root, entry));
  }
  symlinkSync(CACHE, path.join(root, ".cache"));
  const source = path.join(REPO_ROOT, "examples/minimal");
  const dir = path.join(root, "sites/minimal");
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(source).filter((f) => f === "Pulumi.yaml" || f.endsWith(".ts"))) {
    copyFileSync(path.join(source, file), path.join(dir, file));
  }
  const git = (...args: string[]) => {
    const r = spawnSync("git", ["-C", dir, ...args], { encoding: "utf8" });
    assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stdout}${r.stderr}`);
    return r.stdout.trim();
  };
  git("init", "--quiet", "--initial-branch=main");
  git("config", "user.name", "Site Operator");
  git("config", "user.email", "operator@dev.gentoo-infra.test");
  git("config", "commit.gpgsign", "false");
  git("add", "--all");
  git("commit", "--quiet", "-m", "The development site: examples/minimal");
  return { dir, git };
}

/**
 * The UUID of every domain whose name starts with `prefix` (on the first hypervisor, or on the
 * one `on` reaches): a replaced VM gets a new one.
 */
function domainUuids(
  prefix: string,
  on: Pick<ReturnType<typeof libvirtOn>, "virsh"> = { virsh },
): Record<string, string> {
  return Object.fromEntries(
    on
      .virsh("list", "--all", "--name")
      .split("\n")
      .map((n) => n.trim())
      .filter((n) => n.startsWith(prefix))
      .map((n) => [n, on.virsh("domuuid", n).trim()]),
  );
}

test("examples/minimal goes up on libvirt, converges, grows in place and goes down clean", async (t) => {
  if (!requireRoot(t, "network namespaces, libvirtd")) return;
  if (!requireTools(t, ["pulumi", "virsh", "curl", "ssh", "ip", "git"], TOOLCHAIN_HINT)) return;
  if (!requireFiles(t, IMAGES, "run scripts/setup (step 60-images)")) return;

  const work = mkdtempSync(path.join(tmpdir(), "gi-minimal-"));
  const site = siteRepository(work);
  // A short stack name: it prefixes every libvirt name (gi-<stack>-farm-development-amd64-linux
  // must stay within libvirt's limits).
  const program = await PulumiProgram.create(site.dir, {
    netns: NETNS,
    stack: `lv-${randomBytes(2).toString("hex")}`,
  });
  // The stack name is the libvirt name prefix of everything it makes (gi-<stack>-…).
  const prefix = `gi-${program.stack}`;
  const stackFile = `Pulumi.${program.stack}.yaml`;
  // The second hypervisor, as virsh reaches it from the first namespace (over qemu+ssh).
  const remoteUri = secondHypervisorUri();
  const kvm2 = libvirtOn({ uri: remoteUri, netns: NETNS });
  const toolsDomain = `${prefix}-farm-development-amd64-tools`;
  let destroyed = false;
  const step = scenarioSteps(t);
  const ssh = (servers: Servers, name: string, command: string) => {
    const server = servers[name];
    assert.ok(server, `server ${name} in the outputs`);
    const key = path.join(work, `${name}.key`);
    writeFileSync(key, server.privateKeyOpenssh);
    chmodSync(key, 0o600);
    return spawnSync(
      "ip",
      [
        ...["netns", "exec", NETNS, "ssh", "-i", key, "-o", "BatchMode=yes"],
        ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
        `${server.user}@${server.address}`,
        command,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
  };
  /**
   * After `gentoo-infra recover` of the run `killed`: no process of it is left (neither those it
   * had when killed nor any working in the site's directory), and the state holds no pending
   * operation.
   */
  const assertRecovered = async (killed: KilledRun, said: string) => {
    assert.match(said, /^recover: release: the lock of pid /m);
    assert.deepEqual(
      killed.processes.filter(isRunning),
      [],
      "no process of the killed run is left",
    );
    assert.deepEqual(processesWorkingIn(site.dir), [], "no process works in the site");
    assert.equal((await program.exported()).pending_operations, undefined);
  };
  /** `<kind> <name>` of every libvirt object the stack's state holds, sorted. */
  const libvirtObjectsInState = async () =>
    ((await program.exported()).resources ?? [])
      .flatMap((r) => {
        const kind = LIBVIRT_KIND[r.type];
        return kind ? [`${kind} ${r.inputs?.name}`] : [];
      })
      .sort();
  try {
    let uuids: Record<string, string> = {};
    let outputs: Record<string, unknown> = {};
    await step(
      "up killed with SIGKILL at five points, each followed by gentoo-infra recover: nothing of a killed run is left",
      async () => {
        // The tools builder on the second hypervisor, on a subnet the harness routes to it. A
        // certificate for a service outside the program, for pr/revoke to revoke.
        await program.setConfig("remoteLibvirtUri", remoteUri);
        await program.setConfig("remoteSubnet", freeSecondSubnet());
        await program.setConfig(
          "certificates",
          JSON.stringify([
            { name: "mail", kind: "host", commonName: "mail.dev.gentoo-infra.test" },
          ]),
        );
        site.git("add", stackFile);
        site.git("commit", "--quiet", "-m", "development: tools on kvm2, a certificate for mail");
        // Each kill point is the start of the first such step of the run; each run goes on
        // from what the runs before it made.
        for (const point of KILL_POINTS) {
          const started = Date.now();
          const killed = await program.killedAt("up", point.when, { afterMs: point.afterMs });
          const said = program.recover();
          t.diagnostic(
            `killed ${point.what} (${killed.step.urn.split("::").at(-1)}), ${((Date.now() - started) / 1000).toFixed(0)} s:\n${said}`,
          );
          await assertRecovered(killed, said);
        }
      },
    );

    await step(
      "the next up converges: four running servers on two hypervisors whose cloud-init finished, and exactly the libvirt objects the state holds",
      async () => {
        await program.up();
        outputs = await program.outputs({ showSecrets: true });
        assert.deepEqual(Object.keys(outputs.certificates as object), ["mail"]);
        uuids = domainUuids(prefix);
        // binhost, install host, and linux's builder on the first hypervisor.
        assert.deepEqual(Object.keys(uuids).sort(), [
          `${prefix}-binhost`,
          `${prefix}-farm-development-amd64-linux`,
          `${prefix}-pxe`,
        ]);
        for (const name of Object.keys(uuids)) {
          assert.match(virsh("domstate", name), /running/, `${name} runs`);
        }
        // tools's builder on the second, with its own copy of the base image and network.
        const remote = kvm2.libvirtObjects(prefix);
        t.diagnostic(`on the second hypervisor: ${remote.join(", ")}`);
        assert.deepEqual(remote.filter((o) => /^(domain|network|pool) /.test(o)).sort(), [
          `domain ${toolsDomain}`,
          `network ${prefix}-remote-lan`,
          `pool ${prefix}`,
        ]);
        assert.match(kvm2.virsh("domstate", toolsDomain), /running/);
        assert.ok(
          remote.some((o) => /^volume .*remote-standin-base/.test(o)),
          "the base image was uploaded to the second hypervisor's pool",
        );
        const servers = outputs.servers as Servers;
        for (const name of Object.keys(servers)) {
          const r = ssh(servers, name, "cloud-init status");
          assert.match(r.stdout, /status: done/, `${name}: ${r.stdout}${r.stderr}`);
        }
        // No orphan of a killed run and no duplicate: libvirt holds what the state holds.
        assert.deepEqual(
          [...libvirtObjects(prefix), ...kvm2.libvirtObjects(prefix)].sort(),
          await libvirtObjectsInState(),
        );
      },
    );

    await step(
      "the binhost answers HTTPS with its RootCa certificate (curl --cacert)",
      async () => {
        const ca = path.join(work, "ca.pem");
        writeFileSync(ca, outputs.caCertificatePem as string);
        const url = new URL((outputs.urls as { binhost: string }).binhost);
        const servers = outputs.servers as Servers;
        const r = spawnSync(
          "ip",
          [
            ...["netns", "exec", NETNS, "curl", "-sS", "--fail", "--cacert", ca],
            ...["--resolve", `${url.hostname}:443:${servers.binhost?.address}`],
            `https://${url.hostname}/crl/`,
          ],
          { encoding: "utf8", timeout: 60_000 },
        );
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /development-host\.crl/);
      },
    );

    await step(
      "the tools builder on the second hypervisor reaches the binhost on the first: git over HTTPS, the upload area over SSH",
      async () => {
        const servers = outputs.servers as Servers;
        const binhost = new URL((outputs.urls as { binhost: string }).binhost).hostname;
        // The values the build script uses (lib/buildfarm/build.sh), read from it on the builder.
        const script = "/usr/local/libexec/gentoo-infra/build-development-amd64-tools";
        const r = ssh(
          servers,
          "builder-development-amd64-tools",
          `set -euo pipefail
eval "$(sudo grep -E '^readonly (TREE_NAME|UPLOAD_TARGET|UPLOAD_KEY|ROOT_CERTIFICATE)=' ${script})"
sudo git -c http.sslCAInfo="$ROOT_CERTIFICATE" -c http.curloptResolve=${binhost}:443:${servers.binhost?.address} ls-remote "$TREE_URL"
echo "== upload"
sudo rsync --list-only -e "ssh -i $UPLOAD_KEY -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$UPLOAD_KNOWN_HOSTS" "\${UPLOAD_TARGET%%:*}:"`,
        );
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        const [git = "", upload = ""] = r.stdout.split("== upload\n");
        assert.match(git, /^[0-9a-f]{40}\trefs\/heads\/develop$/m, r.stdout);
        assert.match(upload, /distfiles$/m, r.stdout);
      },
    );

    await step("dnsmasq and nginx run on the install host", async () => {
      const r = ssh(outputs.servers as Servers, "pxe", "systemctl is-active dnsmasq nginx");
      assert.equal(r.stdout.trim(), "active\nactive", r.stderr);
    });

    await step("a second up reports no changes", async () => {
      await program.up({ expectNoChanges: true });
    });

    await step(
      "a build asked for while one runs (the after-change command) runs when it ends, once",
      async () => {
        const servers = outputs.servers as Servers;
        const profile = { environment: "development", arch: "amd64", stack: "linux" };
        const unit = `${builderUnitStem(profile)}.service`;
        const on = (command: string) => {
          const r = ssh(
            servers,
            "builder-development-amd64-linux",
            `sudo sh -c ${shQuote(command)}`,
          );
          assert.equal(r.status, 0, `${command}: ${r.stdout}${r.stderr}`);
          return r.stdout.trim();
        };
        const invocation = () => on(`systemctl show -p InvocationID --value ${unit}`);
        const state = () => on(`systemctl is-active ${unit} || true`);
        const until = async (what: string, done: () => boolean) => {
          for (let i = 0; i < 60 && !done(); i++) await new Promise((r) => setTimeout(r, 1000));
          assert.ok(done(), what);
        };
        // The first build (started by up) runs, or a build is started for this step.
        if (state() !== "activating") on(`systemctl start --no-block ${unit}`);
        await until(`${unit} runs`, () => state() === "activating");
        const first = invocation();
        on(builderAfterChange(profile));
        assert.equal(invocation(), first, "the start did nothing while the build runs");
        assert.equal(
          on(`test -e ${buildRequestFile(builderUnitStem(profile))} && echo requested`),
          "requested",
        );
        // The running build ends (stopped here): the request starts the service once more.
        on(`systemctl kill ${unit}`);
        await until("a second build starts", () => invocation() !== first);
        const second = invocation();
        assert.equal(
          on(`test -e ${buildRequestFile(builderUnitStem(profile))} || echo gone`),
          "gone",
        );
        // Without a request, the end of a build is the end.
        on(`systemctl kill ${unit}`);
        await until(`${unit} stops`, () => state() !== "activating");
        await new Promise((r) => setTimeout(r, 5000));
        assert.notEqual(state(), "activating", "no third build");
        assert.equal(invocation(), second, "the last build was the second");
      },
    );

    const previewJson = async () =>
      JSON.parse(
        (await program.run(["preview", "--non-interactive", "--json", "--stack", program.stack]))
          .stdout,
      ) as PreviewJson & { steps: { op: string; urn: string }[] };
    /** The report's bullet lines for this environment (lib/cli/preview-report.ts). */
    const reported = (preview: PreviewJson) => {
      const r = previewReport([{ environment: "development", preview }]);
      return { lines: r.markdown.split("\n").filter((l) => /^(## |- )/.test(l)), r };
    };
    /**
     * A pull request: branch `branch` made from main, `change` committed on it (the files it
     * changed are `files`), its preview with the branch checked out, then main checked out.
     */
    const pullRequest = async (branch: string, change: () => Promise<void> | void) => {
      site.git("checkout", "--quiet", "-b", branch, "main");
      try {
        await change();
        site.git("add", "--all");
        site.git("commit", "--quiet", "-m", branch);
        const files = site.git("diff", "--name-only", "main", branch).split("\n");
        const started = Date.now();
        const preview = await previewJson();
        t.diagnostic(`${branch}: preview ${((Date.now() - started) / 1000).toFixed(1)} s`);
        savePreview(branch, preview);
        return { files, preview, ...reported(preview) };
      } finally {
        site.git("checkout", "--quiet", "--force", "main");
      }
    };

    /**
     * A pull request that sets configuration key `key` to `value`: it changes only the stack's
     * Pulumi.<stack>.yaml, and its preview replaces or deletes nothing stateful.
     */
    const configPullRequest = async (branch: string, key: string, value: string) => {
      const pr = await pullRequest(branch, () => program.setConfig(key, value));
      assert.deepEqual(pr.files, [stackFile]);
      assert.deepEqual(pr.r.stateful, [], `${branch} replaces nothing stateful`);
      return pr;
    };

    await step("pull request pr/no-change (a README): the report says no change", async () => {
      const pr = await pullRequest("pr/no-change", () =>
        writeFileSync(path.join(site.dir, "README.md"), "# The development site\n"),
      );
      assert.deepEqual(pr.files, ["README.md"]);
      assert.deepEqual(pr.lines, ["## development: no change"]);
    });

    await step(
      "pull request pr/promote-tree (gentooCommit): the report lists the tree moved, nothing else",
      async () => {
        const commit = (ref: string) =>
          spawnSync("git", ["-C", path.join(CACHE, "trees/gentoo.git"), "rev-parse", ref], {
            encoding: "utf8",
          }).stdout.trim();
        const [from, to] = [commit("develop"), commit("bump")];
        const pr = await configPullRequest("pr/promote-tree", "gentooCommit", to);
        // Exactly what moving the tree means, and nothing else.
        const [a, b] = [from.slice(0, 7), to.slice(0, 7)];
        assert.deepEqual(pr.lines, [
          "## development: 5 resources change",
          `- builder development/amd64/linux: tree ${a} → ${b}`,
          `- builder development/amd64/tools: tree ${a} → ${b}`,
          "- farm-development-amd64-linux: files changed: `/etc/portage/repos.conf/gentoo-infra.conf`, `/usr/local/libexec/gentoo-infra/build-development-amd64-linux`",
          "- farm-development-amd64-tools: files changed: `/etc/portage/repos.conf/gentoo-infra.conf`, `/usr/local/libexec/gentoo-infra/build-development-amd64-tools`",
          `- serves gentoo at ${b} (develop), was ${a}`,
          "- binhost-client: files changed: `/srv/binhost/client/development/amd64/linux/tree-snapshot`, `/srv/binhost/client/development/amd64/tools/tree-snapshot`",
          "- machine 52:54:00:47:49:50 install configuration changed",
        ]);
      },
    );

    await step(
      "pull request pr/revoke (a certificate revoked): the report lists the revocation, its CRL and the binhost's copy, nothing else",
      async () => {
        const revoked = [{ certificate: "mail", reason: "keyCompromise" }];
        const pr = await configPullRequest("pr/revoke", "revoked", JSON.stringify(revoked));
        // The host CRL, and the binhost's copy of the CRLs it serves (its push sends it).
        assert.deepEqual(pr.lines, [
          "## development: 2 resources change",
          "- binhost-config: files changed: `/var/lib/gentoo-infra/binhost/crl-files.json`",
          "- certificate mail revoked (keyCompromise); host CRL re-signed",
        ]);
      },
    );

    await step(
      "pull request pr/firmware (web1Firmware uefi): the report lists web1's install configuration and scripts, and dnsmasq with the same hosts",
      async () => {
        const pr = await configPullRequest("pr/firmware", "web1Firmware", "uefi");
        assert.deepEqual(pr.lines, [
          "## development: 1 resource changes",
          "- machine web1 (52:54:00:47:49:50) install configuration changed",
          "- dnsmasq: configuration changed, same hosts",
          "- pxe: files changed: `/etc/gentoo-infra/pxe/machines/52-54-00-47-49-50/install.ipxe`, `/etc/gentoo-infra/pxe/machines/52-54-00-47-49-50/local.ipxe`",
        ]);
      },
    );

    await step(
      "pull request pr/add-machine (machineCount 2), merged and brought up, updates the install host in place, replacing no VM",
      async () => {
        const pr = await configPullRequest("pr/add-machine", "machineCount", "2");
        const web2 = "/etc/gentoo-infra/pxe/machines/52-54-00-47-49-51";
        const files = [
          "host.key",
          "host.pem",
          "install.ipxe",
          "local.ipxe",
          "puppet.key",
          "puppet.pem",
        ];
        assert.deepEqual(pr.lines, [
          "## development: 8 resources change",
          "- machine web2 (52:54:00:47:49:51) added",
          "- dnsmasq: +1 host",
          "- host certificate web2.dev.gentoo-infra.test issued",
          "- puppet certificate web2.dev.gentoo-infra.test issued",
          "- PrivateKey added: `pxe-web2-host-key`, `pxe-web2-puppet-key`",
          "- RandomPassword added: `pxe-web2-autosign`",
          `- pxe: files added: ${files.map((f) => `\`${web2}/${f}\``).join(", ")}`,
          "- pxe: files changed: `/etc/gentoo-infra/pxe/netboot.tsv`, `/etc/nginx/nginx.conf`",
        ]);
        const steps = pr.preview.steps;
        const vmTypes = /libvirt:index\/(domain|volume|cloudInitDisk):/;
        const touched = steps.filter((s) => s.op !== "same" && vmTypes.test(s.urn));
        assert.deepEqual(touched, [], "no domain, disk or cloud-init disk changes");
        assert.ok(
          steps.some((s) => s.op === "create" && s.urn.endsWith("pxe-web2-host-cert")),
          "web2 gets its host certificate",
        );
        site.git("merge", "--quiet", "--no-ff", "-m", "Merge pr/add-machine", "pr/add-machine");
        const remoteUuids = domainUuids(prefix, kvm2);
        await program.up();
        assert.deepEqual(domainUuids(prefix), uuids, "every VM kept its domain UUID");
        assert.deepEqual(domainUuids(prefix, kvm2), remoteUuids, "on both hypervisors");
        const r = ssh(outputs.servers as Servers, "pxe", "grep -c web2 /etc/dnsmasq.conf");
        assert.equal(r.stdout.trim(), "1", r.stderr);
      },
    );

    await step(
      "pull request pr/move-builder (toolsHypervisor local), merged and brought up, moves the tools builder to the first hypervisor",
      async () => {
        const pr = await pullRequest("pr/move-builder", () =>
          program.setConfig("toolsHypervisor", "local"),
        );
        assert.deepEqual(pr.files, [stackFile]);
        t.diagnostic(pr.lines.join("\n"));
        t.diagnostic(pr.r.stateful.join("\n"));
        assert.ok(
          pr.lines.includes("- builder development/amd64/tools moves: hypervisor remote → local"),
          pr.lines.join("\n"),
        );
        const replaced = pr.preview.steps
          .filter((s) => /replace/.test(s.op) && /libvirt:index\/domain:Domain/.test(s.urn))
          .map((s) => s.urn.split("::").at(-1));
        assert.deepEqual([...new Set(replaced)], ["farm-development-amd64-tools"]);
        site.git("merge", "--quiet", "--no-ff", "-m", "Merge pr/move-builder", "pr/move-builder");
        await program.up();
        const after = domainUuids(prefix);
        assert.deepEqual(Object.keys(after).sort(), [...Object.keys(uuids), toolsDomain].sort());
        for (const [name, uuid] of Object.entries(uuids)) {
          assert.equal(after[name], uuid, `${name} kept its domain`);
        }
        const moved = (await program.outputs({ showSecrets: true })).servers as Servers;
        assert.match(moved["builder-development-amd64-tools"]?.address ?? "", /^192\.168\.150\./);
        const r = ssh(moved, "builder-development-amd64-tools", "cloud-init status");
        assert.match(r.stdout, /status: done/, r.stderr);
        assert.deepEqual(
          kvm2
            .libvirtObjects(prefix)
            .filter((o) => /^(domain|network|pool) /.test(o))
            .sort(),
          [`network ${prefix}-remote-lan`, `pool ${prefix}`],
          "nothing of the builder is left on the second hypervisor",
        );
        assert.equal(
          kvm2.libvirtObjects(prefix).filter((o) => /tools/.test(o)).length,
          0,
          "none of its volumes",
        );
      },
    );

    await step(
      "a domain changed by hand (its memory halved, then its cloud-init disk ejected): refresh shows both, the preview replaces only it, up restores it",
      async () => {
        // The tools builder, on the first hypervisor since its move: a VM the site can rebuild.
        const xml = () => virsh("dumpxml", toolsDomain);
        const memory = (x: string) => /<memory unit='KiB'>(\d+)<\/memory>/.exec(x)?.[1];
        /** Each disk's target and source ("-" for a drive without media). */
        const disks = () =>
          virsh("domblklist", toolsDomain)
            .split("\n")
            .slice(2)
            .map((l) => l.trim().split(/\s+/))
            .filter((f) => f.length === 2)
            .map(([target, source]) => `${target} ${source}`);
        const before = { memory: memory(xml()), disks: disks() };
        const cdrom = virsh("domblklist", toolsDomain, "--details")
          .split("\n")
          .map((l) => l.trim().split(/\s+/))
          .find((f) => f[1] === "cdrom")?.[2];
        assert.ok(before.memory && cdrom, xml());
        // Memory applies at the next start; the IDE drive holding the cloud-init disk cannot be
        // detached from a running guest, its media is ejected (detached with --config and
        // restarted, the guest loses its cloud-init datasource and its network configuration:
        // docs/reliability.md).
        // The guest's disk is synced before the power cut (virsh destroy): cloud-init wrote its
        // host keys moments ago, and ext4 would lose what is still in the page cache; sshd
        // then fails at the next boot for want of them (seen once, a minute after cloud-init).
        const servers = (await program.outputs({ showSecrets: true })).servers as Servers;
        const synced = ssh(servers, "builder-development-amd64-tools", "sync");
        assert.equal(synced.status, 0, `sync on the tools builder: ${synced.stderr}`);
        virsh("destroy", toolsDomain);
        virsh("setmaxmem", toolsDomain, `${Number(before.memory) / 2}K`, "--config");
        virsh("start", toolsDomain);
        await waitFor(
          "the restarted tools builder answers ssh",
          300_000,
          () => ssh(servers, "builder-development-amd64-tools", "true").status === 0 || undefined,
          () => tail(readSerial(serialLogPath("/var/log/libvirt/qemu", toolsDomain))),
          5000,
        );
        virsh("change-media", toolsDomain, cdrom as string, "--eject", "--live", "--config");
        assert.notDeepEqual(disks(), before.disks);
        const started = Date.now();
        const refresh = await program.run([
          ...["refresh", "--yes", "--skip-preview", "--non-interactive"],
          ...["--stack", program.stack],
        ]);
        t.diagnostic(`refresh ${((Date.now() - started) / 1000).toFixed(1)} s`);
        // "~  libvirt:index:Domain farm-development-amd64-tools updated (…) [diff: ~cloudinit,memory]"
        const changed = refresh.stdout
          .split("\n")
          .filter((l) => / updated .*\[diff: /.test(l))
          .map((l) => l.trim());
        t.diagnostic(changed.join("\n"));
        const domainDiff = changed
          .find((l) => /libvirt:index:Domain farm-development-amd64-tools /.test(l))
          ?.replace(/.*\[diff: ([^\]]*)\].*/, "$1");
        assert.ok(domainDiff, refresh.stdout);
        assert.match(domainDiff, /memory/, "the refresh shows the memory");
        assert.match(domainDiff, /cloudinit|disks/, "and the cloud-init disk");
        const preview = await previewJson();
        const replaced = preview.steps
          .filter((s) => /replace/.test(s.op) && /libvirt:index\/domain:Domain/.test(s.urn))
          .map((s) => s.urn.split("::").at(-1));
        assert.deepEqual([...new Set(replaced)], ["farm-development-amd64-tools"]);
        t.diagnostic(reported(preview).lines.join("\n"));
        await program.up();
        assert.equal(memory(xml()), before.memory, "the memory is back");
        assert.deepEqual(
          disks().map((d) => d.split(" ")[0]),
          before.disks.map((d) => d.split(" ")[0]),
          "so are the disks",
        );
        assert.ok(
          disks().every((d) => !d.endsWith(" -")),
          `the cloud-init disk is back: ${disks().join(", ")}`,
        );
        const rebuilt = (await program.outputs({ showSecrets: true })).servers as Servers;
        const r = ssh(rebuilt, "builder-development-amd64-tools", "cloud-init status");
        assert.match(r.stdout, /status: done/, r.stderr);
      },
    );

    await step(
      "destroy killed while a domain is deleted, recovered, then destroy leaves no domain, volume, pool, network or pool directory on either hypervisor",
      async () => {
        const killed = await program.killedAt(
          "destroy",
          (s) => s.op === "delete" && s.type === "libvirt:index/domain:Domain",
          { afterMs: 300 },
        );
        const said = program.recover();
        t.diagnostic(`killed while ${killed.step.urn.split("::").at(-1)} was deleted:\n${said}`);
        await assertRecovered(killed, said);
        await program.destroy();
        destroyed = true;
        assert.deepEqual(libvirtObjects(prefix), []);
        assert.equal(existsSync(`/var/lib/libvirt/images/${prefix}`), false);
        assert.deepEqual(kvm2.libvirtObjects(prefix), []);
      },
    );
  } finally {
    if (!destroyed) {
      try {
        program.recover(); // after a failed kill step: its plugins, lock and pending operations
      } catch {
        // the destroy below and the removal of what is left still run
      }
      await program.destroy().catch(() => undefined);
      removeLibvirtObjects(prefix); // when destroy could not run (a timed-out up keeps the lock)
      kvm2.removeLibvirtObjects(prefix);
    }
    await program.cleanup({ force: !destroyed });
    rmSync(work, { recursive: true, force: true });
  }
});
