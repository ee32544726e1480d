/**
 * The preview report (lib/cli/preview-report.ts) on previews the real engine printed: examples/
 * minimal on libvirt (a second up's preview, the tree moved by config, a certificate revoked,
 * a machine added, a machine's firmware changed, a builder moved to another hypervisor: the
 * pull requests of
 * test/libvirt/minimal.test.ts, saved with
 * GI_SAVE_PREVIEWS) and examples/pki (a certificate revoked), trimmed to the steps and inputs
 * the report reads (test/unit/testdata/preview-report/; secrets were "[secret]" already). The
 * engine and libvirt tiers run the same report on live previews.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { type PreviewJson, previewReport } from "../../lib/cli/preview-report";

const DATA = join(__dirname, "testdata", "preview-report");
const fixture = (name: string): PreviewJson =>
  JSON.parse(readFileSync(join(DATA, `${name}.json`), "utf8")) as PreviewJson;

/** The report's headings and bullet lines, without the folded table. */
const said = (markdown: string) => markdown.split("\n").filter((l) => /^(#|- )/.test(l));

describe("preview report (lib/cli/preview-report.ts)", () => {
  it("a preview without changes says so, and nothing else", () => {
    const r = previewReport([{ environment: "development", preview: fixture("nothing") }]);
    assert.equal(r.markdown, "## development: no change\n");
    assert.deepEqual(r.stateful, []);
  });

  it("a tree moved: the builder's commits, what the binhost serves, the files that follow", () => {
    const r = previewReport([{ environment: "development", preview: fixture("tree-moved") }]);
    assert.deepEqual(said(r.markdown), [
      "## development: 5 resources change",
      "### Build farm",
      "- builder development/amd64/linux: tree 7dd2473 → 286966b",
      "- builder development/amd64/tools: tree 7dd2473 → 286966b",
      "- farm-development-amd64-linux: files changed: `/etc/portage/repos.conf/gentoo-infra.conf`, `/usr/local/libexec/gentoo-infra/build-development-amd64-linux`",
      "- farm-development-amd64-tools: files changed: `/etc/portage/repos.conf/gentoo-infra.conf`, `/usr/local/libexec/gentoo-infra/build-development-amd64-tools`",
      "### Binhost",
      "- serves gentoo at 286966b (develop), was 7dd2473",
      "- binhost-client: files changed: `/srv/binhost/client/development/amd64/linux/tree-snapshot`, `/srv/binhost/client/development/amd64/tools/tree-snapshot`",
      "### Install host",
      "- machine 52:54:00:47:49:50 install configuration changed",
    ]);
    assert.deepEqual(r.stateful, []);
  });

  it("a machine added: by hostname and MAC, its certificates, dnsmasq's hosts, its files", () => {
    const r = previewReport([{ environment: "development", preview: fixture("machine-added") }]);
    const prefix = "/etc/gentoo-infra/pxe/machines/52-54-00-47-49-51";
    assert.deepEqual(said(r.markdown), [
      "## development: 8 resources change",
      "### Install host",
      "- machine web2 (52:54:00:47:49:51) added",
      "- dnsmasq: +1 host",
      "- host certificate web2.dev.gentoo-infra.test issued",
      "- puppet certificate web2.dev.gentoo-infra.test issued",
      "- PrivateKey added: `pxe-web2-host-key`, `pxe-web2-puppet-key`",
      "- RandomPassword added: `pxe-web2-autosign`",
      `- pxe: files added: ${["host.key", "host.pem", "install.ipxe", "local.ipxe", "puppet.key", "puppet.pem"].map((f) => `\`${prefix}/${f}\``).join(", ")}`,
      "- pxe: files changed: `/etc/gentoo-infra/pxe/netboot.tsv`, `/etc/nginx/nginx.conf`",
    ]);
    assert.deepEqual(r.stateful, [], "creating keys loses nothing");
  });

  it("a machine's firmware changed: its install configuration, dnsmasq with the same hosts", () => {
    const r = previewReport([{ environment: "production", preview: fixture("firmware-changed") }]);
    assert.deepEqual(said(r.markdown).slice(0, 4), [
      "## production: 1 resource changes",
      "### Install host",
      "- machine web1 (52:54:00:47:49:50) install configuration changed",
      "- dnsmasq: configuration changed, same hosts",
    ]);
  });

  it("a file known only at the up (the binhost's copy of a re-signed CRL) is named as changed", () => {
    const r = previewReport([{ environment: "development", preview: fixture("binhost-crl") }]);
    assert.deepEqual(said(r.markdown), [
      "## development: 2 resources change",
      "### Binhost",
      "- binhost-config: files changed: `/var/lib/gentoo-infra/binhost/crl-files.json`",
      "### PKI",
      "- certificate mail revoked (keyCompromise); host CRL re-signed",
    ]);
  });

  it("a certificate revoked: the CRL re-signed with the new entry and its reason", () => {
    const r = previewReport([
      { environment: "production", preview: fixture("certificate-revoked") },
    ]);
    assert.deepEqual(said(r.markdown), [
      "## production: 1 resource changes",
      "### PKI",
      "- certificate web1 revoked (keyCompromise); host CRL re-signed",
    ]);
  });

  it("a revocation of a CRL signed before certificates were named: the serial stands in", () => {
    const preview = JSON.parse(
      JSON.stringify(fixture("certificate-revoked")).replaceAll('"certificate":"web1",', ""),
    ) as PreviewJson;
    assert.doesNotMatch(JSON.stringify(preview), /web1/);
    assert.match(
      previewReport([{ environment: "production", preview }]).markdown,
      /^- certificate serial 27b4d40e242b… revoked \(keyCompromise\); host CRL re-signed$/m,
    );
  });

  it("replacements and deletions of stateful resources come first, marked, and are returned", () => {
    const steps = [...(fixture("tree-moved").steps ?? [])];
    const urn = (chain: string, name: string) => `urn:pulumi:development::site::${chain}::${name}`;
    const disk = urn(
      "gentoo-infra:binhost:BinhostMirror$gentoo-infra:libvirt:VirtualMachine$libvirt:index/volume:Volume",
      "binhost-disk",
    );
    const key = urn(
      "gentoo-infra:pki:RootCa$gentoo-infra:pki:CertificateAuthority$tls:index/privateKey:PrivateKey",
      "pki-host-ca-key",
    );
    // How the engine prints a replacement: three steps of one URN.
    steps.push(
      { op: "create-replacement", urn: disk },
      { op: "replace", urn: disk },
      { op: "delete-replaced", urn: disk },
      { op: "delete", urn: key },
    );
    const r = previewReport([{ environment: "development", preview: { steps } }]);
    assert.deepEqual(r.stateful, [
      "development: **replace** disk `binhost-disk` (Binhost)",
      "development: **delete** private key `pki-host-ca-key` (PKI)",
    ]);
    const lines = said(r.markdown);
    assert.deepEqual(lines.slice(0, 4), [
      "## development: 7 resources change",
      "### ⚠ Replaced or deleted, with their state",
      "- **replace** disk `binhost-disk` (Binhost)",
      "- **delete** private key `pki-host-ca-key` (PKI)",
    ]);
    assert.match(r.markdown, /\| replace \| `libvirt:index\/volume:Volume` \| `binhost-disk` \|/);
  });

  it("a push whose state has no connection yet is updated once, sending nothing, and says so", () => {
    const urn =
      "urn:pulumi:development::site::gentoo-infra:host:PushedFiles$pulumi-nodejs:dynamic/gentoo-infra:FilePush::pxe-files";
    const files = { "/etc/dnsmasq.conf": { hash: "sha256:00", mode: "0644", owner: "root:root" } };
    const type = "pulumi-nodejs:dynamic/gentoo-infra:FilePush";
    const step = (outputs: Record<string, unknown>) => ({
      op: "update",
      urn,
      oldState: { type, inputs: { files, afterChange: "x" }, outputs: { files, ...outputs } },
      newState: { type, inputs: { files, afterChange: "x" } },
    });
    assert.deepEqual(
      said(
        previewReport([{ environment: "development", preview: { steps: [step({})] } }]).markdown,
      ),
      [
        "## development: 1 resource changes",
        "### Other resources",
        "- pxe: connection kept for refresh, nothing sent: `pxe-files`",
      ],
    );
    // Once kept, the same step would be no change: the report says nothing of the push.
    const kept = previewReport([
      { environment: "development", preview: { steps: [step({ connection: "[secret]" })] } },
    ]);
    assert.doesNotMatch(kept.markdown, /connection kept/);
  });

  it("a builder moved to another hypervisor: the move, its VM and disk replaced, nothing else", () => {
    const r = previewReport([{ environment: "development", preview: fixture("builder-moved") }]);
    assert.deepEqual(said(r.markdown), [
      "## development: 5 resources change",
      "### ⚠ Replaced or deleted, with their state",
      "- **replace** VM `farm-development-amd64-tools` (Build farm)",
      "- **replace** disk `farm-development-amd64-tools-disk` (Build farm)",
      "### Build farm",
      "- builder development/amd64/tools moves: hypervisor remote → local",
      "- CloudInitDisk replaced: `farm-development-amd64-tools-cloudinit`",
      "- Command replaced: `farm-development-amd64-tools-ready`",
      "- Volume replaced: `farm-development-amd64-tools-disk`",
    ]);
    assert.equal(r.stateful.length, 2);
  });

  it("a VM that is not a builder moves by its name; a VM replaced on its hypervisor does not move", () => {
    const provider = (hypervisor: string) =>
      `urn:pulumi:development::minimal::gentoo-infra:libvirt:Hypervisor$pulumi:providers:libvirt::${hypervisor}::0d6f3a52-id`;
    const domain = (chain: string, name: string, from: string, to: string) => ({
      op: "replace",
      urn: `urn:pulumi:development::minimal::${chain}$gentoo-infra:libvirt:VirtualMachine$libvirt:index/domain:Domain::${name}`,
      oldState: { type: "libvirt:index/domain:Domain", provider: provider(from) },
      newState: { type: "libvirt:index/domain:Domain", provider: provider(to) },
    });
    const steps = [
      domain("gentoo-infra:binhost:BinhostMirror", "binhost", "kvm1", "kvm2"),
      domain("gentoo-infra:pxe:PxeInstallHost", "pxe", "kvm1", "kvm1"),
    ];
    const lines = said(
      previewReport([{ environment: "development", preview: { steps } }]).markdown,
    );
    assert.ok(lines.includes("- VM `binhost` moves: hypervisor kvm1 → kvm2"), lines.join("\n"));
    assert.ok(lines.includes("- VM pxe replaced"), lines.join("\n"));
    assert.equal(lines.filter((l) => l.includes("moves")).length, 1);
  });

  it("several environments: one section each, in the order given", () => {
    const r = previewReport([
      { environment: "staging", preview: fixture("nothing") },
      { environment: "development", preview: fixture("tree-moved") },
    ]);
    assert.deepEqual(
      said(r.markdown).filter((l) => l.startsWith("## ")),
      ["## staging: no change", "## development: 5 resources change"],
    );
    // Every change is in the folded table, once.
    const rows = r.markdown
      .split("\n")
      .filter((l) => /^\| (create|update|replace|delete) /.test(l));
    assert.equal(rows.length, 5);
  });
});

describe("gentoo-infra preview-report", () => {
  const shim = resolve(__dirname, "../../scripts/gentoo-infra");
  const dir = mkdtempSync(join(tmpdir(), "gi-preview-report-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (args: string[], input?: string) =>
    spawnSync(shim, ["preview-report", ...args], { encoding: "utf8", input });

  it("reads ENVIRONMENT=FILE and standard input, prints Markdown, exits 0", () => {
    const r = cli(
      [`staging=${join(DATA, "nothing.json")}`, "development=-"],
      readFileSync(join(DATA, "machine-added.json"), "utf8"),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^## staging: no change\n\n## development: 8 resources change\n/);
  });

  it("is the same report whatever order the engine reported the steps in", () => {
    // The engine lists steps as they finish: a live preview of the same change had the
    // machine's RandomPassword before its PrivateKeys and changed files before added ones.
    for (const name of [
      "machine-added",
      "tree-moved",
      "certificate-revoked",
      "firmware-changed",
      "binhost-crl",
    ]) {
      const preview = fixture(name);
      const steps = preview.steps ?? [];
      const shuffled = [
        ...steps.filter((_, i) => i % 2 === 1),
        ...steps.filter((_, i) => i % 2 === 0),
      ];
      const report = (s: typeof steps) =>
        previewReport([{ environment: "development", preview: { ...preview, steps: s } }]).markdown;
      assert.equal(report([...steps].reverse()), report(steps), `${name}, reversed`);
      assert.equal(report(shuffled), report(steps), `${name}, interleaved`);
    }
  });

  it("names the environment after the stack when no name is given; --output writes a file", () => {
    const out = join(dir, "report.md");
    const r = cli([join(DATA, "nothing.json"), "--output", out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "");
    // urn:pulumi:<stack>::<project>::…
    const stack = fixture("nothing").steps?.[0]?.urn.split("::")[0]?.split(":")[2];
    assert.match(readFileSync(out, "utf8"), new RegExp(`^## ${stack}: no change\n`));
  });

  it("exits 3 when a stateful resource is replaced or deleted", () => {
    const preview = fixture("nothing");
    const file = join(dir, "stateful.json");
    writeFileSync(
      file,
      JSON.stringify({
        steps: [
          ...(preview.steps ?? []),
          {
            op: "delete",
            urn: "urn:pulumi:production::site::gentoo-infra:pki:RootCa$pulumi-nodejs:dynamic/gentoo-infra:PackageSigningKey::pki-signing-key",
          },
        ],
      }),
    );
    const r = cli([`production=${file}`]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /- \*\*delete\*\* package signing key `pki-signing-key` \(PKI\)/);
  });

  it("refuses what is not a preview (exit 1) and a call without one (exit 2)", () => {
    const file = join(dir, "not-json.txt");
    writeFileSync(file, "Previewing update (development)\n");
    const bad = cli([file]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /not-json\.txt is not the output of pulumi preview --json/);
    const none = cli([]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /preview-report needs a preview/);
  });
});
