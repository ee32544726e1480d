/**
 * The contract of {@link promote}: its options, its result, and the checks that need no
 * repository (environments, order, skip, commit ids, names). Pure.
 */
import { resolve } from "node:path";
import { type Violation, violation } from "../validation/violations";
import { ENVIRONMENT_FIX, ENVIRONMENTS, type Environment, isEnvironment } from "./environments";
import { type GitFlowBranches, isBranchName, validateGitFlowBranches } from "./git-flow";
import type { promote } from "./promote";

/** Options of {@link promote}. */
export interface PromoteOptions {
  /** Paths of the local clones (or bare repositories) to promote, e.g. the Gentoo tree and the overlay. */
  readonly repositories: readonly string[];
  /**
   * git-flow branch names, the same for every repository. Setting `release` to a branch that
   * does not exist makes `development → staging` start it at the develop commit.
   * @default develop, master and release/* (see {@link GitFlowBranches})
   */
  readonly branches?: GitFlowBranches;
  /**
   * Commit ids to cherry-pick onto the target branch, in this order, instead of fast-forwarding
   * it (the zero-day path). Each must be a commit of exactly one repository, on its source branch.
   * @default [] (fast-forward the target branch to the source branch)
   */
  readonly cherryPick?: readonly string[];
  /**
   * Allow development → production, skipping staging.
   * @default false (refused)
   */
  readonly allowSkip?: boolean;
  /**
   * Push every target branch that moved to `remote` (never forced).
   * @default false (nothing leaves the machine)
   */
  readonly push?: boolean;
  /**
   * The remote `push` pushes to.
   * @default "origin"
   */
  readonly remote?: string;
  /**
   * Check everything (cherry-picks run in a scratch worktree) and report what would happen,
   * without moving or pushing any branch.
   * @default false
   */
  readonly dryRun?: boolean;
}

/** What happened (or would happen) to one repository's target branch. */
export type PromotionAction = "fast-forward" | "create" | "cherry-pick" | "unchanged";

/** The promotion of one repository. */
export interface RepositoryPromotion {
  /** The repository's path, as given. */
  readonly path: string;
  /**
   * fast-forward: the target moved to the source commit; create: the release branch was
   * started at the source commit; cherry-pick: the picks were applied onto the target;
   * unchanged: the target already contains the source, or no pick belongs to this repository.
   */
  readonly action: PromotionAction;
  /** The source branch and its commit. */
  readonly source: { readonly branch: string; readonly commit: string };
  /**
   * The target branch, its commit before (undefined when created) and after. After a dry-run
   * cherry-pick, `after` is the scratch commit; a real run makes a new id (new commit date).
   */
  readonly target: {
    readonly branch: string;
    readonly before: string | undefined;
    readonly after: string;
  };
  /** Commits the target gains, oldest first (empty for create and unchanged). */
  readonly commits: readonly string[];
  /** Whether the target branch was pushed. */
  readonly pushed: boolean;
}

/** The outcome of {@link promote}. */
export interface PromotionResult {
  readonly from: Environment;
  readonly to: Environment;
  readonly dryRun: boolean;
  /** One entry per repository, in the order given. */
  readonly repositories: readonly RepositoryPromotion[];
}

const COMMIT_ID = /^[0-9a-f]{7,40}$/i;

/** Checks the arguments of {@link promote} that need no repository. */
export function validatePromotion(from: string, to: string, options: PromoteOptions): Violation[] {
  const out: Violation[] = [];
  if (!isEnvironment(from))
    out.push(violation("from", from, "is not an environment", ENVIRONMENT_FIX));
  if (!isEnvironment(to)) out.push(violation("to", to, "is not an environment", ENVIRONMENT_FIX));
  if (isEnvironment(from) && isEnvironment(to)) {
    const step = ENVIRONMENTS.indexOf(to) - ENVIRONMENTS.indexOf(from);
    if (step === 0) {
      out.push(
        violation("to", to, "is the environment promoted from", "promote to the next environment"),
      );
    } else if (step < 0) {
      out.push(
        violation(
          "to",
          to,
          `comes before ${from}: promotion goes development → staging → production`,
          "merge back (e.g. master into develop after a release) with git merge by hand",
        ),
      );
    } else if (step > 1 && options.allowSkip !== true) {
      out.push(
        violation(
          "to",
          to,
          `skips staging: ${from} → ${to}`,
          "promote development to staging first, or allow the skip (--allow-skip, allowSkip: true)",
        ),
      );
    }
  }
  if (options.repositories.length === 0) {
    out.push(
      violation("repositories", [], "is empty", "name at least one repository (--repo PATH)"),
    );
  }
  const seen = new Set<string>();
  options.repositories.forEach((path, i) => {
    const key = resolve(path);
    if (seen.has(key)) {
      out.push(
        violation(`repositories[${i}]`, path, "is named twice", "name each repository once"),
      );
    }
    seen.add(key);
  });
  const picks = options.cherryPick ?? [];
  picks.forEach((id, i) => {
    if (!COMMIT_ID.test(id)) {
      out.push(
        violation(
          `cherryPick[${i}]`,
          id,
          "is not a commit id",
          "name the commit by its hexadecimal id (7 to 40 digits)",
        ),
      );
    } else if (picks.findIndex((other) => other.toLowerCase() === id.toLowerCase()) < i) {
      out.push(violation(`cherryPick[${i}]`, id, "is named twice", "name each commit once"));
    }
  });
  if (options.push === true && !isBranchName(options.remote ?? "origin")) {
    out.push(
      violation("remote", options.remote, "is not a remote name", "name a configured remote"),
    );
  }
  out.push(...validateGitFlowBranches(options.branches));
  return out;
}
