import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  FIXTURE_DATE,
  type GitFlowFixture,
  git,
  gitFlowRepo,
  refs,
  type Scratch,
  scratch,
  tip,
} from "../support/git-fixture";

const shim = resolve(__dirname, "../../scripts/gentoo-infra");

/** Runs the real shim, from `cwd`, and returns exit code and output. */
function cli(args: string[], cwd: string) {
  const run = spawnSync(shim, args, { cwd, encoding: "utf8" });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("gentoo-infra CLI", () => {
  let tmp: Scratch;
  let gentoo: GitFlowFixture;
  let overlay: GitFlowFixture;
  before(() => {
    tmp = scratch("gi-cli-");
    gentoo = gitFlowRepo(join(tmp.dir, "gentoo"), ["release/1"], "gentoo");
    overlay = gitFlowRepo(join(tmp.dir, "overlay"), ["release/1"], "overlay");
  });
  after(() => tmp.cleanup());

  it("snapshot prints the branch, commit and date of each repository and exits 0", () => {
    const r = cli(
      ["snapshot", "development", "--gentoo", gentoo.dir, "--overlay", overlay.dir],
      tmp.dir,
    );
    assert.equal(r.stderr, "");
    assert.equal(r.status, 0);
    assert.equal(
      r.stdout,
      [
        "development",
        `gentoo  develop  ${gentoo.develop}  ${FIXTURE_DATE}`,
        `overlay develop  ${overlay.develop}  ${FIXTURE_DATE}`,
        "",
      ].join("\n"),
    );
  });

  it("snapshot --json prints the snapshot as data", () => {
    const r = cli(
      [
        "snapshot",
        "production",
        "--gentoo",
        gentoo.dir,
        "--overlay",
        overlay.dir,
        "--json",
        "--master",
        "master",
      ],
      tmp.dir,
    );
    assert.equal(r.status, 0);
    assert.deepEqual(JSON.parse(r.stdout), {
      environment: "production",
      gentoo: { path: gentoo.dir, branch: "master", commit: gentoo.master, date: FIXTURE_DATE },
      overlay: { path: overlay.dir, branch: "master", commit: overlay.master, date: FIXTURE_DATE },
    });
  });

  it("promote --dry-run prints the plan, moves nothing and exits 0", () => {
    const before = refs(gentoo.dir);
    const r = cli(
      ["promote", "development", "staging", "--repo", gentoo.dir, "--dry-run"],
      tmp.dir,
    );
    assert.equal(r.status, 0);
    assert.equal(
      r.stdout,
      [
        "dry run of promote development to staging: no branch moved",
        `${gentoo.dir}: would fast-forward release/1 ${gentoo.master.slice(0, 12)}..${gentoo.develop.slice(0, 12)} to develop (1 commit)`,
        "",
      ].join("\n"),
    );
    assert.equal(refs(gentoo.dir), before);
  });

  it("promote moves the branch in every --repo, defaulting to the current directory", () => {
    const r = cli(
      ["promote", "development", "staging", "--repo", gentoo.dir, "--repo", overlay.dir],
      tmp.dir,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        "promote development to staging",
        `${gentoo.dir}: fast-forwarded release/1 ${gentoo.master.slice(0, 12)}..${gentoo.develop.slice(0, 12)} to develop (1 commit)`,
        `${overlay.dir}: fast-forwarded release/1 ${overlay.master.slice(0, 12)}..${overlay.develop.slice(0, 12)} to develop (1 commit)`,
        "",
      ].join("\n"),
    );
    assert.equal(tip(gentoo.dir, "release/1"), gentoo.develop);
    const here = cli(["promote", "staging", "production"], overlay.dir);
    assert.equal(here.status, 0, here.stderr);
    assert.equal(tip(overlay.dir, "master"), overlay.develop);
  });

  it("exits 1 with every refusal on stderr when promotion is refused", () => {
    writeFileSync(join(gentoo.dir, "README"), "dirty\n");
    try {
      const r = cli(
        ["promote", "development", "production", "--repo", gentoo.dir, "--allow-skip"],
        tmp.dir,
      );
      assert.equal(r.status, 1);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        [
          "promote development to production: 1 problem:",
          `- ${gentoo.dir}: has uncommitted changes (got [" M README"]); commit or stash them (git stash --include-untracked) first: builders read the branches, not the working tree`,
          "",
        ].join("\n"),
      );
    } finally {
      git(gentoo.dir, "checkout", "--quiet", "--", "README");
    }
  });

  it("exits 1 for an unknown environment", () => {
    const r = cli(["snapshot", "qa", "--gentoo", gentoo.dir, "--overlay", overlay.dir], tmp.dir);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      'tree snapshot for qa: 1 problem:\n- environment: is not an environment (got "qa"); use one of development, staging, production\n',
    );
  });

  it("exits 2 with the usage for a missing command, argument or option value", () => {
    const cases: [string[], string][] = [
      [[], "gentoo-infra: no command given"],
      [["merge", "a", "b"], 'gentoo-infra: unknown command "merge"'],
      [["promote", "development"], "gentoo-infra: promote needs <from> and <to>, got: development"],
      [["snapshot", "staging", "--gentoo", "x"], "gentoo-infra: snapshot needs --overlay PATH"],
      [["promote", "development", "staging", "--force"], "gentoo-infra: Unknown option '--force'"],
    ];
    for (const [args, first] of cases) {
      const r = cli(args, tmp.dir);
      assert.equal(r.status, 2, args.join(" "));
      assert.equal(r.stdout, "");
      assert.equal(r.stderr.split("\n")[0]?.startsWith(first), true, r.stderr);
      assert.match(r.stderr, /^usage:$/m);
    }
  });

  it("--help prints the usage and exits 0", () => {
    const r = cli(["promote", "--help"], tmp.dir);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^usage:\n {2}gentoo-infra promote <from> <to>/);
  });
});
