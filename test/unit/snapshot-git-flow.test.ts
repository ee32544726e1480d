import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_GIT_FLOW_BRANCHES,
  environmentForBranch,
  nextEnvironment,
  resolveGitFlowBranches,
  selectBranch,
  validateGitFlowBranches,
} from "../../lib/snapshot";
import { formatViolations, ValidationError } from "../../lib/validation";

const local = (...names: string[]) => ({ local: names, remote: [] });
const defaults = DEFAULT_GIT_FLOW_BRANCHES;

describe("git-flow branch of each environment", () => {
  it("maps development to develop and production to master", () => {
    const repo = local("master", "develop", "release/1.0", "feature/x");
    assert.deepEqual(selectBranch("development", repo, defaults, "gentoo"), { branch: "develop" });
    assert.deepEqual(selectBranch("production", repo, defaults, "gentoo"), { branch: "master" });
  });

  it("maps production to a configured branch such as main", () => {
    const b = resolveGitFlowBranches({ master: "main" });
    assert.deepEqual(selectBranch("production", local("main", "develop"), b, "o"), {
      branch: "main",
    });
  });

  it("maps staging to the single release branch, ignoring hotfix and feature branches", () => {
    const repo = local("master", "develop", "hotfix/1.0.1", "feature/x", "release/1.1");
    assert.deepEqual(selectBranch("staging", repo, defaults, "o"), { branch: "release/1.1" });
  });

  it("maps staging to the configured release branch even when others exist", () => {
    const b = resolveGitFlowBranches({ release: "release/2.0" });
    const repo = local("release/1.0", "release/2.0");
    assert.deepEqual(selectBranch("staging", repo, b, "o"), { branch: "release/2.0" });
  });

  it("honours a configured release prefix", () => {
    const b = resolveGitFlowBranches({ releasePrefix: "rel/" });
    const repo = local("release/1.0", "rel/2025.01");
    assert.deepEqual(selectBranch("staging", repo, b, "o"), { branch: "rel/2025.01" });
  });

  it("refuses staging when several release branches exist, naming every candidate", () => {
    const repo = local("master", "release/1.1", "release/1.0");
    const { violation } = selectBranch("staging", repo, defaults, "overlay");
    assert.ok(violation);
    assert.equal(
      formatViolations("tree snapshot for staging", [violation]),
      [
        "tree snapshot for staging: 1 problem:",
        '- overlay: has several release branches for staging (got ["release/1.0","release/1.1"]); ' +
          "set branches.release (--release) to the one staging builds from, or delete the finished ones",
      ].join("\n"),
    );
  });

  it("refuses staging without a release branch and says how to start one", () => {
    const { violation } = selectBranch("staging", local("master", "develop"), defaults, "gentoo");
    assert.deepEqual(violation, {
      argument: "gentoo",
      value: ["develop", "master"],
      problem: "has no release branch (release/*) for staging",
      fix: "start one with: gentoo-infra promote development staging --release release/<version>",
    });
  });

  it("refuses a missing configured release branch", () => {
    const b = resolveGitFlowBranches({ release: "release/9" });
    const { violation } = selectBranch("staging", local("release/1"), b, "o");
    assert.equal(violation?.problem, 'has no local branch "release/9" for staging');
    assert.equal(
      violation?.fix,
      "start it with: gentoo-infra promote development staging --release release/9, or correct branches.release",
    );
  });

  it("suggests tracking the remote branch when only a remote-tracking branch exists", () => {
    const repo = { local: ["master"], remote: ["origin/develop", "origin/master"] };
    const { violation } = selectBranch("development", repo, defaults, "gentoo");
    assert.deepEqual(violation, {
      argument: "gentoo",
      value: ["master"],
      problem: 'has no local branch "develop" for development',
      fix: "create it from the remote-tracking branch: git branch --track develop origin/develop",
    });
  });

  it("suggests configuring master when production's branch is missing", () => {
    const { violation } = selectBranch("production", local("main", "develop"), defaults, "o");
    assert.equal(violation?.problem, 'has no local branch "master" for production');
    assert.equal(
      violation?.fix,
      "create it (git branch master <start-point>), or set branches.master to the branch production builds from",
    );
  });
});

describe("environment of a branch", () => {
  it("maps develop, release/* and master back to their environments", () => {
    assert.equal(environmentForBranch("develop"), "development");
    assert.equal(environmentForBranch("release/1.0"), "staging");
    assert.equal(environmentForBranch("master"), "production");
  });

  it("maps no environment to feature, hotfix and unknown branches", () => {
    assert.equal(environmentForBranch("feature/x"), undefined);
    assert.equal(environmentForBranch("hotfix/1.0.1"), undefined);
    assert.equal(environmentForBranch("main"), undefined);
  });

  it("follows configured names: main is production, only the configured release is staging", () => {
    const b = { master: "main", release: "release/2" };
    assert.equal(environmentForBranch("main", b), "production");
    assert.equal(environmentForBranch("master", b), undefined);
    assert.equal(environmentForBranch("release/2", b), "staging");
    assert.equal(environmentForBranch("release/1", b), undefined);
  });

  it("orders environments development, staging, production", () => {
    assert.equal(nextEnvironment("development"), "staging");
    assert.equal(nextEnvironment("staging"), "production");
    assert.equal(nextEnvironment("production"), undefined);
  });
});

describe("git-flow branch names", () => {
  it("accepts the defaults and common configurations", () => {
    assert.deepEqual(validateGitFlowBranches(undefined), []);
    assert.deepEqual(validateGitFlowBranches({ master: "main", release: "release/v1.2.0" }), []);
  });

  it("names every invalid branch name, prefix and clash in one error", () => {
    assert.throws(
      () =>
        resolveGitFlowBranches({
          develop: "dev elop",
          master: "release/x",
          releasePrefix: "rel",
          release: "v1..2",
        }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(
          error.message,
          [
            "git-flow branches: 5 problems:",
            '- branches.develop: is not a valid branch name (got "dev elop"); use a name git accepts (see git check-ref-format --branch)',
            '- branches.release: is not a valid branch name (got "v1..2"); use a name git accepts (see git check-ref-format --branch)',
            '- branches.releasePrefix: is not a branch name prefix ending in "/" (got "rel"); use e.g. "release/"',
            '- branches.release: does not start with the release prefix "rel" (got "v1..2"); name it rel<version>, or change releasePrefix',
            '- branches.master: starts with the release prefix "rel" (got "release/x"); keep release branches apart from develop and master',
          ].join("\n"),
        );
        return true;
      },
    );
  });

  it("refuses develop and master being the same branch", () => {
    assert.deepEqual(validateGitFlowBranches({ develop: "main", master: "main" }), [
      {
        argument: "branches.master",
        value: "main",
        problem: "is the same branch as develop",
        fix: "development and production need their own branches",
      },
    ]);
  });
});
