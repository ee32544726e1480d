import * as pulumi from "@pulumi/pulumi";
import { binhostRepositoryPath, binhostRepositoryUrl, buildProfileKey } from "../binhost/paths";
import type { Environment } from "../snapshot/environments";
import { assertValid } from "../validation/resource-error";
import { STACK_TYPE, type StackDefinition } from "./model";
import { renderBuildProfileFiles, renderOverlayFiles, type TreeSnapshotCommits } from "./render";
import { type ResolvedStack, resolveStack } from "./resolve";
import {
  DEFAULT_BUILDER_MAKE_JOBS,
  DEFAULT_GENTOO_MIRRORS,
  DEFAULT_OVERLAY_NAME,
  type StackArgs,
  type StackBuildProfile,
  type StackTreeSources,
  stackDefinitionOf,
  type TreeSnapshotInput,
} from "./stack-args";
import { validateStackArgs } from "./stack-validate";

/**
 * A Stack: one system profile plus application profiles, optionally extending a base
 * Stack, built for some environments and arches. It renders the overlay's profiles and,
 * per build profile, the Portage configuration of its builder and of an installed
 * machine. It creates no child resources: other components (the build farm, the install
 * host) consume its outputs.
 */
export class Stack extends pulumi.ComponentResource {
  /** The plain definition, to pass as another Stack's `base`. */
  public readonly definition: StackDefinition;
  /** The resolved Stack: chains, merged USE, package sets. */
  public readonly resolved: ResolvedStack;
  /** Overlay files this Stack needs, keyed by path relative to the overlay root. */
  public readonly overlayFiles: Readonly<Record<string, string>>;
  /** Every package of the Stack (system and application, base included), sorted. */
  public readonly packages: readonly string[];
  /** Build profiles keyed by `<environment>/<arch>/<stack>` ({@link buildProfileKey}), as everywhere else. */
  public readonly buildProfiles: Readonly<Record<string, StackBuildProfile>>;
  /**
   * The binhost's base URL as given (`binhostUrl`): the build farm publishes its Stacks' build
   * profiles there and the install host installs from it, so they take it from here.
   */
  public readonly binhostUrl: pulumi.Input<string>;
  /** The clone URLs as given, for components that check them before anything is created. */
  public readonly syncUris: {
    /** The Gentoo tree clone's URL, as given (`gentooSyncUri`). */
    readonly gentoo: pulumi.Input<string>;
    /** The overlay's URL, as given (`overlaySyncUri`). */
    readonly overlay: pulumi.Input<string>;
  };
  /**
   * Per environment, the clone URLs and commits its builders build from: a GentooBuildFarm
   * takes them from here, so that the tree a builder builds and the tree its Stack's
   * machines sync are one fact.
   */
  public readonly treeSources: Readonly<
    Partial<Record<Environment, pulumi.Output<StackTreeSources>>>
  >;

  constructor(name: string, args: StackArgs, opts?: pulumi.ComponentResourceOptions) {
    super(STACK_TYPE, name, {}, opts);
    const definition = stackDefinitionOf(name, args);
    assertValid(this, `Stack "${definition.name}"`, validateStackArgs(name, args));

    const resolved = resolveStack(definition, args.catalog);
    const overlayName = args.overlayName ?? DEFAULT_OVERLAY_NAME;
    this.definition = definition;
    this.resolved = resolved;
    this.packages = resolved.packages;
    this.overlayFiles = renderOverlayFiles(resolved, args.catalog, args.arches, overlayName);

    const binhostUrl = pulumi.output(args.binhostUrl);
    const shared = pulumi
      .all([
        binhostUrl,
        args.gentooSyncUri,
        args.overlaySyncUri,
        args.signingKeyFingerprint,
        pulumi.output(args.gentooMirrors ?? DEFAULT_GENTOO_MIRRORS),
      ])
      .apply(([url, gentooSyncUri, overlaySyncUri, signingKeyFingerprint, gentooMirrors]) => ({
        binhostUrl: url,
        gentooSyncUri,
        overlaySyncUri,
        signingKeyFingerprint,
        gentooMirrors: [...gentooMirrors],
      }));
    const buildProfiles: Record<string, StackBuildProfile> = {};
    const treeSources: Partial<Record<Environment, pulumi.Output<StackTreeSources>>> = {};
    for (const environment of args.environments) {
      const snapshot: pulumi.Output<TreeSnapshotCommits> = pulumi.output(
        args.treeSnapshots[environment] as pulumi.Input<TreeSnapshotInput>,
      );
      treeSources[environment] = pulumi.all([shared, snapshot]).apply(([s, commits]) => ({
        tree: { url: s.gentooSyncUri, commit: commits.gentoo },
        overlay: { url: s.overlaySyncUri, commit: commits.overlay },
      }));
      for (const arch of args.arches) {
        const files = pulumi.all([shared, snapshot]).apply(([s, commits]) =>
          renderBuildProfileFiles(resolved, {
            ...s,
            environment,
            arch,
            overlayName,
            snapshot: commits,
            builderMakeJobs: args.builderMakeJobs ?? DEFAULT_BUILDER_MAKE_JOBS,
          }),
        );
        buildProfiles[buildProfileKey({ environment, arch, stack: resolved.name })] = {
          environment,
          arch,
          binhostPath: binhostRepositoryPath({ environment, arch, stack: resolved.name }),
          binhostUrl: binhostUrl.apply((url) =>
            binhostRepositoryUrl(url, { environment, arch, stack: resolved.name }),
          ),
          packages: resolved.ownPackages,
          builderFiles: files.apply((f) => f.builder),
          machineFiles: files.apply((f) => f.machine),
        };
      }
    }
    this.buildProfiles = buildProfiles;
    this.treeSources = treeSources;
    this.syncUris = { gentoo: args.gentooSyncUri, overlay: args.overlaySyncUri };
    this.binhostUrl = args.binhostUrl;

    this.registerOutputs({
      // Known in a preview: what the policy pack (policy/) checks.
      treeSnapshots: args.treeSnapshots,
      overlayFiles: this.overlayFiles,
      packages: this.packages,
      buildProfiles: Object.fromEntries(
        Object.entries(buildProfiles).map(([key, p]) => [
          key,
          { binhostPath: p.binhostPath, binhostUrl: p.binhostUrl, packages: p.packages },
        ]),
      ),
    });
  }
}
