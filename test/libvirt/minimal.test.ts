/**
 * libvirt tier: examples/minimal (RootCa, a Stack, BinhostMirror, PxeInstallHost, one builder;
 * config `tools: false`: the tools Stack's builder is the e2e tier's)
 * goes up with the real engine and providers on the harness's libvirtd (TCG, network namespace
 * `gentoo-infra`; Pulumi runs inside the namespace so that SSH reaches the guests):
 * - every server's domain runs and cloud-init finished on it (each Server's `<name>-ready`
 *   command waits for `cloud-init status --wait`; up fails otherwise);
 * - the binhost answers HTTPS with its RootCa certificate, verified by `curl --cacert`;
 * - dnsmasq and nginx run on the install host;
 * - a second up reports no changes;
 * - the preview report (gentoo-infra preview-report) of the real previews lists exactly what
 *   each means: no change; a tree moved (builder and binhost commits, the files that follow);
 *   a machine added (its hostname and MAC, certificates, dnsmasq's hosts, its files);
 * - adding a machine to the install host changes its files in place: no VM is replaced;
 * - destroy leaves no domain, volume, pool or network (virsh) and no pool directory.
 * STAND-INS: the guest image (scripts/build-base-image), the installer and the stage are built
 * from Debian packages; see docs/base-image.md and docs/installer.md. Not proven here: that a
 * machine installs or that the builders build (the e2e tier: test/e2e/site.test.ts; here
 * the first build starts and runs in the background).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { type PreviewJson, previewReport } from "../../lib/cli/preview-report";
import { NETNS, useLibvirtHarness } from "../support/harness";
import { libvirtObjects, removeLibvirtObjects, virsh } from "../support/libvirt";
import { PulumiProgram, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { scenarioSteps } from "../support/steps";
import { requireFiles, requireRoot, requireTools } from "../support/tools";

const CACHE = process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache");
const IMAGES = [
  path.join(CACHE, "images/debian-standin-amd64.qcow2"),
  path.join(CACHE, "installer/amd64/vmlinuz"),
  path.join(CACHE, "installer/amd64/initrd.img"),
];
const isRoot = () => process.getuid?.() === 0;
useLibvirtHarness(isRoot);

interface Servers {
  [name: string]: { address: string; user: string; privateKeyOpenssh: string };
}

/** The UUID of every domain whose name starts with `prefix`: a replaced VM gets a new one. */
function domainUuids(prefix: string): Record<string, string> {
  return Object.fromEntries(
    virsh("list", "--all", "--name")
      .split("\n")
      .map((n) => n.trim())
      .filter((n) => n.startsWith(prefix))
      .map((n) => [n, virsh("domuuid", n).trim()]),
  );
}

