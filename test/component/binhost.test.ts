/**
 * BinhostMirror under `pulumi.runtime.setMocks`: exact children, names and inputs, the
 * pushed files (nginx.conf, TLS, CA files, CRLs, signing key, upload authorization: each
 * FilePush's manifest of paths, modes and owners, and its texts), what stays secret, its
 * outputs, and one ResourceError for bad input with nothing registered.
 * With git repositories: the push commands (script, triggers naming the commits, the admin
 * key only as a secret), what they depend on, and that `upload` waits for them (the mocks
 * hold one push back). The git repositories' clones are real temporary repositories,
 * since validation reads them.
 *
 * Not proven here: that nginx serves the files (render tier: nginx -t), that cloud-init
 * installs the pinned host key and runs the first-boot commands, that rrsync confines the
 * upload user, or that Portage fetches from it (libvirt and end-to-end tiers).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { commit, initRepo, scratch } from "../support/git-fixture";
import * as hostile from "../support/hostile";
import {
  isSecret,
  outputValue,
  type Registered,
  registered,
  registeredUnder,
} from "../support/mocks";
import {
  FILE_PUSH,
  filePushInputs,
  isSecretInput,
  modesAndOwners,
  type PushedFileView,
  pushedFiles,
} from "../support/pushes";

/** Resources whose creation the mocks hold back until the promise resolves. */
const held = new Map<string, Promise<void>>();

// Recording mocks (as installMocks) that also give the PKI's dynamic resources outputs.
pulumi.runtime.setMocks(
  {
    newResource: async (args) => {
      registered.push({
        type: args.type,
        name: args.name,
        inputs: args.inputs,
        provider: args.provider,
      });
      await held.get(args.name);
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "tls:index/privateKey:PrivateKey") {
        state.publicKeyOpenssh = `ssh-ed25519 AAAAC3Nza${Buffer.from(args.name).toString("base64").replace(/=/g, "")} ${args.name}\n`;
        state.privateKeyOpenssh = `-----BEGIN OPENSSH PRIVATE KEY-----${args.name}`;
        state.privateKeyPemPkcs8 = `PRIVATE(${args.name})`;
        state.publicKeyPem = `PUBLIC(${args.name})`;
      }
      if (args.type.endsWith(":SignedCertificate")) {
        state.certificatePem = `CERT(${args.name})\n`;
        state.serialNumber = `serial-${args.name}`;
        state.notAfter = "2027-11-22T12:00:00.000Z";
      }
      if (args.type.endsWith(":SignedCrl")) state.crlPem = `CRL(${args.name})\n`;
      if (args.type.endsWith(":PackageSigningKey")) {
        state.publicKeyArmored = `PGP(${args.name})\n`;
        state.fingerprint = "0123456789ABCDEF0123456789ABCDEF01234567";
      }
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  },
  "gentoo-infra",
  "development",
  true,
);

import type * as BinhostModule from "../../lib/binhost";
import type * as LibvirtModule from "../../lib/libvirt";
import type * as PkiModule from "../../lib/pki";
import type * as StackModule from "../../lib/stack";
import * as fixture from "../support/stack-catalog";

const {
  BinhostMirror,
  renderBinhostNginxConf,
  CRL_PUBLISHER_SCRIPT,
  binhostAfterChange,
  binhostGitSetupCommands,
  gitHttpBackendConfig,
  gitPushScript,
} = require("../../lib/binhost") as typeof BinhostModule;
const { GuestNetwork, Hypervisor } = require("../../lib/libvirt") as typeof LibvirtModule;
const { RootCa } = require("../../lib/pki") as typeof PkiModule;
const { Stack } = require("../../lib/stack") as typeof StackModule;

const BINHOST_URL = "https://binhost.example.ch/";
const hv = new Hypervisor("site", { domainType: "qemu" });
const lan = new GuestNetwork("lan", { hypervisor: hv, subnet: "192.168.150.0/24" });
const pki = new RootCa("pki", {
  baseDn: "dc=example,dc=ch",
  crlBaseUrl: "http://binhost.example.ch/crl",
  intermediate: "development",
  root: { mode: "in-stack" },
  packageSigningKey: { name: "Example binhost", email: "binhost@example.ch" },
});
const stackArgs = {
  catalog: fixture.catalog,
  environments: ["development"] as const,
  arches: ["amd64"] as const,
  binhostUrl: BINHOST_URL,
  gentooSyncUri: fixture.GENTOO_SYNC_URI,
  overlaySyncUri: fixture.OVERLAY_SYNC_URI,
  treeSnapshots: {
    development: { gentoo: fixture.GENTOO_COMMIT, overlay: fixture.OVERLAY_COMMIT },
  },
  signingKeyFingerprint: fixture.FINGERPRINT,
};
const linux = new Stack("linux", { ...stackArgs, systemProfile: "server" });
const ruby = new Stack("ruby", {
  ...stackArgs,
  base: linux.definition,
  applicationProfiles: ["ruby-app"],
});
const site = {
  hypervisor: hv,
  network: lan,
  address: "192.168.150.10",
  image: { volumeId: "base-id" },
  rootCa: pki,
  stacks: [linux, ruby],
  hostname: "binhost.example.ch",
};

