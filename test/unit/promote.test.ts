import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
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

const short = (commit: string) => commit.slice(0, 12);

describe("promote: fast-forward", () => {
  let tmp: Scratch;
  let repo: GitFlowFixture;
  beforeEach(() => {
    tmp = scratch("gi-promote-");
    repo = gitFlowRepo(join(tmp.dir, "overlay"), ["release/1"]);
  });
  afterEach(() => tmp.cleanup());

  it("fast-forwards the release branch to develop and leaves HEAD and the working tree alone", async () => {
    const result = await promote("development", "staging", { repositories: [repo.dir] });
    assert.deepEqual(result, {
      from: "development",
      to: "staging",
      dryRun: false,
      repositories: [
        {
          path: repo.dir,
          action: "fast-forward",
          source: { branch: "develop", commit: repo.develop },
          target: { branch: "release/1", before: repo.master, after: repo.develop },
          commits: [repo.develop],
          pushed: false,
        },
      ],
    });
    assert.equal(tip(repo.dir, "release/1"), repo.develop);
    assert.equal(git(repo.dir, "symbolic-ref", "HEAD"), "refs/heads/master");
    assert.equal(git(repo.dir, "status", "--porcelain"), "");
    assert.equal(existsSync(join(repo.dir, "feature.txt")), false);
  });

  it("fast-forwards master when it is checked out and updates its working tree", async () => {
    git(repo.dir, "branch", "-f", "release/1", repo.develop);
    const result = await promote("staging", "production", { repositories: [repo.dir] });
    assert.equal(result.repositories[0]?.action, "fast-forward");
    assert.equal(tip(repo.dir, "master"), repo.develop);
    assert.equal(git(repo.dir, "symbolic-ref", "HEAD"), "refs/heads/master");
    assert.equal(existsSync(join(repo.dir, "feature.txt")), true);
    assert.equal(git(repo.dir, "status", "--porcelain"), "");
  });

  it("refuses a dirty linked worktree of the target and moves a clean one along", async () => {
    const wt = join(tmp.dir, "release-worktree");
    git(repo.dir, "worktree", "add", "--quiet", wt, "release/1");
    writeFileSync(join(wt, "scratch.txt"), "wip\n");
    await assert.rejects(
      promote("development", "staging", { repositories: [repo.dir] }),
      refusal(
        [
          "promote development to staging: 1 problem:",
          `- ${repo.dir}: has uncommitted changes in its worktree ${wt} (got ["?? scratch.txt"]); commit or stash them (git stash --include-untracked) first: builders read the branches, not the working tree`,
        ].join("\n"),
      ),
    );
    git(wt, "clean", "--quiet", "-f");
    await promote("development", "staging", { repositories: [repo.dir] });
    assert.equal(tip(repo.dir, "release/1"), repo.develop);
    assert.equal(existsSync(join(wt, "feature.txt")), true);
    assert.equal(git(wt, "status", "--porcelain"), "");
  });

  it("leaves a target that already contains the source unchanged", async () => {
    const before = refs(repo.dir);
    const result = await promote("staging", "production", { repositories: [repo.dir] });
    assert.deepEqual(result.repositories[0]?.target, {
      branch: "master",
      before: repo.master,
      after: repo.master,
    });
    assert.equal(result.repositories[0]?.action, "unchanged");
    assert.equal(refs(repo.dir), before);
  });

  it("reports a dry run's plan without moving any branch", async () => {
    const before = refs(repo.dir);
    const result = await promote("development", "staging", {
      repositories: [repo.dir],
      dryRun: true,
    });
    assert.equal(result.dryRun, true);
    assert.equal(result.repositories[0]?.action, "fast-forward");
    assert.equal(result.repositories[0]?.target.after, repo.develop);
    assert.equal(refs(repo.dir), before);
  });

  it("starts the named release branch at develop when staging has none", async () => {
    git(repo.dir, "branch", "-D", "release/1");
    const result = await promote("development", "staging", {
      repositories: [repo.dir],
      branches: { release: "release/2" },
    });
    assert.equal(result.repositories[0]?.action, "create");
    assert.deepEqual(result.repositories[0]?.target, {
      branch: "release/2",
      before: undefined,
      after: repo.develop,
    });
    assert.equal(tip(repo.dir, "release/2"), repo.develop);
  });

  it("refuses to start a release branch while another one runs", async () => {
    await assert.rejects(
      promote("development", "staging", {
        repositories: [repo.dir],
        branches: { release: "release/2" },
      }),
      refusal(
        [
          "promote development to staging: 1 problem:",
          `- ${repo.dir}: already has a release branch, so release/2 is not started (git-flow runs one release at a time) (got ["release/1"]); promote the running release to production and delete its branch, or set branches.release to it`,
        ].join("\n"),
      ),
    );
  });

  it("refuses staging without a release branch when none is named", async () => {
    git(repo.dir, "branch", "-D", "release/1");
    await assert.rejects(
      promote("development", "staging", { repositories: [repo.dir] }),
      refusal(
        [
          "promote development to staging: 1 problem:",
          `- ${repo.dir}: has no release branch (release/*) for staging (got ["develop","master"]); start one with: gentoo-infra promote development staging --release release/<version>`,
        ].join("\n"),
      ),
    );
  });

  it("refuses several release branches, naming them", async () => {
    git(repo.dir, "branch", "release/0");
    await assert.rejects(
      promote("staging", "production", { repositories: [repo.dir] }),
      refusal(
        [
          "promote staging to production: 1 problem:",
          `- ${repo.dir}: has several release branches for staging (got ["release/0","release/1"]); set branches.release (--release) to the one staging builds from, or delete the finished ones`,
        ].join("\n"),
      ),
    );
  });

  it("refuses a dirty working tree, naming the changes, and moves nothing", async () => {
    writeFileSync(join(repo.dir, "README"), "edited\n");
    writeFileSync(join(repo.dir, "untracked.txt"), "new\n");
    const before = refs(repo.dir);
    await assert.rejects(
      promote("development", "staging", { repositories: [repo.dir] }),
      refusal(
        [
          "promote development to staging: 1 problem:",
          `- ${repo.dir}: has uncommitted changes (got [" M README","?? untracked.txt"]); commit or stash them (git stash --include-untracked) first: builders read the branches, not the working tree`,
        ].join("\n"),
      ),
    );
    assert.equal(refs(repo.dir), before);
  });

  it("refuses a target that has diverged from the source", async () => {
    git(repo.dir, "checkout", "--quiet", "release/1");
    const fix = commit(repo.dir, "release fix", { VERSION: "1\n" });
    git(repo.dir, "checkout", "--quiet", "master");
    await assert.rejects(
      promote("development", "staging", { repositories: [repo.dir] }),
      refusal(
        [
          "promote development to staging: 1 problem:",
          `- ${repo.dir}: cannot fast-forward release/1 to develop: release/1 has 1 commit that develop does not have (got ["${short(fix)}"]); merge release/1 into develop (the git-flow back-merge) and promote again, or bring single fixes over with --cherry-pick`,
        ].join("\n"),
      ),
    );
    assert.equal(tip(repo.dir, "release/1"), fix);
  });

  it("refuses development → production unless the skip is allowed", async () => {
    await assert.rejects(
      promote("development", "production", { repositories: [repo.dir] }),
      refusal(
        [
          "promote development to production: 1 problem:",
          '- to: skips staging: development → production (got "production"); promote development to staging first, or allow the skip (--allow-skip, allowSkip: true)',
        ].join("\n"),
      ),
    );
    const result = await promote("development", "production", {
      repositories: [repo.dir],
      allowSkip: true,
    });
    assert.equal(result.repositories[0]?.action, "fast-forward");
    assert.equal(tip(repo.dir, "master"), repo.develop);
  });

  it("refuses backward and same-environment promotions", async () => {
    await assert.rejects(
      promote("production", "development", { repositories: [repo.dir] }),
      refusal(
        [
          "promote production to development: 1 problem:",
          '- to: comes before production: promotion goes development → staging → production (got "development"); merge back (e.g. master into develop after a release) with git merge by hand',
        ].join("\n"),
      ),
    );
    await assert.rejects(
      promote("staging", "staging", { repositories: [repo.dir] }),
      refusal(
        [
          "promote staging to staging: 1 problem:",
          '- to: is the environment promoted from (got "staging"); promote to the next environment',
        ].join("\n"),
      ),
    );
  });

  it("names every argument problem in one error before touching a repository", async () => {
    await assert.rejects(
      promote("qa", "prod", { repositories: [], cherryPick: ["HEAD~1", "abcdef0", "ABCDEF0"] }),
      refusal(
        [
          "promote qa to prod: 5 problems:",
          '- from: is not an environment (got "qa"); use one of development, staging, production',
          '- to: is not an environment (got "prod"); use one of development, staging, production',
          "- repositories: is empty (got []); name at least one repository (--repo PATH)",
          '- cherryPick[0]: is not a commit id (got "HEAD~1"); name the commit by its hexadecimal id (7 to 40 digits)',
          '- cherryPick[2]: is named twice (got "ABCDEF0"); name each commit once',
        ].join("\n"),
      ),
    );
  });

  it("moves no repository when another one is refused", async () => {
    const other = gitFlowRepo(join(tmp.dir, "gentoo"), ["release/1"]);
    git(other.dir, "checkout", "--quiet", "release/1");
    commit(other.dir, "release fix", { VERSION: "1\n" });
    const missing = join(tmp.dir, "missing");
    const before = refs(repo.dir);
    await assert.rejects(
      promote("development", "staging", {
        repositories: [repo.dir, other.dir, missing],
      }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(
          error.violations.map((v) => [v.argument, v.problem]),
          [
            [
              other.dir,
              "cannot fast-forward release/1 to develop: release/1 has 1 commit that develop does not have",
            ],
            [missing, "does not exist"],
          ],
        );
        return true;
      },
    );
    assert.equal(refs(repo.dir), before);
  });
});

