/**
 * Applying named commits onto a branch without touching the user's working tree: the picks
 * run in a scratch worktree detached at the branch's commit, under the system temp
 * directory. On any failure the pick is aborted and the worktree removed, so the repository
 * is left exactly as it was; on success the caller moves the branch to the new commit.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SimpleGit, simpleGit } from "simple-git";
import { shWord } from "../host/shell";
import { type Violation, violation } from "../validation/violations";
import { commitsBetween } from "./repository";

/** One commit to apply, with the argument it came from (for messages). */
export interface Pick {
  /** Full id of the commit. */
  readonly commit: string;
  /** How the user named it, e.g. "1a2b3c4". */
  readonly named: string;
  /** The argument that named it, e.g. "cherryPick[0]". */
  readonly argument: string;
}

/** The environment variables git takes a commit's author and committer from. */
const IDENTITY_ENVIRONMENT = [
  "GIT_AUTHOR_NAME",
  "GIT_AUTHOR_EMAIL",
  "GIT_COMMITTER_NAME",
  "GIT_COMMITTER_EMAIL",
] as const;

/** The new commits (oldest first) and the resulting tip, or the violation that stopped it. */
export type PickOutcome =
  | { readonly tip: string; readonly commits: readonly string[]; readonly violation?: undefined }
  | { readonly violation: Violation };

/**
 * Cherry-picks `picks` in order onto `base` (a commit of the repository `git` opens), with
 * `-x` so each new commit names its origin. `targetBranch` and `path` only shape messages.
 */
export async function pickOnto(
  git: SimpleGit,
  path: string,
  base: string,
  targetBranch: string,
  picks: readonly Pick[],
): Promise<PickOutcome> {
  const dir = await mkdtemp(join(tmpdir(), "gentoo-infra-pick-"));
  try {
    await git.raw(["worktree", "add", "--detach", "--quiet", dir, base]);
    // simple-git drops every ambient GIT_* variable; the committer's identity may come from
    // them (a CI job without user.name), so these four pass.
    const scratch = simpleGit({ baseDir: dir, allowEnvironment: IDENTITY_ENVIRONMENT });
    for (const pick of picks) {
      try {
        await scratch.raw(["cherry-pick", "-x", pick.commit]);
      } catch (error) {
        return { violation: await pickFailure(scratch, path, targetBranch, pick, error) };
      }
    }
    const tip = (await scratch.raw(["rev-parse", "HEAD"])).trim();
    return { tip, commits: (await commitsBetween(git, base, tip)).reverse() };
  } finally {
    await git.raw(["worktree", "remove", "--force", dir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await git.raw(["worktree", "prune"]);
  }
}

async function pickFailure(
  scratch: SimpleGit,
  path: string,
  targetBranch: string,
  pick: Pick,
  error: unknown,
): Promise<Violation> {
  const conflicted = (await scratch.raw(["diff", "--name-only", "--diff-filter=U"]))
    .split("\n")
    .filter(Boolean);
  await scratch.raw(["cherry-pick", "--abort"]).catch(() => undefined);
  const [dir, branch, commit] = [shWord(path), shWord(targetBranch), shWord(pick.named)];
  const manual = `git -C ${dir} switch ${branch} && git -C ${dir} cherry-pick -x ${commit}`;
  if (conflicted.length > 0) {
    return violation(
      pick.argument,
      pick.named,
      `conflicts with ${targetBranch} of ${path} in ${conflicted.join(", ")}`,
      `nothing was changed; resolve it by hand (${manual}) or backport the fix as a new commit on develop`,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/now empty|nothing to commit/.test(message)) {
    return violation(
      pick.argument,
      pick.named,
      `changes nothing on ${targetBranch} of ${path} (its change is already there)`,
      "nothing was changed; drop it from the cherry-picks",
    );
  }
  const first = message.split("\n").find((line) => line.trim() !== "") ?? "unknown error";
  return violation(
    pick.argument,
    pick.named,
    `could not be applied onto ${targetBranch} of ${path}: ${first.trim()}`,
    `nothing was changed; apply it by hand (${manual})`,
  );
}
