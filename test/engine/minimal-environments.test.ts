/**
 * Engine tier: examples/minimal is one program with one Pulumi stack per environment (config
 * `environment`). A staging stack with `tools: false` and `machineCount: 0`, previewed by the
 * real engine against a private copy of the stand-in tree whose release branch is cut, plans
 * one builder (staging/amd64/linux), no install host and no stage, and its binhost serves the
 * release branch's commit under the release branch's name; an environment that is not one is
 * refused by the program's configuration before anything is planned.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { useLibvirtHarness } from "../support/harness";
import { PulumiCommandError, PulumiProgram, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { requireFiles, requireTools } from "../support/tools";

// The libvirt provider connects to libvirtd even to preview (no guest is created).
useLibvirtHarness(() => process.getuid?.() === 0);

const TREES = path.join(process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache"), "trees");
const RELEASE = "release/2026.12";

function git(...args: string[]): string {
  const r = spawnSync("git", args, { encoding: "utf8" });
  assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

test("examples/minimal as a staging stack: its release branch's commit, one builder, no install host", async (t) => {
  if (!requireTools(t, ["pulumi", "git"], TOOLCHAIN_HINT)) return;
  const clones = [path.join(TREES, "gentoo.git"), path.join(TREES, "overlay.git")];
  if (!requireFiles(t, clones, "run scripts/build-tree-standin")) return;
  const work = mkdtempSync(path.join(tmpdir(), "gi-minimal-env-"));
  const program = await PulumiProgram.create("examples/minimal");
  try {
    // A private copy of the clones, with the release branch cut one commit behind develop's
    // stand-in bump: staging builds the release branch, not develop.
    for (const clone of clones) {
      git("clone", "--quiet", "--mirror", clone, path.join(work, path.basename(clone)));
    }
    symlinkSync(path.join(TREES, "distfiles"), path.join(work, "distfiles"));
    const gentoo = path.join(work, "gentoo.git");
    const base = git("-C", gentoo, "rev-parse", "develop");
    git("-C", gentoo, "branch", RELEASE, base);
    git("-C", path.join(work, "overlay.git"), "branch", RELEASE, "develop");
    git("-C", gentoo, "update-ref", "refs/heads/develop", git("-C", gentoo, "rev-parse", "bump"));

    await program.setConfig("environment", "staging");
    await program.setConfig("tools", "false");
    await program.setConfig("machineCount", "0");
    await program.setConfig("treeDir", work);
    const { stdout } = await program.run([
      ...["preview", "--non-interactive", "--json", "--stack", program.stack],
    ]);
    const steps = (
      JSON.parse(stdout) as {
        steps: { op: string; urn: string; newState?: { inputs?: unknown } }[];
      }
    ).steps;
    const urns = steps.map((s) => s.urn);
    // A URN's type is the last of its parent chain (`Parent$Child::name`).
    const typed = (type: string) =>
      urns.filter((u) => u.includes(`::${type}::`) || u.includes(`$${type}::`));
    assert.deepEqual(
      typed("gentoo-infra:host:Server")
        .map((u) => u.split("::").pop())
        .sort(),
      ["binhost", "farm-staging-amd64-linux"],
      "the binhost and one builder, for staging's linux; no install host's server",
    );
    assert.deepEqual(typed("gentoo-infra:pxe:PxeInstallHost"), [], "no machines: no install host");
    assert.deepEqual(
      urns.filter((u) => /binhost-stage$/.test(u)),
      [],
      "no machines: no stage",
    );
    const push = steps.find((s) => /binhost-git-gentoo$/.test(s.urn));
    const inputs = JSON.stringify(push?.newState?.inputs ?? {});
    assert.ok(inputs.includes(base), `the binhost serves the release branch's commit: ${inputs}`);
    assert.ok(inputs.includes(RELEASE), `under the release branch's name: ${inputs}`);
    assert.ok(!inputs.includes(git("-C", gentoo, "rev-parse", "develop")), "not develop's commit");
  } finally {
    await program.cleanup({ force: true });
    rmSync(work, { recursive: true, force: true });
  }
});

test("examples/minimal refuses an environment that is not one before planning anything", async (t) => {
  if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return;
  const program = await PulumiProgram.create("examples/minimal");
  try {
    await program.setConfig("environment", "qa");
    const error = await program
      .run(["preview", "--non-interactive", "--stack", program.stack])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof PulumiCommandError, "the preview fails");
    assert.match(
      error.stdout + error.stderr,
      /environment.*(development, staging, production|development.*staging.*production)/s,
    );
  } finally {
    await program.cleanup({ force: true });
  }
});