describe("promote: push", () => {
  let tmp: Scratch;
  let repo: GitFlowFixture;
  let remote: string;
  beforeEach(() => {
    tmp = scratch("gi-promote-push-");
    repo = gitFlowRepo(join(tmp.dir, "overlay"), ["release/1"]);
    remote = join(tmp.dir, "remote.git");
    git(tmp.dir, "init", "--quiet", "--bare", remote);
    git(repo.dir, "remote", "add", "origin", remote);
    git(repo.dir, "push", "--quiet", "origin", "master", "develop", "release/1");
  });
  afterEach(() => tmp.cleanup());

  it("does not push unless asked", async () => {
    await promote("development", "staging", { repositories: [repo.dir] });
    assert.equal(tip(remote, "release/1"), repo.master);
  });

  it("pushes the moved branch to the configured remote when asked", async () => {
    const result = await promote("development", "staging", {
      repositories: [repo.dir],
      push: true,
    });
    assert.equal(result.repositories[0]?.pushed, true);
    assert.equal(tip(remote, "release/1"), repo.develop);
    assert.equal(tip(remote, "master"), repo.master);
  });

  it("refuses to push to a remote the repository does not have, before moving anything", async () => {
    const before = refs(repo.dir);
    await assert.rejects(
      promote("development", "staging", {
        repositories: [repo.dir],
        push: true,
        remote: "upstream",
      }),
      refusal(
        [
          "promote development to staging: 1 problem:",
          `- ${repo.dir}: has no remote "upstream" to push to (got ["origin"]); add it (git remote add NAME URL) or name a configured one (--remote NAME)`,
        ].join("\n"),
      ),
    );
    assert.equal(refs(repo.dir), before);
  });
});