const names = (list: { type: string; name: string }[]) =>
  list.map((r) => `${r.type} ${r.name}`).sort();
const inputsOf = (list: Registered[], type: string, name: string) => {
  const found = list.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `${type} ${name} registered ${found.length} times`);
  return (found[0] as Registered).inputs;
};
/** The SSH private key the mocks give server `name` (the key of its secrets' fingerprints). */
const serverKey = (name: string) => `-----BEGIN OPENSSH PRIVATE KEY-----${name}-ssh-key`;
/** The files of the FilePush `push` of server `server`: destination → file. */
const filesOf = (list: Registered[], push: string, server: string) =>
  pushedFiles(list, push, { hmacKey: serverKey(server) });
/** The text a FilePush pushes to `path`. */
const textOf = (files: Record<string, PushedFileView>, path: string): string => {
  const file = files[path];
  assert.ok(file?.content !== undefined, `no text is pushed to ${path}`);
  return file.content;
};
/** The destinations of BinhostMirror `<name>-config` with a signing key, without git. */
const CONFIG_PATHS = [
  "/etc/nginx/nginx.conf",
  "/etc/ssl/gentoo-infra/binhost.pem",
  "/etc/ssl/gentoo-infra/binhost.key",
  "/srv/binhost/keys/ca-chain.pem",
  "/srv/binhost/keys/root-ca.pem",
  "/srv/binhost/keys/package-signing.asc",
  "/var/lib/gentoo-infra/binhost/crl-files.json",
  "/usr/local/libexec/gentoo-infra/binhost-publish-crls",
  "/var/lib/gi-upload/.ssh/authorized_keys",
];

const mirror = new BinhostMirror("binhost", site);
const made = registeredUnder("binhost");

// Local clones of the Gentoo tree and the overlay, as on the machine running Pulumi.
const clones = scratch("gi-component-binhost-");
after(() => clones.cleanup());
const gentooClone = initRepo(join(clones.dir, "gentoo"));
const TREE_MASTER = commit(gentooClone, "tree", { "profiles.desc": "amd64\n" });
const TREE_DEVELOP = commit(gentooClone, "tree update", { "profiles.desc": "amd64 arm64\n" });
const overlayClone = initRepo(join(clones.dir, "overlay"));
const OVERLAY_DEVELOP = commit(overlayClone, "overlay", { README: "overlay\n" });
const gitRepositories: BinhostModule.BinhostGitRepository[] = [
  { name: "gentoo", clone: gentooClone, branches: { master: TREE_MASTER, develop: TREE_DEVELOP } },
  { name: "overlay", clone: overlayClone, branches: { develop: OVERLAY_DEVELOP } },
];

