/**
 * GentooBuildFarm under `pulumi.runtime.setMocks`: exact children, names, counts and pushed
 * files per builder, secrets, what a new tree snapshot changes, and one ResourceError for bad
 * input with nothing registered. Not proven here: that libvirt, SSH or systemd accept any of
 * it (the render tier checks the rendered files; the libvirt tier would boot the VMs).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { METACHARACTERS } from "../support/hostile";
import {
  installMocks,
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
  modesAndOwners,
  type PushedFileView,
  pushedFiles,
} from "../support/pushes";

installMocks("production");

import type * as BuildfarmModule from "../../lib/buildfarm";
import type * as LibvirtModule from "../../lib/libvirt";
import { derivedMac } from "../../lib/network/mac";
import type * as StackModule from "../../lib/stack";
import {
  FARM_OVERLAY_URL,
  FARM_TREE_URL,
  NEXT_TREE_COMMIT,
  OVERLAY_COMMIT,
  TREE_COMMIT,
} from "../support/buildfarm-fixtures";
import * as catalog from "../support/stack-catalog";

const { GentooBuildFarm } = require("../../lib/buildfarm") as typeof BuildfarmModule;
const { GuestNetwork, Hypervisor } = require("../../lib/libvirt") as typeof LibvirtModule;
const { Stack } = require("../../lib/stack") as typeof StackModule;

type FarmArgs = BuildfarmModule.GentooBuildFarmArgs;

const kvm1 = new Hypervisor("kvm1", { domainType: "qemu" });
const kvm2 = new Hypervisor("kvm2", { uri: "qemu+ssh://root@kvm2/system", domainType: "qemu" });
const lan = new GuestNetwork("lan", { hypervisor: kvm1, subnet: "192.168.150.0/24" });

function sharedStackArgs(treeCommit: string) {
  return {
    catalog: catalog.catalog,
    environments: ["production", "staging"] as const,
    arches: ["amd64"] as const,
    binhostUrl: "https://binhost.example.ch",
    gentooSyncUri: FARM_TREE_URL,
    overlaySyncUri: FARM_OVERLAY_URL,
    treeSnapshots: {
      production: { gentoo: treeCommit, overlay: OVERLAY_COMMIT },
      staging: { gentoo: TREE_COMMIT, overlay: OVERLAY_COMMIT },
    },
    signingKeyFingerprint: catalog.FINGERPRINT,
  };
}

function stacks(treeCommit: string) {
  const shared = sharedStackArgs(treeCommit);
  const linux = new Stack("linux", { ...shared, systemProfile: "server" });
  const ruby = new Stack("ruby", {
    ...shared,
    base: linux.definition,
    applicationProfiles: ["ruby-app"],
  });
  return { linux, ruby };
}
const { linux, ruby } = stacks(TREE_COMMIT);

const UPLOAD_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nupload\n-----END OPENSSH PRIVATE KEY-----";
const SIGNING_KEY =
  "-----BEGIN PGP PRIVATE KEY BLOCK-----\nsigning\n-----END PGP PRIVATE KEY BLOCK-----";

/** The farm's arguments; its builders build the tree of `s`, the Stacks. */
function farmArgs(overrides: Partial<FarmArgs> = {}, s = { linux, ruby }): FarmArgs {
  return {
    hypervisors: { kvm1, kvm2 },
    network: lan,
    image: { volumeId: "builder-image-id" },
    builders: [
      {
        stack: s.linux,
        environment: "production",
        arch: "amd64",
        hypervisor: "kvm1",
        address: "192.168.150.21",
      },
      {
        stack: s.ruby,
        environment: "production",
        arch: "amd64",
        hypervisor: "kvm2",
        address: "192.168.150.22",
      },
    ],
    binhost: {
      upload: pulumi.secret({
        host: "192.168.150.10",
        user: "gi-upload",
        privateKeyOpenssh: UPLOAD_KEY,
        knownHosts: "192.168.150.10 ssh-ed25519 AAAAC3NzaBinhost",
      }),
    },
    signingKey: { privateKeyArmored: pulumi.secret(SIGNING_KEY) },
    notifyUrl: "https://hooks.example.ch/builds",
    retentionDays: 30,
    schedule: "*-*-* 03:00:00",
    ...overrides,
  };
}

async function contentOf(builder: BuildfarmModule.FarmBuilder, path: string): Promise<string> {
  const file = builder.contents.find((f) => f.path === path);
  assert.ok(file, `${path} is not pushed`);
  return outputValue(pulumi.output(file.content as pulumi.Input<string>));
}

function derivedRubyMac(): string {
  return derivedMac(kvm2.objectName("spread-production-amd64-ruby"));
}

const names = (list: { type: string; name: string }[]) =>
  list.map((r) => `${r.type} ${r.name}`).sort();
