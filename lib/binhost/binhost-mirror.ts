import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { PushedFiles } from "../host/pushed-files";
import { Server, validateServerArgs } from "../host/server";
import type { Hypervisor } from "../libvirt/hypervisor";
import type { GuestNetwork } from "../libvirt/network";
import { validateVirtualMachineArgs } from "../libvirt/validate";
import type { ImageSource } from "../libvirt/virtual-machine";
import { Certificate, validateCertificateArgs } from "../pki/certificate";
import { formatDn, parseDn } from "../pki/dn";
import type { RootCa } from "../pki/root-ca";
import type { Stack } from "../stack/stack";
import { assertValid } from "../validation/resource-error";
import { type Violation, violation } from "../validation/violations";
import { type BinhostHttpMode, renderBinhostNginxConf } from "./nginx-conf";
import { BINHOST_DIRECTORIES, type BuildProfileRef, binhostRepositoryUrl } from "./paths";
import {
  BINHOST_FILES,
  BINHOST_ROOT,
  binhostAfterChange,
  binhostFirstBootCommands,
  CRL_PUBLISHER_SCRIPT,
  knownHostsLine,
  UPLOAD_USER,
  uploadAuthorizedKeysLine,
} from "./upload";

/** Arguments of a {@link BinhostMirror}. */
export interface BinhostMirrorArgs {
  /** The hypervisor its server runs on. */
  readonly hypervisor: Hypervisor;
  /** The network its server is attached to. */
  readonly network: GuestNetwork;
  /** Its static IPv4 address in the network's subnet (also a SAN of its certificate). */
  readonly address: string;
  /** The image its server's disk starts from (a cloud-init image with nginx, rsync and python3). */
  readonly image: ImageSource;
  /**
   * The PKI: its host sub-CA issues the TLS certificate; its CRLs, CA chain, root
   * certificate and package-signing public key are published.
   */
  readonly rootCa: RootCa;
  /**
   * The Stacks whose build profiles it serves: one repository per build profile at
   * `<env>/<arch>/<stack>/`. A Stack's base must be listed too (clients fetch from it).
   */
  readonly stacks: readonly Stack[];
  /**
   * Its fully qualified DNS name: nginx's server_name, the certificate's common name and
   * DNS SAN, the URL's host. Required (not defaulted to the resource name): the resource
   * name is also the VM's libvirt and host name, one label, and the certificate needs a
   * fully qualified name.
   */
  readonly hostname: string;
  /**
   * Port 80: `redirect` serves `crl/` and redirects everything else to HTTPS; `off` has no
   * port-80 listener.
   * @default "redirect"
   */
  readonly http?: BinhostHttpMode;
  /**
   * Disk size in GiB (packages, distfiles and stages of every build profile).
   * @default 50
   */
  readonly diskGiB?: number;
  /**
   * Memory in MiB.
   * @default 1024
   */
  readonly memoryMiB?: number;
  /**
   * Virtual CPUs.
   * @default 1
   */
  readonly vcpus?: number;
  /**
   * Days of validity of its TLS certificate; a preview shows the renewal 30 days before
   * expiry and `pulumi up` pushes it.
   * @default 365
   */
  readonly certificateValidityDays?: number;
}

/** What builders need to upload with rsync over SSH. */
export interface BinhostUpload {
  /** The address to connect to. */
  readonly host: string;
  /** The upload user (its login runs only rrsync, confined to the document root). */
  readonly user: string;
  /** The upload key, OpenSSH private key format. */
  readonly privateKeyOpenssh: string;
  /** known_hosts line(s) pinning the binhost's host key (host name and address). */
  readonly knownHosts: string;
}

/** What an installed machine of one build profile puts into its Portage configuration. */
export interface BinhostClientConfig {
  /** Its repository on this binhost. */
  readonly repositoryUrl: string;
  /** `/etc/portage/binrepos.conf/gentoo-infra.conf`, as its Stack renders it. */
  readonly binreposConf: string;
  /** `/etc/portage/make.conf`, as its Stack renders it. */
  readonly makeConf: string;
}

/** The binrepos.conf file Stack renders for machines. */
const BINREPOS_CONF = "/etc/portage/binrepos.conf/gentoo-infra.conf";
const MAKE_CONF = "/etc/portage/make.conf";
const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** Default of {@link BinhostMirrorArgs.diskGiB}. */
export const DEFAULT_BINHOST_DISK_GIB = 50;
const DEFAULT_DISK_GIB = DEFAULT_BINHOST_DISK_GIB;

