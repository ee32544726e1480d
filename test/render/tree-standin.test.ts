/**
 * Render tier for the STAND-IN Gentoo tree and site overlay that builders build from
 * (scripts/build-tree-standin, docs/tree-standin.md): the repositories the script makes under
 * $GI_CACHE/trees are judged by git and by Portage 3.0.83 (the venv's):
 * - gentoo.git has `develop` = `master` (commit A), the children `bump` and `broken`, and
 *   `fix` (a child of `bump`), each adding exactly one ebuild and its cache entry; commit ids
 *   do not depend on when or where the script ran; `fix`'s commit applies to A alone (what a
 *   zero-day cherry-pick to production does);
 * - the Manifest of app-admin/sudo matches the distfile, and Portage fetches that distfile from
 *   a GENTOO_MIRRORS mirror serving the distfiles directory, digests verified (and refuses a
 *   tampered one);
 * - the committed md5-cache is what egencache makes; overlay.git's profiles are exactly what
 *   examples/minimal's Stacks render;
 * - with the builder configuration lib renders for examples/minimal's `tools` Stack, Portage
 *   resolves every package of the catalog at `develop`, offers the bump at `bump`, and at
 *   `broken` selects sys-libs/zlib-1.3.99, whose build fails.
 *
 * What this tier does not prove: that every package builds and lands in PKGDIR as a gpkg
 * (scripts/check-tree-standin does, in ~30 s), that a builder VM clones the repositories over
 * HTTPS from the binhost, or anything about the real Gentoo tree.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { arches, catalog, stacks } from "../../examples/minimal/stacks";
import { mergeFileMaps, renderOverlayFiles } from "../../lib/stack/render";
import { resolveStack } from "../../lib/stack/resolve";
import { DEFAULT_OVERLAY_NAME } from "../../lib/stack/stack-args";
import {
  type BuilderPrefix,
  builderPrefix,
  catalogPackages,
  pin,
} from "../../scripts/tree-standin/check";
import { GI_CACHE, GI_ROOT, run, VENV } from "../../scripts/tree-standin/portage-prefix";
import { requireTools } from "../support/tools";

const TREES = join(GI_CACHE, "trees");
const SETUP_HINT =
  "run scripts/setup (20-python installs Portage into .cache/venv; git and wget from apt)";
const DISTFILE = "gi-standin-sudo-1.9.17.tar.gz";
const SUDO_EBUILD = "app-admin/sudo/sudo-1.9.17.ebuild";

/** Runs scripts/build-tree-standin once per test run (instant when its cache is fresh). */
let built: { status: number | null; output: string } | undefined;
function buildTrees(t: TestContext): boolean {
  if (!requireTools(t, ["git", "wget", "emerge"], SETUP_HINT)) return false;
  if (!built) {
    const r = run(join(GI_ROOT, "scripts", "build-tree-standin"), []);
    built = { status: r.status, output: r.stdout + r.stderr };
  }
  assert.equal(built.status, 0, `scripts/build-tree-standin failed:\n${built.output}`);
  return true;
}

function git(gitDir: string, args: readonly string[]): string {
  const r = run("git", ["--git-dir", gitDir, ...args]);
  assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

const gentooGit = join(TREES, "gentoo.git");
const overlayGit = join(TREES, "overlay.git");

/** Runs a command without blocking the event loop (an in-process HTTP server answers). */
function runAsync(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("close", (status) => resolve({ status, output }));
  });
}

