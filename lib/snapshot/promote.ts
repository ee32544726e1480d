/**
 * Promotion: moving one environment's branch into the next (development → staging →
 * production) in local repositories. Fast-forward only by default; named commits can be
 * cherry-picked instead (the zero-day path). Every repository is checked first and one
 * `ValidationError` names every refusal; nothing moves unless all repositories can move.
 */
import { realpath } from "node:fs/promises";
import { simpleGit } from "simple-git";
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import { type Pick, pickOnto } from "./cherry-pick";
import type { Environment } from "./environments";
import {
  type ResolvedGitFlowBranches,
  releaseBranches,
  resolveGitFlowBranches,
  selectBranch,
} from "./git-flow";
import {
  type PromoteOptions,
  type PromotionAction,
  type PromotionResult,
  validatePromotion,
} from "./promote-options";
import {
  branchCommit,
  commitsBetween,
  isAncestor,
  listWorktrees,
  type OpenRepository,
  openRepository,
  resolveCommit,
  unbornViolation,
  workingTreeChanges,
} from "./repository";

interface Plan {
  readonly repo: OpenRepository;
  readonly source: { readonly branch: string; readonly commit: string };
  readonly target: { readonly branch: string; readonly before: string | undefined };
  /** The worktree that has the target branch checked out, if any. */
  readonly checkedOutIn: string | undefined;
  readonly picks: Pick[];
  action: PromotionAction;
  after: string;
  commits: readonly string[];
}

/**
 * Promotes `from` into `to` in every repository of `options.repositories`: fast-forwards the
 * target branch to the source branch, or cherry-picks `options.cherryPick` onto it. Refuses
 * (one `ValidationError` naming every problem, nothing changed) unknown environments, a
 * backward promotion, a skipped environment unless allowed, a dirty working tree, a missing
 * branch, several release branches, a target that cannot be fast-forwarded, and picks that
 * are not on the source branch or do not apply cleanly.
 */
export async function promote(
  from: string,
  to: string,
  options: PromoteOptions,
): Promise<PromotionResult> {
  const subject = `promote ${from} to ${to}`;
  throwIfViolations(subject, validatePromotion(from, to, options));
  const source = from as Environment;
  const target = to as Environment;
  const branches = resolveGitFlowBranches(options.branches);
  const picking = (options.cherryPick ?? []).length > 0;

  const violations: Violation[] = [];
  const plans: Plan[] = [];
  for (const path of options.repositories) {
    const result = await planRepository(path, source, target, branches, options, picking);
    if ("plan" in result) plans.push(result.plan);
    violations.push(...result.violations);
  }
  if (picking) {
    const complete = plans.length === options.repositories.length;
    violations.push(...(await assignPicks(plans, options.cherryPick ?? [], source, complete)));
  }
  throwIfViolations(subject, violations);

  for (const plan of plans) {
    if (!picking || plan.picks.length === 0) continue;
    const outcome = await pickOnto(
      plan.repo.git,
      plan.repo.path,
      plan.target.before as string,
      plan.target.branch,
      plan.picks,
    );
    if (outcome.violation) violations.push(outcome.violation);
    else {
      plan.action = "cherry-pick";
      plan.after = outcome.tip;
      plan.commits = outcome.commits;
    }
  }
  throwIfViolations(subject, violations);

  const dryRun = options.dryRun === true;
  const pushed = new Set<Plan>();
  if (!dryRun) {
    for (const plan of plans) await apply(plan, `gentoo-infra: promote ${from} to ${to}`);
    if (options.push === true) {
      const remote = options.remote ?? "origin";
      for (const plan of plans.filter((p) => p.action !== "unchanged")) {
        const branch = plan.target.branch;
        try {
          await plan.repo.git.raw([
            "push",
            "--quiet",
            remote,
            `refs/heads/${branch}:refs/heads/${branch}`,
          ]);
          pushed.add(plan);
        } catch (error) {
          const first = String(error instanceof Error ? error.message : error).split("\n")[0];
          violations.push(
            violation(
              plan.repo.path,
              branch,
              `moved locally, but pushing it to ${remote} failed: ${first}`,
              `fetch ${remote}, reconcile, and push by hand (git push ${remote} ${branch})`,
            ),
          );
        }
      }
      throwIfViolations(subject, violations);
    }
  }
  return {
    from: source,
    to: target,
    dryRun,
    repositories: plans.map((plan) => ({
      path: plan.repo.path,
      action: plan.action,
      source: plan.source,
      target: { branch: plan.target.branch, before: plan.target.before, after: plan.after },
      commits: plan.commits,
      pushed: pushed.has(plan),
    })),
  };
}

