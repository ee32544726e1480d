/**
 * Reading a local git repository with simple-git: is it one, its branches, its HEAD, whether
 * its working tree is clean. Nothing here fetches, pushes or changes the repository.
 */
import { realpath, stat } from "node:fs/promises";
import { type SimpleGit, simpleGit } from "simple-git";
import { type Violation, violation } from "../validation/violations";
import type { RepositoryBranches } from "./git-flow";

/** Where HEAD points: a branch, a detached commit, or an unborn branch (no commits yet). */
export type HeadState =
  | { readonly kind: "branch"; readonly branch: string; readonly commit: string }
  | { readonly kind: "detached"; readonly commit: string }
  | { readonly kind: "unborn"; readonly branch: string };

/** An opened repository (internal to lib/snapshot). */
export interface OpenRepository extends RepositoryBranches {
  readonly path: string;
  readonly git: SimpleGit;
  readonly bare: boolean;
  readonly head: HeadState;
}

/** Opens `path` as a git repository, or returns the violation saying why it is not one. */
export async function openRepository(
  path: string,
  argument: string,
): Promise<{ repository: OpenRepository } | { violation: Violation }> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    return {
      violation: violation(
        argument,
        path,
        "does not exist",
        "pass the path of the repository's local clone",
      ),
    };
  }
  if (!info.isDirectory()) {
    return {
      violation: violation(
        argument,
        path,
        "is not a directory",
        "pass the path of the repository's local clone",
      ),
    };
  }
  const git = simpleGit({ baseDir: path });
  let bare: boolean;
  let top: string;
  try {
    bare = (await git.revparse(["--is-bare-repository"])) === "true";
    top = bare
      ? await git.revparse(["--absolute-git-dir"])
      : await git.revparse(["--show-toplevel"]);
  } catch {
    return {
      violation: violation(
        argument,
        path,
        "is not a git repository",
        "pass the path of a local clone (the directory that holds .git), or clone it there",
      ),
    };
  }
  if ((await realpath(top)) !== (await realpath(path))) {
    return {
      violation: violation(
        argument,
        path,
        `is inside the git repository ${top}, not its top directory`,
        `pass ${top}`,
      ),
    };
  }
  const refs = await git.raw(["for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes"]);
  const local: string[] = [];
  const remote: string[] = [];
  for (const ref of refs.split("\n").filter(Boolean)) {
    if (ref.startsWith("refs/heads/")) local.push(ref.slice("refs/heads/".length));
    else if (!ref.endsWith("/HEAD")) remote.push(ref.slice("refs/remotes/".length));
  }
  return { repository: { path, git, bare, head: await readHead(git), local, remote } };
}

async function readHead(git: SimpleGit): Promise<HeadState> {
  // Both commands exit 1 without stderr in the "not a branch" / "no commit" case, which
  // simple-git reports as empty output rather than an error.
  const symbolic = (await git.raw(["symbolic-ref", "-q", "HEAD"])).trim();
  const commit = (await git.raw(["rev-parse", "-q", "--verify", "HEAD^{commit}"])).trim();
  const branch = symbolic.replace(/^refs\/heads\//, "");
  if (commit === "") return { kind: "unborn", branch };
  if (symbolic === "") return { kind: "detached", commit };
  return { kind: "branch", branch, commit };
}

/** Describes HEAD for a message: "HEAD is detached at 1a2b3c4". */
export function describeHead(head: HeadState): string {
  switch (head.kind) {
    case "branch":
      return `HEAD is on ${head.branch}`;
    case "detached":
      return `HEAD is detached at ${head.commit.slice(0, 12)}`;
    case "unborn":
      return `HEAD is unborn: ${head.branch} has no commits`;
  }
}

/** The violation for a repository without any commit, or undefined. */
export function unbornViolation(repo: OpenRepository, argument: string): Violation | undefined {
  if (repo.local.length > 0 || repo.head.kind !== "unborn") return undefined;
  return violation(
    argument,
    repo.path,
    "has no commits (HEAD is unborn)",
    "clone or fetch the repository's history into it first",
  );
}

/** The commit id a local branch points at. */
export async function branchCommit(git: SimpleGit, branch: string): Promise<string> {
  return (await git.raw(["rev-parse", "--verify", `refs/heads/${branch}^{commit}`])).trim();
}

/** The full id of `rev` as a commit, or undefined when `rev` names no commit here. */
export async function resolveCommit(git: SimpleGit, rev: string): Promise<string | undefined> {
  const out = (await git.raw(["rev-parse", "-q", "--verify", `${rev}^{commit}`])).trim();
  return out === "" ? undefined : out;
}

/** Commits reachable from `to` but not from `from`, newest first. */
export async function commitsBetween(git: SimpleGit, from: string, to: string): Promise<string[]> {
  return (await git.raw(["rev-list", `${from}..${to}`])).split("\n").filter(Boolean);
}

/** Whether commit `ancestor` is reachable from commit `descendant` (both full ids). */
export async function isAncestor(
  git: SimpleGit,
  ancestor: string,
  descendant: string,
): Promise<boolean> {
  return (await commitsBetween(git, descendant, ancestor)).length === 0;
}

/** `git status --porcelain` lines of a working tree (tracked changes and untracked files). */
export async function workingTreeChanges(git: SimpleGit): Promise<string[]> {
  return (await git.raw(["status", "--porcelain"])).split("\n").filter(Boolean);
}

/** A worktree of a repository, from `git worktree list --porcelain`. */
export interface Worktree {
  readonly path: string;
  readonly branch: string | undefined;
}

/** The worktrees of a repository (the main one first), with the branch each has checked out. */
export async function listWorktrees(git: SimpleGit): Promise<Worktree[]> {
  const out = await git.raw(["worktree", "list", "--porcelain"]);
  return out
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const path = (lines.find((l) => l.startsWith("worktree ")) ?? "").slice("worktree ".length);
      const ref = lines.find((l) => l.startsWith("branch "))?.slice("branch ".length);
      return { path, branch: ref?.replace(/^refs\/heads\//, "") };
    });
}
