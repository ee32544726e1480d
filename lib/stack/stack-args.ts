/**
 * Arguments of a {@link Stack} (./stack), with TSDoc on every field and the defaults as named
 * constants, and the shapes a Stack gives other components. Validation is in ./stack-validate.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ArchName } from "../portage/arch";
import type { Environment } from "../snapshot/environments";
import type { ProfileCatalog, StackDefinition } from "./model";

/** Arguments of a {@link Stack}. */
export interface StackArgs {
  /** The site's system and application profiles (shared by all its Stacks). */
  readonly catalog: ProfileCatalog;
  /**
   * The Stack's name: a segment of its binhost paths and of its profile path.
   * @default the resource name
   */
  readonly stackName?: string;
  /**
   * Its system profile (a name in `catalog.systemProfiles`).
   * @default the base Stack's; required when there is no base
   */
  readonly systemProfile?: string;
  /**
   * Application profiles it adds (names in `catalog.applicationProfiles`), in load order.
   * @default none: the Stack is its system profile (plus its base's application profiles)
   */
  readonly applicationProfiles?: readonly string[];
  /**
   * The Stack it extends (`ruby.definition` for rails). Its build profiles' binhost paths
   * come first in this Stack's binrepos.conf, and this Stack's build profiles store only
   * the packages the base lacks.
   * @default none
   */
  readonly base?: StackDefinition;
  /** The environments it is built for (development, staging, production). */
  readonly environments: readonly Environment[];
  /** The arches it is built for (amd64, x86, arm64). */
  readonly arches: readonly ArchName[];
  /** Base URL of the binhost; build profiles live at `<binhostUrl>/<env>/<arch>/<stack>/`. */
  readonly binhostUrl: pulumi.Input<string>;
  /** git URL of the site's Gentoo tree clone. */
  readonly gentooSyncUri: pulumi.Input<string>;
  /** git URL of the site's overlay. */
  readonly overlaySyncUri: pulumi.Input<string>;
  /**
   * The tree snapshot (commits of the Gentoo tree clone and of the overlay) of every
   * environment in `environments`, e.g. read from git by the snapshot module.
   */
  readonly treeSnapshots: Readonly<Partial<Record<Environment, pulumi.Input<TreeSnapshotInput>>>>;
  /** Fingerprint (40 hex digits) of the OpenPGP key that signs binary packages. */
  readonly signingKeyFingerprint: pulumi.Input<string>;
  /**
   * The overlay's repository name (`profiles/repo_name`).
   * @default "gentoo-infra"
   */
  readonly overlayName?: string;
  /**
   * GENTOO_MIRRORS for builders and machines, in order of preference.
   * @default ["https://distfiles.gentoo.org"]
   */
  readonly gentooMirrors?: pulumi.Input<readonly pulumi.Input<string>[]>;
  /**
   * Parallel make jobs on builders (MAKEOPTS="-jN -lN"); match the builder's vCPUs.
   * @default 4
   */
  readonly builderMakeJobs?: number;
}

/** An environment's tree snapshot as Stack input: each commit may be late-bound. */
export interface TreeSnapshotInput {
  /** Commit of the Gentoo tree clone (40 lower-case hex digits, SHA-1). */
  readonly gentoo: pulumi.Input<string>;
  /** Commit of the overlay (40 lower-case hex digits, SHA-1). */
  readonly overlay: pulumi.Input<string>;
}

/**
 * What an environment's builders build from: the Stack's clone URLs at its tree snapshot's
 * commits (`gentooSyncUri` and `overlaySyncUri` with `treeSnapshots[<environment>]`).
 */
export interface StackTreeSources {
  /** The Gentoo tree clone at the snapshot's `gentoo` commit. */
  readonly tree: { readonly url: string; readonly commit: string };
  /** The overlay at the snapshot's `overlay` commit. */
  readonly overlay: { readonly url: string; readonly commit: string };
}

/** One build profile of a Stack: one (environment, arch) cell. */
export interface StackBuildProfile {
  /** The environment. */
  readonly environment: Environment;
  /** The arch. */
  readonly arch: ArchName;
  /** The binhost path it owns, `<env>/<arch>/<stack>/`. */
  readonly binhostPath: string;
  /** The full URL of its binhost path. */
  readonly binhostUrl: pulumi.Output<string>;
  /** The packages its binhost path stores: those its base Stack lacks (all without a base). */
  readonly packages: readonly string[];
  /** Files for its builder: absolute path → content. */
  readonly builderFiles: pulumi.Output<Record<string, string>>;
  /** Files for a machine installed from it: absolute path → content. */
  readonly machineFiles: pulumi.Output<Record<string, string>>;
}

/** Default of {@link StackArgs.overlayName}. */
export const DEFAULT_OVERLAY_NAME = "gentoo-infra";
/** Default of {@link StackArgs.gentooMirrors}. */
export const DEFAULT_GENTOO_MIRRORS = ["https://distfiles.gentoo.org"];
/** Default of {@link StackArgs.builderMakeJobs}. */
export const DEFAULT_BUILDER_MAKE_JOBS = 4;

/** The plain definition a Stack's arguments describe. */
export function stackDefinitionOf(name: string, args: StackArgs): StackDefinition {
  return {
    name: args.stackName ?? name,
    ...(args.systemProfile !== undefined ? { systemProfile: args.systemProfile } : {}),
    ...(args.applicationProfiles !== undefined
      ? { applicationProfiles: args.applicationProfiles }
      : {}),
    ...(args.base !== undefined ? { base: args.base } : {}),
  };
}
