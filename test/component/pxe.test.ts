/**
 * PxeInstallHost under mocks: exact children, names and inputs; secrets stay secret; per-MAC
 * scripts; unknown MACs boot their disk; adding a machine adds files and leaves the server
 * alone; bad input yields one error and registers nothing.
 *
 * Not proven here: that the server boots, that dnsmasq and nginx accept the files (the
 * render tier runs dnsmasq --test, nginx -t and systemd-analyze verify on them), that a
 * machine installs (the end-to-end tier), or the failure of a late-bound binhost input that
 * resolves without a machine's cell (a rejected Output that every dependent resource
 * reports; the rule, validateBinhostInputs, is unit-tested in test/unit/pxe-install-host).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { METACHARACTERS } from "../support/hostile";
import {
  isSecret,
  outputValue,
  type Registered,
  registered,
  registeredSince,
  registeredUnder,
} from "../support/mocks";
import {
  FILE_PUSH,
  filePushInputs,
  isSecretInput,
  type PushedFileView,
  pushedFiles,
} from "../support/pushes";

// The shared recorder, plus what the providers would compute that the component reads:
// a RandomPassword's result and a signed certificate's PEM.
/** A resource name in the base64 alphabet ("-" becomes "/"), for PEM-shaped mock values. */
const slashed = (name: string) => name.replaceAll("-", "/");
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({
        type: args.type,
        name: args.name,
        inputs: args.inputs,
        provider: args.provider,
      });
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "tls:index/privateKey:PrivateKey") {
        state.publicKeyOpenssh = `ssh-ed25519 AAAAC3Nza${Buffer.from(args.name).toString("base64").replace(/=/g, "")} ${args.name}`;
        state.privateKeyOpenssh = `-----BEGIN OPENSSH PRIVATE KEY-----${args.name}`;
        state.privateKeyPemPkcs8 = `PRIVATE(${args.name})`;
      }
      if (args.type === "random:index/randomPassword:RandomPassword") {
        state.result = `token${Buffer.from(args.name).toString("hex")}`.slice(0, 32);
      }
      if (args.type.endsWith(":SignedCertificate")) {
        // PEM-shaped, not a certificate (the install configuration checks the shape); the
        // body is the resource name with "/" for "-", so that `comparable` can rename it.
        state.certificatePem = `-----BEGIN CERTIFICATE-----\n${slashed(args.name)}\n-----END CERTIFICATE-----\n`;
      }
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  },
  "gentoo-infra",
  "development",
  true,
);

import type * as LibvirtModule from "../../lib/libvirt";
import type * as PkiModule from "../../lib/pki";
import type * as PxeModule from "../../lib/pxe";
import type * as StackModule from "../../lib/stack";
import * as stackFixture from "../support/stack-catalog";

const { GuestNetwork, Hypervisor } = require("../../lib/libvirt") as typeof LibvirtModule;
const { PxeInstallHost, defaultDiskLayout, renderDefaultScript } =
  require("../../lib/pxe") as typeof PxeModule;
const { Stack } = require("../../lib/stack") as typeof StackModule;
const { RootCa } = require("../../lib/pki") as typeof PkiModule;

/** Compile-time: a RootCa is what `rootCa` takes. */
const rootCaFits = (ca: PkiModule.RootCa): PxeModule.PxePki => ca;

const work = mkdtempSync(join(tmpdir(), "gi-component-pxe-"));
after(() => rmSync(work, { recursive: true, force: true }));
const kernel = join(work, "vmlinuz");
const initrd = join(work, "initramfs.img");
writeFileSync(kernel, Buffer.from([0x4d, 0x5a, 0x00, 0xff]));
writeFileSync(initrd, Buffer.from([0x07, 0x07, 0x01, 0x00]));

const hv = new Hypervisor("site", { domainType: "qemu", pool: { existing: "default" } });
const lan = new GuestNetwork("lan", { hypervisor: hv, subnet: "10.0.0.0/24" });
const stackArgs = {
  catalog: stackFixture.catalog,
  binhostUrl: "https://binhost.example.ch",
  gentooSyncUri: stackFixture.GENTOO_SYNC_URI,
  overlaySyncUri: stackFixture.OVERLAY_SYNC_URI,
  signingKeyFingerprint: stackFixture.FINGERPRINT,
  treeSnapshots: {
    production: { gentoo: stackFixture.GENTOO_COMMIT, overlay: stackFixture.OVERLAY_COMMIT },
    staging: { gentoo: stackFixture.GENTOO_COMMIT, overlay: stackFixture.OVERLAY_COMMIT },
  },
};
const web = new Stack("web", {
  ...stackArgs,
  systemProfile: "server",
  environments: ["production", "staging"],
  arches: ["amd64"],
});
const db = new Stack("db", {
  ...stackArgs,
  systemProfile: "server",
  applicationProfiles: ["python-app"],
  environments: ["staging"],
  arches: ["amd64"],
});

/** A stand-in root certificate: PEM-shaped, as the install configuration requires. */
const ROOT_PEM =
  "-----BEGIN CERTIFICATE-----\nUk9PVCBDQSBTVEFORC1JTg==\n-----END CERTIFICATE-----\n";
