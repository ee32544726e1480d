import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPromotion } from "../../lib/cli";
import type { RepositoryPromotion } from "../../lib/snapshot";

const a = "a".repeat(40);
const b = "b".repeat(40);
const c = "c".repeat(40);

function repo(path: string, fields: Partial<RepositoryPromotion>): RepositoryPromotion {
  return {
    path,
    action: "unchanged",
    source: { branch: "develop", commit: b },
    target: { branch: "release/1", before: a, after: a },
    commits: [],
    pushed: false,
    ...fields,
  };
}

describe("promotion output", () => {
  it("prints one line per repository for each action, with the push", () => {
    const text = formatPromotion(
      {
        from: "development",
        to: "staging",
        dryRun: false,
        repositories: [
          repo("/r/create", {
            action: "create",
            target: { branch: "release/2", before: undefined, after: b },
          }),
          repo("/r/pick", {
            action: "cherry-pick",
            target: { branch: "release/1", before: a, after: c },
            commits: [c],
            pushed: true,
          }),
          repo("/r/same", {}),
        ],
      },
      "origin",
    );
    assert.equal(
      text,
      [
        "promote development to staging",
        "/r/create: started release/2 at bbbbbbbbbbbb from develop",
        "/r/pick: cherry-picked 1 commit onto release/1 aaaaaaaaaaaa..cccccccccccc; pushed to origin",
        "/r/same: unchanged release/1 at aaaaaaaaaaaa",
        "",
      ].join("\n"),
    );
  });

  it("says what would happen in a dry run", () => {
    const text = formatPromotion(
      {
        from: "development",
        to: "staging",
        dryRun: true,
        repositories: [
          repo("/r/pick", {
            action: "cherry-pick",
            target: { branch: "release/1", before: a, after: c },
            commits: [c, b],
          }),
        ],
      },
      "origin",
    );
    assert.equal(
      text,
      "dry run of promote development to staging: no branch moved\n" +
        "/r/pick: would cherry-pick 2 commits onto release/1 aaaaaaaaaaaa..cccccccccccc\n",
    );
  });
});
