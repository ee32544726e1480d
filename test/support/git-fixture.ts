/**
 * Real temporary git repositories for the snapshot and promotion tests. Every repository
 * lives under os.tmpdir(), has its own user.name/email, and is removed by `cleanup()`.
 * Commits get a fixed date, so a test can assert it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The author and committer date of every fixture commit. */
export const FIXTURE_DATE = "2025-01-02T03:04:05+00:00";

// No system or global config, no inherited GIT_DIR & co.: the fixture is the same everywhere.
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GIT_"))),
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_DATE: FIXTURE_DATE,
  GIT_COMMITTER_DATE: FIXTURE_DATE,
};

/** Runs git in `cwd` and returns its trimmed stdout; throws on failure. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: "pipe" }).trim();
}

/** A scratch directory and its removal. */
export interface Scratch {
  readonly dir: string;
  cleanup(): void;
}

/** Creates an empty directory under os.tmpdir(). */
export function scratch(prefix = "gi-snapshot-"): Scratch {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `git init` at `dir` (created if missing) on `branch`, with a local identity. */
export function initRepo(dir: string, options: { branch?: string; bare?: boolean } = {}): string {
  execFileSync("mkdir", ["-p", dir]);
  git(
    dir,
    "init",
    "--quiet",
    `--initial-branch=${options.branch ?? "master"}`,
    ...(options.bare ? ["--bare"] : []),
  );
  git(dir, "config", "user.name", "Fixture");
  git(dir, "config", "user.email", "fixture@example.invalid");
  git(dir, "config", "commit.gpgsign", "false");
  return dir;
}

/** Writes `files` (path → content), commits them on the current branch, returns the commit id. */
export function commit(dir: string, message: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    writeFileSync(join(dir, path), content);
    git(dir, "add", "--", path);
  }
  git(dir, "commit", "--quiet", "-m", message);
  return git(dir, "rev-parse", "HEAD");
}

/** The commit a local branch points at. */
export function tip(dir: string, branch: string): string {
  return git(dir, "rev-parse", `refs/heads/${branch}`);
}

/** Every ref of a repository with its commit, to assert that nothing moved. */
export function refs(dir: string): string {
  return git(dir, "for-each-ref", "--format=%(refname) %(objectname)");
}

/**
 * A git-flow repository: master with one commit, develop one commit ahead, and the given
 * release branches started at master's commit. HEAD stays on master. Fixtures with the same
 * `label` have the same commit ids (fixed dates), as clones of one repository would.
 */
export function gitFlowRepo(
  dir: string,
  releases: readonly string[] = [],
  label = "tree",
): GitFlowFixture {
  initRepo(dir);
  const master = commit(dir, "initial", { README: `${label}\n` });
  git(dir, "branch", "develop");
  git(dir, "checkout", "--quiet", "develop");
  const develop = commit(dir, "feature", { "feature.txt": "new\n" });
  git(dir, "checkout", "--quiet", "master");
  for (const release of releases) git(dir, "branch", release, master);
  return { dir, master, develop };
}

/** What {@link gitFlowRepo} created. */
export interface GitFlowFixture {
  readonly dir: string;
  /** The commit of master (and of every release branch). */
  readonly master: string;
  /** The commit of develop. */
  readonly develop: string;
}
