import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readRepositorySnapshot, readTreeSnapshot, snapshotCommits } from "../../lib/snapshot";
import { ValidationError } from "../../lib/validation";
import {
  commit,
  FIXTURE_DATE,
  type GitFlowFixture,
  git,
  gitFlowRepo,
  initRepo,
  type Scratch,
  scratch,
} from "../support/git-fixture";

function refusal(message: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ValidationError, String(error));
    assert.equal(error.message, message);
    return true;
  };
}

describe("readTreeSnapshot", () => {
  let tmp: Scratch;
  let gentoo: GitFlowFixture;
  let overlay: GitFlowFixture;
  let overlayRelease: string;

  before(() => {
    tmp = scratch();
    gentoo = gitFlowRepo(join(tmp.dir, "gentoo"), ["release/2025.01"]);
    overlay = gitFlowRepo(join(tmp.dir, "overlay"));
    git(overlay.dir, "checkout", "--quiet", "-b", "release/1.0", overlay.develop);
    overlayRelease = commit(overlay.dir, "bump version", { VERSION: "1.0\n" });
    git(overlay.dir, "checkout", "--quiet", "master");
    // A remote that does not exist: reading must not need it (nothing is fetched).
    git(gentoo.dir, "remote", "add", "origin", join(tmp.dir, "no-such-remote.git"));
  });
  after(() => tmp.cleanup());

  it("reads develop for development in both repositories, with commit and date", async () => {
    const snapshot = await readTreeSnapshot({
      environment: "development",
      gentoo: { path: gentoo.dir },
      overlay: { path: overlay.dir },
    });
    assert.deepEqual(snapshot, {
      environment: "development",
      gentoo: { path: gentoo.dir, branch: "develop", commit: gentoo.develop, date: FIXTURE_DATE },
      overlay: {
        path: overlay.dir,
        branch: "develop",
        commit: overlay.develop,
        date: FIXTURE_DATE,
      },
    });
    assert.deepEqual(snapshotCommits(snapshot), {
      gentoo: gentoo.develop,
      overlay: overlay.develop,
    });
  });

  it("reads the release branch for staging and master for production", async () => {
    const staging = await readTreeSnapshot({
      environment: "staging",
      gentoo: { path: gentoo.dir },
      overlay: { path: overlay.dir },
    });
    assert.deepEqual(
      [
        staging.gentoo.branch,
        staging.gentoo.commit,
        staging.overlay.branch,
        staging.overlay.commit,
      ],
      ["release/2025.01", gentoo.master, "release/1.0", overlayRelease],
    );
    const production = await readTreeSnapshot({
      environment: "production",
      gentoo: { path: gentoo.dir },
      overlay: { path: overlay.dir },
    });
    assert.deepEqual(
      [production.gentoo.branch, production.gentoo.commit, production.overlay.commit],
      ["master", gentoo.master, overlay.master],
    );
  });

  it("reads the branch, not the checked-out HEAD or the working tree", async () => {
    git(overlay.dir, "checkout", "--quiet", "develop");
    writeFileSync(join(overlay.dir, "feature.txt"), "uncommitted\n");
    try {
      const s = await readRepositorySnapshot({ path: overlay.dir }, "production");
      assert.equal(s.commit, overlay.master);
    } finally {
      git(overlay.dir, "checkout", "--quiet", "--", "feature.txt");
      git(overlay.dir, "checkout", "--quiet", "master");
    }
  });

  it("uses each repository's own branch names", async () => {
    const main = join(tmp.dir, "main-overlay");
    initRepo(main, { branch: "main" });
    const head = commit(main, "initial", { README: "overlay\n" });
    const snapshot = await readTreeSnapshot({
      environment: "production",
      gentoo: { path: gentoo.dir },
      overlay: { path: main, branches: { master: "main" } },
    });
    assert.deepEqual([snapshot.overlay.branch, snapshot.overlay.commit], ["main", head]);
  });

  it("reads a bare repository", async () => {
    const bare = join(tmp.dir, "bare.git");
    git(tmp.dir, "clone", "--quiet", "--bare", overlay.dir, bare);
    const s = await readRepositorySnapshot({ path: bare }, "development");
    assert.deepEqual([s.branch, s.commit], ["develop", overlay.develop]);
  });

  it("names a missing repository and a directory that is not one in a single error", async () => {
    const plain = join(tmp.dir, "plain");
    mkdirSync(plain);
    const missing = join(tmp.dir, "missing");
    await assert.rejects(
      readTreeSnapshot({
        environment: "development",
        gentoo: { path: missing },
        overlay: { path: plain },
      }),
      refusal(
        [
          "tree snapshot for development: 2 problems:",
          `- gentoo: does not exist (got "${missing}"); pass the path of the repository's local clone`,
          `- overlay: is not a git repository (got "${plain}"); pass the path of a local clone (the directory that holds .git), or clone it there`,
        ].join("\n"),
      ),
    );
  });

  it("refuses a subdirectory of a repository and names its top", async () => {
    const sub = join(gentoo.dir, "profiles");
    mkdirSync(sub, { recursive: true });
    await assert.rejects(
      readRepositorySnapshot({ path: sub }, "development"),
      refusal(
        [
          `development branch of ${sub}: 1 problem:`,
          `- repository: is inside the git repository ${gentoo.dir}, not its top directory (got "${sub}"); pass ${gentoo.dir}`,
        ].join("\n"),
      ),
    );
  });

  it("refuses a repository without commits", async () => {
    const empty = initRepo(join(tmp.dir, "empty"));
    await assert.rejects(
      readRepositorySnapshot({ path: empty }, "production"),
      refusal(
        [
          `production branch of ${empty}: 1 problem:`,
          `- repository: has no commits (HEAD is unborn) (got "${empty}"); clone or fetch the repository's history into it first`,
        ].join("\n"),
      ),
    );
  });

  it("names a missing branch and a detached HEAD", async () => {
    const detached = join(tmp.dir, "detached");
    initRepo(detached);
    const only = commit(detached, "initial", { README: "x\n" });
    git(detached, "checkout", "--quiet", "--detach");
    git(detached, "branch", "--quiet", "-D", "master");
    git(detached, "branch", "feature/x");
    await assert.rejects(
      readTreeSnapshot({
        environment: "development",
        gentoo: { path: detached },
        overlay: { path: overlay.dir, branches: { develop: "dev" } },
      }),
      refusal(
        [
          "tree snapshot for development: 2 problems:",
          `- gentoo: has no local branch "develop" for development (HEAD is detached at ${only.slice(0, 12)}) (got ["feature/x"]); create it (git branch develop <start-point>), or set branches.develop to the branch development builds from`,
          `- overlay: has no local branch "dev" for development (got ["develop","master","release/1.0"]); create it (git branch dev <start-point>), or set branches.develop to the branch development builds from`,
        ].join("\n"),
      ),
    );
  });

  it("refuses staging when several release branches exist", async () => {
    const several = gitFlowRepo(join(tmp.dir, "several"), ["release/1.1", "release/1.0"]);
    await assert.rejects(
      readTreeSnapshot({
        environment: "staging",
        gentoo: { path: several.dir },
        overlay: { path: overlay.dir },
      }),
      refusal(
        [
          "tree snapshot for staging: 1 problem:",
          '- gentoo: has several release branches for staging (got ["release/1.0","release/1.1"]); set branches.release (--release) to the one staging builds from, or delete the finished ones',
        ].join("\n"),
      ),
    );
    const chosen = await readRepositorySnapshot(
      { path: several.dir, branches: { release: "release/1.1" } },
      "staging",
    );
    assert.equal(chosen.branch, "release/1.1");
  });

  it("refuses an unknown environment and invalid branch names", async () => {
    await assert.rejects(
      readTreeSnapshot({
        environment: "qa" as never,
        gentoo: { path: gentoo.dir },
        overlay: { path: overlay.dir },
      }),
      refusal(
        [
          "tree snapshot for qa: 1 problem:",
          '- environment: is not an environment (got "qa"); use one of development, staging, production',
        ].join("\n"),
      ),
    );
    await assert.rejects(
      readTreeSnapshot({
        environment: "production",
        gentoo: { path: gentoo.dir, branches: { master: "ma ster" } },
        overlay: { path: overlay.dir },
      }),
      refusal(
        [
          "tree snapshot for production: 1 problem:",
          '- gentoo.branches.master: is not a valid branch name (got "ma ster"); use a name git accepts (see git check-ref-format --branch)',
        ].join("\n"),
      ),
    );
  });
});
