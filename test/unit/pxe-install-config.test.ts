import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
  type InstallConfigArgs,
  installConfig,
  renderPuppetConf,
  renderPuppetCsrAttributes,
  validateInstallConfigArgs,
} from "../../lib/pxe/renderers";
import { network, web1 } from "../support/pxe-fixtures";

const messages = (vs: readonly { argument: string; problem: string; fix: string }[]) =>
  vs.map((v) => `${v.argument}: ${v.problem}; ${v.fix}`);

const puppet = {
  server: "puppet.example.ch",
  environment: "production",
  certname: "web1.example.ch",
  autosignToken: "Zq3vR8kL1mN5pT7wX9yB2cD4",
};
const args: InstallConfigArgs = {
  machine: web1,
  network,
  installHostUrl: "http://10.0.0.2",
  stage: {
    url: "https://binhost.example.ch/stages/production/amd64/stage4-amd64-web-1.tar.xz",
    sha512: "0".repeat(128),
  },
  binreposConf: "[web]\nsync-uri = https://binhost.example.ch/production/amd64/web/\n",
  certificates: [
    { url: "https://pxe.example.ch/s/web1/host.key", path: "/etc/ssl/host.key", mode: "0600" },
  ],
  puppet,
};

describe("install configuration", () => {
  it("carries the machine's network, generation and report URL", () => {
    const c = installConfig({ ...args, machine: { ...web1, installGeneration: 3 } });
    assert.deepEqual(c.network, {
      address: "10.0.0.21",
      prefixLength: 24,
      gateway: "10.0.0.1",
      dnsServers: ["10.0.0.1"],
      domain: "example.ch",
    });
    assert.equal(c.generation, 3);
    assert.equal(c.fqdn, "web1.example.ch");
    assert.equal(c.report.url, "http://10.0.0.2/report/52-54-00-12-34-56");
    assert.deepEqual(
      c.files.map((f) => [f.path, f.mode]),
      [
        ["/etc/portage/binrepos.conf/gentoo-infra.conf", "0644"],
        ["/etc/puppetlabs/puppet/puppet.conf", "0644"],
        ["/etc/puppetlabs/puppet/csr_attributes.yaml", "0600"],
      ],
    );
  });

  it("writes the Stack's make.conf when given, after binrepos.conf", () => {
    const c = installConfig({ ...args, makeConf: 'COMMON_FLAGS="-O2 -pipe"\n' });
    assert.deepEqual(
      c.files.slice(0, 2).map((f) => [f.path, f.content]),
      [
        ["/etc/portage/binrepos.conf/gentoo-infra.conf", args.binreposConf],
        ["/etc/portage/make.conf", 'COMMON_FLAGS="-O2 -pipe"\n'],
      ],
    );
  });

  it("puts the one-time token in the CSR's challengePassword attribute", () => {
    assert.deepEqual(
      parse(renderPuppetCsrAttributes({ ...puppet, autosignToken: "0123456789012345" }), {
        version: "1.1",
      }),
      {
        custom_attributes: { "1.2.840.113549.1.9.7": "0123456789012345" },
      },
    );
    assert.equal(
      renderPuppetConf(puppet),
      "# Rendered by gentoo-infra's installer configuration.\n[agent]\nserver = puppet.example.ch\nenvironment = production\ncertname = web1.example.ch\n",
    );
  });

  it("carries the root certificate the installer trusts, or null for the installer's own", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIU\n-----END CERTIFICATE-----\n";
    assert.equal(installConfig({ ...args, rootCertificatePem: pem }).rootCertificatePem, pem);
    assert.equal(installConfig(args).rootCertificatePem, null);
    for (const bad of [
      "",
      "-----BEGIN PRIVATE KEY-----\nMII=\n-----END PRIVATE KEY-----\n",
      `${pem}${pem}`,
    ]) {
      assert.deepEqual(messages(validateInstallConfigArgs({ ...args, rootCertificatePem: bad })), [
        "rootCertificatePem: is not one PEM certificate; pass the RootCa's rootCertificatePem, or leave it out to use the installer's own",
      ]);
      const [v] = validateInstallConfigArgs({ ...args, rootCertificatePem: bad });
      assert.equal(v?.value, `(${bad.length} characters, not shown)`);
    }
  });

  it("names every bad argument, never echoing the token", () => {
    const vs = validateInstallConfigArgs({
      ...args,
      machine: { ...web1, mac: "bad" },
      stage: { url: "http://binhost/stage.tar.xz", sha512: "abc" },
      binreposConf: " ",
      makeConf: "",
      certificates: [{ url: "http://pxe/host.key", path: "host.key", mode: "600" }],
      puppet: { ...puppet, environment: "Prod", autosignToken: "short secret" },
    });
    assert.deepEqual(messages(vs), [
      "machine.mac: is not a MAC address; use six colon-separated hex pairs, e.g. 52:54:00:12:34:56",
      "stage.url: is not an https:// URL; fetch the stage from the binhost over HTTPS",
      "stage.sha512: is not a SHA-512 digest; give 128 lower-case hex digits from the stage's .DIGESTS",
      "makeConf: is empty; pass the make.conf the Stack renders for this machine, or leave it out",
      "binreposConf: is empty; pass the binrepos.conf the Stack renders for this machine",
      "certificates[0].url: is not an https:// URL; serve certificates and keys over HTTPS",
      "certificates[0].path: is not an absolute path; use e.g. /etc/ssl/host/host.pem",
      "certificates[0].mode: is not an octal file mode; use e.g. 0600 or 0644",
      "puppet.environment: is not a Puppet environment name; use lower-case letters, digits and '_'",
      "puppet.autosignToken: is not a one-time token of 16 or more URL-safe characters; generate a random per-host token (e.g. @pulumi/random)",
    ]);
    assert.equal(vs.at(-1)?.value, "(redacted)");
  });
  it("writes the Stack's Portage files, the signing key with the machine's tools and root's keys", () => {
    const key =
      "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ0000BYJKwYBBAHaRw8BAQdA\n-----END PGP PUBLIC KEY BLOCK-----\n";
    const c = installConfig({
      ...args,
      portageFiles: {
        "/etc/portage/binrepos.conf/gentoo-infra.conf": args.binreposConf,
        "/etc/portage/repos.conf/gentoo-infra.conf": "[DEFAULT]\nmain-repo = gentoo\n",
        "/etc/gentoo-infra/tree-snapshot": 'GI_ENVIRONMENT="production"\n',
        "/var/lib/portage/world": "www-servers/nginx\n",
      },
      signingPublicKey: key,
      authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ admin@example.ch\n"],
    });
    assert.deepEqual(
      c.files.map((f) => [f.path, f.mode]),
      [
        ["/etc/portage/binrepos.conf/gentoo-infra.conf", "0644"],
        ["/etc/portage/repos.conf/gentoo-infra.conf", "0644"],
        ["/etc/gentoo-infra/tree-snapshot", "0644"],
        ["/var/lib/portage/world", "0644"],
        ["/etc/gentoo-infra/package-signing.asc", "0644"],
        ["/usr/local/sbin/gentoo-infra-sync", "0755"],
        ["/usr/local/sbin/gentoo-infra-getuto", "0755"],
        ["/root/.ssh/authorized_keys", "0600"],
        ["/etc/puppetlabs/puppet/puppet.conf", "0644"],
        ["/etc/puppetlabs/puppet/csr_attributes.yaml", "0600"],
      ],
    );
    const file = (path: string) => c.files.find((f) => f.path === path)?.content;
    assert.equal(file("/etc/gentoo-infra/package-signing.asc"), key);
    assert.equal(
      file("/root/.ssh/authorized_keys"),
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ admin@example.ch\n",
    );
    assert.match(
      file("/usr/local/sbin/gentoo-infra-getuto") ?? "",
      /KEY_FILE='\/etc\/gentoo-infra\/package-signing\.asc'\n/,
    );
  });

  it("refuses Portage files that disagree or leave /etc, a bad key and a bad SSH key", () => {
    const vs = validateInstallConfigArgs({
      ...args,
      portageFiles: {
        "/etc/portage/binrepos.conf/gentoo-infra.conf": "[other]\n",
        "/usr/bin/emerge": "#!/bin/sh\n",
        "/etc/../usr/bin/emerge": "#!/bin/sh\n",
      },
      signingPublicKey: "-----BEGIN PGP PRIVATE KEY BLOCK-----\nsecret\n",
      authorizedKeys: ["ssh-ed25519 AAAA\ncommand=evil", "not a key"],
    });
    assert.deepEqual(messages(vs), [
      "portageFiles: names a path outside /etc and /var/lib/portage; pass the Stack's machine files only",
      "portageFiles: names a path outside /etc and /var/lib/portage; pass the Stack's machine files only",
      'portageFiles["/etc/portage/binrepos.conf/gentoo-infra.conf"]: is not binreposConf; give one content for /etc/portage/binrepos.conf/gentoo-infra.conf: the Stack\'s',
      "signingPublicKey: is not one armored OpenPGP public key; pass the RootCa's packageSigningKey.publicKeyArmored",
      "authorizedKeys[0]: is not one OpenSSH public key; use one line such as 'ssh-ed25519 AAAA... admin@example.ch'",
      "authorizedKeys[1]: is not one OpenSSH public key; use one line such as 'ssh-ed25519 AAAA... admin@example.ch'",
    ]);
    assert.equal(vs[3]?.value, "(45 characters, not shown)", "a pasted private key is not echoed");
  });
});