const inputsOf = (list: Registered[], type: string, name: string) => {
  const found = list.find((r) => r.type === type && r.name === name);
  assert.ok(found, `${type} ${name} was not registered`);
  return found.inputs;
};

/** The files every builder gets, as destination paths. */
function filePaths(stack: string): string[] {
  return [
    "/etc/portage/binrepos.conf/gentoo-infra.conf",
    "/etc/portage/make.conf",
    "/etc/portage/make.profile/parent",
    "/etc/portage/repos.conf/gentoo-infra.conf",
    "/etc/gentoo-infra/tree-snapshot",
    "/var/lib/portage/world",
    `/usr/local/libexec/gentoo-infra/build-production-amd64-${stack}`,
    "/usr/local/libexec/gentoo-infra/ephemeral-run",
    `/etc/systemd/system/gentoo-infra-build-production-amd64-${stack}.service`,
    `/etc/systemd/system/gentoo-infra-build-production-amd64-${stack}.timer`,
    `/etc/systemd/system/gentoo-infra-build-production-amd64-${stack}.path`,
    "/etc/gentoo-infra/upload_ed25519",
    "/etc/gentoo-infra/upload_known_hosts",
    "/etc/gentoo-infra/package-signing-key.asc",
  ];
}

/** The files of builder `builder`'s FilePush `<builder>-<what>`: destination → file. */
function builderFiles(
  list: Registered[],
  builder: string,
  what: "files" | "stages" = "files",
): Record<string, PushedFileView> {
  return pushedFiles(list, `${builder}-${what}`, {
    hmacKey: `-----BEGIN OPENSSH PRIVATE KEY-----${builder}-ssh-key`,
  });
}

function builderChildren(builder: string): string[] {
  return [
    `gentoo-infra:host:Server ${builder}`,
    `tls:index/privateKey:PrivateKey ${builder}-ssh-key`,
    `gentoo-infra:libvirt:VirtualMachine ${builder}`,
    `libvirt:index/volume:Volume ${builder}-disk`,
    `libvirt:index/cloudInitDisk:CloudInitDisk ${builder}-cloudinit`,
    `libvirt:index/domain:Domain ${builder}`,
    `command:remote:Command ${builder}-ready`,
    `gentoo-infra:host:PushedFiles ${builder}-files`,
    `${FILE_PUSH} ${builder}-files`,
  ];
}