const pki = {
  subCas: {
    host: { issuer: { certificatePem: "HOST-CA\n", privateKeyPem: pulumi.secret("HOST-CA-KEY") } },
    puppet: {
      issuer: { certificatePem: "PUPPET-CA\n", privateKeyPem: pulumi.secret("PUPPET-CA-KEY") },
    },
  },
  chainPems: { host: "HOST-CHAIN\n", puppet: "PUPPET-CHAIN\n" },
  rootCertificatePem: ROOT_PEM,
  baseDn: "dc=example,dc=ch",
};
const stage = (env: string, stack: string) => ({
  url: `https://binhost.example.ch/stages/${env}/amd64/stage4-amd64-${stack}-20261122T030000Z.tar.xz`,
  sha512: "ab".repeat(64),
});
/** As a BinhostMirror's clientConfig has it (repositoryUrl and makeConf too). */
const clientConfig = {
  "production/amd64/web": {
    repositoryUrl: "https://binhost.example.ch/production/amd64/web/",
    binreposConf:
      "[production-amd64-web]\nsync-uri = https://binhost.example.ch/production/amd64/web/\n",
    makeConf: 'COMMON_FLAGS="-O2 -pipe"\n',
  },
  "staging/amd64/db": {
    repositoryUrl: "https://binhost.example.ch/staging/amd64/db/",
    binreposConf: "[staging-amd64-db]\nsync-uri = https://binhost.example.ch/staging/amd64/db/\n",
    makeConf: 'COMMON_FLAGS="-O2 -pipe"\n',
  },
};
const stages = {
  "production/amd64/web": stage("production", "web"),
  "staging/amd64/db": stage("staging", "db"),
};

const web1 = {
  mac: "52:54:00:12:34:56",
  hostname: "web1",
  environment: "production",
  arch: "amd64",
  stack: "web",
  address: "10.0.0.21",
  firmware: "uefi" as const,
  diskLayout: defaultDiskLayout("uefi", "/dev/vda"),
};
const db1 = {
  mac: "52-54-00-AB-CD-EF",
  hostname: "db1",
  environment: "staging",
  arch: "amd64",
  stack: "db",
  address: "10.0.0.22",
  firmware: "bios" as const,
  diskLayout: defaultDiskLayout("bios", "/dev/sda"),
  installGeneration: 2,
};

type Args = ConstructorParameters<typeof PxeInstallHost>[1];
const baseArgs: Args = {
  hypervisor: hv,
  network: lan,
  address: "10.0.0.2",
  image: { volumeId: "base-id" },
  dhcpRange: { start: "10.0.0.100", end: "10.0.0.199" },
  domain: "example.ch",
  machines: [web1, db1],
  stacks: [web, db],
  binhost: { clientConfig: pulumi.output(clientConfig) },
  stages,
  rootCa: pki,
  puppet: { server: "puppet.example.ch" },
  installers: { amd64: { kernel, initrd } },
};

const names = (list: { type: string; name: string }[]) =>
  list.map((r) => `${r.type} ${r.name}`).sort();
const assertSameSet = (actual: string[], expected: string[]) =>
  assert.deepEqual([...actual].sort(), [...expected].sort());
const inputsOf = (list: Registered[], type: string, name: string) => {
  const found = list.find((r) => r.type === type && r.name === name);
  assert.ok(found, `${type} ${name} was not registered`);
  return found.inputs;
};
/** The files PxeInstallHost `name` pushes (its FilePush `<name>-files`): destination → file. */
const filesOf = (list: Registered[], name: string): Record<string, PushedFileView> =>
  pushedFiles(list, `${name}-files`, {
    hmacKey: `-----BEGIN OPENSSH PRIVATE KEY-----${name}-ssh-key`,
  });
/** The text PxeInstallHost `name` pushes to `path`, or `file:<local path>` for a local file. */
const pushed = (list: Registered[], name: string, path: string): string => {
  const file = filesOf(list, name)[path];
  assert.ok(file, `${name} pushes no ${path}`);
  return file.content ?? `file:${file.localPath}`;
};
/** The key of one pushed file in {@link comparable}. */
const fileKey = (name: string, path: string) => `${FILE_PUSH} ${name}-files ${path}`;
/**
 * Each registration as `type name` → its inputs as text; a FilePush without its files and
 * `afterChange`, which come as `type name afterChange` → the command and each file as
 * `type name path` → the file (text or local path, mode, owner, secrecy; not the
 * fingerprint, which pushedFiles checks against the text and which for a secret is keyed
 * with the server's name-derived key), with the component's name (also hex-encoded, as in
 * the mocks' autosign tokens), the server's name-derived MAC and the mocks' name-derived SSH
 * keys replaced, so that two components can be compared.
 */
const comparable = async (list: Registered[], name: string, serverMac: string, as: string) => {
  const hex = (text: string) => Buffer.from(text).toString("hex");
  const normalized = (value: unknown) =>
    JSON.stringify(value)
      .replaceAll(name, as)
      .replaceAll(slashed(name), slashed(as))
      .replaceAll(hex(name), hex(as))
      .replaceAll(serverMac, "SERVER-MAC")
      .replace(/AAAAC3Nza[A-Za-z0-9+/]+/g, "KEY");
  const out = new Map<string, string>();
  for (const r of list) {
    const key = `${r.type} ${r.name.replace(name, as)}`;
    if (r.type !== FILE_PUSH) {
      out.set(key, normalized(r.inputs));
      continue;
    }
    const { files: _f, contents: _c, localPaths: _l, afterChange, ...rest } = r.inputs;
    out.set(key, normalized(rest));
    out.set(`${key} afterChange`, normalized(afterChange));
    const files = pushedFiles(list, r.name, {
      hmacKey: `-----BEGIN OPENSSH PRIVATE KEY-----${name}-ssh-key`,
    });
    for (const [path, file] of Object.entries(files)) {
      out.set(`${key} ${path}`, normalized(file));
    }
  }
  return out;
};

