import * as pulumi from "@pulumi/pulumi";
import { type BuildProfileRef, binhostRepositoryUrl, buildProfileKey } from "../binhost/paths";
import { type PushedFile, PushedFiles } from "../host/pushed-files";
import { Server } from "../host/server";
import { BUILD_PROFILE_FILE_PATHS } from "../stack/render";
import { assertValid } from "../validation/resource-error";
import { renderBuildScript } from "./build-script";
import {
  BUILDER_FIRST_BOOT,
  BUILDER_PATHS,
  builderAfterChange,
  builderName,
  buildScriptPath,
  buildStatusFile,
  PERSISTENT_BUILDER_PATHS,
} from "./builder-layout";
import { renderEphemeralRunner } from "./ephemeral-run";
import {
  type BuildFarmUpload,
  DEFAULT_BUILDER_SIZE,
  DEFAULT_KERNEL_PACKAGES,
  DEFAULT_UPLOAD_ROOT,
  farmBinhostUrl,
  farmOverlayName,
  type GentooBuildFarmArgs,
  imageFor,
  networkFor,
} from "./gentoo-build-farm-args";
import { validateGentooBuildFarmArgs } from "./gentoo-build-farm-validate";
import { stageBuildFiles } from "./stage-builds";
import { renderBuilderUnits } from "./systemd-units";

/** One builder of a {@link GentooBuildFarm}. */
export interface FarmBuilder {
  /** The build profile it builds. */
  readonly buildProfile: BuildProfileRef;
  /** Its VM. */
  readonly server: Server;
  /** Its pushed configuration, scripts, units and keys. */
  readonly files: PushedFiles;
  /** What `files` pushes: path, content (secret for keys) and mode of each file. */
  readonly contents: readonly PushedFile[];
  /** Its stage-build files (specs, script, service), when it runs stage builds. */
  readonly stageFiles: PushedFiles | undefined;
  /** The systemd service that runs one build (`systemctl start` it to build now). */
  readonly serviceName: string;
  /**
   * The builder's record of its last build (JSON, a `BuildOutcome`); a file with the same
   * name ending in `.running` exists while a build runs.
   */
  readonly statusFile: string;
  /** Where its packages are served: `<binhost url>/<env>/<arch>/<stack>/`. */
  readonly binhostUrl: pulumi.Output<string>;
}

/** A value validation guaranteed; throws (a bug, not a user error) if it is missing. */
function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`GentooBuildFarm: ${what} missing after validation`);
  return value;
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

/**
 * The `/etc/hosts` lines a build pins: the binhost URL's host name to the upload address,
 * when that is an IPv4 address and pinning is not turned off.
 */
function pinnedHosts(
  pin: boolean | undefined,
  binhostUrl: string,
  uploadHost: string,
): { address: string; hostname: string }[] {
  const hostname = new URL(binhostUrl).hostname;
  const isAddress = /^\d{1,3}(\.\d{1,3}){3}$/.test(uploadHost);
  if (pin === false || !isAddress || hostname === uploadHost) return [];
  return [{ address: uploadHost, hostname }];
}

/**
 * The build farm: per build profile a builder VM ({@link Server}) on one of several
 * hypervisors that, on a schedule and whenever its files change (a new tree snapshot), pins
 * the Gentoo tree and the overlay to the environment's snapshot commits, builds @world and
 * the kernel into signed gpkg binary packages in a throwaway overlay root, rebuilds reverse
 * dependencies, prunes, reindexes, uploads to the binhost and notifies. Optionally it
 * renders catalyst stage builds.
 *
 * Creates per builder `<name>-<env>-<arch>-<stack>`: a `Server` (key pair + VM) and a
 * `PushedFiles` `<name>-<env>-<arch>-<stack>-files` holding the Stack's builder files, the
 * build script, the ephemeral runner, the systemd service and timer, the upload key and
 * known_hosts, and the package-signing key; with `stages`, the builders that run stage
 * builds also get a `PushedFiles` `<…>-stages` (catalyst specs, stage script, service). A
 * changed file is re-pushed and starts a build; the VM stays.
 */