test("examples/minimal goes up on libvirt, converges, grows in place and goes down clean", async (t) => {
  if (!requireRoot(t, "network namespaces, libvirtd")) return;
  if (!requireTools(t, ["pulumi", "virsh", "curl", "ssh", "ip"], TOOLCHAIN_HINT)) return;
  if (!requireFiles(t, IMAGES, "run scripts/setup (step 60-images)")) return;

  // A short stack name: it prefixes every libvirt name (gi-<stack>-farm-development-amd64-linux
  // must stay within libvirt's limits).
  const program = await PulumiProgram.create("examples/minimal", {
    netns: NETNS,
    stack: `lv-${randomBytes(2).toString("hex")}`,
  });
  // The stack name is the libvirt name prefix of everything it makes (gi-<stack>-…).
  const prefix = `gi-${program.stack}`;
  const work = mkdtempSync(path.join(tmpdir(), "gi-minimal-"));
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
  try {
    let uuids: Record<string, string> = {};
    let outputs: Record<string, unknown> = {};
    await step("up creates three running servers whose cloud-init finished", async () => {
      // One builder (linux): a second one only adds a boot and a build to the tier's time.
      await program.setConfig("tools", "false");
      await program.up();
      outputs = await program.outputs({ showSecrets: true });
      uuids = domainUuids(prefix);
      // binhost, install host, and linux's builder.
      assert.equal(Object.keys(uuids).length, 3, `domains: ${Object.keys(uuids).join(", ")}`);
      for (const name of Object.keys(uuids)) {
        assert.match(virsh("domstate", name), /running/, `${name} runs`);
      }
      const servers = outputs.servers as Servers;
      for (const name of Object.keys(servers)) {
        const r = ssh(servers, name, "cloud-init status");
        assert.match(r.stdout, /status: done/, `${name}: ${r.stdout}${r.stderr}`);
      }
    });

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

    await step("dnsmasq and nginx run on the install host", async () => {
      const r = ssh(outputs.servers as Servers, "pxe", "systemctl is-active dnsmasq nginx");
      assert.equal(r.stdout.trim(), "active\nactive", r.stderr);
    });

    await step("a second up reports no changes", async () => {
      await program.up({ expectNoChanges: true });
    });

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

    await step("the preview report of a pull request: no change, then a tree moved", async () => {
      assert.deepEqual(reported(await previewJson()).lines, ["## development: no change"]);
      const commit = (ref: string) =>
        spawnSync("git", ["-C", path.join(CACHE, "trees/gentoo.git"), "rev-parse", ref], {
          encoding: "utf8",
        }).stdout.trim();
      const [from, to] = [commit("develop"), commit("bump")];
      await program.setConfig("gentooCommit", to);
      try {
        const { lines, r } = reported(await previewJson());
        assert.deepEqual(r.stateful, [], "moving the tree replaces nothing stateful");
        // Exactly what moving the tree means, and nothing else.
        const [a, b] = [from.slice(0, 7), to.slice(0, 7)];
        assert.deepEqual(lines, [
          "## development: 9 resources change",
          `- builder development/amd64/linux: tree ${a} → ${b}`,
          "- farm-development-amd64-linux: files changed: `/etc/portage/repos.conf/gentoo-infra.conf`, `/usr/local/libexec/gentoo-infra/build-development-amd64-linux`",
          `- serves gentoo at ${b} (develop), was ${a}`,
          "- binhost-client: files changed: `/srv/binhost/client/development/amd64/linux/tree-snapshot`",
          "- machine 52:54:00:47:49:50 install configuration changed",
        ]);
      } finally {
        await program.run(["config", "rm", "gentooCommit", "--stack", program.stack]);
      }
    });

    await step("adding a machine updates the install host in place, replacing no VM", async () => {
      await program.setConfig("machineCount", "2");
      const preview = await previewJson();
      const report = reported(preview);
      assert.deepEqual(report.r.stateful, []);
      const lines = report.lines;
      const web2 = "/etc/gentoo-infra/pxe/machines/52-54-00-47-49-51";
      const files = [
        "host.key",
        "host.pem",
        "install.ipxe",
        "local.ipxe",
        "puppet.key",
        "puppet.pem",
      ];
      assert.deepEqual(lines, [
        "## development: 18 resources change",
        "- machine web2 (52:54:00:47:49:51) added",
        "- dnsmasq: +1 host",
        "- host certificate web2.dev.gentoo-infra.test issued",
        "- puppet certificate web2.dev.gentoo-infra.test issued",
        "- PrivateKey added: `pxe-web2-host-key`, `pxe-web2-puppet-key`",
        "- RandomPassword added: `pxe-web2-autosign`",
        `- pxe: files added: ${files.map((f) => `\`${web2}/${f}\``).join(", ")}`,
        "- pxe: files changed: `/etc/gentoo-infra/pxe/netboot.tsv`, `/etc/nginx/nginx.conf`",
      ]);
      const steps = preview.steps;
      const vmTypes = /libvirt:index\/(domain|volume|cloudInitDisk):/;
      const touched = steps.filter((s) => s.op !== "same" && vmTypes.test(s.urn));
      assert.deepEqual(touched, [], "no domain, disk or cloud-init disk changes");
      assert.ok(
        steps.some((s) => s.op === "create" && s.urn.endsWith("pxe-web2-host-cert")),
        "web2 gets its host certificate",
      );
      await program.up();
      assert.deepEqual(domainUuids(prefix), uuids, "every VM kept its domain UUID");
      const r = ssh(outputs.servers as Servers, "pxe", "grep -c web2 /etc/dnsmasq.conf");
      assert.equal(r.stdout.trim(), "1", r.stderr);
    });

    await step("destroy leaves no domain, volume, pool, network or pool directory", async () => {
      await program.destroy();
      destroyed = true;
      assert.deepEqual(libvirtObjects(prefix), []);
      assert.equal(existsSync(`/var/lib/libvirt/images/${prefix}`), false);
    });
  } finally {
    if (!destroyed) {
      await program.destroy().catch(() => undefined);
      removeLibvirtObjects(prefix); // when destroy could not run (a timed-out up keeps the lock)
    }
    await program.cleanup({ force: !destroyed });
    rmSync(work, { recursive: true, force: true });
  }
});