/** The files pushed for the machine of MAC `mac` (as in file names: 52-54-00-…). */
const machinePaths = (mac: string) =>
  [
    "install.ipxe",
    "local.ipxe",
    "install.json",
    "host.pem",
    "host.key",
    "puppet.pem",
    "puppet.key",
  ].map((f) => `/etc/gentoo-infra/pxe/machines/${mac}/${f}`);
const machineResources = (name: string, host: string) => [
  `gentoo-infra:pki:Certificate ${name}-${host}-host`,
  `tls:index/privateKey:PrivateKey ${name}-${host}-host-key`,
  `pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate ${name}-${host}-host-cert`,
  `gentoo-infra:pki:Certificate ${name}-${host}-puppet`,
  `tls:index/privateKey:PrivateKey ${name}-${host}-puppet-key`,
  `pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate ${name}-${host}-puppet-cert`,
  `random:index/randomPassword:RandomPassword ${name}-${host}-autosign`,
];
const hostResources = (name: string) => [
  `gentoo-infra:pxe:PxeInstallHost ${name}`,
  `gentoo-infra:host:Server ${name}`,
  `tls:index/privateKey:PrivateKey ${name}-ssh-key`,
  `gentoo-infra:libvirt:VirtualMachine ${name}`,
  `libvirt:index/volume:Volume ${name}-disk`,
  `libvirt:index/cloudInitDisk:CloudInitDisk ${name}-cloudinit`,
  `libvirt:index/domain:Domain ${name}`,
  `command:remote:Command ${name}-ready`,
  `gentoo-infra:pki:Certificate ${name}-tls`,
  `tls:index/privateKey:PrivateKey ${name}-tls-key`,
  `pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate ${name}-tls-cert`,
  `gentoo-infra:host:PushedFiles ${name}-files`,
  `${FILE_PUSH} ${name}-files`,
];
/** The files every install host pushes besides the machines' own. */
const HOST_PATHS = [
  "/etc/dnsmasq.conf",
  "/etc/nginx/nginx.conf",
  "/etc/gentoo-infra/pxe/tls/server.pem",
  "/etc/gentoo-infra/pxe/tls/server.key",
  "/etc/gentoo-infra/pxe/ca.pem",
  "/etc/gentoo-infra/pxe/puppet-ca.pem",
  "/etc/gentoo-infra/pxe/netboot.tsv",
  "/usr/local/sbin/gi-pxe-netboot-switch",
  "/usr/local/sbin/gi-pxe-status",
  "/etc/systemd/system/gi-pxe-netboot.path",
  "/etc/systemd/system/gi-pxe-netboot.service",
  "/srv/pxe/www/ipxe/default.ipxe",
  "/srv/pxe/www/installer/amd64/vmlinuz",
  "/srv/pxe/www/installer/amd64/initramfs.img",
];