/** One served build profile with the Stack that owns it. */
interface ServedProfile extends BuildProfileRef {
  readonly key: string;
  readonly stackIndex: number;
  readonly profileKey: string;
}

function servedProfiles(stacks: readonly Stack[]): ServedProfile[] {
  return stacks.flatMap((stack, stackIndex) =>
    Object.entries(stack.buildProfiles ?? {}).map(([profileKey, p]) => ({
      environment: p.environment,
      arch: p.arch,
      stack: stack.definition.name,
      key: `${p.environment}/${p.arch}/${stack.definition.name}`,
      stackIndex,
      profileKey,
    })),
  );
}

/**
 * Every problem of a BinhostMirror's arguments, before anything is created: its name (the
 * server's libvirt and host name), VM size and image, hostname (a fully qualified name for
 * nginx and the certificate), address, port-80 mode, the Stacks (none, no build profile,
 * duplicate build profiles, a base Stack not served), the RootCa's CRL location, and the
 * certificate's validity.
 */
export function validateBinhostMirrorArgs(name: string, args: BinhostMirrorArgs): Violation[] {
  const out: Violation[] = [];
  out.push(
    ...validateVirtualMachineArgs(name, {
      diskGiB: args.diskGiB ?? DEFAULT_DISK_GIB,
      ...(args.memoryMiB === undefined ? {} : { memoryMiB: args.memoryMiB }),
      ...(args.vcpus === undefined ? {} : { vcpus: args.vcpus }),
      networks: [{ networkId: "network", mac: "52:54:00:00:00:00" }],
      image: args.image,
    }),
  );

  const hostname = args.hostname;
  const hostnameOk = typeof hostname === "string" && DNS_NAME.test(hostname);
  if (!hostnameOk || !hostname.includes(".")) {
    out.push(
      violation(
        "hostname",
        hostname,
        hostnameOk ? "is not a fully qualified DNS name" : "is not a DNS name",
        "use the lower-case fully qualified name clients use, e.g. binhost.example.ch",
      ),
    );
  }
  const addressProblems = validateServerArgs({ address: args.address }, args.network.subnet);
  out.push(...addressProblems);
  if (args.address === args.network.gateway) {
    out.push(
      violation(
        "address",
        args.address,
        "is the hypervisor's address on the network",
        "pick another address inside the subnet",
      ),
    );
  }
  if (args.http !== undefined && args.http !== "redirect" && args.http !== "off") {
    out.push(violation("http", args.http, "is not a port-80 mode", "use redirect or off"));
  }

  const stacks = Array.isArray(args.stacks) ? args.stacks : [];
  const profiles = servedProfiles(stacks);
  if (stacks.length === 0) {
    out.push(
      violation(
        "stacks",
        args.stacks,
        "names no Stack",
        "list the Stacks whose packages it serves",
      ),
    );
  } else if (profiles.length === 0) {
    out.push(
      violation(
        "stacks",
        stacks.map((s) => s.definition.name),
        "has no build profile",
        "give the Stacks environments and arches",
      ),
    );
  }
  const firstOwner = new Map<string, number>();
  for (const p of profiles) {
    const first = firstOwner.get(p.key);
    if (first === undefined) firstOwner.set(p.key, p.stackIndex);
    else if (first !== p.stackIndex) {
      out.push(
        violation(
          `stacks[${p.stackIndex}]`,
          p.stack,
          `duplicates build profile ${p.key} of stacks[${first}]`,
          "list each Stack once, and give different Stacks different stackNames",
        ),
      );
    }
  }
  for (const p of profiles) {
    const chain: readonly string[] = stacks[p.stackIndex]?.resolved.stackChain ?? [];
    for (const base of chain.filter((s) => s !== p.stack)) {
      const key = `${p.environment}/${p.arch}/${base}`;
      if (!firstOwner.has(key)) {
        out.push(
          violation(
            `stacks[${p.stackIndex}]`,
            p.stack,
            `extends Stack "${base}", whose build profile ${key} is not served`,
            `add the "${base}" Stack with environment ${p.environment} and arch ${p.arch} to stacks`,
          ),
        );
      }
    }
  }

  const crlUrl = args.rootCa.subCas.host.issuer.crlUrl;
  if (hostnameOk && typeof crlUrl === "string") {
    const served = [`http://${hostname}/crl/`, `https://${hostname}/crl/`];
    if (!served.some((prefix) => crlUrl.startsWith(prefix))) {
      out.push(
        violation(
          "rootCa",
          crlUrl,
          "names CRL URLs this binhost does not serve",
          `create the RootCa with crlBaseUrl "http://${hostname}/crl"`,
        ),
      );
    }
  }

  // The certificate's own rules: only its validity can still be wrong here (the names and
  // the address were checked above, with fixes in this component's words).
  out.push(
    ...validateCertificateArgs({
      kind: "host",
      commonName: "binhost.example.org",
      baseDn: baseDnOf(args.rootCa),
      issuer: args.rootCa.subCas.host.issuer,
      ...(args.certificateValidityDays === undefined
        ? {}
        : { validityDays: args.certificateValidityDays }),
    }).map((v) =>
      v.argument === "validityDays" ? { ...v, argument: "certificateValidityDays" } : v,
    ),
  );
  return out;
}