describe("BinhostMirror", () => {
  it("creates a server with a pinned host key, a host certificate, an upload key and pushed files, exactly", async () => {
    assert.deepEqual(
      names(await made),
      [
        "gentoo-infra:binhost:BinhostMirror binhost",
        "gentoo-infra:host:Server binhost",
        "tls:index/privateKey:PrivateKey binhost-ssh-key",
        "tls:index/privateKey:PrivateKey binhost-host-key",
        "gentoo-infra:libvirt:VirtualMachine binhost",
        "libvirt:index/volume:Volume binhost-disk",
        "libvirt:index/cloudInitDisk:CloudInitDisk binhost-cloudinit",
        "libvirt:index/domain:Domain binhost",
        "command:remote:Command binhost-ready",
        "gentoo-infra:pki:Certificate binhost-tls",
        "tls:index/privateKey:PrivateKey binhost-tls-key",
        "pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate binhost-tls-cert",
        "tls:index/privateKey:PrivateKey binhost-upload-key",
        "gentoo-infra:host:PushedFiles binhost-config",
        `${FILE_PUSH} binhost-config`,
        "gentoo-infra:host:PushedFiles binhost-client",
        `${FILE_PUSH} binhost-client`,
      ].sort(),
    );
    const list = await made;
    assert.deepEqual(
      Object.keys(filesOf(list, "binhost-config", "binhost")).sort(),
      [...CONFIG_PATHS].sort(),
    );
    assert.deepEqual(Object.keys(filesOf(list, "binhost-client", "binhost")).sort(), [
      "/srv/binhost/client/development/amd64/linux/tree-snapshot",
      "/srv/binhost/client/development/amd64/ruby/tree-snapshot",
    ]);
    for (const key of ["binhost-host-key", "binhost-upload-key"]) {
      assert.deepEqual(inputsOf(list, "tls:index/privateKey:PrivateKey", key), {
        algorithm: "ED25519",
      });
    }
    assert.equal(
      inputsOf(list, "libvirt:index/volume:Volume", "binhost-disk").size,
      50 * 1024 ** 3,
    );
  });

  it("gives the certificate the host name and address as SANs, issued by the host sub-CA", async () => {
    const cert = inputsOf(
      await made,
      "pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate",
      "binhost-tls-cert",
    );
    assert.deepEqual(cert.dnsNames, ["binhost.example.ch"]);
    assert.deepEqual(cert.ipAddresses, ["192.168.150.10"]);
    assert.deepEqual(cert.extendedKeyUsage, ["serverAuth"]);
    assert.equal(cert.issuerCertificatePem, "CERT(pki-host-ca-cert)\n");
    assert.equal(cert.crlDistributionUrl, "http://binhost.example.ch/crl/development-host.crl");
    assert.equal(mirror.certificate.subjectDn, "CN=binhost.example.ch,OU=hosts,DC=example,DC=ch");
  });

  it("first boot enables nginx and creates the upload user; the user-data is secret (it holds the host key)", async () => {
    const disk = inputsOf(
      await made,
      "libvirt:index/cloudInitDisk:CloudInitDisk",
      "binhost-cloudinit",
    );
    assert.ok(isSecretInput(disk.userData), "user-data must be a secret");
    const userData = String((disk.userData as { value: string }).value);
    assert.match(
      userData,
      /ssh_keys:\n {2}ed25519_private: "?-----BEGIN OPENSSH PRIVATE KEY-----binhost-host-key/,
    );
    assert.match(
      userData,
      /ed25519_public: ssh-ed25519 AAAAC3Nza[A-Za-z0-9+/]+ binhost-host-key\n/,
    );
    assert.match(userData, /- systemctl enable --now nginx\n/);
    assert.match(
      userData,
      /useradd --system --user-group --create-home --home-dir \/var\/lib\/gi-upload --shell \/bin\/sh --password '\*' gi-upload/,
    );
  });

  it("pushes the rendered nginx.conf and the TLS, CA, CRL and key files, the key and upload secrets kept secret", async () => {
    const list = await made;
    const files = filesOf(list, "binhost-config", "binhost");
    const source = (path: string) => textOf(files, path);
    assert.equal(
      source("/etc/nginx/nginx.conf"),
      renderBinhostNginxConf({
        serverName: "binhost.example.ch",
        certificatePath: "/etc/ssl/gentoo-infra/binhost.pem",
        keyPath: "/etc/ssl/gentoo-infra/binhost.key",
        rootDir: "/srv/binhost",
        buildProfiles: [
          { environment: "development", arch: "amd64", stack: "linux" },
          { environment: "development", arch: "amd64", stack: "ruby" },
        ],
      }),
    );
    const chain = "CERT(pki-host-ca-cert)\nCERT(pki-root-level1-development-cert)\n";
    assert.equal(source("/etc/ssl/gentoo-infra/binhost.pem"), `CERT(binhost-tls-cert)\n${chain}`);
    // The TLS key is the only secret: its fingerprint is an HMAC and the texts are a secret.
    assert.deepEqual(
      Object.keys(files).filter((path) => files[path]?.secret),
      ["/etc/ssl/gentoo-infra/binhost.key"],
      "the TLS key must stay secret",
    );
    assert.ok(isSecretInput(filePushInputs(list, "binhost-config").contents));
    assert.equal(source("/etc/ssl/gentoo-infra/binhost.key"), "PRIVATE(binhost-tls-key)");
    assert.equal(source("/srv/binhost/keys/ca-chain.pem"), chain);
    assert.equal(source("/srv/binhost/keys/root-ca.pem"), "CERT(pki-root-ca-cert)\n");
    assert.equal(source("/srv/binhost/keys/package-signing.asc"), "PGP(pki-package-signing)\n");
    assert.deepEqual(
      JSON.parse(source("/var/lib/gentoo-infra/binhost/crl-files.json")),
      await outputValue(pki.crlFiles),
    );
    assert.deepEqual(Object.keys(await outputValue(pki.crlFiles)).sort(), [
      "development-client.crl",
      "development-host.crl",
      "development-puppet.crl",
      "development-user.crl",
      "level1-development.crl",
      "root.crl",
    ]);
    assert.equal(
      source("/usr/local/libexec/gentoo-infra/binhost-publish-crls"),
      CRL_PUBLISHER_SCRIPT,
    );
    assert.equal(
      source("/var/lib/gi-upload/.ssh/authorized_keys"),
      `restrict,command="/usr/bin/rrsync -no-lock /srv/binhost" ssh-ed25519 AAAAC3Nza${Buffer.from("binhost-upload-key").toString("base64").replace(/=/g, "")} gi-upload\n`,
    );
    assert.deepEqual(modesAndOwners(files), {
      "/etc/nginx/nginx.conf": "0644 root:root",
      "/etc/ssl/gentoo-infra/binhost.pem": "0644 root:root",
      "/etc/ssl/gentoo-infra/binhost.key": "0600 root:root",
      "/srv/binhost/keys/ca-chain.pem": "0644 root:root",
      "/srv/binhost/keys/root-ca.pem": "0644 root:root",
      "/srv/binhost/keys/package-signing.asc": "0644 root:root",
      "/var/lib/gentoo-infra/binhost/crl-files.json": "0644 root:root",
      "/usr/local/libexec/gentoo-infra/binhost-publish-crls": "0755 root:root",
      "/var/lib/gi-upload/.ssh/authorized_keys": "0644 root:root",
    });
    assert.equal(
      filePushInputs(list, "binhost-config").afterChange,
      "cloud-init status --wait >/dev/null 2>&1 || true; python3 /usr/local/libexec/gentoo-infra/binhost-publish-crls /var/lib/gentoo-infra/binhost/crl-files.json /srv/binhost/crl && install -d -m 0755 -o gi-upload -g gi-upload '/srv/binhost/development/amd64/linux' '/srv/binhost/development/amd64/ruby' '/srv/binhost/distfiles' '/srv/binhost/stages' && nginx -t -q && systemctl reload-or-restart nginx",
    );
  });

  it("outputs its URL, address, build profiles and a secret upload login with a pinned known_hosts line", async () => {
    assert.equal(mirror.url, "https://binhost.example.ch/");
    assert.equal(mirror.address, "192.168.150.10");
    assert.deepEqual(mirror.buildProfiles, ["development/amd64/linux", "development/amd64/ruby"]);
    assert.equal(await isSecret(mirror.upload), true);
    assert.equal(await isSecret(mirror.certificate.privateKeyPem), true);
    const hostKey = `ssh-ed25519 AAAAC3Nza${Buffer.from("binhost-host-key").toString("base64").replace(/=/g, "")}`;
    assert.deepEqual(await outputValue(mirror.upload), {
      host: "192.168.150.10",
      user: "gi-upload",
      privateKeyOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----binhost-upload-key",
      knownHosts: `binhost.example.ch,192.168.150.10 ${hostKey}\n`,
    });
    const published = mirror.server.hostPublicKey;
    assert.ok(published, "the server's host key is pinned");
    assert.equal(await outputValue(published), `${hostKey} binhost-host-key`);
  });

  it("serves each build profile's current tree snapshot for machines' gentoo-infra-sync", async () => {
    const machine = await outputValue(
      (ruby.buildProfiles["development/amd64/ruby"] as StackModule.StackBuildProfile).machineFiles,
    );
    const list = await made;
    const client = filesOf(list, "binhost-client", "binhost");
    const served = textOf(client, "/srv/binhost/client/development/amd64/ruby/tree-snapshot");
    assert.equal(served, machine["/etc/gentoo-infra/tree-snapshot"]);
    assert.deepEqual(modesAndOwners(client), {
      "/srv/binhost/client/development/amd64/linux/tree-snapshot": "0644 root:root",
      "/srv/binhost/client/development/amd64/ruby/tree-snapshot": "0644 root:root",
    });
    // A promotion changes these files only: nothing runs after them (no nginx reload).
    assert.equal(filePushInputs(list, "binhost-client").afterChange, "");
    assert.match(
      served,
      /^GI_SNAPSHOT_URL="https:\/\/binhost\.example\.ch\/client\/development\/amd64\/ruby\/tree-snapshot"$/m,
    );
  });

  it("hands each build profile the Portage files its Stack renders for machines", async () => {
    const config = await outputValue(mirror.clientConfig);
    assert.deepEqual(Object.keys(config), ["development/amd64/linux", "development/amd64/ruby"]);
    const machine = await outputValue(
      (ruby.buildProfiles["development/amd64/ruby"] as StackModule.StackBuildProfile).machineFiles,
    );
    assert.deepEqual(config["development/amd64/ruby"], {
      repositoryUrl: "https://binhost.example.ch/development/amd64/ruby/",
      binreposConf: machine["/etc/portage/binrepos.conf/gentoo-infra.conf"],
      makeConf: machine["/etc/portage/make.conf"],
      files: machine,
    });
    assert.match(
      config["development/amd64/ruby"]?.binreposConf ?? "",
      /\[development-amd64-linux\]\npriority = 10\nsync-uri = https:\/\/binhost\.example\.ch\/development\/amd64\/linux\/\n/,
    );
  });

  it("rejects the client configuration of a Stack whose binhostUrl is another binhost", async () => {
    const elsewhere = new Stack("elsewhere", {
      ...stackArgs,
      systemProfile: "server",
      binhostUrl: "https://other.example.ch/",
    });
    const other = new BinhostMirror("binhost2", {
      ...site,
      address: "192.168.150.12",
      hostname: "binhost.example.ch",
      stacks: [elsewhere],
    });
    const mismatch =
      /BinhostMirror "binhost2": Stack "elsewhere" puts build profile development\/amd64\/elsewhere at https:\/\/other\.example\.ch\/development\/amd64\/elsewhere\/, not on this binhost \(https:\/\/binhost\.example\.ch\/development\/amd64\/elsewhere\/\); give the Stack binhostUrl "https:\/\/binhost\.example\.ch\/" \(binhost\.url\)/;
    // An Output carries three promises (value, known, secret); a rejected one that nobody
    // awaits fails the Pulumi program ("unhandled exception"), which is what a real run does.
    const internals = other.clientConfig as unknown as {
      isKnown: Promise<boolean>;
      isSecret: Promise<boolean>;
    };
    await assert.rejects(outputValue(other.clientConfig), mismatch);
    await assert.rejects(internals.isKnown, mismatch);
    await assert.rejects(internals.isSecret, mismatch);
  });

  it("serves no signing key when the RootCa has none", async () => {
    const plainCa = new RootCa("pki2", {
      baseDn: "dc=example,dc=ch",
      crlBaseUrl: "https://mirror.example.ch/crl",
      intermediate: "development",
      root: { mode: "in-stack" },
    });
    const mirrored = new Stack("mirrored", {
      ...stackArgs,
      systemProfile: "server",
      binhostUrl: "https://mirror.example.ch",
    });
    new BinhostMirror("mirror", {
      ...site,
      rootCa: plainCa,
      hostname: "mirror.example.ch",
      stacks: [mirrored],
    });
    const list = await registeredUnder("mirror");
    assert.deepEqual(
      list.filter((r) => r.type === FILE_PUSH).map((r) => r.name),
      ["mirror-client", "mirror-config"],
    );
    const config = Object.keys(filesOf(list, "mirror-config", "mirror"));
    const client = Object.keys(filesOf(list, "mirror-client", "mirror"));
    assert.equal(config.length + client.length, 9, "8 configuration files and one tree snapshot");
    assert.deepEqual(
      config.sort(),
      CONFIG_PATHS.filter((p) => p !== "/srv/binhost/keys/package-signing.asc").sort(),
    );
    assert.deepEqual(client, ["/srv/binhost/client/development/amd64/mirrored/tree-snapshot"]);
  });
});

