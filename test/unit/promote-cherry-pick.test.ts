import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { promote } from "../../lib/snapshot";
import { ValidationError } from "../../lib/validation";
import {
  commit,
  type GitFlowFixture,
  git,
  gitFlowRepo,
  refs,
  type Scratch,
  scratch,
  tip,
} from "../support/git-fixture";

function refusal(message: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ValidationError, String(error));
    assert.equal(error.message, message);
    return true;
  };
}

/** A git-flow repository whose develop has a feature and then a security fix. */
function withFix(dir: string, label = "gentoo"): GitFlowFixture & { fix: string } {
  const repo = gitFlowRepo(dir, ["release/1"], label);
  git(dir, "checkout", "--quiet", "develop");
  const fix = commit(dir, "fix CVE-2025-0001", { "security.txt": "patched\n" });
  git(dir, "checkout", "--quiet", "master");
  return { ...repo, fix };
}

/** The repository's state a refused promotion must not change. */
function state(dir: string) {
  return {
    refs: refs(dir),
    head: git(dir, "symbolic-ref", "HEAD"),
    status: git(dir, "status", "--porcelain"),
    worktrees: git(dir, "worktree", "list", "--porcelain"),
    cherryPickHead: existsSync(join(dir, ".git", "CHERRY_PICK_HEAD")),
  };
}

