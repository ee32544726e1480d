// The smallest complete site (docs/getting-started.md): one environment (development), one
// arch (amd64), one Stack (linux), a RootCa with its root in this stack, a BinhostMirror, a
// PxeInstallHost with one machine and one builder, all on the local libvirt (qemu:///system,
// TCG unless configured). It is also the default site: the root Pulumi.yaml runs this program,
// and `npm run up` brings its development stack up inside the network namespace of
// scripts/libvirt-harness.
//
// STAND-INS (named so): the guest image is a Debian image standing in for Gentoo's cloud-init
// image (scripts/build-base-image), the installer is built from Debian packages
// (scripts/build-installer) and the stage the machine installs is a Debian-built stand-in for a
// Gentoo stage4 (scripts/build-stage-standin). Everything else is the real thing.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  BaseImage,
  BINHOST_ROOT,
  BinhostMirror,
  defaultDiskLayout,
  GentooBuildFarm,
  GuestNetwork,
  Hypervisor,
  PushedFiles,
  PxeInstallHost,
  RootCa,
  Stack,
} from "../../lib";
import { catalog, linux } from "./stacks";

const config = new pulumi.Config();
const repo = path.resolve(__dirname, "..", "..");
const cache = process.env.GI_CACHE ?? path.join(repo, ".cache");
const environment = "development";
const arch = "amd64";
const domain = config.get("domain") ?? "dev.gentoo-infra.test";
const subnet = config.get("subnet") ?? "192.168.150.0/24";
const prefix = subnet.replace(/\.0\/24$/, "");
const addresses = {
  binhost: `${prefix}.10`,
  pxe: `${prefix}.11`,
  builder: `${prefix}.20`,
};
const binhostHostname = `binhost.${domain}`;
const binhostUrl = `https://${binhostHostname}/`;

// Where the tree and overlay live, and the commits this environment builds. A real site reads
// them from its clones with readTreeSnapshot (docs/tree-snapshots.md); the defaults are fixed
// commits so that a fresh clone previews without any clone.
const snapshot = {
  tree: {
    url: config.get("gentooSyncUri") ?? "https://git.example.org/gentoo.git",
    commit: config.get("gentooCommit") ?? "1111111111111111111111111111111111111111",
  },
  overlay: {
    url: config.get("overlaySyncUri") ?? "https://git.example.org/overlay.git",
    commit: config.get("overlayCommit") ?? "2222222222222222222222222222222222222222",
  },
};

const hypervisor = new Hypervisor("local", {
  uri: config.get("libvirtUri") ?? "qemu:///system",
  domainType: (config.get("domainType") as "kvm" | "qemu" | "detect" | undefined) ?? "qemu",
});
// An IPv6 prefix that the hypervisor advertises: iPXE waits ~13 s per network boot without one.
const ipv6Prefix = config.get("ipv6Prefix") ?? `fd00:67:69:${prefix.split(".")[2]}::/64`;
const network = new GuestNetwork("lan", {
  hypervisor,
  subnet,
  ipv6Prefix,
  mode: "isolated",
  dhcp: "off",
});
const base = new BaseImage("standin-base", {
  hypervisor,
  source: {
    path: config.get("baseImagePath") ?? path.join(cache, "images/debian-standin-amd64.qcow2"),
  },
});
const image = { volumeId: base.volumeId };

const pki = new RootCa("pki", {
  baseDn: config.get("baseDn") ?? "dc=gentoo-infra,dc=test",
  crlBaseUrl: `http://${binhostHostname}/crl`,
  intermediate: environment,
  root: { mode: "in-stack" },
  packageSigningKey: { name: "gentoo-infra development binhost", email: `binhost@${domain}` },
});
const signingKey = pki.packageSigningKey;
if (!signingKey) throw new Error("unreachable: the RootCa above has a package signing key");

const stack = new Stack("linux", {
  catalog,
  systemProfile: linux.systemProfile,
  environments: [environment],
  arches: [arch],
  binhostUrl,
  gentooSyncUri: snapshot.tree.url,
  overlaySyncUri: snapshot.overlay.url,
  treeSnapshots: {
    [environment]: { gentoo: snapshot.tree.commit, overlay: snapshot.overlay.commit },
  },
  signingKeyFingerprint: signingKey.fingerprint,
  builderMakeJobs: 2,
});

const binhost = new BinhostMirror("binhost", {
  hypervisor,
  network,
  address: addresses.binhost,
  image,
  rootCa: pki,
  stacks: [stack],
  hostname: binhostHostname,
});