describe("GentooBuildFarm", () => {
  it("creates one Server and one PushedFiles of 14 files per build profile, spread over the hypervisors", async () => {
    const farm = new GentooBuildFarm("farm", farmArgs());
    const made = await registeredUnder("farm");
    assert.deepEqual(
      names(made),
      [
        "gentoo-infra:buildfarm:GentooBuildFarm farm",
        ...builderChildren("farm-production-amd64-linux"),
        ...builderChildren("farm-production-amd64-ruby"),
      ].sort(),
    );
    let pushed = 0;
    for (const stack of ["linux", "ruby"]) {
      const paths = Object.keys(builderFiles(made, `farm-production-amd64-${stack}`));
      assert.deepEqual(paths.sort(), filePaths(stack).sort());
      pushed += paths.length;
    }
    assert.equal(pushed, 28);
    assert.deepEqual(Object.keys(farm.builders), [
      "production/amd64/linux",
      "production/amd64/ruby",
    ]);
    // Each builder's libvirt resources use its own hypervisor's provider.
    assert.match(
      String(
        made.find(
          (r) =>
            r.name === "farm-production-amd64-linux" && r.type === "libvirt:index/domain:Domain",
        )?.provider,
      ),
      /::kvm1::kvm1-id$/,
    );
    assert.match(
      String(
        made.find(
          (r) =>
            r.name === "farm-production-amd64-ruby" && r.type === "libvirt:index/domain:Domain",
        )?.provider,
      ),
      /::kvm2::kvm2-id$/,
    );
    assert.match(
      String(
        inputsOf(
          made,
          "libvirt:index/cloudInitDisk:CloudInitDisk",
          "farm-production-amd64-ruby-cloudinit",
        ).userData,
      ),
      /if \[ -L \/etc\/portage\/make\.profile \]; then rm \/etc\/portage\/make\.profile; fi/,
    );
    const domain = inputsOf(made, "libvirt:index/domain:Domain", "farm-production-amd64-ruby");
    assert.equal(domain.memory, 4096);
    assert.equal(domain.vcpu, 4);
    assert.equal(
      inputsOf(made, "libvirt:index/volume:Volume", "farm-production-amd64-ruby-disk").size,
      40 * 1024 ** 3,
    );
    const ruby = farm.builders["production/amd64/ruby"];
    assert.ok(ruby);
    assert.equal(ruby.server.address, "192.168.150.22");
    assert.equal(ruby.serviceName, "gentoo-infra-build-production-amd64-ruby.service");
    assert.equal(
      await outputValue(ruby.binhostUrl),
      "https://binhost.example.ch/production/amd64/ruby/",
    );
    assert.equal(ruby.stageFiles, undefined);
  });

  it("takes the network and image per hypervisor, as libvirt networks and volumes live on one host", async () => {
    const lan2 = new GuestNetwork("lan2", { hypervisor: kvm2, subnet: "192.168.151.0/24" });
    new GentooBuildFarm(
      "spread",
      farmArgs({
        network: { kvm1: lan, kvm2: lan2 },
        image: { kvm1: { volumeId: "image-kvm1-id" }, kvm2: { volumeId: "image-kvm2-id" } },
        builders: [
          {
            stack: linux,
            environment: "production",
            arch: "amd64",
            hypervisor: "kvm1",
            address: "192.168.150.21",
          },
          {
            stack: ruby,
            environment: "production",
            arch: "amd64",
            hypervisor: "kvm2",
            address: "192.168.151.22",
          },
        ],
      }),
    );
    const made = await registeredUnder("spread");
    assert.equal(
      inputsOf(made, "libvirt:index/volume:Volume", "spread-production-amd64-linux-disk")
        .baseVolumeId,
      "image-kvm1-id",
    );
    assert.equal(
      inputsOf(made, "libvirt:index/volume:Volume", "spread-production-amd64-ruby-disk")
        .baseVolumeId,
      "image-kvm2-id",
    );
    assert.deepEqual(
      inputsOf(made, "libvirt:index/domain:Domain", "spread-production-amd64-ruby")
        .networkInterfaces,
      [{ networkId: "lan2-id", mac: derivedRubyMac() }],
    );
  });

  it("installs the files, then enables the timer and starts a build whenever one changes", async () => {
    new GentooBuildFarm("push", farmArgs());
    const made = await registeredUnder("push-production-amd64-linux");
    // The scripts executable and the keys root's alone; every other file 0644, all root's.
    const special: Record<string, string> = {
      "/usr/local/libexec/gentoo-infra/build-production-amd64-linux": "0755 root:root",
      "/usr/local/libexec/gentoo-infra/ephemeral-run": "0755 root:root",
      "/etc/gentoo-infra/upload_ed25519": "0600 root:root",
      "/etc/gentoo-infra/package-signing-key.asc": "0600 root:root",
    };
    assert.deepEqual(
      modesAndOwners(builderFiles(made, "push-production-amd64-linux")),
      Object.fromEntries(filePaths("linux").map((p) => [p, special[p] ?? "0644 root:root"])),
    );
    assert.equal(
      filePushInputs(made, "push-production-amd64-linux-files").afterChange,
      "{ systemctl daemon-reload || { sleep 10; systemctl daemon-reload; }; } && systemctl enable --now gentoo-infra-build-production-amd64-linux.timer gentoo-infra-build-production-amd64-linux.path && install -D -m 0644 /dev/null /var/lib/gentoo-infra/gentoo-infra-build-production-amd64-linux.requested",
    );
  });

  it("keeps the upload key and the signing key secret, and everything else readable", async () => {
    const farm = new GentooBuildFarm("secrets", farmArgs());
    const builder = farm.builders["production/amd64/linux"];
    assert.ok(builder);
    const secret: string[] = [];
    for (const f of builder.contents) {
      if (await isSecret(pulumi.output(f.content))) secret.push(f.path);
    }
    assert.deepEqual(secret, [
      "/etc/gentoo-infra/upload_ed25519",
      "/etc/gentoo-infra/package-signing-key.asc",
    ]);
    assert.equal(await contentOf(builder, "/etc/gentoo-infra/upload_ed25519"), `${UPLOAD_KEY}\n`);
    assert.equal(
      await contentOf(builder, "/etc/gentoo-infra/package-signing-key.asc"),
      `${SIGNING_KEY}\n`,
    );
    assert.equal(
      await contentOf(builder, "/etc/gentoo-infra/upload_known_hosts"),
      "192.168.150.10 ssh-ed25519 AAAAC3NzaBinhost\n",
    );
    assert.deepEqual(
      builder.contents.filter((f) => f.mode !== undefined).map((f) => `${f.mode} ${f.path}`),
      [
        "0755 /usr/local/libexec/gentoo-infra/build-production-amd64-linux",
        "0755 /usr/local/libexec/gentoo-infra/ephemeral-run",
        "0600 /etc/gentoo-infra/upload_ed25519",
        "0600 /etc/gentoo-infra/package-signing-key.asc",
      ],
    );
    assert.equal(await isSecret(builder.server.connection), true);
    // As the FilePush has them: HMAC fingerprints for the two keys, the texts a secret.
    const pushed = builderFiles(
      await registeredUnder("secrets-production-amd64-linux"),
      "secrets-production-amd64-linux",
    );
    assert.deepEqual(
      Object.keys(pushed)
        .filter((path) => pushed[path]?.secret)
        .sort(),
      ["/etc/gentoo-infra/package-signing-key.asc", "/etc/gentoo-infra/upload_ed25519"],
    );
    assert.equal(pushed["/etc/gentoo-infra/upload_ed25519"]?.content, `${UPLOAD_KEY}\n`);
    assert.equal(pushed["/etc/gentoo-infra/package-signing-key.asc"]?.content, `${SIGNING_KEY}\n`);
  });

  it("pins the build script to the snapshot, signs with the pushed key, builds the kernel and runs in a throwaway root", async () => {
    const farm = new GentooBuildFarm("script", farmArgs());
    const builder = farm.builders["production/amd64/linux"];
    assert.ok(builder);
    const text = await contentOf(
      builder,
      "/usr/local/libexec/gentoo-infra/build-production-amd64-linux",
    );
    assert.ok(text.includes(`TREE_COMMIT='${TREE_COMMIT}'`));
    assert.ok(text.includes("OVERLAY_NAME='gentoo-infra'"));
    assert.ok(text.includes("SIGNING_KEY='/etc/gentoo-infra/package-signing-key.asc'"));
    assert.ok(text.includes("KERNEL_PACKAGES=('sys-kernel/gentoo-kernel')"));
    assert.ok(text.includes("UPLOAD_TARGET='gi-upload@192.168.150.10:/production/amd64/linux/'"));
    const service = await contentOf(
      builder,
      "/etc/systemd/system/gentoo-infra-build-production-amd64-linux.service",
    );
    assert.ok(
      service.includes(
        "\nExecStart=/usr/local/libexec/gentoo-infra/ephemeral-run /usr/local/libexec/gentoo-infra/build-production-amd64-linux\n",
      ),
    );
    const repos = await contentOf(builder, "/etc/portage/repos.conf/gentoo-infra.conf");
    assert.ok(repos.includes(TREE_COMMIT));
    assert.equal(await contentOf(builder, "/var/lib/portage/world"), "\n");
  });

  it("turns a new tree snapshot commit into new file contents only: no VM, disk or key changes", async () => {
    const before = registered.length;
    const a = new GentooBuildFarm("snap", farmArgs({}));
    const first = (await registeredSince(before)).filter((r) => r.name.startsWith("snap"));
    const next = stacks(NEXT_TREE_COMMIT);
    const mid = registered.length;
    const b = new GentooBuildFarm("snap", farmArgs({}, next));
    const second = (await registeredSince(mid)).filter((r) => r.name.startsWith("snap"));
    assert.deepEqual(names(second), names(first));
    // Resources whose inputs differ: each builder's FilePush, in its manifest and texts only.
    const changed = second
      .filter((r) => {
        const old = first.find((o) => o.type === r.type && o.name === r.name);
        return JSON.stringify(old?.inputs) !== JSON.stringify(r.inputs);
      })
      .map((r) => `${r.type} ${r.name}`)
      .sort();
    assert.deepEqual(changed, [
      `${FILE_PUSH} snap-production-amd64-linux-files`,
      `${FILE_PUSH} snap-production-amd64-ruby-files`,
    ]);
    for (const label of ["production/amd64/linux", "production/amd64/ruby"]) {
      const old = a.builders[label];
      const now = b.builders[label];
      assert.ok(old && now);
      const push = `snap-${label.replaceAll("/", "-")}`;
      const inputsBefore = filePushInputs(first, `${push}-files`);
      const inputsAfter = filePushInputs(second, `${push}-files`);
      assert.deepEqual(
        Object.keys(inputsAfter)
          .filter((k) => JSON.stringify(inputsBefore[k]) !== JSON.stringify(inputsAfter[k]))
          .sort(),
        ["contents", "files"],
      );
      // The files the push would send: those whose fingerprint, mode or owner changed.
      const filesBefore = builderFiles(first, push);
      const filesAfter = builderFiles(second, push);
      assert.deepEqual(Object.keys(filesAfter).sort(), Object.keys(filesBefore).sort());
      const sent = Object.keys(filesAfter).filter(
        (path) =>
          JSON.stringify((inputsBefore.files as Record<string, unknown>)[path]) !==
          JSON.stringify((inputsAfter.files as Record<string, unknown>)[path]),
      );
      assert.deepEqual(sent.sort(), [
        "/etc/gentoo-infra/tree-snapshot",
        "/etc/portage/repos.conf/gentoo-infra.conf",
        `/usr/local/libexec/gentoo-infra/build-production-amd64-${label.split("/")[2]}`,
      ]);
      for (const path of sent) {
        assert.notEqual(filesAfter[path]?.content, filesBefore[path]?.content, path);
      }
      const differ: string[] = [];
      for (const f of now.contents) {
        if ((await contentOf(old, f.path)) !== (await contentOf(now, f.path))) differ.push(f.path);
      }
      const stack = label.split("/")[2];
      assert.deepEqual(differ.sort(), [
        "/etc/gentoo-infra/tree-snapshot",
        "/etc/portage/repos.conf/gentoo-infra.conf",
        `/usr/local/libexec/gentoo-infra/build-production-amd64-${stack}`,
      ]);
      // The build script checks out the Stack's tree: its clone URLs at its new commit.
      const script = await contentOf(
        now,
        `/usr/local/libexec/gentoo-infra/build-production-amd64-${stack}`,
      );
      for (const expected of [NEXT_TREE_COMMIT, OVERLAY_COMMIT, FARM_TREE_URL, FARM_OVERLAY_URL]) {
        assert.ok(script.includes(expected), `the build script names ${expected}`);
      }
      assert.ok(!script.includes(TREE_COMMIT), "and not the old commit");
    }
  });

  it("pushes catalyst stage builds to one builder per system profile and the stage4's builder", async () => {
    const farm = new GentooBuildFarm(
      "stg",
      farmArgs({
        stages: {
          buildStamp: "20261122T030000Z",
          seeds: { amd64: "seeds/stage3-amd64-systemd-20261101T170000Z" },
          stage4: { production: { stack: "ruby", arch: "amd64" } },
        },
      }),
    );
    const linuxStages = await registeredUnder("stg-production-amd64-linux-stages");
    assert.deepEqual(names(linuxStages), [
      "gentoo-infra:host:PushedFiles stg-production-amd64-linux-stages",
      `${FILE_PUSH} stg-production-amd64-linux-stages`,
    ]);
    assert.deepEqual(
      Object.keys(builderFiles(linuxStages, "stg-production-amd64-linux", "stages")).sort(),
      [
        "/etc/gentoo-infra/catalyst/production-amd64-server/stage1.spec",
        "/etc/gentoo-infra/catalyst/production-amd64-server/stage2.spec",
        "/etc/gentoo-infra/catalyst/production-amd64-server/stage3.spec",
        "/etc/systemd/system/gentoo-infra-stages-production-amd64-linux.service",
        "/usr/local/libexec/gentoo-infra/stages-production-amd64-linux",
      ],
    );
    const rubyStages = await registeredUnder("stg-production-amd64-ruby-stages");
    assert.deepEqual(names(rubyStages), [
      "gentoo-infra:host:PushedFiles stg-production-amd64-ruby-stages",
      `${FILE_PUSH} stg-production-amd64-ruby-stages`,
    ]);
    assert.deepEqual(
      Object.keys(builderFiles(rubyStages, "stg-production-amd64-ruby", "stages")).filter((p) =>
        p.includes("catalyst"),
      ),
      ["/etc/gentoo-infra/catalyst/production-stage4/stage4.spec"],
    );
    assert.ok(farm.builders["production/amd64/linux"]?.stageFiles);
  });

  it("trusts the root CA, pins the binhost name, waits for the base Stack and records outcomes", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nTUlJQg==\n-----END CERTIFICATE-----\n";
    const farm = new GentooBuildFarm(
      "trusting",
      farmArgs({ binhost: { ...farmArgs().binhost, rootCertificatePem: pem } }),
    );
    const ruby = farm.builders["production/amd64/ruby"];
    const linux = farm.builders["production/amd64/linux"];
    assert.ok(ruby && linux);
    assert.equal(ruby.contents.length, 15);
    assert.equal(await contentOf(ruby, "/etc/gentoo-infra/root-ca.pem"), pem);
    assert.equal(ruby.statusFile, "/var/lib/gentoo-infra/builds/production-amd64-ruby.json");
    const script = await contentOf(
      ruby,
      "/usr/local/libexec/gentoo-infra/build-production-amd64-ruby",
    );
    assert.ok(script.includes("readonly ROOT_CERTIFICATE='/etc/gentoo-infra/root-ca.pem'\n"));
    assert.ok(script.includes("readonly HOSTS_LINES=('192.168.150.10 binhost.example.ch')\n"));
    assert.ok(
      script.includes(
        "readonly REPOSITORY_URL='https://binhost.example.ch/production/amd64/ruby/'\n",
      ),
    );
    assert.ok(
      script.includes(
        "readonly BASE_REPOSITORIES=('https://binhost.example.ch/production/amd64/linux/') BASE_WAIT_SECONDS='3600'\n",
      ),
    );
    assert.ok(
      script.includes("readonly SERVICE_NAME='gentoo-infra-build-production-amd64-ruby.service'\n"),
    );
    // linux has no base: it waits for nothing.
    const base = await contentOf(
      linux,
      "/usr/local/libexec/gentoo-infra/build-production-amd64-linux",
    );
    assert.ok(base.includes("readonly BASE_REPOSITORIES=() BASE_WAIT_SECONDS='3600'\n"));
    // Without a certificate nothing is pushed for it; pinHostname false pins nothing.
    const plain = new GentooBuildFarm(
      "unpinned",
      farmArgs({ binhost: { ...farmArgs().binhost, pinHostname: false } }),
    );
    const p = plain.builders["production/amd64/linux"];
    assert.ok(p);
    assert.equal(p.contents.length, 14);
    assert.ok(
      (await contentOf(p, "/usr/local/libexec/gentoo-infra/build-production-amd64-linux")).includes(
        "readonly HOSTS_LINES=()\n",
      ),
    );
  });

  it("builds no kernel when kernelPackages is empty", async () => {
    const farm = new GentooBuildFarm("nokernel", farmArgs({ kernelPackages: [] }));
    const builder = farm.builders["production/amd64/linux"];
    assert.ok(builder);
    const text = await contentOf(
      builder,
      "/usr/local/libexec/gentoo-infra/build-production-amd64-linux",
    );
    assert.ok(text.includes("readonly KERNEL_PACKAGES=()\n"));
  });
});