describe("BinhostMirror with git repositories", () => {
  // Records each child's dependsOn as the component hands it over.
  const dependsOn = new Map<string, string[]>();
  const recordDependsOn: pulumi.ResourceTransformation = (t) => {
    const deps = t.opts.dependsOn;
    const list = deps === undefined ? [] : Array.isArray(deps) ? deps : [deps];
    dependsOn.set(
      t.name,
      list.map((d) => (d as unknown as { __name?: string }).__name ?? "?"),
    );
    return undefined;
  };
  const gitSite = { ...site, address: "192.168.150.11", gitRepositories };
  const withGit = new BinhostMirror("gitbh", gitSite, { transformations: [recordDependsOn] });
  const gitMade = registeredUnder("gitbh");
  const pushOf = async (repo: string) =>
    inputsOf(await gitMade, "command:local:Command", `gitbh-git-${repo}`);
  const hostKey = `ssh-ed25519 AAAAC3Nza${Buffer.from("gitbh-host-key").toString("base64").replace(/=/g, "")}`;

  it("adds git-http-backend's configuration and one local push command per repository, exactly", async () => {
    const plain = new Set(names(await made).map((n) => n.replace(/ binhost/, " gitbh")));
    const extra = names(await gitMade).filter((n) => !plain.has(n));
    assert.deepEqual(extra, [
      "command:local:Command gitbh-git-gentoo",
      "command:local:Command gitbh-git-overlay",
    ]);
    assert.equal((await gitMade).length, (await made).length + extra.length);
    // One more pushed file: git-http-backend's configuration.
    assert.deepEqual(
      Object.keys(filesOf(await gitMade, "gitbh-config", "gitbh")).sort(),
      [...CONFIG_PATHS, "/etc/gentoo-infra/git-http-backend.gitconfig"].sort(),
    );
    assert.ok(!names(await made).some((n) => n.startsWith("command:local:")));
  });

  it("pushes each clone's pinned commits to the admin user's repository over SSH, the commits in its triggers", async () => {
    const gentoo = await pushOf("gentoo");
    assert.equal(
      gentoo.create,
      gitPushScript({
        clone: gentooClone,
        remote: "ssh://gi-admin@192.168.150.11/srv/git/gentoo.git",
        branches: { master: TREE_MASTER, develop: TREE_DEVELOP },
      }),
    );
    assert.deepEqual(gentoo.interpreter, ["/bin/bash", "-c"]);
    assert.deepEqual(gentoo.triggers, [
      "gitbh-id",
      `${TREE_DEVELOP} refs/heads/develop`,
      `${TREE_MASTER} refs/heads/master`,
    ]);
    assert.deepEqual((await pushOf("overlay")).triggers, [
      "gitbh-id",
      `${OVERLAY_DEVELOP} refs/heads/develop`,
    ]);
    assert.deepEqual(
      [...dependsOn.entries()].filter(([n]) => n.startsWith("gitbh-git-")),
      [
        ["gitbh-git-gentoo", ["gitbh-config"]],
        ["gitbh-git-overlay", ["gitbh-config"]],
      ],
    );
  });

  it("passes the admin key only in the secret environment, the pinned host key beside it", async () => {
    const environment = (await pushOf("overlay")).environment;
    assert.ok(
      isSecretInput(environment),
      "the environment, holding the admin key, must be a secret",
    );
    assert.deepEqual((environment as { value: unknown }).value, {
      GI_SSH_KEY: "-----BEGIN OPENSSH PRIVATE KEY-----gitbh-ssh-key",
      GI_KNOWN_HOSTS: `binhost.example.ch,192.168.150.11 ${hostKey}\n`,
    });
    // Nowhere else in plain text: not in the script, the triggers or any other input.
    const withoutSecrets = JSON.stringify(await pushOf("overlay"), (_k, v) =>
      isSecretInput(v) ? "[secret]" : v,
    );
    assert.ok(!withoutSecrets.includes("gitbh-ssh-key"), withoutSecrets);
  });

  it("creates the repositories and starts fcgiwrap in the push's afterChange, and serves them with nginx", async () => {
    const list = await gitMade;
    const setup = binhostGitSetupCommands(
      [
        { name: "gentoo", head: "master" },
        { name: "overlay", head: "develop" },
      ],
      "gi-admin",
    );
    const profiles = [
      { environment: "development", arch: "amd64", stack: "linux" },
      { environment: "development", arch: "amd64", stack: "ruby" },
    ];
    assert.equal(
      filePushInputs(list, "gitbh-config").afterChange,
      binhostAfterChange(profiles, "/srv/binhost", setup),
    );
    const files = filesOf(list, "gitbh-config", "gitbh");
    assert.equal(
      textOf(files, "/etc/gentoo-infra/git-http-backend.gitconfig"),
      gitHttpBackendConfig(["gentoo", "overlay"]),
    );
    assert.equal(files["/etc/gentoo-infra/git-http-backend.gitconfig"]?.mode, "0644");
    assert.equal(
      textOf(files, "/etc/nginx/nginx.conf"),
      renderBinhostNginxConf({
        serverName: "binhost.example.ch",
        certificatePath: "/etc/ssl/gentoo-infra/binhost.pem",
        keyPath: "/etc/ssl/gentoo-infra/binhost.key",
        rootDir: "/srv/binhost",
        buildProfiles: profiles,
        gitRepositories: ["gentoo", "overlay"],
      }),
    );
  });

  it("outputs the clone URLs, and an upload that depends on the file push and every git push", async () => {
    assert.deepEqual(await outputValue(withGit.gitUrls), {
      gentoo: "https://binhost.example.ch/git/gentoo.git",
      overlay: "https://binhost.example.ch/git/overlay.git",
    });
    assert.deepEqual(await outputValue(mirror.gitUrls), {});
    assert.equal(await isSecret(withGit.upload), true);
    assert.equal(
      (await outputValue(withGit.upload)).knownHosts,
      `binhost.example.ch,192.168.150.11 ${hostKey}\n`,
    );
    const deps = (
      withGit.upload as unknown as { allResources(): Promise<Set<pulumi.Resource>> }
    ).allResources();
    // Each as `type name` (a URN ends in `::<parent types$>type::name`): the FilePush, not
    // the PushedFiles component of the same name.
    const depNames = await Promise.all(
      [...(await deps)].map(async (r) => {
        const parts = String(await outputValue(r.urn)).split("::");
        return `${parts.at(-2)?.split("$").pop()} ${parts.at(-1)}`;
      }),
    );
    assert.deepEqual(depNames.sort(), [
      "command:local:Command gitbh-git-gentoo",
      "command:local:Command gitbh-git-overlay",
      `${FILE_PUSH} gitbh-config`,
      "tls:index/privateKey:PrivateKey gitbh-host-key",
      "tls:index/privateKey:PrivateKey gitbh-upload-key",
    ]);
  });

  it("resolves upload and gitUrls only once the push has been created", async () => {
    let release = () => {};
    held.set(
      "held-git-gentoo",
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    const heldMirror = new BinhostMirror("held", {
      ...site,
      address: "192.168.150.13",
      gitRepositories: gitRepositories.slice(0, 1),
    });
    const resolved: string[] = [];
    void outputValue(heldMirror.upload).then(() => resolved.push("upload"));
    void outputValue(heldMirror.gitUrls).then(() => resolved.push("gitUrls"));
    // Absence takes a wait: 300 ms in which nothing may resolve. (Not registeredUnder: it
    // waits for every registration, and this one is held.)
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(resolved, [], "resolved while the push was still being created");
    assert.ok(registered.some((r) => r.name === "held-git-gentoo"));
    release();
    await Promise.all([outputValue(heldMirror.upload), outputValue(heldMirror.gitUrls)]);
    assert.deepEqual(resolved.sort(), ["gitUrls", "upload"]);
  });
});

describe("BinhostMirror rejects bad input", () => {
  const otherCa = new RootCa("pki3", {
    baseDn: "dc=example,dc=ch",
    crlBaseUrl: "http://crl.example.ch/pki",
    intermediate: "development",
    root: { mode: "in-stack" },
  });
  const rubyAlone = new Stack("ruby-alone", {
    ...stackArgs,
    stackName: "ruby",
    base: linux.definition,
    applicationProfiles: ["ruby-app"],
  });
  const cases: [string, string, Partial<BinhostModule.BinhostMirrorArgs>, string[]][] = [
    [
      "bad hostname",
      "bh1",
      { hostname: "Binhost_1.example.ch" },
      [
        '- hostname: is not a DNS name (got "Binhost_1.example.ch"); use the lower-case fully qualified name clients use, e.g. binhost.example.ch',
      ],
    ],
    [
      "a single-label hostname",
      "bh11",
      { hostname: "binhost" },
      [
        '- hostname: is not a fully qualified DNS name (got "binhost"); use the lower-case fully qualified name clients use, e.g. binhost.example.ch',
        '- rootCa: names CRL URLs this binhost does not serve (got "http://binhost.example.ch/crl/development-host.crl"); create the RootCa with crlBaseUrl "http://binhost/crl"',
      ],
    ],
    [
      "address outside the subnet",
      "bh2",
      { address: "10.0.0.5" },
      [
        `- address: is outside the network's subnet 192.168.150.0/24 (got "10.0.0.5"); pick an address inside the subnet`,
      ],
    ],
    [
      "the hypervisor's own address",
      "bh3",
      { address: "192.168.150.1" },
      [
        `- address: is the hypervisor's address on the network (got "192.168.150.1"); pick another address inside the subnet`,
      ],
    ],
    [
      "no Stacks",
      "bh4",
      { stacks: [] },
      ["- stacks: names no Stack (got []); list the Stacks whose packages it serves"],
    ],
    [
      "the same Stack twice",
      "bh5",
      { stacks: [linux, ruby, linux] },
      [
        '- stacks[2]: duplicates build profile development/amd64/linux of stacks[0] (got "linux"); list each Stack once, and give different Stacks different stackNames',
      ],
    ],
    [
      "two Stacks with one stackName",
      "bh6",
      { stacks: [linux, ruby, rubyAlone] },
      [
        '- stacks[2]: duplicates build profile development/amd64/ruby of stacks[1] (got "ruby"); list each Stack once, and give different Stacks different stackNames',
      ],
    ],
    [
      "a Stack without its base",
      "bh7",
      { stacks: [ruby] },
      [
        '- stacks[0]: extends Stack "linux", whose build profile development/amd64/linux is not served (got "ruby"); add the "linux" Stack with environment development and arch amd64 to stacks',
      ],
    ],
    [
      "CRLs published elsewhere",
      "bh8",
      { rootCa: otherCa },
      [
        '- rootCa: names CRL URLs this binhost does not serve (got "http://crl.example.ch/pki/development-host.crl"); create the RootCa with crlBaseUrl "http://binhost.example.ch/crl"',
      ],
    ],
    [
      "a bad VM size and port-80 mode",
      "bh9",
      { diskGiB: 0, vcpus: 1.5, http: "on" as "off" },
      [
        "- diskGiB: is not a whole number of GiB between 1 and 4096 (got 0); give the disk size in GiB, e.g. 20",
        "- vcpus: is not a whole number between 1 and 256 (got 1.5); give the number of virtual CPUs, e.g. 2",
        '- http: is not a port-80 mode (got "on"); use redirect or off',
      ],
    ],
    [
      "bad git repository names, branches and commits",
      "bh12",
      {
        gitRepositories: [
          { name: "Gentoo", clone: gentooClone, branches: { "-master": TREE_MASTER } },
          { name: "overlay", clone: overlayClone, branches: { develop: "HEAD" } },
          { name: "overlay", clone: overlayClone, branches: {} },
        ],
      },
      [
        `- gitRepositories[0].name: is not a repository name (got "Gentoo"); use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, without .git (e.g. gentoo)`,
        `- gitRepositories[0].branches: names a branch that starts with - (got "-master"); use a git branch name such as develop or release/2026.1`,
        `- gitRepositories[1].branches.develop: is not a full commit hash (got "HEAD"); give the 40 lower-case hex digits of the commit (e.g. the tree snapshot's commit)`,
        `- gitRepositories[2].name: is also the name of gitRepositories[1] (got "overlay"); give each repository its own name`,
        `- gitRepositories[2].branches: names no branch (got {}); map at least one branch to its commit, e.g. { develop: "<40 hex digits>" }`,
      ],
    ],
    [
      "a commit the clone does not have, and a clone that is no repository",
      "bh13",
      {
        gitRepositories: [
          { name: "gentoo", clone: gentooClone, branches: { master: OVERLAY_DEVELOP } },
          { name: "overlay", clone: clones.dir, branches: { develop: OVERLAY_DEVELOP } },
        ],
      },
      [
        `- gitRepositories[0].branches.master: is not a commit of ${gentooClone} (got "${OVERLAY_DEVELOP}"); fetch the commit into ${gentooClone}, or pin a commit it has`,
        `- gitRepositories[1].clone: is not a git repository (fatal: not a git repository (or any of the parent directories): .git) (got "${clones.dir}"); give the path of a local clone (bare or not) of the repository`,
      ],
    ],
    [
      "a certificate validity of zero days",
      "bh10",
      { certificateValidityDays: 0 },
      [
        "- certificateValidityDays: is not a whole number of days from 1 to 36500 (got 0); use an integer from 1 to 36500",
      ],
    ],
  ];
  for (const [what, name, bad, lines] of cases) {
    it(`fails on ${what} with one error naming each problem, and creates nothing`, async () => {
      assert.throws(
        () => new BinhostMirror(name, { ...site, ...bad }),
        (e: Error) => {
          const count = lines.length === 1 ? "1 problem" : `${lines.length} problems`;
          assert.equal(e.message, [`BinhostMirror "${name}": ${count}:`, ...lines].join("\n"));
          return true;
        },
      );
      assert.deepEqual(names(await registeredUnder(name)), [
        `gentoo-infra:binhost:BinhostMirror ${name}`,
      ]);
    });
  }

  it("fails on a name that cannot name the VM and its host", async () => {
    assert.throws(
      () => new BinhostMirror("Bin_Host", site),
      /BinhostMirror "Bin_Host": 1 problem:\n- name: is not a valid VM name \(got "Bin_Host"\); use 1 to 40 lower-case letters, digits or hyphens, starting with a letter$/,
    );
    assert.deepEqual(names(await registeredUnder("Bin_Host")), [
      "gentoo-infra:binhost:BinhostMirror Bin_Host",
    ]);
  });
});

describe("BinhostMirror refuses hostile values in its plain arguments (property)", () => {
  type Args = BinhostModule.BinhostMirrorArgs;
  type Mirror = InstanceType<typeof BinhostMirror>;
  /** Every optional plain argument given too, one git repository with one branch. */
  const plainArgs = (): Args => ({
    ...site,
    http: "redirect",
    diskGiB: 50,
    memoryMiB: 1024,
    vcpus: 1,
    certificateValidityDays: 365,
    gitRepositories: [{ name: "gentoo", clone: gentooClone, branches: { master: TREE_MASTER } }],
  });
  const place = hostile.placesOver<Args, Mirror>(plainArgs);
  const within = (min: number, max: number) => (v: unknown) =>
    typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
  // Left out: the resource name (Pulumi's, typed string; checked as the VM's name above),
  // hypervisor, network and rootCa (resources), and image.volumeId (an Output).
  const places: hostile.HostilePlace<Args, Mirror>[] = [
    place("address", "192.168.150.10", ["address"]),
    place("hostname", "binhost.example.ch", ["hostname"]),
    place("http", "redirect", ["http"], { optional: true }),
    place("diskGiB", "50", ["diskGiB"], { optional: true, accepts: within(1, 4096) }),
    place("memoryMiB", "1024", ["memoryMiB"], { optional: true, accepts: within(256, 1048576) }),
    place("vcpus", "1", ["vcpus"], { optional: true, accepts: within(1, 256) }),
    place("certificateValidityDays", "365", ["certificateValidityDays"], {
      optional: true,
      accepts: within(1, 1825),
    }),
    place("image.path", "/var/lib/libvirt/images/debian-12.qcow2", ["image"], {
      set: (v) => ({ ...plainArgs(), image: { path: v as string } }),
    }),
    place("image.url", "https://cloud.debian.org/images/debian-12.qcow2", ["image"], {
      set: (v) => ({ ...plainArgs(), image: { url: v as string } }),
    }),
    place("stacks", "linux", ["stacks"], {
      accepts: (v) => Array.isArray(v) && v.length > 0,
    }),
    place("stacks[0]", "linux", ["stacks", 0], { accepts: (v) => v instanceof Stack }),
    place("gitRepositories", "gentoo", ["gitRepositories"], {
      optional: true,
      accepts: hostile.isList,
    }),
    place("gitRepositories[0]", "gentoo", ["gitRepositories", 0], { accepts: hostile.isTable }),
    place("gitRepositories[0].name", "gentoo", ["gitRepositories", 0, "name"]),
    // A path on the machine running Pulumi: only an existing clone passes, and the push
    // script quotes it.
    place("gitRepositories[0].clone", gentooClone, ["gitRepositories", 0, "clone"]),
    place("gitRepositories[0].branches", "master", ["gitRepositories", 0, "branches"], {
      accepts: hostile.isTable,
    }),
    place("gitRepositories[0].branches", "release/2026.1", ["gitRepositories", 0, "branches"], {
      textOnly: true,
      set: (v) =>
        hostile.withValue(plainArgs(), ["gitRepositories", 0, "branches"], {
          [v as string]: TREE_MASTER,
        }),
    }),
    place("gitRepositories[0].branches.master", TREE_MASTER, [
      "gitRepositories",
      0,
      "branches",
      "master",
    ]),
  ];

  it("each is refused with one error naming that argument, and nothing is registered", async () => {
    const made = hostile.assertHostileValuesRefused(
      places,
      (name, a) => new BinhostMirror(name, a),
    );
    await registeredUnder("hostile"); // lets pending registrations reach the mocks
    const children = registered.filter((r) => made.some((name) => r.name.startsWith(`${name}-`)));
    assert.deepEqual(names(children), [], "no child of a refused BinhostMirror");
  });
});
