/**
 * The git-flow mapping between environments and branches (develop → development,
 * release/* → staging, master → production). Pure: the caller lists the branches of a
 * repository, these functions decide which one an environment builds from.
 */
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import type { Environment } from "./environments";

/** Branch names of the git-flow model; every field has the git-flow default. */
export interface GitFlowBranches {
  /**
   * The branch development builds from and promotions start at.
   * @default "develop"
   */
  readonly develop?: string;
  /**
   * The branch production builds from (git-flow's "master"; set "main" where it is called so).
   * @default "master"
   */
  readonly master?: string;
  /**
   * Prefix of release branches; staging builds from the release branch.
   * @default "release/"
   */
  readonly releasePrefix?: string;
  /**
   * The release branch staging builds from; must start with `releasePrefix`. When it does not
   * exist yet, `promote("development", "staging")` starts it at the develop commit.
   * @default undefined: the single local branch whose name starts with `releasePrefix`;
   *   several such branches are an error that names them all.
   */
  readonly release?: string;
}

/** {@link GitFlowBranches} with the defaults filled in. */
export interface ResolvedGitFlowBranches {
  readonly develop: string;
  readonly master: string;
  readonly releasePrefix: string;
  readonly release: string | undefined;
}

/** The git-flow defaults: develop, master, release/. */
export const DEFAULT_GIT_FLOW_BRANCHES: ResolvedGitFlowBranches = {
  develop: "develop",
  master: "master",
  releasePrefix: "release/",
  release: undefined,
};

/** The branch names of one repository: local ones, and remote-tracking ones ("origin/develop"). */
export interface RepositoryBranches {
  readonly local: readonly string[];
  readonly remote: readonly string[];
}

// A conservative subset of git-check-ref-format(1), enough to catch typos before git does.
const BRANCH_NAME = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[^\s~^:?*[\\]+$/;

/** Whether `name` is usable as a branch name. */
export function isBranchName(name: string): boolean {
  return (
    BRANCH_NAME.test(name) &&
    ![...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) &&
    name !== "@" &&
    !name.endsWith("/") &&
    !name.endsWith(".") &&
    !name.endsWith(".lock") &&
    !name.split("/").some((part) => part.startsWith("."))
  );
}

/** Checks branch names: each valid, develop ≠ master, release under the release prefix. */
export function validateGitFlowBranches(
  branches: GitFlowBranches | undefined,
  argument = "branches",
): Violation[] {
  const b = { ...DEFAULT_GIT_FLOW_BRANCHES, ...stripUndefined(branches ?? {}) };
  const out: Violation[] = [];
  for (const field of ["develop", "master", "release"] as const) {
    const name = b[field];
    if (name !== undefined && !isBranchName(name)) {
      out.push(
        violation(
          `${argument}.${field}`,
          name,
          "is not a valid branch name",
          "use a name git accepts (see git check-ref-format --branch)",
        ),
      );
    }
  }
  if (!/^[^\s~^:?*[\\]+\/$/.test(b.releasePrefix) || b.releasePrefix.startsWith("-")) {
    out.push(
      violation(
        `${argument}.releasePrefix`,
        b.releasePrefix,
        'is not a branch name prefix ending in "/"',
        'use e.g. "release/"',
      ),
    );
  }
  if (b.develop === b.master) {
    out.push(
      violation(
        `${argument}.master`,
        b.master,
        "is the same branch as develop",
        "development and production need their own branches",
      ),
    );
  }
  if (b.release !== undefined && !b.release.startsWith(b.releasePrefix)) {
    out.push(
      violation(
        `${argument}.release`,
        b.release,
        `does not start with the release prefix ${JSON.stringify(b.releasePrefix)}`,
        `name it ${b.releasePrefix}<version>, or change releasePrefix`,
      ),
    );
  }
  for (const field of ["develop", "master"] as const) {
    if (b[field].startsWith(b.releasePrefix)) {
      out.push(
        violation(
          `${argument}.${field}`,
          b[field],
          `starts with the release prefix ${JSON.stringify(b.releasePrefix)}`,
          "keep release branches apart from develop and master",
        ),
      );
    }
  }
  return out;
}

/** Fills in the defaults; throws a `ValidationError` naming every invalid name. */
export function resolveGitFlowBranches(branches?: GitFlowBranches): ResolvedGitFlowBranches {
  throwIfViolations("git-flow branches", validateGitFlowBranches(branches));
  return { ...DEFAULT_GIT_FLOW_BRANCHES, ...stripUndefined(branches ?? {}) };
}

/** The environment that builds from `branch`, or undefined (feature/*, hotfix/*, others). */
export function environmentForBranch(
  branch: string,
  branches?: GitFlowBranches,
): Environment | undefined {
  const b = resolveGitFlowBranches(branches);
  if (branch === b.develop) return "development";
  if (branch === b.master) return "production";
  if (b.release !== undefined ? branch === b.release : branch.startsWith(b.releasePrefix)) {
    return "staging";
  }
  return undefined;
}

/** The local release branches of a repository, sorted. */
export function releaseBranches(
  local: readonly string[],
  branches: ResolvedGitFlowBranches,
): string[] {
  return local.filter((name) => name.startsWith(branches.releasePrefix)).sort();
}

/** The outcome of {@link selectBranch}: the branch, or the violation that says why not. */
export type BranchSelection =
  | { readonly branch: string; readonly violation?: undefined }
  | { readonly branch?: undefined; readonly violation: Violation };

/**
 * Chooses the branch `environment` builds from among a repository's local branches:
 * develop for development, master for production; for staging the configured release
 * branch, else the single `release/*` branch. Never throws: a missing branch or several
 * release candidates come back as a violation against `argument`.
 */
export function selectBranch(
  environment: Environment,
  repository: RepositoryBranches,
  branches: ResolvedGitFlowBranches,
  argument: string,
): BranchSelection {
  if (environment === "staging" && branches.release === undefined) {
    const candidates = releaseBranches(repository.local, branches);
    if (candidates.length === 1) return { branch: candidates[0] as string };
    if (candidates.length === 0) {
      return {
        violation: violation(
          argument,
          [...repository.local].sort(),
          `has no release branch (${branches.releasePrefix}*) for staging`,
          `start one with: gentoo-infra promote development staging --release ${branches.releasePrefix}<version>`,
        ),
      };
    }
    return {
      violation: violation(
        argument,
        candidates,
        "has several release branches for staging",
        "set branches.release (--release) to the one staging builds from, or delete the finished ones",
      ),
    };
  }
  const name =
    environment === "development"
      ? branches.develop
      : environment === "production"
        ? branches.master
        : (branches.release as string);
  if (repository.local.includes(name)) return { branch: name };
  const field =
    environment === "development" ? "develop" : environment === "production" ? "master" : "release";
  const tracking = repository.remote.filter((r) => r.slice(r.indexOf("/") + 1) === name).sort();
  const fix =
    tracking.length > 0
      ? `create it from the remote-tracking branch: git branch --track ${name} ${tracking[0]}`
      : environment === "staging"
        ? `start it with: gentoo-infra promote development staging --release ${name}, or correct branches.release`
        : `create it (git branch ${name} <start-point>), or set branches.${field} to the branch ${environment} builds from`;
  return {
    violation: violation(
      argument,
      [...repository.local].sort(),
      `has no local branch ${JSON.stringify(name)} for ${environment}`,
      fix,
    ),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