describe("GentooBuildFarm validation", () => {
  const other = stacks(TREE_COMMIT);
  const longName = new Stack("storefront-checkout-service", {
    ...sharedStackArgs(TREE_COMMIT),
    systemProfile: "server",
  });
  const site = new Stack("site", {
    ...sharedStackArgs(TREE_COMMIT),
    systemProfile: "server",
    overlayName: "site",
  });
  const b0: BuildfarmModule.BuildFarmBuilder = {
    stack: linux,
    environment: "production",
    arch: "amd64",
    hypervisor: "kvm1",
    address: "192.168.150.21",
  };
  const cases: [string, Partial<FarmArgs>, string[]][] = [
    [
      "a builder on an unknown hypervisor",
      { builders: [{ ...b0, hypervisor: "kvm9" }] },
      ['- builders[0].hypervisor: is not a key of hypervisors (got "kvm9"); use one of kvm1, kvm2'],
    ],
    [
      "an unknown environment and arch",
      { builders: [{ ...b0, environment: "qa" as never, arch: "sparc" as never }] },
      [
        '- builders[0].environment: is not an environment (got "qa"); use one of development, staging, production',
        '- builders[0].arch: is not a known arch (got "sparc"); use one of amd64, x86, arm64',
      ],
    ],
    [
      "a build profile the Stack does not have",
      { builders: [{ ...b0, environment: "development" }] },
      [
        '- builders[0]: is not a build profile of Stack "linux" (it has production/amd64/linux, staging/amd64/linux) (got "development/amd64/linux"); add the environment and arch to the Stack\'s environments and arches',
      ],
    ],
    [
      "something that is not a Stack",
      { builders: [{ ...b0, stack: {} as never }] },
      ['- builders[0].stack: is not a Stack (got "object"); pass a Stack component'],
    ],
    [
      "a duplicate build profile and address",
      { builders: [b0, { ...b0, stack: other.linux, hypervisor: "kvm2" }] },
      [
        '- builders[1]: repeats the build profile of builders[0] (got "production/amd64/linux"); give each build profile one builder',
        '- builders[1].address: is builders[0]\'s address too (got "192.168.150.21"); give each builder its own address',
      ],
    ],
    [
      "an address outside the subnet or on the gateway",
      {
        builders: [
          { ...b0, address: "10.0.0.5" },
          { ...b0, stack: ruby, address: "192.168.150.1" },
        ],
      },
      [
        '- builders[0].address: is outside the network\'s subnet 192.168.150.0/24 (got "10.0.0.5"); pick an address inside the subnet',
        '- builders[1].address: is the hypervisor\'s address on the network (got "192.168.150.1"); pick another address inside the subnet',
      ],
    ],
    [
      "a missing network for a hypervisor",
      { network: { kvm1: lan } },
      [
        '- network: has no network for hypervisor "kvm2" (builders[1]) (got ["kvm1"]); give one GuestNetwork, or one per hypervisor key',
      ],
    ],
    [
      // A Stack may name a local clone (machines sync it as Portage does); builders clone
      // over the network only, so the farm refuses it before anything is created.
      "a Stack whose overlay builders cannot clone",
      {
        builders: [
          {
            ...b0,
            stack: new Stack("fileoverlay", {
              ...sharedStackArgs(TREE_COMMIT),
              systemProfile: "server",
              overlaySyncUri: "file:///srv/overlay",
            }),
          },
        ],
      },
      [
        '- builders[0].stack: has a overlaySyncUri builders cannot clone: not an https, ssh or git URL (got "file:///srv/overlay"); give Stack "fileoverlay" an https, ssh or git overlaySyncUri, e.g. https://git.example.ch/gentoo.git',
      ],
    ],
    [
      // The tree is the Stacks' (stack.treeSources): a program written before it was.
      "a snapshots argument",
      { snapshots: { production: {} } } as Partial<FarmArgs>,
      [
        "- snapshots: is no longer an argument: each builder builds its Stack's tree (stack.treeSources) (got {\"production\":{}}); remove snapshots; give the commits to the Stacks' treeSnapshots and the clone URLs to their gentooSyncUri and overlaySyncUri",
      ],
    ],
    [
      // The binhost's URL is the Stacks' (binhostUrl): a program written before it was.
      "a binhost.url argument",
      {
        binhost: { ...farmArgs().binhost, url: "https://binhost.example.ch" },
      } as Partial<FarmArgs>,
      [
        "- binhost.url: is no longer an argument: builders publish to their Stacks' binhostUrl (got \"https://binhost.example.ch\"); remove binhost.url; give the binhost's URL to the Stacks (binhostUrl)",
      ],
    ],
    [
      "a Stack that publishes to another binhost than builders[0]'s",
      {
        builders: [
          b0,
          {
            ...b0,
            environment: "staging",
            address: "192.168.150.29",
            stack: new Stack("otherbinhost", {
              ...sharedStackArgs(TREE_COMMIT),
              systemProfile: "server",
              binhostUrl: "https://elsewhere.example.ch",
            }),
          },
        ],
      },
      [
        '- builders[1].stack: has binhostUrl "https://elsewhere.example.ch" while builders[0]\'s Stack has "https://binhost.example.ch" (got "otherbinhost"); give every Stack of one farm the binhost\'s one URL',
      ],
    ],
    [
      "a bad schedule, retention, notification URL and kernel package",
      {
        schedule: "daily\nExecStart=/bin/sh",
        retentionDays: 0,
        notifyUrl: "mailto:ops@example.ch",
        kernelPackages: ["gentoo-kernel"],
      },
      [
        '- notifyUrl: is not an http(s) URL (got "mailto:ops@example.ch"); use e.g. https://hooks.example.ch/builds',
        "- retentionDays: is not a whole number of days from 1 to 3650 (got 0); use e.g. 30",
        '- kernelPackages[0]: is not a category/package name (got "gentoo-kernel"); use e.g. sys-kernel/gentoo-kernel',
        '- schedule: is not a systemd calendar expression (got "daily\\nExecStart=/bin/sh"); use a systemd calendar expression such as "daily", "*-*-* 03:00:00", "Mon..Fri 22:30" or "Sun *-*-* 04:00 UTC"',
      ],
    ],
    [
      "a plain upload account with a bad host and user, and a too small builder",
      {
        binhost: {
          upload: { host: "bin host", user: "Root", privateKeyOpenssh: UPLOAD_KEY, knownHosts: "" },
        },
        vcpus: 0,
      },
      [
        '- binhost.upload.host: is not a host name (got "bin host"); use e.g. binhost.example.ch',
        '- binhost.upload.user: is not a user name (got "Root"); use e.g. binhost',
        "- vcpus: is not a whole number from 1 to 256 (got 0); use e.g. 4",
      ],
    ],
    [
      "a builder name longer than libvirt allows",
      { builders: [{ ...b0, stack: longName }] },
      [
        "- builders[0]: gives a builder name libvirt cannot take (got \"<farm>-production-amd64-storefront-checkout-service\"); shorten the farm's or the Stack's name: the builder is <farm>-<env>-<arch>-<stack>, 40 characters at most",
      ],
    ],
    [
      "Stacks with different overlays, and an image with two sources",
      {
        builders: [b0, { ...b0, stack: site, address: "192.168.150.23" }],
        image: { path: "/srv/a.qcow2", url: "https://images.example.ch/a.qcow2" } as never,
      },
      [
        '- builders[1].stack: has overlay "site" while builders[0]\'s Stack has "gentoo-infra" (got "site"); give every Stack of one farm the same overlayName',
        '- image: must name exactly one source (got {"path":"/srv/a.qcow2","url":"https://images.example.ch/a.qcow2"}); give one of { path }, { url } or { volumeId }',
      ],
    ],
    [
      "a root certificate that is not PEM and a pinHostname that is not a boolean",
      {
        binhost: {
          upload: {
            host: "192.168.150.10",
            user: "gi-upload",
            privateKeyOpenssh: "k",
            knownHosts: "h",
          },
          rootCertificatePem: "not a certificate",
          pinHostname: "yes" as unknown as boolean,
        },
      },
      [
        '- binhost.pinHostname: is not a boolean (got "yes"); use true or false',
        '- binhost.rootCertificatePem: is not one PEM certificate (got "not a certificate…"); give the RootCa\'s rootCertificatePem',
      ],
    ],
    [
      "an image map without the builder's hypervisor",
      { image: { kvm1: { volumeId: "image-kvm1-id" } } },
      [
        '- image: has no image for hypervisor "kvm2" (got ["kvm1"]); give one ImageSource, or one per hypervisor key',
      ],
    ],
    [
      "a builder problem and a stage problem together",
      {
        builders: [{ ...b0, hypervisor: "kvm9" }],
        stages: { buildStamp: "20261122T030000Z", seeds: {} },
      },
      [
        '- builders[0].hypervisor: is not a key of hypervisors (got "kvm9"); use one of kvm1, kvm2',
        "- stages.seeds.amd64: is missing (got undefined); give the seed stage3 for amd64, relative to /var/tmp/catalyst/builds/",
      ],
    ],
    [
      "stage builds without a seed or a valid stamp, and a stage4 of no builder",
      {
        stages: {
          buildStamp: "latest",
          seeds: {},
          stage4: { production: { stack: "rails", arch: "amd64" } },
        },
      },
      [
        '- stages.buildStamp: is not a UTC build stamp (got "latest"); use YYYYMMDDTHHMMSSZ, e.g. 20261122T030000Z',
        "- stages.seeds.amd64: is missing (got undefined); give the seed stage3 for amd64, relative to /var/tmp/catalyst/builds/",
        '- stages.stage4.production: names no builder of this farm (got {"stack":"rails","arch":"amd64"}); give the stack name and arch of one of the environment\'s builders',
      ],
    ],
  ];
  cases.forEach(([what, overrides, lines], i) => {
    it(`rejects ${what} with one error and registers nothing under it`, async () => {
      const name = `bad${i}`;
      assert.throws(
        () => new GentooBuildFarm(name, farmArgs(overrides)),
        (e: unknown) => {
          assert.ok(e instanceof Error);
          const count = lines.length === 1 ? "1 problem" : `${lines.length} problems`;
          // `(got "<farm>-…` in an expected line starts with the farm's name (bad<case number>).
          const expected = lines.map((l) => l.replaceAll('(got "<farm>-', `(got "${name}-`));
          assert.equal(e.message, [`GentooBuildFarm "${name}": ${count}:`, ...expected].join("\n"));
          return true;
        },
      );
      assert.deepEqual(names(await registeredUnder(name)), [
        `gentoo-infra:buildfarm:GentooBuildFarm ${name}`,
      ]);
    });
  });
});

