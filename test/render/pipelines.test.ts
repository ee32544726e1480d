/**
 * Render tier for the example pipelines of examples/site/ci (docs/pull-requests.md), judged by
 * the linters the registries offer:
 * - actionlint (Go module; it runs shellcheck on every `run:` script) on the GitHub Actions
 *   workflow, which must also validate against the GitHub workflow schema;
 * - check-jsonschema (PyPI) with its vendored GitLab CI schema on the GitLab CI file, and
 *   shellcheck on each job's scripts as the runner joins them (default before_script, then
 *   the script of the job or of the template it extends);
 * - both map the git-flow branches to the same environments (develop → development,
 *   release/* → staging, master → production), previews on a pull or merge request and `up`
 *   on a push.
 * A broken copy of each must fail its judge. Not proven: that GitHub or GitLab run them (no
 * runner here).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import { requireTools } from "../support/tools";

const CI = resolve(__dirname, "../../examples/site/ci");
const GITHUB = join(CI, "github-actions.yml");
const GITLAB = join(CI, "gitlab-ci.yml");
const HINT = "run scripts/setup (steps 20-python, 30-apt and 55-actionlint)";
const work = mkdtempSync(join(tmpdir(), "gi-render-pipelines-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** The runner label of the workflow: actionlint checks labels against its config. */
const ACTIONLINT_CONFIG = join(work, "actionlint.yaml");
writeFileSync(ACTIONLINT_CONFIG, "self-hosted-runner:\n  labels: [gentoo-infra]\n");

const run = (command: string, args: string[]) => spawnSync(command, args, { encoding: "utf8" });
const actionlint = (file: string) => run("actionlint", ["-config-file", ACTIONLINT_CONFIG, file]);
const schema = (name: string, file: string) =>
  run("check-jsonschema", ["--builtin-schema", `vendor.${name}`, file]);

describe("example pipelines (examples/site/ci)", () => {
  it("GitHub Actions: actionlint (with shellcheck) and the workflow schema accept it", (t) => {
    if (!requireTools(t, ["actionlint", "check-jsonschema", "shellcheck"], HINT)) return;
    const lint = actionlint(GITHUB);
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
    const valid = schema("github-workflows", GITHUB);
    assert.equal(valid.status, 0, `${valid.stdout}${valid.stderr}`);
    // The judges judge: a misspelt context and a loop over ls output are caught.
    const broken = join(work, "broken.yml");
    writeFileSync(
      broken,
      readFileSync(GITHUB, "utf8")
        .replace("github.base_ref", "github.base_reff")
        .replace(
          "          status=0\n",
          "          status=0\n          for f in $(ls *.json); do echo $f; done\n",
        ),
    );
    const caught = actionlint(broken);
    assert.notEqual(caught.status, 0);
    assert.match(caught.stdout, /base_reff/);
    assert.match(caught.stdout, /SC2045/);
  });

  it("GitLab CI: the GitLab CI schema accepts it and shellcheck each job's joined scripts", (t) => {
    if (!requireTools(t, ["check-jsonschema", "shellcheck"], HINT)) return;
    const valid = schema("gitlab-ci", GITLAB);
    assert.equal(valid.status, 0, `${valid.stdout}${valid.stderr}`);
    const broken = join(work, "broken-gitlab.yml");
    writeFileSync(
      broken,
      readFileSync(GITLAB, "utf8").replace(
        "variables: { ENVIRONMENT: development }",
        "variabels: { ENVIRONMENT: development }",
      ),
    );
    assert.notEqual(schema("gitlab-ci", broken).status, 0, "a misspelt key fails the schema");

    const doc = parse(readFileSync(GITLAB, "utf8")) as Record<string, GitlabJob>;
    const before = doc.default?.before_script ?? [];
    const jobs = Object.entries(doc).filter(([name]) => !isReserved(name) && !name.startsWith("."));
    assert.ok(jobs.length >= 6, "three previews and three ups");
    for (const [name, job] of jobs) {
      const script = job.script ?? doc[job.extends ?? ""]?.script ?? [];
      assert.ok(script.length > 0, `${name} has a script`);
      const file = join(work, `${name}.sh`);
      writeFileSync(file, ["#!/bin/bash", ...before, ...script, ""].join("\n"));
      const r = run("shellcheck", ["-s", "bash", file]);
      assert.equal(r.status, 0, `${name}: ${r.stdout}`);
    }
  });

  it("both map develop, release/* and master to development, staging and production", () => {
    // GitHub: the case statement of each job's script, run with each branch.
    const github = parse(readFileSync(GITHUB, "utf8")) as {
      jobs: Record<string, { steps: { run?: string }[] }>;
    };
    for (const [job, variable] of [
      ["preview", "BASE"],
      ["up", "BRANCH"],
    ] as const) {
      const script = github.jobs[job]?.steps.find((s) => s.run?.includes("case "))?.run ?? "";
      const mapping = /case[\s\S]*?esac/.exec(script)?.[0];
      assert.ok(mapping, `${job} maps the branch in a case statement`);
      for (const [branch, environment] of BRANCHES) {
        const r: { stdout: string } = spawnSync("bash", ["-c", `${mapping}\necho "$environment"`], {
          encoding: "utf8",
          env: { [variable]: branch, PATH: process.env.PATH },
        });
        assert.equal(r.stdout.trim(), environment, `${job}: ${branch}`);
      }
      const other = spawnSync("bash", ["-c", mapping], {
        encoding: "utf8",
        env: { [variable]: "feature/x", PATH: process.env.PATH },
      });
      assert.notEqual(other.status, 0, `${job}: a feature branch feeds no environment`);
    }

    // GitLab: one preview and one up job per environment, their rules naming its branch.
    const gitlab = parse(readFileSync(GITLAB, "utf8")) as Record<string, GitlabJob>;
    for (const [branch, environment] of BRANCHES) {
      for (const [job, source, variable] of [
        [`preview-${environment}`, "merge_request_event", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"],
        [`up-${environment}`, "push", "CI_COMMIT_BRANCH"],
      ] as const) {
        const j = gitlab[job];
        assert.equal(j?.variables?.ENVIRONMENT, environment, job);
        const rule = j?.rules?.[0]?.if ?? "";
        assert.ok(rule.includes(`$CI_PIPELINE_SOURCE == "${source}"`), `${job}: ${rule}`);
        const branchTest = branch.startsWith("release/")
          ? `$${variable} =~ /^release\\//`
          : `$${variable} == "${branch}"`;
        assert.ok(rule.includes(branchTest), `${job}: ${rule}`);
      }
    }
  });
});

/** The git-flow branches and the environment each feeds. */
const BRANCHES = [
  ["develop", "development"],
  ["release/2026.12", "staging"],
  ["master", "production"],
] as const;

interface GitlabJob {
  readonly script?: string[];
  readonly before_script?: string[];
  readonly extends?: string;
  readonly variables?: Record<string, string>;
  readonly rules?: { if?: string }[];
}

/** Top-level keys of .gitlab-ci.yml that are not jobs. */
const isReserved = (key: string) =>
  ["stages", "default", "variables", "workflow", "include", "image", "services"].includes(key);