export class GentooBuildFarm extends pulumi.ComponentResource {
  /** Builders keyed by `<environment>/<arch>/<stack>`. */
  public readonly builders: Readonly<Record<string, FarmBuilder>>;

  constructor(name: string, args: GentooBuildFarmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:buildfarm:GentooBuildFarm", name, {}, opts);
    assertValid(this, `GentooBuildFarm "${name}"`, validateGentooBuildFarmArgs(name, args));

    const overlayName = farmOverlayName(args);
    const binhostUrl = must(farmBinhostUrl(args), "the Stacks' binhostUrl");
    const kernelPackages = args.kernelPackages ?? DEFAULT_KERNEL_PACKAGES;
    const upload = pulumi.output(args.binhost.upload);
    // Host, user and known_hosts are not secret: keep the script readable in a preview even
    // when the upload object as a whole arrives as a secret.
    const uploadTarget = pulumi.unsecret(
      upload.apply((u: BuildFarmUpload) => ({
        host: u.host,
        user: u.user,
        knownHosts: u.knownHosts,
      })),
    );
    const uploadKey = pulumi.secret(upload.apply((u) => withNewline(u.privateKeyOpenssh)));
    const signingKey = pulumi.secret(
      pulumi.output(args.signingKey.privateKeyArmored).apply(withNewline),
    );
    const rootCertificate =
      args.binhost.rootCertificatePem === undefined
        ? undefined
        : pulumi.output(args.binhost.rootCertificatePem).apply(withNewline);
    const runner = renderEphemeralRunner({ persistentPaths: PERSISTENT_BUILDER_PATHS });
    // What each builder builds: its Stack's tree for its environment, by the builder's label.
    const sources = new Map(
      args.builders.map((b) => {
        const ref = { environment: b.environment, arch: b.arch, stack: b.stack.resolved.name };
        const label = buildProfileKey(ref);
        return [label, must(b.stack.treeSources[b.environment], `${label}: its Stack's tree`)];
      }),
    );
    const stageFiles = stageBuildFiles(
      args,
      overlayName,
      uploadTarget,
      pulumi.output(args.notifyUrl),
      pulumi.all(
        Object.fromEntries(
          [...sources].map(([label, s]) => [label, s.apply((t) => t.tree.commit)]),
        ),
      ),
    );

    const builders: Record<string, FarmBuilder> = {};
    // Per builder, what the policy pack (policy/) compares with its Stack: registered below.
    const checked: Record<string, Record<string, unknown>> = {};
    for (const b of args.builders) {
      const buildProfile: BuildProfileRef = {
        environment: b.environment,
        arch: b.arch,
        stack: b.stack.resolved.name,
      };
      const label = buildProfileKey(buildProfile);
      const child = builderName(name, buildProfile);
      const snapshot = must(sources.get(label), label);
      checked[label] = {
        environment: b.environment,
        stack: b.stack.urn,
        snapshot: snapshot.apply((t) => ({ gentoo: t.tree.commit, overlay: t.overlay.commit })),
      };
      const server = new Server(
        child,
        {
          hypervisor: must(args.hypervisors[b.hypervisor], `hypervisors.${b.hypervisor}`),
          network: must(networkFor(args.network, b.hypervisor), `network for ${b.hypervisor}`),
          address: b.address,
          image: must(imageFor(args.image, b.hypervisor), `image for ${b.hypervisor}`),
          diskGiB: args.diskGiB ?? DEFAULT_BUILDER_SIZE.diskGiB,
          memoryMiB: args.memoryMiB ?? DEFAULT_BUILDER_SIZE.memoryMiB,
          vcpus: args.vcpus ?? DEFAULT_BUILDER_SIZE.vcpus,
          firstBootCommands: BUILDER_FIRST_BOOT,
        },
        { parent: this },
      );
      const scriptPath = buildScriptPath(buildProfile);
      const units = renderBuilderUnits({
        buildProfile,
        scriptPath,
        runnerPath: BUILDER_PATHS.runner,
        schedule: args.schedule,
      });
      const baseRepositories = pulumi
        .output(binhostUrl)
        .apply((url) =>
          b.stack.resolved.stackChain
            .filter((stack) => stack !== buildProfile.stack)
            .map((stack) =>
              binhostRepositoryUrl(url, { environment: b.environment, arch: b.arch, stack }),
            ),
        );
      const script = pulumi
        .all([uploadTarget, args.notifyUrl, binhostUrl, baseRepositories, snapshot])
        .apply(([target, notifyUrl, binhostUrl, bases, tree]) =>
          renderBuildScript({
            buildProfile,
            tree: { name: "gentoo", url: tree.tree.url, commit: tree.tree.commit },
            overlay: { name: overlayName, url: tree.overlay.url, commit: tree.overlay.commit },
            upload: {
              host: target.host,
              user: target.user,
              rootDir: args.binhost.rootDir ?? DEFAULT_UPLOAD_ROOT,
              sshKeyPath: BUILDER_PATHS.uploadKey,
              knownHostsPath: BUILDER_PATHS.knownHosts,
            },
            notifyUrl,
            retentionDays: args.retentionDays,
            kernelPackages,
            signingKey: { keyPath: BUILDER_PATHS.signingKey },
            ...(rootCertificate ? { rootCertificatePath: BUILDER_PATHS.rootCertificate } : {}),
            hosts: pinnedHosts(args.binhost.pinHostname, binhostUrl, target.host),
            baseRepositories: bases,
            repositoryUrl: binhostRepositoryUrl(binhostUrl, buildProfile),
            statusDir: BUILDER_PATHS.buildStatus,
            serviceName: units.serviceName,
          }),
        );
      const portage = must(b.stack.buildProfiles[label], label);
      const files: PushedFile[] = [
        ...Object.values(BUILD_PROFILE_FILE_PATHS)
          .sort()
          .map((path) => ({
            path,
            content: portage.builderFiles.apply((f) => {
              const content = f[path];
              if (content === undefined) {
                throw new Error(`Stack "${buildProfile.stack}" rendered no ${path} for ${label}`);
              }
              // An empty file (the world file of a Stack without application packages) is
              // pushed as one newline: Pulumi cannot read back an empty string asset.
              return content === "" ? "\n" : content;
            }),
          })),
        { path: scriptPath, content: script, mode: "0755" },
        { path: BUILDER_PATHS.runner, content: runner, mode: "0755" },
        { path: `${BUILDER_PATHS.systemdUnits}/${units.serviceName}`, content: units.service },
        { path: `${BUILDER_PATHS.systemdUnits}/${units.timerName}`, content: units.timer },
        {
          path: `${BUILDER_PATHS.systemdUnits}/${units.requestPathName}`,
          content: units.requestPath,
        },
        { path: BUILDER_PATHS.uploadKey, content: uploadKey, mode: "0600" },
        {
          path: BUILDER_PATHS.knownHosts,
          content: uploadTarget.apply((t) => withNewline(t.knownHosts)),
        },
        { path: BUILDER_PATHS.signingKey, content: signingKey, mode: "0600" },
        ...(rootCertificate
          ? [{ path: BUILDER_PATHS.rootCertificate, content: rootCertificate }]
          : []),
      ];
      const pushed = new PushedFiles(
        `${child}-files`,
        { server, files, afterChange: builderAfterChange(buildProfile) },
        { parent: this },
      );
      const stages = stageFiles.get(label);
      const pushedStages =
        stages === undefined
          ? undefined
          : new PushedFiles(
              `${child}-stages`,
              { server, ...stages },
              { parent: this, dependsOn: pushed },
            );
      builders[label] = {
        buildProfile,
        server,
        files: pushed,
        contents: files,
        stageFiles: pushedStages,
        serviceName: units.serviceName,
        statusFile: buildStatusFile(buildProfile),
        binhostUrl: pulumi
          .output(binhostUrl)
          .apply((url) => binhostRepositoryUrl(url, buildProfile)),
      };
    }
    this.builders = builders;
    this.registerOutputs({
      builders: Object.fromEntries(
        Object.entries(builders).map(([label, b]) => [
          label,
          {
            ...checked[label],
            address: b.server.address,
            serviceName: b.serviceName,
            binhostUrl: b.binhostUrl,
          },
        ]),
      ),
    });
  }
}