// The stage the machine installs: the stand-in built by scripts/build-stage-standin, pushed to
// the binhost where builders would upload a real stage4.
const stageFile = config.get("stagePath") ?? path.join(cache, "stages/stage4-amd64-standin.tar.xz");
const stageName = path.basename(stageFile);
const stageRelative = `stages/${environment}/${arch}/${stageName}`;
if (existsSync(stageFile)) {
  new PushedFiles("binhost-stage", {
    server: binhost.server,
    files: [{ path: `${BINHOST_ROOT}/${stageRelative}`, localPath: stageFile }],
  });
} else {
  pulumi.log.warn(
    `${stageFile} does not exist: the machine has no stage to install (run scripts/build-stage-standin)`,
  );
}
const stageSha512 = existsSync(stageFile)
  ? createHash("sha512").update(readFileSync(stageFile)).digest("hex")
  : "0".repeat(128);

// The machines the install host installs: web1 … web<machineCount> (MAC 52:54:00:47:49:5N,
// address .5N). Raising machineCount adds machines in place: no VM is replaced.
const machineCount = config.getNumber("machineCount") ?? 1;
const machines = Array.from({ length: machineCount }, (_, i) => {
  const hostname = `web${i + 1}`;
  // `web<N>Firmware`: bios (default) or uefi; a UEFI machine gets an EFI system partition.
  const firmware = config.get(`${hostname}Firmware`, { allowedValues: ["bios", "uefi"] }) ?? "bios";
  return {
    mac: `52:54:00:47:49:${(0x50 + i).toString(16)}`,
    hostname,
    environment,
    arch,
    stack: "linux",
    address: `${prefix}.${50 + i}`,
    firmware,
    diskLayout: defaultDiskLayout(firmware, "/dev/vda"),
    installGeneration: config.getNumber(`${hostname}InstallGeneration`) ?? 1,
  } as const;
});

const installerDir = config.get("installerDir") ?? path.join(cache, "installer", arch);
const pxe = new PxeInstallHost("pxe", {
  hypervisor,
  network,
  address: addresses.pxe,
  image,
  dhcpMode: "full",
  dhcpRange: { start: `${prefix}.100`, end: `${prefix}.150` },
  // The install host answers DNS for the binhost's name, so the installer (and the installed
  // machines) resolve the stage and binrepos URLs; the root CA reaches the installer through
  // its iPXE script (docs/pxe-install-host.md), so the installer is built without --ca.
  dnsServers: [addresses.pxe],
  hostRecords: { [binhostHostname]: addresses.binhost },
  domain,
  machines,
  stacks: [stack],
  binhost: { url: binhostUrl, clientConfig: binhost.clientConfig },
  stages: {
    [`${environment}/${arch}/linux`]: { url: `${binhostUrl}${stageRelative}`, sha512: stageSha512 },
  },
  rootCa: pki,
  baseDn: config.get("baseDn") ?? "dc=gentoo-infra,dc=test",
  puppet: { server: `puppet.${domain}` },
  installers: {
    [arch]: {
      kernel: path.join(installerDir, "vmlinuz"),
      initrd: path.join(installerDir, "initrd.img"),
    },
  },
});

const farm = new GentooBuildFarm("farm", {
  hypervisors: { local: hypervisor },
  network,
  image,
  builders: [{ stack, environment, arch, hypervisor: "local", address: addresses.builder }],
  binhost: { url: binhostUrl, upload: binhost.upload },
  snapshots: { [environment]: snapshot },
  signingKey,
  notifyUrl: config.get("notifyUrl") ?? `http://${addresses.pxe}/notify`,
  retentionDays: 30,
  schedule: "daily",
  memoryMiB: config.getNumber("builderMemoryMiB") ?? 1024,
  vcpus: 1,
  diskGiB: 10,
});

const serverOf = (server: {
  address: string;
  sshKey: { privateKeyOpenssh: pulumi.Output<string> };
}) => ({
  address: server.address,
  user: "gi-admin",
  privateKeyOpenssh: server.sshKey.privateKeyOpenssh,
});

/** Every server with its address and admin SSH key (secret), for `scripts/site info`. */
export const servers = pulumi.secret({
  binhost: serverOf(binhost.server),
  pxe: serverOf(pxe.server),
  ...Object.fromEntries(
    Object.entries(farm.builders).map(([profile, builder]) => [
      `builder-${profile.replaceAll("/", "-")}`,
      serverOf(builder.server),
    ]),
  ),
});
/** Where things are served. */
export const urls = {
  binhost: binhost.url,
  netboot: pxe.httpBaseUrl,
  stage: `${binhostUrl}${stageRelative}`,
};
/** The root CA certificate: `curl --cacert` it to reach the binhost. */
export const caCertificatePem = pki.rootCertificatePem;
/** Client lines per build profile (binrepos.conf, make.conf). */
export const clientConfig = binhost.clientConfig;
/** The build profiles the farm builds. */
export const buildProfiles = Object.keys(farm.builders);