describe("PxeInstallHost", () => {
  it("creates a server, its TLS certificate, per machine two certificates and a token, and one set of pushed files", async () => {
    new PxeInstallHost("pxe", baseArgs);
    const made = await registeredUnder("pxe");
    assertSameSet(names(made), [
      ...hostResources("pxe"),
      ...machineResources("pxe", "web1"),
      ...machineResources("pxe", "db1"),
    ]);
    const files = filesOf(made, "pxe");
    assertSameSet(Object.keys(files), [
      ...HOST_PATHS,
      ...machinePaths("52-54-00-12-34-56"),
      ...machinePaths("52-54-00-ab-cd-ef"),
    ]);
    assert.equal(
      inputsOf(made, "random:index/randomPassword:RandomPassword", "pxe-web1-autosign").length,
      32,
    );
    const tls = inputsOf(
      made,
      "pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate",
      "pxe-tls-cert",
    );
    assert.deepEqual(tls.ipAddresses, ["10.0.0.2"]);
    assert.deepEqual(tls.dnsNames, ["pxe.example.ch"]);
    const hostCert = inputsOf(
      made,
      "pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate",
      "pxe-web1-host-cert",
    );
    assert.deepEqual(hostCert.dnsNames, ["web1.example.ch"]);
    assert.equal(hostCert.issuerCertificatePem, "HOST-CA\n");
    const puppetCert = inputsOf(
      made,
      "pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate",
      "pxe-db1-puppet-cert",
    );
    assert.equal(puppetCert.issuerCertificatePem, "PUPPET-CA\n");
    assert.equal(
      inputsOf(made, "tls:index/privateKey:PrivateKey", "pxe-db1-puppet-key").rsaBits,
      4096,
    );
    // The installer images go byte for byte from the local files.
    assert.equal(pushed(made, "pxe", "/srv/pxe/www/installer/amd64/vmlinuz"), `file:${kernel}`);
    assert.equal(
      pushed(made, "pxe", "/srv/pxe/www/installer/amd64/initramfs.img"),
      `file:${initrd}`,
    );
    assert.equal(
      filePushInputs(made, "pxe-files").afterChange,
      [
        "install -d -m 0755 /srv/tftp",
        "install -D -m 0644 /usr/lib/ipxe/snponly.efi /srv/tftp/snponly.efi",
        "install -D -m 0644 /usr/lib/ipxe/undionly.kpxe /srv/tftp/undionly.kpxe",
        "install -D -m 0644 /usr/lib/ipxe/snponly.efi /srv/pxe/www/ipxe/snponly.efi",
        "systemctl daemon-reload",
        "systemctl enable gi-pxe-netboot.path",
        "systemctl restart gi-pxe-netboot.path",
        "/usr/local/sbin/gi-pxe-netboot-switch",
        "dnsmasq --test",
        "nginx -t -q",
        "systemctl enable dnsmasq nginx",
        "systemctl restart dnsmasq",
        "systemctl restart nginx",
      ].join(" && "),
    );
  });

  it("keeps keys, install configurations and autosign tokens secret", async () => {
    const host = new PxeInstallHost("sec", baseArgs);
    const mac = "52:54:00:12:34:56";
    assert.equal(await isSecret(host.installConfigs[mac] as pulumi.Output<string>), true);
    assert.equal(await isSecret(host.autosignTokens.web1 as pulumi.Output<string>), true);
    assert.equal(
      await isSecret(host.hostCertificates.web1?.privateKeyPem as pulumi.Output<string>),
      true,
    );
    assert.equal(
      await isSecret(host.puppetCertificates.db1?.privateKeyPem as pulumi.Output<string>),
      true,
    );
    // Pushed: the keys and the install configurations (they hold the tokens) are secret, so
    // their fingerprints are HMACs under the server's SSH key (filesOf checks them) and the
    // texts are a secret. The content hash, over paths, modes, owners and those fingerprints,
    // tells nothing of a secret: it is shown, as the manifest is.
    const list = await registeredUnder("sec");
    const files = filesOf(list, "sec");
    assertSameSet(
      Object.keys(files).filter((path) => files[path]?.secret),
      [
        "/etc/gentoo-infra/pxe/tls/server.key",
        ...["52-54-00-12-34-56", "52-54-00-ab-cd-ef"].flatMap((m) =>
          ["install.json", "host.key", "puppet.key"].map(
            (f) => `/etc/gentoo-infra/pxe/machines/${m}/${f}`,
          ),
        ),
      ],
    );
    assert.ok(isSecretInput(filePushInputs(list, "sec-files").contents));
    assert.equal(await isSecret(host.files.push.files), false);
    assert.equal(await isSecret(host.files.contentHash), false);
    assert.equal(
      await isSecret(host.installConfigs["52:54:00:ab:cd:ef"] as pulumi.Output<string>),
      true,
    );
  });

  it("serves each known MAC its own script and install configuration", async () => {
    const host = new PxeInstallHost("mac", baseArgs);
    const made = await registeredUnder("mac");
    assert.deepEqual(Object.keys(host.machineScripts).sort(), [
      "52:54:00:12:34:56",
      "52:54:00:ab:cd:ef",
    ]);
    const web1Script = host.machineScripts["52:54:00:12:34:56"];
    assert.match(
      String(web1Script?.install),
      /^kernel --name vmlinuz http:\/\/10\.0\.0\.2\/installer\/amd64\/vmlinuz initrd=initrd gi\.config=http:\/\/10\.0\.0\.2\/install\/52-54-00-12-34-56\.json gi\.mac=52:54:00:12:34:56 /m,
    );
    assert.equal(web1Script?.localBoot.split("\n").at(-2), "exit 1");
    assert.equal(
      pushed(made, "mac", "/etc/gentoo-infra/pxe/machines/52-54-00-12-34-56/install.ipxe"),
      web1Script?.install,
    );
    // The root certificate the installer trusts comes with the install configuration (works on
    // every firmware), not as a second initrd.
    assert.doesNotMatch(String(web1Script?.install), /^initrd --name ca/m);
    const dnsmasq = pushed(made, "mac", "/etc/dnsmasq.conf");
    assert.match(dnsmasq, /^port=0$/m, "no DNS without host records");
    assert.match(
      dnsmasq,
      /^dhcp-host=52:54:00:12:34:56,set:mac-525400123456,10\.0\.0\.21,web1,infinite$/m,
    );
    assert.match(
      dnsmasq,
      /^dhcp-boot=tag:ipxe,tag:mac-525400abcdef,http:\/\/10\.0\.0\.2\/ipxe\/52-54-00-ab-cd-ef\.ipxe$/m,
    );
    assert.match(dnsmasq, /^interface=eth0$/m);
    assert.equal(
      pushed(made, "mac", "/etc/gentoo-infra/pxe/netboot.tsv").split("\n").slice(3).join("\n"),
      "52-54-00-12-34-56 1 web1\n52-54-00-ab-cd-ef 2 db1\n",
    );
    const config = JSON.parse(
      await outputValue(host.installConfigs["52:54:00:ab:cd:ef"] as pulumi.Output<string>),
    );
    assert.equal(config.fqdn, "db1.example.ch");
    assert.equal(config.generation, 2);
    assert.equal(config.rootCertificatePem, ROOT_PEM, "the installer trusts the site's RootCa");
    assert.deepEqual(config.stage, stage("staging", "db"));
    assert.deepEqual(
      config.files.map((f: { path: string }) => f.path),
      [
        "/etc/portage/binrepos.conf/gentoo-infra.conf",
        "/etc/portage/make.conf",
        "/etc/puppetlabs/puppet/puppet.conf",
        "/etc/puppetlabs/puppet/csr_attributes.yaml",
      ],
    );
    assert.equal(config.report.url, "http://10.0.0.2/report/52-54-00-ab-cd-ef");
    assert.equal(config.puppet.environment, "staging");
    assert.equal(
      config.puppet.autosignToken,
      await outputValue(host.autosignTokens.db1 as pulumi.Output<string>),
    );
    assert.deepEqual(
      config.certificates.map((c: { url: string; path: string }) => `${c.path} ${c.url}`),
      [
        "/etc/ssl/gentoo-infra/ca.pem https://10.0.0.2/secrets/52-54-00-ab-cd-ef/ca.pem",
        "/etc/ssl/gentoo-infra/host.pem https://10.0.0.2/secrets/52-54-00-ab-cd-ef/host.pem",
        "/etc/ssl/gentoo-infra/host.key https://10.0.0.2/secrets/52-54-00-ab-cd-ef/host.key",
        "/etc/puppetlabs/puppet/ssl/certs/ca.pem https://10.0.0.2/secrets/52-54-00-ab-cd-ef/puppet-ca.pem",
        "/etc/puppetlabs/puppet/ssl/certs/db1.example.ch.pem https://10.0.0.2/secrets/52-54-00-ab-cd-ef/puppet.pem",
        "/etc/puppetlabs/puppet/ssl/private_keys/db1.example.ch.pem https://10.0.0.2/secrets/52-54-00-ab-cd-ef/puppet.key",
      ],
    );
  });

  it("installs the Stack's whole Portage configuration, the farm's signing key with the machine's tools, and root's SSH keys", async () => {
    const signingKey =
      "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ0000BYJKwYBBAHaRw8BAQdA\n-----END PGP PUBLIC KEY BLOCK-----\n";
    const files = {
      "/etc/portage/binrepos.conf/gentoo-infra.conf":
        clientConfig["production/amd64/web"].binreposConf,
      "/etc/portage/make.conf": clientConfig["production/amd64/web"].makeConf,
      "/etc/gentoo-infra/tree-snapshot": 'GI_ENVIRONMENT="production"\n',
      "/var/lib/portage/world": "www-servers/nginx\n",
    };
    const host = new PxeInstallHost("portage", {
      ...baseArgs,
      binhost: {
        clientConfig: pulumi.output({
          ...clientConfig,
          "production/amd64/web": { ...clientConfig["production/amd64/web"], files },
        }),
      },
      rootCa: { ...pki, packageSigningKey: { publicKeyArmored: pulumi.output(signingKey) } },
      authorizedKeys: [pulumi.output("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ admin@example.ch\n")],
    });
    const config = JSON.parse(
      await outputValue(host.installConfigs["52:54:00:12:34:56"] as pulumi.Output<string>),
    );
    const byPath = Object.fromEntries(
      config.files.map((f: { path: string; mode: string; content: string }) => [f.path, f]),
    );
    assert.deepEqual(Object.keys(byPath).sort(), [
      "/etc/gentoo-infra/package-signing.asc",
      "/etc/gentoo-infra/tree-snapshot",
      "/etc/portage/binrepos.conf/gentoo-infra.conf",
      "/etc/portage/make.conf",
      "/etc/puppetlabs/puppet/csr_attributes.yaml",
      "/etc/puppetlabs/puppet/puppet.conf",
      "/root/.ssh/authorized_keys",
      "/usr/local/sbin/gentoo-infra-getuto",
      "/usr/local/sbin/gentoo-infra-sync",
      "/var/lib/portage/world",
    ]);
    assert.equal(byPath["/etc/gentoo-infra/package-signing.asc"].content, signingKey);
    assert.equal(byPath["/usr/local/sbin/gentoo-infra-getuto"].mode, "0755");
    assert.equal(
      byPath["/root/.ssh/authorized_keys"].content,
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ admin@example.ch\n",
    );
    assert.equal(byPath["/root/.ssh/authorized_keys"].mode, "0600");
  });

  it("sends unknown MACs a local-boot script in full mode and writes nothing for them", async () => {
    const host = new PxeInstallHost("unknown", baseArgs);
    const made = await registeredUnder("unknown");
    assert.equal(host.defaultScript, renderDefaultScript());
    assert.equal(pushed(made, "unknown", "/srv/pxe/www/ipxe/default.ipxe"), renderDefaultScript());
    const dnsmasq = pushed(made, "unknown", "/etc/dnsmasq.conf");
    assert.match(
      dnsmasq,
      /^dhcp-boot=tag:ipxe,tag:!known,http:\/\/10\.0\.0\.2\/ipxe\/default\.ipxe$/m,
    );
    const perMachine = Object.keys(filesOf(made, "unknown")).filter((p) =>
      p.includes("/machines/"),
    );
    assert.equal(perMachine.length, 14);
    assert.ok(
      perMachine.every((p) =>
        /^\/etc\/gentoo-infra\/pxe\/machines\/52-54-00-(12-34-56|ab-cd-ef)\//.test(p),
      ),
    );
  });

  it("answers only known MACs in proxy mode", async () => {
    new PxeInstallHost("proxy", { ...baseArgs, dhcpMode: "proxy" });
    const dnsmasq = pushed(await registeredUnder("proxy"), "proxy", "/etc/dnsmasq.conf");
    assert.match(dnsmasq, /^dhcp-range=10\.0\.0\.0,proxy,255\.255\.255\.0$/m);
    assert.match(dnsmasq, /^dhcp-ignore=tag:!known$/m);
    assert.doesNotMatch(dnsmasq, /default\.ipxe/);
  });

  it("answers DNS for its host records only, when given", async () => {
    new PxeInstallHost("dns", {
      ...baseArgs,
      dnsServers: ["10.0.0.2"],
      hostRecords: { "binhost.example.ch": "10.0.0.10" },
    });
    const dnsmasq = pushed(await registeredUnder("dns"), "dns", "/etc/dnsmasq.conf");
    assert.doesNotMatch(dnsmasq, /^port=0$/m);
    assert.match(dnsmasq, /^no-resolv\nno-hosts\nhost-record=binhost\.example\.ch,10\.0\.0\.10$/m);
    assert.match(dnsmasq, /^dhcp-option=option:dns-server,10\.0\.0\.2$/m);
  });

  it("adding a machine adds its certificates, token and files and leaves the server unchanged", async () => {
    const a = new PxeInstallHost("grow-a", { ...baseArgs, machines: [web1] });
    const b = new PxeInstallHost("grow-b", baseArgs);
    const before = await comparable(
      await registeredUnder("grow-a"),
      "grow-a",
      a.server.mac,
      "grow",
    );
    const after = await comparable(await registeredUnder("grow-b"), "grow-b", b.server.mac, "grow");
    assertSameSet(
      [...after.keys()].filter((k) => !before.has(k)),
      [
        ...machineResources("grow", "db1"),
        ...machinePaths("52-54-00-ab-cd-ef").map((path) => fileKey("grow", path)),
      ],
    );
    assert.deepEqual(
      [...before.keys()].filter((k) => !after.has(k)),
      [],
    );
    const changed = [...before.keys()].filter((k) => before.get(k) !== after.get(k));
    assertSameSet(changed, [
      fileKey("grow", "/etc/dnsmasq.conf"),
      fileKey("grow", "/etc/gentoo-infra/pxe/netboot.tsv"),
      fileKey("grow", "/etc/nginx/nginx.conf"),
      // db1 boots by BIOS: the commands after a change install undionly too.
      `${FILE_PUSH} grow-files afterChange`,
    ]);
    const afterChange = (list: Registered[], name: string) =>
      String(filePushInputs(list, `${name}-files`).afterChange).split(" && ");
    const small = afterChange(await registeredUnder("grow-a"), "grow-a");
    const grown = afterChange(await registeredUnder("grow-b"), "grow-b");
    assert.deepEqual(
      grown.filter((c) => !small.includes(c)),
      ["install -D -m 0644 /usr/lib/ipxe/undionly.kpxe /srv/tftp/undionly.kpxe"],
    );
    assert.deepEqual(
      small.filter((c) => !grown.includes(c)),
      [],
    );
  });

  it("a reinstall (installGeneration bump) changes only the netboot table and that machine's scripts", async () => {
    const a = new PxeInstallHost("gen-a", baseArgs);
    const b = new PxeInstallHost("gen-b", {
      ...baseArgs,
      machines: [{ ...web1, installGeneration: 2 }, db1],
    });
    const before = await comparable(await registeredUnder("gen-a"), "gen-a", a.server.mac, "gen");
    const after = await comparable(await registeredUnder("gen-b"), "gen-b", b.server.mac, "gen");
    assert.deepEqual([...before.keys()].sort(), [...after.keys()].sort());
    const changed = [...before.keys()].filter((k) => before.get(k) !== after.get(k));
    assertSameSet(changed, [
      fileKey("gen", "/etc/gentoo-infra/pxe/machines/52-54-00-12-34-56/install.ipxe"),
      fileKey("gen", "/etc/gentoo-infra/pxe/machines/52-54-00-12-34-56/local.ipxe"),
      fileKey("gen", "/etc/gentoo-infra/pxe/machines/52-54-00-12-34-56/install.json"),
      fileKey("gen", "/etc/gentoo-infra/pxe/netboot.tsv"),
    ]);
    // The install configuration's change is its generation.
    const config = (host: InstanceType<typeof PxeInstallHost>) =>
      outputValue(host.installConfigs["52:54:00:12:34:56"] as pulumi.Output<string>).then(
        (text) => JSON.parse(text).generation,
      );
    assert.deepEqual([await config(a), await config(b)], [1, 2]);
  });
});