/** An HTTP server answering `/distfiles/<file>` from `files`; 404 otherwise. */
async function mirror(files: Record<string, Buffer>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const name = (req.url ?? "").replace(/^\/distfiles\//, "");
    const body = req.url?.startsWith("/distfiles/") ? files[name] : undefined;
    if (body) res.writeHead(200, { "content-length": body.length }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** `[ebuild ...] cat/pkg-ver[:slot]::repo` lines of `emerge --pretend --verbose`. */
function merged(stdout: string): string[] {
  return [...stdout.matchAll(/^\[ebuild[^\]]*\] (\S+)/gm)].map((m) => m[1] as string);
}

/** A builder-like prefix over fresh clones; removed after the test. */
function prefix(
  t: TestContext,
  mirrors: readonly string[] = ["http://127.0.0.1:9"],
): BuilderPrefix {
  const dir = mkdtempSync(join(tmpdir(), "gi-tree-standin-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return builderPrefix(dir, TREES, mirrors);
}

function pretend(p: BuilderPrefix, extra: readonly string[] = []): string[] {
  const r = run(
    join(VENV, "bin", "emerge"),
    [
      "--pretend",
      "--verbose",
      "--oneshot",
      "--getbinpkg=n",
      "--usepkg=n",
      "--color=n",
      ...extra,
      ...catalogPackages(),
    ],
    { env: p.env },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return merged(r.stdout);
}

describe("gentoo.git: branches and commits", () => {
  it("has develop = master (commit A), bump and broken as children of A, fix as a child of bump", (t) => {
    if (!buildTrees(t)) return;
    const heads = git(gentooGit, ["for-each-ref", "--format=%(refname:short)", "refs/heads"]);
    assert.deepEqual(heads.split("\n").sort(), ["broken", "bump", "develop", "fix", "master"]);
    const a = git(gentooGit, ["rev-parse", "develop"]);
    assert.equal(git(gentooGit, ["rev-parse", "master"]), a);
    assert.equal(git(gentooGit, ["rev-list", "--parents", "-n", "1", "develop"]), a, "A is a root");
    for (const branch of ["bump", "broken"]) {
      const [commit, ...parents] = git(gentooGit, [
        "rev-list",
        "--parents",
        "-n",
        "1",
        branch,
      ]).split(" ");
      assert.notEqual(commit, a);
      assert.deepEqual(parents, [a], `${branch}'s only parent is A`);
    }
    assert.deepEqual(
      git(gentooGit, ["rev-list", "--parents", "-n", "1", "fix"]).split(" ").slice(1),
      [git(gentooGit, ["rev-parse", "bump"])],
      "fix's only parent is bump",
    );
  });

  it("adds exactly one zlib ebuild and its cache entry on bump (1.3.2) and on broken (1.3.99)", (t) => {
    if (!buildTrees(t)) return;
    const diff = (branch: string) =>
      git(gentooGit, ["diff", "--name-status", "develop", branch]).split("\n");
    assert.deepEqual(diff("bump"), [
      "A\tmetadata/md5-cache/sys-libs/zlib-1.3.2",
      "A\tsys-libs/zlib/zlib-1.3.2.ebuild",
    ]);
    assert.deepEqual(diff("broken"), [
      "A\tmetadata/md5-cache/sys-libs/zlib-1.3.99",
      "A\tsys-libs/zlib/zlib-1.3.99.ebuild",
    ]);
    assert.match(
      git(gentooGit, ["show", "broken:sys-libs/zlib/zlib-1.3.99.ebuild"]),
      /^\tdie "stand-in build failure \(branch broken\)"$/m,
    );
    assert.deepEqual(git(gentooGit, ["diff", "--name-status", "bump", "fix"]).split("\n"), [
      "A\tmetadata/md5-cache/sys-apps/baselayout-2.17-r1",
      "A\tsys-apps/baselayout/baselayout-2.17-r1.ebuild",
    ]);
  });

  it("fix's commit applies to A without bump (a zero-day cherry-pick)", (t) => {
    if (!buildTrees(t)) return;
    const work = mkdtempSync(join(tmpdir(), "gi-tree-standin-pick-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const clone = join(work, "gentoo");
    assert.equal(
      run("git", ["clone", "--quiet", "--branch", "master", gentooGit, clone]).status,
      0,
    );
    const pick = run("git", [
      ...["-C", clone, "-c", "user.name=t", "-c", "user.email=t@t.invalid"],
      ...["cherry-pick", git(gentooGit, ["rev-parse", "fix"])],
    ]);
    assert.equal(pick.status, 0, pick.stdout + pick.stderr);
    assert.deepEqual(
      run("git", ["-C", clone, "diff", "--name-only", "origin/master", "HEAD"]).stdout.split("\n"),
      [
        "metadata/md5-cache/sys-apps/baselayout-2.17-r1",
        "sys-apps/baselayout/baselayout-2.17-r1.ebuild",
        "",
      ],
    );
  });

  it("gives the same commit ids when built again elsewhere (fixed names, e-mails, dates)", (t) => {
    if (!buildTrees(t)) return;
    const out = mkdtempSync(join(tmpdir(), "gi-tree-standin-again-"));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const r = run(join(GI_ROOT, "scripts", "build-tree-standin"), ["--out", out]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const [repo, branches] of [
      ["gentoo.git", ["develop", "master", "bump", "broken", "fix"]],
      ["overlay.git", ["develop", "master"]],
    ] as const) {
      for (const branch of branches) {
        assert.equal(
          git(join(out, repo), ["rev-parse", branch]),
          git(join(TREES, repo), ["rev-parse", branch]),
          `${repo} ${branch}`,
        );
      }
    }
    assert.deepEqual(
      readFileSync(join(out, "distfiles", DISTFILE)),
      readFileSync(join(TREES, "distfiles", DISTFILE)),
    );
  });
});

describe("the distfile of app-admin/sudo", () => {
  it("has a thin Manifest with the distfile's size, BLAKE2B and SHA512", (t) => {
    if (!buildTrees(t)) return;
    const data = readFileSync(join(TREES, "distfiles", DISTFILE));
    const blake2b = createHash("blake2b512").update(data).digest("hex");
    const sha512 = createHash("sha512").update(data).digest("hex");
    assert.equal(
      git(gentooGit, ["show", "develop:app-admin/sudo/Manifest"]),
      `DIST ${DISTFILE} ${data.length} BLAKE2B ${blake2b} SHA512 ${sha512}`,
    );
    const manifests = git(gentooGit, ["ls-tree", "-r", "--name-only", "develop"])
      .split("\n")
      .filter((p) => p.endsWith("/Manifest"));
    assert.deepEqual(manifests, ["app-admin/sudo/Manifest"]);
  });

  it("is fetched by Portage from the GENTOO_MIRRORS mirror, digests verified, no `!!!` line", async (t) => {
    if (!buildTrees(t)) return;
    const files = Object.fromEntries(
      readdirSync(join(TREES, "distfiles")).map((f) => [
        f,
        readFileSync(join(TREES, "distfiles", f)),
      ]),
    );
    assert.deepEqual(Object.keys(files).sort(), [DISTFILE, "layout.conf"]);
    const m = await mirror(files);
    t.after(() => m.server.close());
    const p = prefix(t, [m.url]);
    const r = await runAsync(
      join(VENV, "bin", "ebuild"),
      [join(p.gentoo, SUDO_EBUILD), "fetch"],
      p.env,
    );
    assert.equal(r.status, 0, r.output);
    assert.match(
      r.output,
      new RegExp(
        `${DISTFILE.replace(/\./g, "\\.")} BLAKE2B SHA512 size ;-\\) \\.\\.\\. +\\[ ok \\]`,
      ),
    );
    assert.deepEqual(
      r.output.split("\n").filter((l) => l.includes("!!!")),
      [],
    );
    assert.deepEqual(readFileSync(join(p.distdir, DISTFILE)), files[DISTFILE]);
  });

  it("is refused when the mirror serves a tampered copy", async (t) => {
    if (!buildTrees(t)) return;
    const good = readFileSync(join(TREES, "distfiles", DISTFILE));
    const bad = Buffer.from(good);
    bad[bad.length - 20] = (bad[bad.length - 20] as number) ^ 0xff;
    const m = await mirror({ [DISTFILE]: bad });
    t.after(() => m.server.close());
    const p = prefix(t, [m.url]);
    const r = await runAsync(
      join(VENV, "bin", "ebuild"),
      [join(p.gentoo, SUDO_EBUILD), "fetch"],
      p.env,
    );
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /Fetched file: gi-standin-sudo-1\.9\.17\.tar\.gz VERIFY FAILED!/);
  });
});

describe("metadata and profiles", () => {
  it("commits the md5-cache egencache makes, on every branch of both repositories", (t) => {
    if (!buildTrees(t)) return;
    const p = prefix(t);
    const check = (clone: string, repo: string, label: string) => {
      const r = run(
        join(VENV, "bin", "egencache"),
        ["--update", "--repo", repo, "--repositories-configuration", reposConf(p)],
        { env: p.env },
      );
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const status = run("git", ["-C", clone, "status", "--porcelain"]).stdout;
      assert.equal(status, "", `${label}: egencache changed the committed cache`);
    };
    check(p.overlay, DEFAULT_OVERLAY_NAME, "overlay.git develop");
    for (const branch of ["develop", "bump", "broken", "fix"]) {
      pin(p.gentoo, branch);
      check(p.gentoo, "gentoo", `gentoo.git ${branch}`);
    }
  });

  it("has exactly the overlay files examples/minimal's Stacks render, plus profiles/categories", (t) => {
    if (!buildTrees(t)) return;
    const rendered = mergeFileMaps(
      stacks.map((s) =>
        renderOverlayFiles(resolveStack(s, catalog), catalog, arches, DEFAULT_OVERLAY_NAME),
      ),
    );
    const committed = git(overlayGit, ["ls-tree", "-r", "--name-only", "develop"])
      .split("\n")
      .filter((p) => p.startsWith("profiles/") || p === "metadata/layout.conf");
    assert.deepEqual(committed, [...Object.keys(rendered), "profiles/categories"].sort());
    for (const [path, content] of Object.entries(rendered)) {
      assert.equal(git(overlayGit, ["show", `develop:${path}`]), content.replace(/\n$/, ""), path);
    }
    assert.equal(
      git(overlayGit, ["rev-parse", "master"]),
      git(overlayGit, ["rev-parse", "develop"]),
    );
    assert.equal(git(overlayGit, ["show", "develop:profiles/repo_name"]), DEFAULT_OVERLAY_NAME);
  });
});

describe("Portage resolves examples/minimal's catalog against the built repositories", () => {
  it("at develop: every package of the catalog, sys-libs/zlib as openssh's dependency", (t) => {
    if (!buildTrees(t)) return;
    const p = prefix(t);
    assert.deepEqual(pretend(p).sort(), [
      "app-admin/gi-site-tools-1.0::gentoo-infra",
      "app-admin/sudo-1.9.17::gentoo",
      "net-misc/openssh-9.9_p2::gentoo",
      "sys-apps/baselayout-2.17::gentoo",
      "sys-kernel/gentoo-kernel-6.12.21:6.12.21::gentoo",
      "sys-libs/zlib-1.3.1:0/1::gentoo",
    ]);
  });

  it("at bump: sys-libs/zlib-1.3.2 instead of 1.3.1", (t) => {
    if (!buildTrees(t)) return;
    const p = prefix(t);
    pin(p.gentoo, "bump");
    assert.ok(pretend(p).includes("sys-libs/zlib-1.3.2:0/1::gentoo"));
  });

  it("at fix: sys-apps/baselayout-2.17-r1 and sys-libs/zlib-1.3.2", (t) => {
    if (!buildTrees(t)) return;
    const p = prefix(t);
    pin(p.gentoo, "fix");
    const resolved = pretend(p);
    assert.ok(resolved.includes("sys-apps/baselayout-2.17-r1::gentoo"), resolved.join(" "));
    assert.ok(resolved.includes("sys-libs/zlib-1.3.2:0/1::gentoo"), resolved.join(" "));
  });

  it("at broken: sys-libs/zlib-1.3.99, whose build fails with the stand-in's message", (t) => {
    if (!buildTrees(t)) return;
    const p = prefix(t);
    pin(p.gentoo, "broken");
    assert.ok(pretend(p).includes("sys-libs/zlib-1.3.99:0/1::gentoo"));
    const ebuild = join(p.gentoo, "sys-libs/zlib/zlib-1.3.99.ebuild");
    const r = run(join(VENV, "bin", "ebuild"), [ebuild, "clean", "compile"], { env: p.env });
    assert.notEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /stand-in build failure \(branch broken\)/);
    // The same phases of the version at develop succeed: the failure is the branch's.
    const ok = run(
      join(VENV, "bin", "ebuild"),
      [join(p.gentoo, "sys-libs/zlib/zlib-1.3.1.ebuild"), "clean", "compile"],
      {
        env: p.env,
      },
    );
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  });
});

/** The repos.conf of a builder prefix, for egencache (which ignores the environment). */
function reposConf(p: BuilderPrefix): string {
  const dir = join(p.dir, "etc/portage/repos.conf");
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), "utf8"))
    .join("\n");
}