describe("GentooBuildFarm refuses hostile values in its plain arguments (property)", () => {
  const b0 = farmArgs().builders[0] as BuildfarmModule.BuildFarmBuilder;
  const b1 = farmArgs().builders[1] as BuildfarmModule.BuildFarmBuilder;
  /** Where a value goes, the argument the error must name, and the valid value it replaces. */
  const places: {
    at: string;
    valid: string;
    set: (value: unknown) => Partial<FarmArgs>;
    optional?: true;
  }[] = [
    ...(["environment", "arch", "hypervisor", "address"] as const).map((field) => ({
      at: `builders[0].${field}`,
      valid: String(b0[field]),
      set: (v: unknown) => ({ builders: [{ ...b0, [field]: v }, b1] }),
    })),
    {
      at: "binhost.url",
      valid: "https://binhost.example.ch",
      set: (v) => ({ binhost: { ...farmArgs().binhost, url: v as string } }),
    },
    {
      at: "notifyUrl",
      valid: "https://hooks.example.ch/builds",
      set: (v) => ({ notifyUrl: v as string }),
    },
    { at: "schedule", valid: "*-*-* 03:00:00", set: (v) => ({ schedule: v as string }) },
    { at: "retentionDays", valid: "30", set: (v) => ({ retentionDays: v as number }) },
    {
      at: "kernelPackages[0]",
      valid: "sys-kernel/gentoo-kernel",
      set: (v) => ({ kernelPackages: [v as string] }),
    },
    { at: "diskGiB", valid: "40", set: (v) => ({ diskGiB: v as number }), optional: true },
    { at: "memoryMiB", valid: "4096", set: (v) => ({ memoryMiB: v as number }), optional: true },
    { at: "vcpus", valid: "2", set: (v) => ({ vcpus: v as number }), optional: true },
  ];
  const metacharacter = fc.constantFrom(...METACHARACTERS);
  const wrongType = fc.constantFrom<unknown>(true, null, {}, [], ["x"], () => "x", -1, 1e9, 1.5);

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
            const i = hostile.at % (place.valid.length + 1);
            const text = `${place.valid.slice(0, i)}${hostile.bad}${place.valid.slice(i)}`;
            // Numbers get the text itself: "30;" is not a number of days.
            value = text;
          }
          const name = `hostile${n++}`;
          made.push(name);
          assert.throws(
            () => new GentooBuildFarm(name, farmArgs(place.set(value))),
            (e: Error) => {
              assert.ok(e instanceof pulumi.ResourceError, `${place.at}=${String(value)}: ${e}`);
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
    await registeredSince(registered.length); // lets pending registrations reach the mocks
    const children = registered.filter((r) => made.some((name) => r.name.startsWith(`${name}-`)));
    assert.deepEqual(names(children), [], "no child of a refused GentooBuildFarm");
  });
});