describe("PxeInstallHost with a RootCa", () => {
  it("issues machine certificates from the RootCa's host and puppet sub-CAs", async () => {
    const ca = new RootCa("siteca", {
      baseDn: "dc=example,dc=ch",
      crlBaseUrl: "http://binhost.example.ch/crl",
      intermediate: "development",
      root: { mode: "in-stack" },
    });
    new PxeInstallHost("withca", { ...baseArgs, rootCa: rootCaFits(ca) });
    const made = await registeredUnder("withca");
    const issuer = (name: string) =>
      inputsOf(made, "pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate", name)
        .issuerCertificatePem;
    assert.equal(issuer("withca-web1-host-cert"), await outputValue(ca.subCas.host.certificatePem));
    assert.equal(
      issuer("withca-web1-puppet-cert"),
      await outputValue(ca.subCas.puppet.certificatePem),
    );
    assert.equal(issuer("withca-tls-cert"), await outputValue(ca.subCas.host.certificatePem));
  });
});

describe("PxeInstallHost rejects bad input with one error and creates nothing", () => {
  const prefix = (name: string, count: number) =>
    `PxeInstallHost "${name}": ${count === 1 ? "1 problem" : `${count} problems`}:\n`;
  const cases: { name: string; args: Partial<Args>; message: string[] }[] = [
    {
      name: "dup",
      args: {
        machines: [
          web1,
          { ...db1, mac: "52:54:00:12:34:56", hostname: "web1", address: "10.0.0.21" },
        ],
      },
      message: [
        '- machines[1].mac: duplicates machines[0].mac (got "52:54:00:12:34:56"); give each machine its own MAC address',
        '- machines[1].hostname: duplicates machines[0].hostname (got "web1"); give each machine its own host name',
        '- machines[1].address: duplicates machines[0].address (got "10.0.0.21"); give each machine its own address',
      ],
    },
    {
      name: "addr",
      args: {
        machines: [
          { ...web1, address: "10.0.1.5" },
          { ...db1, address: "10.0.0.150" },
        ],
      },
      message: [
        '- machines[0].address: is outside the subnet 10.0.0.0/24 (got "10.0.1.5"); use an address inside the subnet',
        '- machines[1].address: is inside the DHCP range 10.0.0.100-10.0.0.199 (got "10.0.0.150"); use an address outside the DHCP range',
      ],
    },
    {
      name: "names",
      args: {
        machines: [
          { ...web1, stack: "mail" },
          { ...db1, environment: "testing", arch: "sparc" },
        ],
      },
      message: [
        '- machines[0].stack: is not a known Stack (got "mail"); use one of db, web',
        '- machines[1].environment: is not a known environment (got "testing"); use one of production, staging',
        '- machines[1].arch: is not a known arch (got "sparc"); use one of amd64',
      ],
    },
    {
      name: "cell",
      args: { machines: [{ ...db1, environment: "production" }] },
      message: [
        '- machines[0]: is not built: Stack "db" builds staging/amd64 (got "production/amd64/db"); add the environment and arch to the Stack, or pick a cell it builds',
      ],
    },
    {
      name: "badmac",
      args: { machines: [{ ...web1, mac: "52:54:00:12:34" }] },
      message: [
        '- machines[0].mac: is not a MAC address (got "52:54:00:12:34"); use six colon-separated hex pairs, e.g. 52:54:00:12:34:56',
      ],
    },
    {
      name: "proxy-empty",
      args: { dhcpMode: "proxy", machines: [] },
      message: [
        "- machines: is empty in proxy mode (got []); list the machines to install: in proxy mode the install host answers known MACs only",
      ],
    },
    {
      name: "own",
      args: { address: "10.0.0.120" },
      message: [
        '- address: is inside the DHCP range 10.0.0.100-10.0.0.199 (got "10.0.0.120"); use an address outside the DHCP range',
      ],
    },
    {
      name: "taken",
      args: { address: "10.0.0.21" },
      message: [
        `- address: is machines[0]'s address (got "10.0.0.21"); give the install host its own address`,
      ],
    },
    {
      name: "inst",
      args: { installers: { arm64: { kernel: "/nonexistent/vmlinuz", initrd } } },
      message: [
        "- installers.amd64: is missing (got undefined); give the installer kernel and initrd for amd64: a machine of that arch installs with it",
        '- installers.arm64.kernel: is not a readable local file (got "/nonexistent/vmlinuz"); give the path of the installer image on the machine that runs Pulumi',
      ],
    },
    {
      name: "binhost",
      args: {
        binhost: {
          clientConfig: { "staging/amd64/db": clientConfig["staging/amd64/db"] },
        },
        stages: {
          ...stages,
          "production/amd64/web": { url: "https://mirror.example.org/stage.tar.xz", sha512: "0" },
        },
        puppet: { server: "Puppet Server" },
      },
      message: [
        '- puppet.server: is not a host name (got "Puppet Server"); use e.g. puppet.example.ch',
        '- binhost.clientConfig["production/amd64/web"]: is missing (got undefined); serve build profile production/amd64/web from the binhost, or change the machines that use it',
        `- stages["production/amd64/web"].url: is not on the binhost https://binhost.example.ch (got "https://mirror.example.org/stage.tar.xz"); install stages from the Stacks' binhost (their binhostUrl)`,
        '- stages["production/amd64/web"].sha512: is not a SHA-512 digest (got "0"); give 128 lower-case hex digits from the stage\'s .DIGESTS',
      ],
    },
    {
      name: "records",
      args: { hostRecords: { "Bin Host": "10.0.0.10", "binhost.example.ch": "10.0.0" } },
      message: [
        '- hostRecords["Bin Host"]: is not a lower-case DNS name (got "Bin Host"); use e.g. binhost.example.ch',
        '- hostRecords["binhost.example.ch"]: is not an IPv4 address (got "10.0.0"); use e.g. 10.0.0.10',
      ],
    },
    {
      name: "sshkey",
      args: { authorizedKeys: ["ssh-ed25519 AAAA\nforced-command"] },
      message: [
        "- authorizedKeys[0]: is not one OpenSSH public key (got \"ssh-ed25519 AAAA\\nforced-command\"); use one line such as 'ssh-ed25519 AAAA... admin@example.ch'",
      ],
    },
    {
      // It reaches a root shell command on the install host: only plain path segments.
      name: "ipxedir",
      args: { ipxeDirectory: "/usr/lib/ipxe; curl x | sh" },
      message: [
        '- ipxeDirectory: is not an absolute path of plain segments (got "/usr/lib/ipxe; curl x | sh"); use e.g. /usr/lib/ipxe: letters, digits and . _ + - between slashes, no . or .. segment',
      ],
    },
    {
      name: "mode",
      args: { dhcpMode: "relay" as "full" },
      message: ['- dhcpMode: is not a DHCP mode (got "relay"); use full or proxy'],
    },
    {
      // The binhost's URL is the Stacks' (binhostUrl): a program written before it was.
      name: "binhosturl",
      args: {
        binhost: { ...baseArgs.binhost, url: "https://binhost.example.ch" },
      } as Partial<Args>,
      message: [
        `- binhost.url: is no longer an argument: machines install from their Stacks' binhostUrl (got "https://binhost.example.ch"); remove binhost.url; give the binhost's URL to the Stacks (binhostUrl)`,
      ],
    },
    {
      // The base DN is the RootCa's: a program written before it was taken from there.
      name: "basedn",
      args: { baseDn: "dc=example,dc=ch" } as Partial<Args>,
      message: [
        '- baseDn: is no longer an argument: the base DN is the RootCa\'s (rootCa.baseDn) (got "dc=example,dc=ch"); remove baseDn; give the base DN to the RootCa',
      ],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.message[0]?.slice(2, 60)}…`, async () => {
      assert.throws(
        () => new PxeInstallHost(c.name, { ...baseArgs, ...c.args }),
        (e: Error) => {
          assert.equal(
            e.message.replace(/^.*?PxeInstallHost/s, "PxeInstallHost"),
            prefix(c.name, c.message.length) + c.message.join("\n"),
          );
          return true;
        },
      );
      assertSameSet(names(await registeredUnder(c.name)), [
        `gentoo-infra:pxe:PxeInstallHost ${c.name}`,
      ]);
    });
  }
});

describe("PxeInstallHost refuses hostile values in its plain arguments (property)", () => {
  /** Where a value goes in the arguments, the name the error must give, and a valid value. */
  // `optional`: null there means "not given", as undefined does (Pulumi's convention).
  const places: { at: string; set: (value: unknown) => Partial<Args>; optional?: true }[] = [
    { at: "address", set: (v) => ({ address: v as string }) },
    { at: "domain", set: (v) => ({ domain: v as string }) },
    {
      at: "dhcpRange.start",
      set: (v) => ({ dhcpRange: { start: v as string, end: "10.0.0.199" } }),
    },
    { at: "dhcpRange.end", set: (v) => ({ dhcpRange: { start: "10.0.0.100", end: v as string } }) },
    { at: "dhcpMode", set: (v) => ({ dhcpMode: v as "full" }), optional: true },
    { at: "ipxeDirectory", set: (v) => ({ ipxeDirectory: v as string }), optional: true },
    { at: "authorizedKeys[0]", set: (v) => ({ authorizedKeys: [v as string] }) },
    ...(["mac", "hostname", "environment", "arch", "stack", "address"] as const).map((field) => ({
      at: `machines[0].${field}`,
      set: (v: unknown) => ({ machines: [{ ...web1, [field]: v }, db1] }),
    })),
  ];
  const valid: Record<string, string> = {
    address: "10.0.0.2",
    domain: "example.ch",
    "dhcpRange.start": "10.0.0.100",
    "dhcpRange.end": "10.0.0.199",
    dhcpMode: "full",
    ipxeDirectory: "/usr/lib/ipxe",
    "authorizedKeys[0]": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk admin@example.ch",
    "machines[0].mac": web1.mac,
    "machines[0].hostname": web1.hostname,
    "machines[0].environment": web1.environment,
    "machines[0].arch": web1.arch,
    "machines[0].stack": web1.stack,
    "machines[0].address": web1.address,
  };
  /** Shell and configuration metacharacters, and a character no text value may hold. */
  const metacharacter = fc.constantFrom(...METACHARACTERS);
  const wrongType = fc.constantFrom<unknown>(42, true, null, {}, [], ["web1"], () => "web1");

  it("each is refused with one error naming that argument, and nothing is registered", async () => {
    let n = 0;
    const made: string[] = [];
    fc.assert(
      fc.property(
        fc.constantFrom(...places),
        fc.oneof(
          wrongType.map((v) => ({ kind: "type" as const, v })),
          fc
            .tuple(metacharacter, fc.nat())
            .map(([bad, at]) => ({ kind: "text" as const, bad, at })),
        ),
        (place, hostile) => {
          if (place.optional && hostile.kind === "type" && hostile.v === null) return;
          let value: unknown;
          if (hostile.kind === "type") {
            value = hostile.v;
          } else {
            // Inside the key type of an authorized key: a comment may follow its first spaces,
            // and the whitespace around a key (a .pub file's newline) is dropped by design.
            const base = valid[place.at] ?? "";
            const i =
              place.at === "authorizedKeys[0]"
                ? 1 + (hostile.at % 11)
                : hostile.at % (base.length + 1);
            value = `${base.slice(0, i)}${hostile.bad}${base.slice(i)}`;
          }
          const name = `hostile${n++}`;
          made.push(name);
          assert.throws(
            () => new PxeInstallHost(name, { ...baseArgs, ...place.set(value) }),
            (e: Error) => {
              assert.ok(
                e instanceof pulumi.ResourceError,
                `${place.at}=${JSON.stringify(value)}: ${e}`,
              );
              assert.match(
                e.message,
                new RegExp(`^- ${place.at.replace(/[[\].]/g, "\\$&")}: `, "m"),
                `${place.at}=${JSON.stringify(String(value))}: ${e.message}`,
              );
              return true;
            },
          );
        },
      ),
      { numRuns: 300 },
    );
    const children = (await registeredSince(0)).filter((r) =>
      made.some((name) => r.name.startsWith(`${name}-`)),
    );
    assert.deepEqual(names(children), [], "no child of a refused PxeInstallHost");
  });
});