/**
 * The client configuration of each served build profile from what its Stack rendered;
 * throws when a Stack put a build profile on another binhost.
 */
function clientConfigOf(
  name: string,
  url: string,
  profiles: readonly ServedProfile[],
  stackSide: readonly (readonly [string, Record<string, string>])[],
): Record<string, BinhostClientConfig> {
  const entries = profiles.map((p, i): [string, BinhostClientConfig] => {
    const [stackUri, files] = stackSide[i] ?? ["", {}];
    const repositoryUrl = binhostRepositoryUrl(url, p);
    if (stackUri !== repositoryUrl) {
      throw new Error(
        `BinhostMirror "${name}": Stack "${p.stack}" puts build profile ${p.key} at ${stackUri}, not on this binhost (${repositoryUrl}); give the Stack binhostUrl "${url}" (binhost.url)`,
      );
    }
    return [
      p.key,
      {
        repositoryUrl,
        binreposConf: files[BINREPOS_CONF] ?? "",
        makeConf: files[MAKE_CONF] ?? "",
      },
    ];
  });
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The RootCa's base DN: the host sub-CA's subject (`CN=…,<base>`) without its CN. */
function baseDnOf(rootCa: RootCa): string {
  const parsed = parseDn(rootCa.subCas.host.subjectDn);
  return parsed.ok ? formatDn(parsed.rdns.filter((r) => r.type !== "CN")) : "";
}

/**
 * A binhost: an HTTPS server (nginx) for the binary package repositories of the listed
 * Stacks' build profiles (`<env>/<arch>/<stack>/`), distfiles, stage tarballs, the RootCa's
 * CRLs, its CA chain and the package-signing public key. Builders upload over SSH with
 * rsync as a dedicated user confined to the document root.
 *
 * Creates: `Server` `<name>` (with a pinned SSH host key), `Certificate` `<name>-tls` (kind
 * host, from the RootCa's host sub-CA), `tls.PrivateKey` `<name>-upload-key` (ED25519) and
 * `PushedFiles` `<name>-config` (nginx.conf, certificate, key, CA files, CRLs, signing
 * key, the upload user's authorized_keys; nginx is reloaded after a change). A change of
 * configuration, certificate or Stacks re-pushes files; it never recreates the VM.
 */
export class BinhostMirror extends pulumi.ComponentResource {
  /** `https://<hostname>/`. */
  public readonly url: string;
  /** Its DNS name. */
  public readonly hostname: string;
  /** Its address. */
  public readonly address: string;
  /** The build profiles it serves, `<env>/<arch>/<stack>`, sorted. */
  public readonly buildProfiles: readonly string[];
  /** Its server. */
  public readonly server: Server;
  /** Its TLS certificate. */
  public readonly certificate: Certificate;
  /** The upload key pair (private key secret). */
  public readonly uploadKey: tls.PrivateKey;
  /** What builders need to upload (secret: it holds the private key). */
  public readonly upload: pulumi.Output<BinhostUpload>;
  /** Per build profile (`<env>/<arch>/<stack>`), what an installed machine configures. */
  public readonly clientConfig: pulumi.Output<Record<string, BinhostClientConfig>>;

  constructor(name: string, args: BinhostMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:binhost:BinhostMirror", name, {}, opts);
    assertValid(this, `BinhostMirror "${name}"`, validateBinhostMirrorArgs(name, args));

    const hostname = args.hostname;
    const profiles = servedProfiles(args.stacks);
    this.hostname = hostname;
    this.address = args.address;
    this.url = `https://${hostname}/`;
    this.buildProfiles = profiles.map((p) => p.key).sort();
    const nginxConf = renderBinhostNginxConf({
      serverName: hostname,
      certificatePath: BINHOST_FILES.certificate,
      keyPath: BINHOST_FILES.key,
      buildProfiles: profiles,
      rootDir: BINHOST_ROOT,
      http: args.http ?? "redirect",
    });

    this.server = new Server(
      name,
      {
        hypervisor: args.hypervisor,
        network: args.network,
        address: args.address,
        image: args.image,
        diskGiB: args.diskGiB ?? DEFAULT_DISK_GIB,
        ...(args.memoryMiB === undefined ? {} : { memoryMiB: args.memoryMiB }),
        ...(args.vcpus === undefined ? {} : { vcpus: args.vcpus }),
        hostKey: "pinned",
        firstBootCommands: binhostFirstBootCommands(),
      },
      { parent: this },
    );
    this.certificate = new Certificate(
      `${name}-tls`,
      {
        kind: "host",
        commonName: hostname,
        baseDn: baseDnOf(args.rootCa),
        issuer: args.rootCa.subCas.host.issuer,
        dnsNames: [hostname],
        ipAddresses: [args.address],
        ...(args.certificateValidityDays === undefined
          ? {}
          : { validityDays: args.certificateValidityDays }),
      },
      { parent: this },
    );
    this.uploadKey = new tls.PrivateKey(
      `${name}-upload-key`,
      { algorithm: "ED25519" },
      { parent: this, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem"] },
    );

    const chain = args.rootCa.chainPems.host;
    const signingKey = args.rootCa.packageSigningKey;
    new PushedFiles(
      `${name}-config`,
      {
        server: this.server,
        files: [
          { path: BINHOST_FILES.nginxConf, content: nginxConf },
          {
            path: BINHOST_FILES.certificate,
            content: pulumi.concat(this.certificate.certificatePem, chain),
          },
          { path: BINHOST_FILES.key, content: this.certificate.privateKeyPem, mode: "0600" },
          { path: BINHOST_FILES.caChain, content: chain },
          { path: BINHOST_FILES.rootCertificate, content: args.rootCa.rootCertificatePem },
          ...(signingKey
            ? [{ path: BINHOST_FILES.signingKey, content: signingKey.publicKeyArmored }]
            : []),
          {
            path: BINHOST_FILES.crlBundle,
            content: args.rootCa.crlFiles.apply((files) => `${JSON.stringify(files, null, 2)}\n`),
          },
          { path: BINHOST_FILES.crlPublisher, content: CRL_PUBLISHER_SCRIPT, mode: "0755" },
          {
            path: BINHOST_FILES.uploadAuthorizedKeys,
            content: this.uploadKey.publicKeyOpenssh.apply((key) => uploadAuthorizedKeysLine(key)),
          },
        ],
        afterChange: binhostAfterChange(profiles),
      },
      { parent: this },
    );

    const hostPublicKey = this.server.hostPublicKey as pulumi.Output<string>;
    this.upload = pulumi.secret(
      pulumi
        .all([this.uploadKey.privateKeyOpenssh, hostPublicKey])
        .apply(([privateKeyOpenssh, hostKey]) => ({
          host: args.address,
          user: UPLOAD_USER,
          privateKeyOpenssh,
          knownHosts: knownHostsLine([hostname, args.address], hostKey),
        })),
    );

    // One apply over every build profile, so that a mismatch rejects only this output.
    const url = this.url;
    const stackSide = profiles.map((p) => {
      const profile = args.stacks[p.stackIndex]?.buildProfiles[p.profileKey];
      if (profile === undefined) throw new Error(`build profile ${p.key} vanished`);
      return pulumi.all([profile.binhostUri, profile.machineFiles]);
    });
    this.clientConfig = pulumi
      .all(stackSide)
      .apply((resolved) => clientConfigOf(name, url, profiles, resolved));

    this.registerOutputs({
      url: this.url,
      address: this.address,
      buildProfiles: this.buildProfiles,
      upload: this.upload,
      // clientConfig is not registered: it rejects when a Stack's binhostUrl is another
      // binhost, and that error belongs to whoever consumes it.
    });
  }
}

/** Where clients find the published files below {@link BinhostMirror.url}. */
export const BINHOST_PUBLISHED = {
  /** The CA chain (host sub-CA, level-1). */
  caChain: `${BINHOST_DIRECTORIES.keys}ca-chain.pem`,
  /** The root certificate. */
  rootCertificate: `${BINHOST_DIRECTORIES.keys}root-ca.pem`,
  /** The package-signing public key. */
  signingKey: `${BINHOST_DIRECTORIES.keys}package-signing.asc`,
  /** The CRLs, one `<slug>.crl` per CA. */
  crl: BINHOST_DIRECTORIES.crl,
} as const;
