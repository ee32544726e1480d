// A whole site (docs/getting-started.md): three Stacks with inheritance (rails → ruby → linux,
// see stacks.ts), two arches (amd64, arm64), builders spread over the hypervisors, a binhost, an
// install host with several machines, and the PKI below an offline root.
//
// One program, one Pulumi stack per environment: the stack's name (development, staging,
// production) picks the environment; any other name previews as development. Pulumi.<env>.yaml
// holds what differs, as `site:` keys that site-config.ts checks before anything is declared
// (one error naming each wrong key); a stack without a file gets the defaults:
// - hypervisors: { name: libvirt URI }; amd64 builders, the binhost and the install host go to
//   the first, arm64 builders to `arm64Hypervisor` (default: the last).
//   Default { hv1: "qemu:///system" }.
// - machines: { hostname: { mac, host, stack, firmware } }, installed by MAC; `host` numbers
//   the address in the subnet (50-99). Default: web1, web2, worker1, mail1 (site-config.ts).
// - rootStack (staging, production): the offline root stack (examples/pki-root), e.g.
//   "organization/pki-root/prod"; without it the root is created in this stack (development
//   only, with a warning).
// Each environment builds its git-flow branch (develop, release/*, master) of the clones
// `gentooClone` / `overlayClone` (docs/tree-snapshots.md); without them, fixed commits.
// Also optional: domain, baseDn, subnet, gentooSyncUri, overlaySyncUri, revoked, notifyUrl,
// dhcpMode, stageSha512, and baseImagePath / installerDir: the guest image and the installer
// (STAND-INS built by scripts/build-base-image and scripts/build-installer unless you point at
// Gentoo's).
//
// Policies (docs/pull-requests.md, "Policies"): preview with gentoo-infra's policy pack, e.g.
//   npm run pulumi -- -C examples/site preview --stack production --policy-pack ../../policy
// (-C makes the pack's path relative to examples/site).
// A staging or production stack without rootStack fails it (its root would be created here).
import { existsSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  type ArchName,
  BaseImage,
  BinhostMirror,
  defaultDiskLayout,
  type Environment,
  GentooBuildFarm,
  GuestNetwork,
  Hypervisor,
  hostAddress,
  isEnvironment,
  PxeInstallHost,
  type PxeMachine,
  parseIpv4Subnet,
  RootCa,
  type RootCaRoot,
  readTreeSnapshot,
  Stack,
} from "../../lib";
import { readSiteConfig } from "./site-config";
import { arches, catalog, stacks } from "./stacks";

const config = new pulumi.Config();
const repo = path.resolve(__dirname, "..", "..");
const cache = process.env.GI_CACHE ?? path.join(repo, ".cache");
const stackName = pulumi.getStack();
const environment: Environment = isEnvironment(stackName) ? stackName : "development";
const domain = config.get("domain") ?? "example.ch";
const baseDn = config.get("baseDn") ?? "dc=example,dc=ch";
const subnet = config.get("subnet") ?? "10.20.0.0/24";
const lan = parseIpv4Subnet(subnet);
if (lan === undefined || lan.prefixLength > 24) {
  throw new Error(`config subnet: "${subnet}" is not an IPv4 subnet of /24 or larger`);
}
/** The `host`th address of the site's subnet (from its network address). */
const net = (host: number) => hostAddress(lan, host);
/** The install host's DHCP pool: machines sit below it (site-config.ts). */
const dhcpRange = { start: net(100), end: net(199) };
// What differs per environment, checked before anything is declared.
const site = readSiteConfig(
  {
    hypervisors: config.getObject("hypervisors"),
    arm64Hypervisor: config.get("arm64Hypervisor"),
    machines: config.getObject("machines"),
  },
  { environment, stacks: stacks.map((s) => s.name), network: { subnet, dhcpRange }, address: net },
);
const binhostHostname = `binhost.${environment}.${domain}`;
const binhostUrl = `https://${binhostHostname}/`;
const gentooSyncUri = config.get("gentooSyncUri") ?? "https://git.example.ch/gentoo.git";
const overlaySyncUri = config.get("overlaySyncUri") ?? "https://git.example.ch/overlay.git";

