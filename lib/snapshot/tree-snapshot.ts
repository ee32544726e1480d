/**
 * Tree snapshots: the commit of the Gentoo tree clone and of the overlay that an environment
 * builds from, read from local branches with simple-git. Nothing is fetched: the snapshot is
 * what the local clones hold, so a preview names exactly the commits a builder will sync.
 */
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import { ENVIRONMENT_FIX, type Environment, isEnvironment } from "./environments";
import {
  type GitFlowBranches,
  resolveGitFlowBranches,
  selectBranch,
  validateGitFlowBranches,
} from "./git-flow";
import { describeHead, openRepository, unbornViolation } from "./repository";

/** Where one repository lives and how its branches are named. */
export interface RepositoryLocation {
  /** Path of the local clone (or bare repository). */
  readonly path: string;
  /**
   * git-flow branch names of this repository.
   * @default develop, master and release/* (see {@link GitFlowBranches})
   */
  readonly branches?: GitFlowBranches;
}

/** The commit one repository's environment branch points at. */
export interface RepositorySnapshot {
  /** Path of the repository, as given. */
  readonly path: string;
  /** The local branch the environment builds from, e.g. "release/2025.01". */
  readonly branch: string;
  /** Full commit id (40 hex digits) the branch points at. */
  readonly commit: string;
  /** Committer date of that commit, ISO 8601 with the committer's offset. */
  readonly date: string;
}

/** The commits an environment builds from. Plain data: safe to pass into any component. */
export interface TreeSnapshot {
  readonly environment: Environment;
  /** The Gentoo tree clone. */
  readonly gentoo: RepositorySnapshot;
  /** The overlay. */
  readonly overlay: RepositorySnapshot;
}

/** Arguments of {@link readTreeSnapshot}. */
export interface TreeSnapshotArgs {
  /** The environment whose branches are read. */
  readonly environment: Environment;
  /** The local clone of the Gentoo tree. */
  readonly gentoo: RepositoryLocation;
  /** The local clone of the overlay. */
  readonly overlay: RepositoryLocation;
}

/**
 * Reads the commit `args.environment` builds from in the Gentoo tree clone and in the overlay.
 * Throws one `ValidationError` naming every problem of both repositories (missing
 * repository, missing branch, several release branches, no commits).
 */
export async function readTreeSnapshot(args: TreeSnapshotArgs): Promise<TreeSnapshot> {
  const subject = `tree snapshot for ${String(args.environment)}`;
  if (!isEnvironment(args.environment)) {
    throwIfViolations(subject, [
      violation("environment", args.environment, "is not an environment", ENVIRONMENT_FIX),
    ]);
  }
  const [gentoo, overlay] = await Promise.all([
    inspectSnapshot(args.gentoo, args.environment, "gentoo"),
    inspectSnapshot(args.overlay, args.environment, "overlay"),
  ]);
  throwIfViolations(subject, [...gentoo.violations, ...overlay.violations]);
  return {
    environment: args.environment,
    gentoo: gentoo.snapshot as RepositorySnapshot,
    overlay: overlay.snapshot as RepositorySnapshot,
  };
}

/**
 * Reads the commit `environment` builds from in one repository. Throws one
 * `ValidationError` when the repository or the branch is missing.
 */
export async function readRepositorySnapshot(
  location: RepositoryLocation,
  environment: Environment,
): Promise<RepositorySnapshot> {
  const result = await inspectSnapshot(location, environment, "repository");
  throwIfViolations(`${environment} branch of ${location.path}`, result.violations);
  return result.snapshot as RepositorySnapshot;
}

async function inspectSnapshot(
  location: RepositoryLocation,
  environment: Environment,
  argument: string,
): Promise<{ snapshot?: RepositorySnapshot; violations: Violation[] }> {
  const invalid = validateGitFlowBranches(location.branches, `${argument}.branches`);
  if (invalid.length > 0) return { violations: invalid };
  const branches = resolveGitFlowBranches(location.branches);
  const opened = await openRepository(location.path, argument);
  if ("violation" in opened) return { violations: [opened.violation] };
  const repo = opened.repository;
  const unborn = unbornViolation(repo, argument);
  if (unborn) return { violations: [unborn] };
  const selected = selectBranch(environment, repo, branches, argument);
  if (selected.violation) {
    const v = selected.violation;
    const problem =
      repo.head.kind === "detached" ? `${v.problem} (${describeHead(repo.head)})` : v.problem;
    return { violations: [{ ...v, problem }] };
  }
  const out = await repo.git.raw([
    "log",
    "-1",
    "--format=%H%n%cI",
    `refs/heads/${selected.branch}`,
  ]);
  const [commit = "", date = ""] = out.trim().split("\n");
  return {
    snapshot: { path: location.path, branch: selected.branch, commit, date },
    violations: [],
  };
}

/** The two commit ids of a snapshot: the shape `Stack`'s `treeSnapshots` entries take. */
export function snapshotCommits(snapshot: TreeSnapshot): {
  readonly gentoo: string;
  readonly overlay: string;
} {
  return { gentoo: snapshot.gentoo.commit, overlay: snapshot.overlay.commit };
}