async function planRepository(
  path: string,
  from: Environment,
  to: Environment,
  branches: ResolvedGitFlowBranches,
  options: PromoteOptions,
  picking: boolean,
): Promise<{ plan: Plan; violations: Violation[] } | { violations: Violation[] }> {
  const opened = await openRepository(path, path);
  if ("violation" in opened) return { violations: [opened.violation] };
  const repo = opened.repository;
  const unborn = unbornViolation(repo, path);
  if (unborn) return { violations: [unborn] };
  const out: Violation[] = [];

  const sourceSel = selectBranch(from, repo, branches, path);
  if (sourceSel.violation) out.push(sourceSel.violation);
  let targetBranch: string | undefined;
  let create = false;
  if (
    to === "staging" &&
    branches.release !== undefined &&
    !repo.local.includes(branches.release)
  ) {
    const others = releaseBranches(repo.local, branches);
    if (picking) {
      out.push(selectBranch(to, repo, branches, path).violation as Violation);
    } else if (others.length > 0) {
      out.push(
        violation(
          path,
          others,
          `already has a release branch, so ${branches.release} is not started (git-flow runs one release at a time)`,
          "promote the running release to production and delete its branch, or set branches.release to it",
        ),
      );
    } else {
      targetBranch = branches.release;
      create = true;
    }
  } else {
    const targetSel = selectBranch(to, repo, branches, path);
    if (targetSel.violation) out.push(targetSel.violation);
    targetBranch = targetSel.branch;
  }

  // A bare repository can have linked worktrees too; one may have the target checked out.
  const worktrees = await listWorktrees(repo.git);
  if (!repo.bare) {
    const changes = await workingTreeChanges(repo.git);
    if (changes.length > 0) out.push(dirty(path, path, changes));
  }
  const main = worktrees[0] ? await realpath(worktrees[0].path) : undefined;
  const holder = worktrees.find((w) => targetBranch !== undefined && w.branch === targetBranch);
  if (holder && (await realpath(holder.path)) !== main) {
    const changes = await workingTreeChanges(simpleGit({ baseDir: holder.path }));
    if (changes.length > 0) out.push(dirty(path, holder.path, changes));
  }
  if (options.push === true) {
    const remote = options.remote ?? "origin";
    const remotes = (await repo.git.getRemotes()).map((r) => r.name);
    if (!remotes.includes(remote)) {
      out.push(
        violation(
          path,
          remotes,
          `has no remote ${JSON.stringify(remote)} to push to`,
          "add it (git remote add NAME URL) or name a configured one (--remote NAME)",
        ),
      );
    }
  }
  if (sourceSel.branch === undefined || targetBranch === undefined) return { violations: out };

  const sourceCommit = await branchCommit(repo.git, sourceSel.branch);
  const before = create ? undefined : await branchCommit(repo.git, targetBranch);
  const plan: Plan = {
    repo,
    source: { branch: sourceSel.branch, commit: sourceCommit },
    target: { branch: targetBranch, before },
    checkedOutIn: holder?.path,
    picks: [],
    action: "unchanged",
    after: before ?? sourceCommit,
    commits: [],
  };
  if (picking) return { plan, violations: out };
  if (before === undefined) {
    plan.action = "create";
    plan.after = sourceCommit;
    return { plan, violations: out };
  }
  const onlyOnTarget = await commitsBetween(repo.git, sourceCommit, before);
  const gained = await commitsBetween(repo.git, before, sourceCommit);
  if (gained.length > 0 && onlyOnTarget.length > 0) {
    out.push(
      violation(
        path,
        onlyOnTarget.slice(0, 5).map((c) => c.slice(0, 12)),
        `cannot fast-forward ${targetBranch} to ${sourceSel.branch}: ${targetBranch} has ${plural(onlyOnTarget.length, "commit")} that ${sourceSel.branch} does not have`,
        `merge ${targetBranch} into ${sourceSel.branch} (the git-flow back-merge) and promote again, or bring single fixes over with --cherry-pick`,
      ),
    );
  } else if (gained.length > 0) {
    plan.action = "fast-forward";
    plan.after = sourceCommit;
    plan.commits = gained.reverse();
  }
  return { plan, violations: out };
}

