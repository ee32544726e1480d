import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { PushedFiles } from "../host/pushed-files";
import { ADMIN_USER, Server } from "../host/server";
import { Certificate } from "../pki/certificate";
import { TREE_SNAPSHOT_PATH } from "../portage/repos-conf";
import { assertValid } from "../validation/resource-error";
import type { BinhostClientConfig, BinhostMirrorArgs, BinhostUpload } from "./binhost-mirror-args";
import { DEFAULT_BINHOST_DISK_GIB } from "./binhost-mirror-args";
import {
  baseDnOf,
  type ServedProfile,
  servedProfiles,
  validateBinhostMirrorArgs,
} from "./binhost-mirror-validate";
import {
  BINHOST_GIT_ROOT,
  binhostGitSetupCommands,
  GIT_HTTP_BACKEND_CONFIG,
  GIT_PUSH_ENV,
  gitHttpBackendConfig,
  gitPushRemote,
  gitPushScript,
  gitPushTriggers,
} from "./git";
import { renderBinhostNginxConf } from "./nginx-conf";
import { binhostClientPath, binhostRepositoryUrl, CLIENT_TREE_SNAPSHOT } from "./paths";
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

/** The binrepos.conf file Stack renders for machines. */
const BINREPOS_CONF = "/etc/portage/binrepos.conf/gentoo-infra.conf";
const MAKE_CONF = "/etc/portage/make.conf";

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
        files,
      },
    ];
  });
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * A binhost: an HTTPS server (nginx) for the binary package repositories of the listed
 * Stacks' build profiles (`<env>/<arch>/<stack>/`), distfiles, stage tarballs, the RootCa's
 * CRLs, its CA chain and the package-signing public key. Builders upload over SSH with
 * rsync as a dedicated user confined to the document root.
 *
 * Creates: `Server` `<name>` (with a pinned SSH host key), `Certificate` `<name>-tls` (kind
 * host, from the RootCa's host sub-CA), `tls.PrivateKey` `<name>-upload-key` (ED25519),
 * `PushedFiles` `<name>-config` (nginx.conf, certificate, key, CA files, CRLs, signing
 * key, the upload user's authorized_keys, git-http-backend's configuration; nginx is
 * reloaded after a change) and, per git repository, `command.local.Command`
 * `<name>-git-<repository>` that pushes its pinned commits over SSH, and `PushedFiles`
 * `<name>-client` (per build profile, `client/<env>/<arch>/<stack>/tree-snapshot`: the
 * environment's current tree snapshot, which machines' `gentoo-infra-sync` reads). A change
 * of configuration, certificate or Stacks re-pushes files; a new commit re-runs its push;
 * neither recreates the VM.
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
  /**
   * What builders need to upload (secret: it holds the private key). It resolves only once
   * the binhost's configuration is installed (nginx reloaded) and every git repository has
   * its pinned commits, so builders made from it never start before the binhost serves.
   */
  public readonly upload: pulumi.Output<BinhostUpload>;
  /**
   * Per git repository name, its clone URL `https://<hostname>/git/<name>.git` (empty
   * without gitRepositories); resolves, like `upload`, once the commits are pushed.
   */
  public readonly gitUrls: pulumi.Output<Record<string, string>>;
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
    const repos = args.gitRepositories ?? [];
    const nginxConf = renderBinhostNginxConf({
      serverName: hostname,
      certificatePath: BINHOST_FILES.certificate,
      keyPath: BINHOST_FILES.key,
      buildProfiles: profiles,
      rootDir: BINHOST_ROOT,
      http: args.http ?? "redirect",
      gitRepositories: repos.map((r) => r.name),
    });

    this.server = new Server(
      name,
      {
        hypervisor: args.hypervisor,
        network: args.network,
        address: args.address,
        image: args.image,
        diskGiB: args.diskGiB ?? DEFAULT_BINHOST_DISK_GIB,
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

    const profileOf = (p: ServedProfile) => {
      const profile = args.stacks[p.stackIndex]?.buildProfiles[p.profileKey];
      if (profile === undefined) throw new Error(`build profile ${p.key} vanished`);
      return profile;
    };
    const machineFilesOf = (p: ServedProfile) => pulumi.output(profileOf(p).machineFiles);
    const chain = args.rootCa.chainPems.host;
    const signingKey = args.rootCa.packageSigningKey;
    const gitSetup = binhostGitSetupCommands(
      repos.map((r) => ({ name: r.name, head: Object.keys(r.branches)[0] ?? "" })),
      ADMIN_USER,
    );
    const config = new PushedFiles(
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
          ...(repos.length === 0
            ? []
            : [
                {
                  path: GIT_HTTP_BACKEND_CONFIG,
                  content: gitHttpBackendConfig(repos.map((r) => r.name)),
                },
              ]),
        ],
        afterChange: binhostAfterChange(profiles, BINHOST_ROOT, gitSetup),
      },
      { parent: this },
    );
    // Per build profile, the environment's current tree snapshot, for machines'
    // gentoo-infra-sync: a promotion changes these files only (no nginx reload), and nothing
    // that builders wait for (`upload`, `gitUrls`) waits for them, so a Stack may take its
    // clone URLs from `gitUrls` without a cycle.
    if (profiles.length > 0) {
      new PushedFiles(
        `${name}-client`,
        {
          server: this.server,
          files: profiles.map((p) => ({
            path: `${BINHOST_ROOT}/${binhostClientPath(p)}${CLIENT_TREE_SNAPSHOT}`,
            content: machineFilesOf(p).apply((files) => files[TREE_SNAPSHOT_PATH] ?? ""),
          })),
        },
        { parent: this, dependsOn: [config] },
      );
    }
    const installed = config.push.urn;

    const hostPublicKey = this.server.hostPublicKey as pulumi.Output<string>;
    const knownHosts = hostPublicKey.apply((key) => knownHostsLine([hostname, args.address], key));
    const adminKey = pulumi.secret(this.server.sshKey.privateKeyOpenssh);
    const vmId = this.server.vm.domain.id;
    const pushes = repos.map(
      (repo) =>
        new command.local.Command(
          `${name}-git-${repo.name}`,
          {
            create: gitPushScript({
              clone: repo.clone,
              remote: gitPushRemote(ADMIN_USER, args.address, repo.name, BINHOST_GIT_ROOT),
              branches: repo.branches,
            }),
            interpreter: ["/bin/bash", "-c"],
            environment: {
              [GIT_PUSH_ENV.privateKey]: adminKey,
              [GIT_PUSH_ENV.knownHosts]: knownHosts,
            },
            // The commits, so that a preview names them; a new VM gets the push again.
            triggers: [vmId, ...gitPushTriggers(repo.branches)],
          },
          // Into repositories the install command has created.
          { parent: this, dependsOn: [config] },
        ),
    );
    // Resolves once the install command and every push are done (a URN is known once the
    // engine has created the resource), and carries them as dependencies to consumers.
    const serving = pulumi.all([installed, ...pushes.map((p) => p.urn)]);

    this.upload = pulumi.secret(
      pulumi
        .all([this.uploadKey.privateKeyOpenssh, knownHosts, serving])
        .apply(([privateKeyOpenssh, known]) => ({
          host: args.address,
          user: UPLOAD_USER,
          privateKeyOpenssh,
          knownHosts: known,
        })),
    );
    const url = this.url;
    this.gitUrls = serving.apply(() =>
      Object.fromEntries(repos.map((r) => [r.name, `${url}git/${r.name}.git`])),
    );

    // One apply over every build profile, so that a mismatch rejects only this output.
    const stackSide = profiles.map((p) => pulumi.all([profileOf(p).binhostUrl, machineFilesOf(p)]));
    this.clientConfig = pulumi
      .all(stackSide)
      .apply((resolved) => clientConfigOf(name, url, profiles, resolved));

    this.registerOutputs({
      // Known in a preview: what the policy pack (policy/) checks.
      http: args.http ?? "redirect",
      certificate: this.certificate.urn,
      url: this.url,
      address: this.address,
      buildProfiles: this.buildProfiles,
      upload: this.upload,
      gitUrls: this.gitUrls,
      // clientConfig is not registered: it rejects when a Stack's binhostUrl is another
      // binhost, and that error belongs to whoever consumes it.
    });
  }
}