// The tree snapshot this environment builds: read from the clones' git-flow branches before
// anything is declared, so that every component gets plain commits and a preview names them.
const gentooClone = config.get("gentooClone");
const overlayClone = config.get("overlayClone");
async function readSnapshot(): Promise<{ gentoo: string; overlay: string }> {
  if (!gentooClone || !overlayClone) {
    return {
      gentoo: "1111111111111111111111111111111111111111",
      overlay: "2222222222222222222222222222222222222222",
    };
  }
  const s = await readTreeSnapshot({
    environment,
    gentoo: { path: gentooClone },
    overlay: { path: overlayClone },
  });
  return { gentoo: s.gentoo.commit, overlay: s.overlay.commit };
}

export = async () => {
  const snapshot = await readSnapshot();

  // Hypervisors: builders spread over them.
  const hypervisors = Object.fromEntries(
    Object.entries(site.hypervisors).map(([name, uri]) => [
      name,
      new Hypervisor(name, { uri, domainType: "qemu" }),
    ]),
  );
  const hypervisorNames = Object.keys(hypervisors);
  const first = hypervisorNames[0] as string;
  const arm64Hypervisor = site.arm64Hypervisor;
  const imagePath =
    config.get("baseImagePath") ?? path.join(cache, "images/debian-standin-amd64.qcow2");
  const networks = Object.fromEntries(
    hypervisorNames.map((name, i) => [
      name,
      new GuestNetwork(`${name}-lan`, {
        hypervisor: hypervisors[name] as Hypervisor,
        subnet: i === 0 ? subnet : `10.20.${i}.0/24`,
        mode: "isolated",
        dhcp: "off",
      }),
    ]),
  );
  const images = Object.fromEntries(
    hypervisorNames.map((name) => [
      name,
      {
        volumeId: new BaseImage(`${name}-base`, {
          hypervisor: hypervisors[name] as Hypervisor,
          source: { path: imagePath },
        }).volumeId,
      },
    ]),
  );

  // The PKI: level 1 and the root certificate come from the offline root stack.
  const rootStack = config.get("rootStack");
  let root: RootCaRoot = { mode: "in-stack" };
  if (rootStack) {
    const ref = new pulumi.StackReference("pki-root", { name: rootStack });
    const level1 = (output: string) =>
      ref.requireOutput(output).apply((byName: Record<string, string>) => {
        const value = byName[environment];
        if (value === undefined) throw new Error(`${rootStack} has no level 1 for ${environment}`);
        return value;
      });
    root = {
      mode: "offline",
      rootCertificatePem: ref.requireOutput("rootCertificatePem") as pulumi.Output<string>,
      rootCrlPem: ref.requireOutput("rootCrlPem") as pulumi.Output<string>,
      level1CertificatePem: level1("level1CertificatePems"),
      level1PrivateKeyPem: pulumi.secret(level1("level1PrivateKeyPems")),
    };
  } else {
    pulumi.log.warn("config rootStack is not set: the root CA is created in this stack");
  }
  const pki = new RootCa("pki", {
    baseDn,
    crlBaseUrl: `http://${binhostHostname}/crl`,
    intermediate: environment,
    root,
    revoked: config.getObject("revoked") ?? [],
    packageSigningKey: { name: `${domain} ${environment} binhost`, email: `binhost@${domain}` },
  });
  const signingKey = pki.packageSigningKey;
  if (!signingKey) throw new Error("unreachable: the RootCa above has a package signing key");

  // The Stacks, bases first (rails → ruby → linux).
  const built = stacks.map(
    (definition) =>
      new Stack(definition.name, {
        catalog,
        stackName: definition.name,
        ...(definition.systemProfile ? { systemProfile: definition.systemProfile } : {}),
        ...(definition.applicationProfiles
          ? { applicationProfiles: definition.applicationProfiles }
          : {}),
        ...(definition.base ? { base: definition.base } : {}),
        environments: [environment],
        arches,
        binhostUrl,
        gentooSyncUri,
        overlaySyncUri,
        treeSnapshots: { [environment]: snapshot },
        signingKeyFingerprint: signingKey.fingerprint,
      }),
  );

  const binhost = new BinhostMirror("binhost", {
    hypervisor: hypervisors[first] as Hypervisor,
    network: networks[first] as GuestNetwork,
    address: net(10),
    image: images[first] as { volumeId: pulumi.Output<string> },
    rootCa: pki,
    stacks: built,
    hostname: binhostHostname,
    diskGiB: 200,
  });

  // One builder per build profile: amd64 on the first hypervisor, arm64 on arm64Hypervisor.
  const placement: Record<ArchName, string> = { amd64: first, arm64: arm64Hypervisor, x86: first };
  let nextBuilder = 20;
  const farm = new GentooBuildFarm("farm", {
    hypervisors,
    network: networks,
    image: images,
    builders: built.flatMap((stack) =>
      arches.map((arch) => ({
        stack,
        environment,
        arch,
        hypervisor: placement[arch],
        address:
          placement[arch] === first
            ? net(nextBuilder++)
            : `10.20.${hypervisorNames.indexOf(placement[arch])}.${nextBuilder++}`,
      })),
    ),
    binhost: { upload: binhost.upload },
    signingKey,
    notifyUrl: config.get("notifyUrl") ?? `https://hooks.${domain}/gentoo-builds`,
    retentionDays: 60,
    schedule: "*-*-* 02:00:00",
  });

  // Machines installed by MAC (amd64: the installer built here is amd64).
  const machines: PxeMachine[] = Object.entries(site.machines).map(([hostname, m]) => ({
    mac: m.mac,
    hostname,
    environment,
    arch: "amd64",
    stack: m.stack,
    address: net(m.host),
    firmware: m.firmware,
    diskLayout: defaultDiskLayout(m.firmware, "/dev/vda"),
  }));
  const installerDir = config.get("installerDir") ?? path.join(cache, "installer", "amd64");
  const stageSha512 = config.get("stageSha512");
  if (!stageSha512 && !existsSync(installerDir)) {
    pulumi.log.warn(`${installerDir} is missing: run scripts/build-installer`);
  }
  const pxe = new PxeInstallHost("pxe", {
    hypervisor: hypervisors[first] as Hypervisor,
    network: networks[first] as GuestNetwork,
    address: net(11),
    image: images[first] as { volumeId: pulumi.Output<string> },
    dhcpMode: (config.get("dhcpMode") as "full" | "proxy" | undefined) ?? "proxy",
    dhcpRange,
    domain: `${environment}.${domain}`,
    machines,
    stacks: built,
    binhost: { clientConfig: binhost.clientConfig },
    // Each Stack's stage4 as the stage builders upload it (docs/build-farm.md).
    stages: Object.fromEntries(
      stacks.map((s) => [
        `${environment}/amd64/${s.name}`,
        {
          url: `${binhostUrl}stages/${environment}/amd64/stage4-${s.name}-amd64-latest.tar.xz`,
          sha512: stageSha512 ?? "0".repeat(128),
        },
      ]),
    ),
    rootCa: pki,
    puppet: { server: `puppet.${domain}` },
    installers: {
      amd64: {
        kernel: path.join(installerDir, "vmlinuz"),
        initrd: path.join(installerDir, "initrd.img"),
      },
    },
  });

  return {
    /** The binhost and its client lines per build profile. */
    binhostUrl: binhost.url,
    clientConfig: binhost.clientConfig,
    /** Builders by name with their build profile. */
    builders: Object.fromEntries(
      Object.entries(farm.builders).map(([name, b]) => [name, b.buildProfile]),
    ),
    /** The install host's HTTP base URL. */
    netbootUrl: pxe.httpBaseUrl,
    /** The commits this environment builds. */
    treeSnapshot: snapshot,
    /** How long each CRL is still valid: a `pulumi up` must run before then. */
    crlNextUpdates: Object.fromEntries(
      Object.entries(pki.crls).map(([slug, crl]) => [slug, crl.nextUpdate]),
    ),
  };
};