describe("promote: cherry-pick (the zero-day path)", () => {
  let tmp: Scratch;
  let repo: GitFlowFixture & { fix: string };
  beforeEach(() => {
    tmp = scratch("gi-cherry-pick-");
    repo = withFix(join(tmp.dir, "gentoo"));
  });
  afterEach(() => tmp.cleanup());

  it("applies only the named commit onto the release branch and records its origin", async () => {
    const result = await promote("development", "staging", {
      repositories: [repo.dir],
      cherryPick: [repo.fix.slice(0, 10)],
    });
    const after = tip(repo.dir, "release/1");
    assert.deepEqual(result.repositories[0], {
      path: repo.dir,
      action: "cherry-pick",
      source: { branch: "develop", commit: repo.fix },
      target: { branch: "release/1", before: repo.master, after },
      commits: [after],
      pushed: false,
    });
    assert.equal(git(repo.dir, "rev-parse", `${after}^`), repo.master);
    assert.deepEqual(git(repo.dir, "ls-tree", "--name-only", after).split("\n"), [
      "README",
      "security.txt",
    ]);
    assert.match(
      git(repo.dir, "log", "-1", "--format=%B", after),
      new RegExp(`\\(cherry picked from commit ${repo.fix}\\)`),
    );
    assert.equal(git(repo.dir, "worktree", "list").split("\n").length, 1);
    assert.equal(git(repo.dir, "symbolic-ref", "HEAD"), "refs/heads/master");
  });

  it("updates the working tree when the target branch is checked out", async () => {
    git(repo.dir, "checkout", "--quiet", "release/1");
    await promote("development", "staging", {
      repositories: [repo.dir],
      cherryPick: [repo.fix],
    });
    assert.equal(readFileSync(join(repo.dir, "security.txt"), "utf8"), "patched\n");
    assert.equal(existsSync(join(repo.dir, "feature.txt")), false);
    assert.equal(git(repo.dir, "status", "--porcelain"), "");
  });

  it("goes straight to production when the skip is allowed", async () => {
    await promote("development", "production", {
      repositories: [repo.dir],
      cherryPick: [repo.fix],
      allowSkip: true,
    });
    assert.equal(git(repo.dir, "rev-parse", "master^"), repo.master);
    assert.equal(readFileSync(join(repo.dir, "security.txt"), "utf8"), "patched\n");
  });

  it("takes the committer from GIT_COMMITTER_NAME/EMAIL (simple-git drops other GIT_* variables)", async () => {
    const saved = { name: process.env.GIT_COMMITTER_NAME, email: process.env.GIT_COMMITTER_EMAIL };
    process.env.GIT_COMMITTER_NAME = "Zero-day Operator";
    process.env.GIT_COMMITTER_EMAIL = "operator@example.invalid";
    try {
      await promote("development", "production", {
        repositories: [repo.dir],
        cherryPick: [repo.fix],
        allowSkip: true,
      });
    } finally {
      for (const [key, value] of [
        ["GIT_COMMITTER_NAME", saved.name],
        ["GIT_COMMITTER_EMAIL", saved.email],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    assert.equal(
      git(repo.dir, "log", "-1", "--format=%cn <%ce>", "master"),
      "Zero-day Operator <operator@example.invalid>",
    );
  });

  it("picks each commit in the repository that has it and leaves the others unchanged", async () => {
    const overlay = withFix(join(tmp.dir, "overlay"), "overlay");
    const third = gitFlowRepo(join(tmp.dir, "third"), ["release/1"]);
    const result = await promote("development", "staging", {
      repositories: [repo.dir, overlay.dir, third.dir],
      cherryPick: [overlay.fix, repo.fix],
    });
    assert.deepEqual(
      result.repositories.map((r) => r.action),
      ["cherry-pick", "cherry-pick", "unchanged"],
    );
    assert.equal(git(overlay.dir, "rev-parse", "release/1^"), overlay.master);
    assert.equal(tip(third.dir, "release/1"), third.master);
  });

  it("dry run proves the picks apply and moves nothing", async () => {
    const before = state(repo.dir);
    const result = await promote("development", "staging", {
      repositories: [repo.dir],
      cherryPick: [repo.fix],
      dryRun: true,
    });
    assert.equal(result.repositories[0]?.action, "cherry-pick");
    assert.deepEqual(state(repo.dir), before);
  });

  it("aborts a conflicting pick and leaves the repository as it was", async () => {
    // An earlier pick that applies, then one that conflicts: neither may stay.
    git(repo.dir, "checkout", "--quiet", "develop");
    const clean = commit(repo.dir, "unrelated fix", { "other.txt": "fixed\n" });
    git(repo.dir, "checkout", "--quiet", "release/1");
    commit(repo.dir, "release-only fix", { "security.txt": "different\n" });
    const before = state(repo.dir);
    await assert.rejects(
      promote("development", "staging", {
        repositories: [repo.dir],
        cherryPick: [clean, repo.fix.slice(0, 12)],
      }),
      refusal(
        [
          "promote development to staging: 1 problem:",
          `- cherryPick[1]: conflicts with release/1 of ${repo.dir} in security.txt (got "${repo.fix.slice(0, 12)}"); nothing was changed; resolve it by hand (git -C ${repo.dir} switch release/1 && git -C ${repo.dir} cherry-pick -x ${repo.fix.slice(0, 12)}) or backport the fix as a new commit on develop`,
        ].join("\n"),
      ),
    );
    assert.deepEqual(state(repo.dir), before);
  });

  it("refuses picks that are unknown, not on develop, already on the target or merges", async () => {
    git(repo.dir, "checkout", "--quiet", "-b", "feature/y", "master");
    const side = commit(repo.dir, "side work", { "side.txt": "x\n" });
    git(repo.dir, "checkout", "--quiet", "-b", "feature/z", "develop");
    commit(repo.dir, "z work", { "z.txt": "z\n" });
    git(repo.dir, "checkout", "--quiet", "develop");
    git(repo.dir, "merge", "--quiet", "--no-ff", "-m", "merge z", "feature/z");
    const merge = git(repo.dir, "rev-parse", "HEAD");
    git(repo.dir, "checkout", "--quiet", "master");
    const before = state(repo.dir);
    await assert.rejects(
      promote("development", "staging", {
        repositories: [repo.dir],
        cherryPick: ["deadbeef", side, repo.master, merge],
      }),
      refusal(
        [
          "promote development to staging: 4 problems:",
          '- cherryPick[0]: is not a commit of any repository promoted (got "deadbeef"); name a commit of one of the repositories (--repo), by an unambiguous id',
          `- cherryPick[1]: is not on develop (development) of ${repo.dir} (got "${side}"); merge the fix into develop first: only commits development already has are promoted`,
          `- cherryPick[2]: is already on release/1 of ${repo.dir} (got "${repo.master}"); drop it from the cherry-picks`,
          `- cherryPick[3]: is a merge commit (got "${merge}"); name the commits it merged instead`,
        ].join("\n"),
      ),
    );
    assert.deepEqual(state(repo.dir), before);
  });

  it("refuses a pick that is a commit of several repositories", async () => {
    const clone = withFix(join(tmp.dir, "clone"));
    await assert.rejects(
      promote("development", "staging", {
        repositories: [repo.dir, clone.dir],
        cherryPick: [repo.fix],
      }),
      refusal(
        [
          "promote development to staging: 1 problem:",
          `- cherryPick[0]: is a commit of several repositories: ${repo.dir}, ${clone.dir} (got "${repo.fix}"); use a longer id, or promote each repository in its own run`,
        ].join("\n"),
      ),
    );
  });

  it("refuses to pick onto a release branch that does not exist yet", async () => {
    await assert.rejects(
      promote("development", "staging", {
        repositories: [repo.dir],
        cherryPick: [repo.fix],
        branches: { release: "release/2" },
      }),
      refusal(
        [
          "promote development to staging: 1 problem:",
          `- ${repo.dir}: has no local branch "release/2" for staging (got ["develop","master","release/1"]); start it with: gentoo-infra promote development staging --release release/2, or correct branches.release`,
        ].join("\n"),
      ),
    );
  });
});
