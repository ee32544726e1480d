import * as pulumi from "@pulumi/pulumi";
import { binhostRepositoryPath, binhostRepositoryUrl } from "../binhost/paths";
import { ARCH_FIX, type ArchName, isArchName } from "../portage/arch";
import { isRepositoryName } from "../portage/syntax";
import { ENVIRONMENT_FIX, type Environment, isEnvironment } from "../snapshot/environments";
import { GIT_COMMIT, matches } from "../validation/patterns";
import { assertValid } from "../validation/resource-error";
import { isLateBound, type Violation, violation } from "../validation/violations";
import { type ProfileCatalog, STACK_TYPE, type StackDefinition } from "./model";
import {
  renderBuildProfileFiles,
  renderOverlayFiles,
  type TreeSnapshotCommits,
  validateBuildProfileSettings,
} from "./render";
import { type ResolvedStack, resolveStack, validateStackDefinition } from "./resolve";

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

function listViolations<T extends string>(
  argument: string,
  values: readonly T[] | undefined,
  known: (v: unknown) => boolean,
  noun: string,
  fix: string,
): Violation[] {
  if (!Array.isArray(values) || values.length === 0) {
    return [violation(argument, values, `names no ${noun}`, fix)];
  }
  const found: Violation[] = [];
  for (const [i, value] of values.entries()) {
    if (!known(value)) {
      found.push(violation(`${argument}[${i}]`, value, `is not a known ${noun}`, fix));
    } else if (values.indexOf(value) !== i) {
      found.push(
        violation(`${argument}[${i}]`, value, `repeats ${noun} "${value}"`, "list it once"),
      );
    }
  }
  return found;
}

/**
 * Every problem of a Stack's arguments that can be known before deployment: the
 * definition and catalog ({@link validateStackDefinition}), environments, arches, missing
 * tree snapshots, the overlay name, and any late-bound value given as a plain value.
 */
export function validateStackArgs(name: string, args: StackArgs): Violation[] {
  // The definition's own name is the stackName argument when one is given.
  const found = validateStackDefinition(stackDefinitionOf(name, args), args.catalog).map((v) =>
    v.argument === "name" && args.stackName !== undefined ? { ...v, argument: "stackName" } : v,
  );
  found.push(
    ...listViolations(
      "environments",
      args.environments,
      isEnvironment,
      "environment",
      ENVIRONMENT_FIX,
    ),
  );
  found.push(...listViolations("arches", args.arches, isArchName, "arch", ARCH_FIX));
  const environments = (Array.isArray(args.environments) ? args.environments : []).filter(
    isEnvironment,
  );
  for (const environment of environments) {
    if (args.treeSnapshots?.[environment] === undefined) {
      found.push(
        violation(
          `treeSnapshots.${environment}`,
          undefined,
          "is missing",
          `give the commits of the Gentoo tree clone and the overlay that ${environment} builds from`,
        ),
      );
    }
  }
  const overlayName = args.overlayName ?? DEFAULT_OVERLAY_NAME;
  if (!isRepositoryName(overlayName) || overlayName === "gentoo") {
    found.push(
      violation(
        "overlayName",
        overlayName,
        "is not a usable repository name",
        'use letters, digits, "_" and "-", not ending in "-<digits>", and not "gentoo"',
      ),
    );
  }
  // Late-bound values given as plain values are checked now, not at render time: the
  // probe substitutes a valid placeholder for every value that is still an Output (any
  // other value, of whatever type, is checked as given).
  const known = <T>(value: unknown, placeholder: T): T =>
    (isLateBound(value) ? placeholder : value) as T;
  const mirrors: unknown = args.gentooMirrors;
  if (mirrors !== undefined && !isLateBound(mirrors) && !Array.isArray(mirrors)) {
    found.push(
      violation(
        "gentooMirrors",
        mirrors,
        "is not a list",
        'list the mirrors in order of preference, e.g. ["https://distfiles.gentoo.org"]',
      ),
    );
  }
  found.push(
    ...validateBuildProfileSettings({
      environment: "development",
      arch: "amd64",
      overlayName: typeof overlayName === "string" ? overlayName : DEFAULT_OVERLAY_NAME,
      binhostUrl: known(args.binhostUrl, "https://placeholder"),
      gentooSyncUri: known(args.gentooSyncUri, "https://placeholder"),
      overlaySyncUri: known(args.overlaySyncUri, "https://placeholder"),
      snapshot: { gentoo: "0".repeat(40), overlay: "0".repeat(40) },
      signingKeyFingerprint: known(args.signingKeyFingerprint, "0".repeat(40)),
      gentooMirrors: Array.isArray(mirrors)
        ? mirrors.map((m) => known(m, "https://placeholder"))
        : [],
      builderMakeJobs: args.builderMakeJobs ?? DEFAULT_BUILDER_MAKE_JOBS,
    }),
  );
  for (const environment of environments) {
    const commits: unknown = args.treeSnapshots?.[environment];
    if (commits === undefined || isLateBound(commits)) continue;
    if (typeof commits !== "object" || commits === null || Array.isArray(commits)) {
      found.push(
        violation(
          `treeSnapshots.${environment}`,
          commits,
          "is not a tree snapshot",
          "give { gentoo, overlay }: the commits of the Gentoo tree clone and of the overlay",
        ),
      );
      continue;
    }
    const given = commits as Partial<Record<"gentoo" | "overlay", unknown>>;
    for (const repo of ["gentoo", "overlay"] as const) {
      const commit = given[repo];
      if (!isLateBound(commit) && !matches(GIT_COMMIT, commit)) {
        found.push(
          violation(
            `treeSnapshots.${environment}.${repo}`,
            commit,
            "is not a full commit id",
            "use the 40 lower-case hex digits git prints for the branch's commit",
          ),
        );
      }
    }
  }
  return found;
}

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
  /** Build profiles keyed by `<environment>/<arch>`. */
  public readonly buildProfiles: Readonly<Record<string, StackBuildProfile>>;
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
        buildProfiles[`${environment}/${arch}`] = {
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