/** Finds the repository of every pick and checks it is on the source and not on the target. */
async function assignPicks(
  plans: readonly Plan[],
  ids: readonly string[],
  from: Environment,
  complete: boolean,
): Promise<Violation[]> {
  const out: Violation[] = [];
  for (const [i, named] of ids.entries()) {
    const argument = `cherryPick[${i}]`;
    const found: { plan: Plan; commit: string }[] = [];
    for (const plan of plans) {
      const commit = await resolveCommit(plan.repo.git, named).catch(() => undefined);
      if (commit) found.push({ plan, commit });
    }
    if (found.length === 0) {
      // A repository that could not be opened may hold it; its own violation says why.
      if (!complete) continue;
      out.push(
        violation(
          argument,
          named,
          "is not a commit of any repository promoted",
          "name a commit of one of the repositories (--repo), by an unambiguous id",
        ),
      );
      continue;
    }
    if (found.length > 1) {
      out.push(
        violation(
          argument,
          named,
          `is a commit of several repositories: ${found.map((f) => f.plan.repo.path).join(", ")}`,
          "use a longer id, or promote each repository in its own run",
        ),
      );
      continue;
    }
    const { plan, commit } = found[0] as { plan: Plan; commit: string };
    const git = plan.repo.git;
    const parents = (await git.raw(["rev-list", "--parents", "-n", "1", commit])).trim().split(" ");
    if (parents.length > 2) {
      out.push(
        violation(argument, named, "is a merge commit", "name the commits it merged instead"),
      );
    } else if (!(await isAncestor(git, commit, plan.source.commit))) {
      out.push(
        violation(
          argument,
          named,
          `is not on ${plan.source.branch} (${from}) of ${plan.repo.path}`,
          `merge the fix into ${plan.source.branch} first: only commits ${from} already has are promoted`,
        ),
      );
    } else if (await isAncestor(git, commit, plan.target.before as string)) {
      out.push(
        violation(
          argument,
          named,
          `is already on ${plan.target.branch} of ${plan.repo.path}`,
          "drop it from the cherry-picks",
        ),
      );
    } else {
      plan.picks.push({ commit, named, argument });
    }
  }
  return out;
}

async function apply(plan: Plan, reason: string): Promise<void> {
  const { repo, target } = plan;
  if (plan.action === "unchanged") return;
  if (target.before === undefined) {
    await repo.git.raw(["branch", "--no-track", target.branch, plan.after]);
  } else if (plan.checkedOutIn !== undefined) {
    // The branch is checked out (and clean): move its working tree along with it.
    await simpleGit({ baseDir: plan.checkedOutIn }).raw([
      "merge",
      "--ff-only",
      "--quiet",
      plan.after,
    ]);
  } else {
    await repo.git.raw([
      "update-ref",
      "-m",
      reason,
      `refs/heads/${target.branch}`,
      plan.after,
      target.before,
    ]);
  }
}

function dirty(argument: string, worktree: string, changes: readonly string[]): Violation {
  const where = worktree === argument ? "" : ` in its worktree ${worktree}`;
  return violation(
    argument,
    changes.slice(0, 5),
    `has uncommitted changes${where}`,
    "commit or stash them (git stash --include-untracked) first: builders read the branches, not the working tree",
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
