/**
 * What a builder's build script (./build-script, lib/buildfarm/build.sh) records and where:
 * the outcome of a build, its phases, the status directory, the keyring Portage verifies
 * binary packages with. Plain data, no Pulumi.
 */

/** Where a build records its outcome and what it published (a persistent directory). */
export const DEFAULT_BUILD_STATUS_DIR = "/var/lib/gentoo-infra/builds";

/** The keyring Portage verifies binary packages with (make.conf's BINPKG_GPG_VERIFY_GPG_HOME). */
export const VERIFY_GPG_HOME = "/etc/portage/gnupg";

/** The phases a build reports durations for, in order. */
export const BUILD_PHASES = [
  "prepare",
  "fetch",
  "emerge",
  "sign",
  "prune",
  "upload",
  "publish",
] as const;

/** One phase of {@link BUILD_PHASES}. */
export type BuildPhase = (typeof BUILD_PHASES)[number];

/**
 * The outcome a build POSTs to `notifyUrl` and keeps in `<statusDir>/<env>-<arch>-<stack>.json`
 * (what `gentoo-infra build-status` and `scripts/site info` show).
 */
export interface BuildOutcome {
  /** `<env>/<arch>/<stack>`. */
  readonly buildProfile: string;
  /** `success` or `failure`. */
  readonly status: "success" | "failure";
  /** The step that ran last (the failing one on failure, `finished` on success). */
  readonly step: string;
  /** The script's exit status. */
  readonly exitCode: number;
  /** Binary packages this build added to the build profile's repository (`<category>/<PF>-<BUILD_ID>`). */
  readonly packages: readonly string[];
  /** Binary packages the retention prune removed. */
  readonly pruned: readonly string[];
  /** Whether a new index was published (false when nothing changed or the build failed). */
  readonly published: boolean;
  /** Wall-clock seconds of the whole build. */
  readonly durationSeconds: number;
  /** Seconds per phase (phases that did not run are absent). */
  readonly phases: Readonly<Partial<Record<BuildPhase, number>>>;
  /** ISO 8601 UTC start and end. */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The snapshot commits built. */
  readonly treeCommit: string;
  readonly overlayCommit: string;
  /** The builder's host name. */
  readonly host: string;
  /** Where the build's output is: `journalctl -u <service>` on the builder. */
  readonly log: string;
}
