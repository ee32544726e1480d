// The smallest complete site (docs/getting-started.md): one environment per Pulumi stack
// (config `environment`, default development), one arch (amd64), two Stacks (linux, and tools
// on top of it), a RootCa with its root in this stack, a BinhostMirror that also serves the
// tree and overlay over git, a PxeInstallHost with one machine, and a builder per Stack, all on
// the local libvirt (qemu:///system, TCG unless configured). It is also the default site: the
// root Pulumi.yaml runs this program, and `npm run up` brings its development stack up inside
// the network namespace of scripts/libvirt-harness; the first builds start right after.
// A smaller environment: `tools: false` (linux only, one builder), `machineCount: 0` (no
// machines, so no install host); the e2e's staging and production stacks are such.
// A second hypervisor (docs/libvirt.md "Builders on more than one hypervisor"):
// `remoteLibvirtUri` (a qemu+ssh URI, e.g. the harness's kvm2) puts the tools builder there, on
// a routed network `remoteSubnet` (default 10.252.150.0/24; the hypervisors must route it and
// the local subnet to each other), from where it clones from and uploads to the binhost on the
// local hypervisor; the local network routes too instead of being isolated.
// `toolsHypervisor: local` moves the builder back (the preview replaces its VM on the new
// hypervisor and deletes it from the old one).
// Certificates for services outside this program: `certificates` (a JSON list of RootCa
// certificates, e.g. `[{"name":"mail","kind":"host","commonName":"mail.dev.gentoo-infra.test"}]`;
// output `certificates`), and `revoked` (e.g. `[{"certificate":"mail","reason":"keyCompromise"}]`):
// a revoked certificate stays in `certificates` until it expires; its serial goes on the CRL of
// its kind's sub-CA, which the binhost serves.
//
// STAND-INS (named so): the guest image is a Debian image with real Portage standing in for
// Gentoo's cloud-init image (scripts/build-base-image), the Gentoo tree and overlay are
// stand-in git repositories (scripts/build-tree-standin), the installer is built from Debian
// packages (scripts/build-installer) and the stage the machine installs is a Debian-built
// stand-in for a Gentoo stage4 (scripts/build-stage-standin). Everything else is the real
// thing: every Portage step of a build is real Portage.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import {
  BaseImage,
  BINHOST_ROOT,
  BinhostMirror,
  defaultDiskLayout,
  ENVIRONMENTS,
  type Environment,
  GentooBuildFarm,
  GuestNetwork,
  Hypervisor,
  hostAddress,
  PushedFiles,
  PxeInstallHost,
  parseIpv4Subnet,
  type RevocationReason,
  RootCa,
  type RootCaCertificate,
  readTreeSnapshot,
  Stack,
} from "../../lib";
import { catalog, linux, tools } from "./stacks";

// Async: the tree snapshot is read from the clones with simple-git (readTreeSnapshot).
export = async () => {
  const config = new pulumi.Config();
  const repo = path.resolve(__dirname, "..", "..");
  const cache = process.env.GI_CACHE ?? path.join(repo, ".cache");
  // The environment this stack is (docs/tree-snapshots.md): it picks the branch of the clones
  // the snapshot is read from (develop, the release branch, master) and names every path.
  const environment = (config.get("environment", { allowedValues: [...ENVIRONMENTS] }) ??
    "development") as Environment;
  const arch = "amd64" as const;
  const withTools = config.getBoolean("tools") ?? true;
  const shortName = { development: "dev", staging: "staging", production: "prod" }[environment];
  const domain = config.get("domain") ?? `${shortName}.gentoo-infra.test`;
  // Any subnet of /24 or larger: the site numbers its hosts from the network address (the
  // binhost is host 10, machines from 50, the install host's DHCP range 100 to 150).
  const subnet = config.get("subnet") ?? "192.168.150.0/24";
  const lan = parseIpv4Subnet(subnet);
  if (lan === undefined || lan.prefixLength > 24) {
    throw new Error(`config subnet: "${subnet}" is not an IPv4 subnet of /24 or larger`);
  }
  const host = (n: number) => hostAddress(lan, n);
  const addresses = {
    binhost: host(10),
    pxe: host(11),
    builder: host(20),
    toolsBuilder: host(21),
  };
  const binhostHostname = `binhost.${domain}`;
  const binhostUrl = `https://${binhostHostname}/`;

  // The tree snapshot: the commits of the Gentoo tree clone and of the overlay that this
  // environment builds, read from the local clones (its git-flow branches: develop, the one
  // release/* branch, master; docs/tree-snapshots.md). Here the
  // clones are the STAND-IN tree and overlay of scripts/build-tree-standin; `gentooCommit` /
  // `overlayCommit` pin another commit of them (e.g. the stand-in's `broken` branch). The
  // binhost serves both repositories over git; builders clone them from there.
  const trees = config.get("treeDir") ?? path.join(cache, "trees");
  const clones = {
    gentoo: path.join(trees, "gentoo.git"),
    overlay: path.join(trees, "overlay.git"),
  };
  const haveClones = existsSync(clones.gentoo) && existsSync(clones.overlay);
  if (!haveClones) {
    pulumi.log.warn(
      `${trees} has no gentoo.git and overlay.git: previewing with placeholder commits, nothing to build (run scripts/build-tree-standin)`,
    );
  }
  const read = haveClones
    ? await readTreeSnapshot({
        environment,
        gentoo: { path: clones.gentoo },
        overlay: { path: clones.overlay },
      })
    : undefined;
  const snapshot = {
    tree: {
      url: `${binhostUrl}git/gentoo.git`,
      commit: config.get("gentooCommit") ?? read?.gentoo.commit ?? "1".repeat(40),
    },
    overlay: {
      url: `${binhostUrl}git/overlay.git`,
      commit: config.get("overlayCommit") ?? read?.overlay.commit ?? "2".repeat(40),
    },
  };

  const domainType = (config.get("domainType") as "kvm" | "qemu" | "detect" | undefined) ?? "qemu";
  const hypervisor = new Hypervisor("local", {
    uri: config.get("libvirtUri") ?? "qemu:///system",
    domainType,
  });
  const remoteUri = config.get("remoteLibvirtUri");
  const toolsHypervisor = (config.get("toolsHypervisor", { allowedValues: ["local", "remote"] }) ??
    (remoteUri && withTools ? "remote" : "local")) as "local" | "remote";
  if (toolsHypervisor === "remote" && (!remoteUri || !withTools)) {
    throw new Error(
      "config toolsHypervisor: remote needs remoteLibvirtUri (the second hypervisor) and tools",
    );
  }
  // An IPv6 prefix that the hypervisor advertises: iPXE waits ~13 s per network boot without one.
  const ipv6Prefix = config.get("ipv6Prefix") ?? `fd00:67:69:${lan.network.split(".")[2]}::/64`;
  const network = new GuestNetwork("lan", {
    hypervisor,
    subnet,
    ipv6Prefix,
    // With a second hypervisor, its guests reach the binhost through the hypervisors' routes.
    mode: remoteUri ? "route" : "isolated",
    dhcp: "off",
  });
  const imagePath =
    config.get("baseImagePath") ?? path.join(cache, "images/debian-standin-amd64.qcow2");
  const base = new BaseImage("standin-base", { hypervisor, source: { path: imagePath } });
  const image = { volumeId: base.volumeId };

  // The second hypervisor: its routed network and its copy of the base image, uploaded from here.
  const remoteSubnet = config.get("remoteSubnet") ?? "10.252.150.0/24";
  const remoteLan = parseIpv4Subnet(remoteSubnet);
  if (remoteLan === undefined || remoteLan.prefixLength > 24) {
    throw new Error(
      `config remoteSubnet: "${remoteSubnet}" is not an IPv4 subnet of /24 or larger`,
    );
  }
  const remote = remoteUri
    ? (() => {
        const remoteHypervisor = new Hypervisor("remote", { uri: remoteUri, domainType });
        return {
          hypervisor: remoteHypervisor,
          network: new GuestNetwork("remote-lan", {
            hypervisor: remoteHypervisor,
            subnet: remoteSubnet,
            mode: "route",
            dhcp: "off",
          }),
          image: {
            volumeId: new BaseImage("remote-standin-base", {
              hypervisor: remoteHypervisor,
              source: { path: imagePath },
            }).volumeId,
          },
        };
      })()
    : undefined;

  const pki = new RootCa("pki", {
    baseDn: config.get("baseDn") ?? "dc=gentoo-infra,dc=test",
    crlBaseUrl: `http://${binhostHostname}/crl`,
    intermediate: environment,
    root: { mode: "in-stack" },
    certificates: config.getObject<RootCaCertificate[]>("certificates") ?? [],
    revoked:
      config.getObject<{ certificate: string; reason?: RevocationReason }[]>("revoked") ?? [],
    packageSigningKey: {
      name: `gentoo-infra ${environment} binhost`,
      email: `binhost@${domain}`,
    },
  });
  const signingKey = pki.packageSigningKey;
  if (!signingKey) throw new Error("unreachable: the RootCa above has a package signing key");

  const stackArgs = {
    catalog,
    environments: [environment],
    arches: [arch],
    binhostUrl,
    gentooSyncUri: snapshot.tree.url,
    overlaySyncUri: snapshot.overlay.url,
    treeSnapshots: {
      [environment]: { gentoo: snapshot.tree.commit, overlay: snapshot.overlay.commit },
    },
    // Distfiles come from the binhost (`<binhost>/distfiles/<file>`): builders reach nothing else.
    gentooMirrors: [binhostUrl.replace(/\/$/, "")],
    signingKeyFingerprint: signingKey.fingerprint,
    builderMakeJobs: 1,
  } as const;
  const stack = new Stack("linux", { ...stackArgs, systemProfile: linux.systemProfile });
  // An application Stack on top of linux: its binhost path stores only what linux lacks.
  const toolsStack = withTools
    ? new Stack("tools", {
        ...stackArgs,
        base: stack.definition,
        applicationProfiles: tools.applicationProfiles,
      })
    : undefined;
  const stacks = toolsStack ? [stack, toolsStack] : [stack];

  // The binhost serves each repository with one branch: the environment's, at the snapshot.
  const branchOf = (repo: "gentoo" | "overlay") => read?.[repo].branch ?? "develop";

  const binhost = new BinhostMirror("binhost", {
    hypervisor,
    network,
    address: addresses.binhost,
    image,
    rootCa: pki,
    stacks,
    hostname: binhostHostname,
    gitRepositories: haveClones
      ? [
          {
            name: "gentoo",
            clone: clones.gentoo,
            branches: { [branchOf("gentoo")]: snapshot.tree.commit },
          },
          {
            name: "overlay",
            clone: clones.overlay,
            branches: { [branchOf("overlay")]: snapshot.overlay.commit },
          },
        ]
      : [],
  });

  // The distfiles the stand-in tree's ebuilds fetch (scripts/build-tree-standin), on the binhost.
  const distfiles = path.join(trees, "distfiles");
  if (existsSync(distfiles)) {
    new PushedFiles("binhost-distfiles", {
      server: binhost.server,
      files: readdirSync(distfiles)
        .sort()
        .map((file) => ({
          path: `${BINHOST_ROOT}/distfiles/${file}`,
          localPath: path.join(distfiles, file),
        })),
    });
  }

  // The machines the install host installs: web1 … web<machineCount> (MAC 52:54:00:47:49:5N,
  // address .5N, below the DHCP range .100-.150). Raising machineCount adds machines in place:
  // no VM is replaced. With none, the site has no install host and no stage. A subnet larger
  // than /24 holds more than 50 (a fleet: bench/fleet-scale.ts): web51 on are numbered from
  // host 256 on, past the DHCP range; MACs count on from web1's (52:54:00:47:49:50).
  const machineCount = config.getNumber("machineCount", { min: 0, max: 4000 }) ?? 1;
  // Host numbers 256 up to the broadcast address's.
  const roomPast50 = Math.max(0, 2 ** (32 - lan.prefixLength) - 1 - 256);
  if (machineCount > 50 && machineCount - 50 > roomPast50) {
    throw new Error(
      `config machineCount: ${machineCount} machines need a subnet larger than ${subnet} (50 fit in a /24)`,
    );
  }
  const machineNumber = (i: number) => (i < 50 ? 50 + i : 256 + (i - 50));
  const machineMac = (i: number) => {
    const n = 0x4950 + i;
    const hex = (b: number) => b.toString(16).padStart(2, "0");
    return `52:54:00:47:${hex(n >> 8)}:${hex(n & 0xff)}`;
  };

  // The stage the machine installs: the stand-in built by scripts/build-stage-standin, pushed to
  // the binhost where builders would upload a real stage4.
  const stageFile =
    config.get("stagePath") ?? path.join(cache, "stages/stage4-amd64-standin.tar.zst");
  const stageName = path.basename(stageFile);
  const stageRelative = `stages/${environment}/${arch}/${stageName}`;
  if (machineCount === 0) {
    // no machine, no stage
  } else if (existsSync(stageFile)) {
    new PushedFiles("binhost-stage", {
      server: binhost.server,
      files: [{ path: `${BINHOST_ROOT}/${stageRelative}`, localPath: stageFile }],
    });
  } else {
    pulumi.log.warn(
      `${stageFile} does not exist: the machine has no stage to install (run scripts/build-stage-standin)`,
    );
  }
  const stageSha512 =
    machineCount > 0 && existsSync(stageFile)
      ? createHash("sha512").update(readFileSync(stageFile)).digest("hex")
      : "0".repeat(128);

  const machines = Array.from({ length: machineCount }, (_, i) => {
    const hostname = `web${i + 1}`;
    // `web<N>Firmware`: bios (default) or uefi; a UEFI machine gets an EFI system partition.
    const firmware =
      config.get(`${hostname}Firmware`, { allowedValues: ["bios", "uefi"] }) ?? "bios";
    return {
      mac: machineMac(i),
      hostname,
      environment,
      arch,
      stack: "linux",
      address: host(machineNumber(i)),
      firmware,
      diskLayout: defaultDiskLayout(firmware, "/dev/vda"),
      installGeneration: config.getNumber(`${hostname}InstallGeneration`) ?? 1,
    } as const;
  });

  // The key an operator (and the e2e tests) log in to installed machines with, as root.
  const machineAdmin = new tls.PrivateKey("machine-admin", { algorithm: "ED25519" });

  const installerDir = config.get("installerDir") ?? path.join(cache, "installer", arch);
  const pxe =
    machines.length === 0
      ? undefined
      : new PxeInstallHost("pxe", {
          hypervisor,
          network,
          address: addresses.pxe,
          image,
          dhcpMode: "full",
          dhcpRange: { start: host(100), end: host(150) },
          // The install host answers DNS for the binhost's name, so the installer (and the
          // installed machines) resolve the stage and binrepos URLs; the root CA reaches the
          // installer through its iPXE script (docs/pxe-install-host.md), so the installer is
          // built without --ca.
          dnsServers: [addresses.pxe],
          hostRecords: { [binhostHostname]: addresses.binhost },
          domain,
          machines,
          stacks: [stack],
          binhost: { clientConfig: binhost.clientConfig },
          stages: {
            [`${environment}/${arch}/linux`]: {
              url: `${binhostUrl}${stageRelative}`,
              sha512: stageSha512,
            },
          },
          // Machines trust binary packages signed by the RootCa's package-signing key only.
          rootCa: pki,
          authorizedKeys: [machineAdmin.publicKeyOpenssh],
          puppet: { server: `puppet.${domain}` },
          installers: {
            [arch]: {
              kernel: path.join(installerDir, "vmlinuz"),
              initrd: path.join(installerDir, "initrd.img"),
            },
          },
        });

  const farm = new GentooBuildFarm("farm", {
    hypervisors: { local: hypervisor, ...(remote ? { remote: remote.hypervisor } : {}) },
    network: { local: network, ...(remote ? { remote: remote.network } : {}) },
    image: { local: image, ...(remote ? { remote: remote.image } : {}) },
    builders: [
      { stack, environment, arch, hypervisor: "local", address: addresses.builder },
      ...(toolsStack
        ? [
            {
              stack: toolsStack,
              environment,
              arch,
              hypervisor: toolsHypervisor,
              // The same host number on either hypervisor's subnet.
              address:
                toolsHypervisor === "remote" ? hostAddress(remoteLan, 21) : addresses.toolsBuilder,
            },
          ]
        : []),
    ],
    binhost: {
      upload: binhost.upload,
      rootCertificatePem: pki.rootCertificatePem,
    },
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

  return {
    /** Every server with its address and admin SSH key (secret), for `scripts/site info`. */
    servers: pulumi.secret({
      binhost: serverOf(binhost.server),
      ...(pxe ? { pxe: serverOf(pxe.server) } : {}),
      ...Object.fromEntries(
        Object.entries(farm.builders).map(([profile, builder]) => [
          `builder-${profile.replaceAll("/", "-")}`,
          serverOf(builder.server),
        ]),
      ),
    }),
    /** Every machine with its address, MAC and root's SSH key (secret). */
    machines: pulumi.secret(
      Object.fromEntries(
        machines.map((m) => [
          m.hostname,
          {
            address: m.address,
            mac: m.mac,
            firmware: m.firmware,
            user: "root",
            privateKeyOpenssh: machineAdmin.privateKeyOpenssh,
          },
        ]),
      ),
    ),
    /** Where things are served. */
    urls: {
      binhost: binhost.url,
      netboot: pxe?.httpBaseUrl,
      stage: pxe ? `${binhostUrl}${stageRelative}` : undefined,
      git: binhost.gitUrls.apply((u) => Object.values(u).join(" ")),
    },
    /** The `certificates` of the configuration by name, with their private keys (secret). */
    certificates: pulumi.secret(
      Object.fromEntries(
        Object.entries(pki.certificates).map(([name, c]) => [
          name,
          { certificatePem: c.certificatePem, privateKeyPem: c.privateKeyPem },
        ]),
      ),
    ),
    /** The root CA certificate: `curl --cacert` it to reach the binhost. */
    caCertificatePem: pki.rootCertificatePem,
    /** The package-signing public key: every served package verifies with it. */
    packageSigningPublicKey: signingKey.publicKeyArmored,
    /** Client lines per build profile (binrepos.conf, make.conf). */
    clientConfig: binhost.clientConfig,
    /** The build profiles the farm builds. */
    buildProfiles: Object.keys(farm.builders),
    /**
     * Per build profile: the builder (server key in `servers`), its build service and where
     * its packages are served; `scripts/site info` and `gentoo-infra build-status` read it.
     */
    builds: Object.fromEntries(
      Object.entries(farm.builders).map(([profile, builder]) => [
        profile,
        {
          server: `builder-${profile.replaceAll("/", "-")}`,
          serviceName: builder.serviceName,
          statusFile: builder.statusFile,
          packagesUrl: builder.binhostUrl,
        },
      ]),
    ),
    /** The site's libvirt: `gentoo-infra machine boot` puts blank machines on its network. */
    libvirt: {
      uri: hypervisor.uri,
      network: network.networkName,
      namePrefix: hypervisor.namePrefix,
    },
    /** The tree snapshot built and served. */
    snapshot: { gentoo: snapshot.tree.commit, overlay: snapshot.overlay.commit },
  };
};
