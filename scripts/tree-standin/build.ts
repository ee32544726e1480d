/**
 * Makes the STAND-IN Gentoo tree and the site overlay as git repositories (see
 * docs/tree-standin.md); started by scripts/build-tree-standin, which caches and locks.
 *
 *   build.ts <out>   writes <out>/gentoo.git, <out>/overlay.git (bare) and <out>/distfiles/
 *
 * - distfiles: every directory of standin/distfiles/ packed reproducibly into <dir>.tar.gz,
 *   and the mirror's layout.conf (flat);
 * - gentoo.git (repository `gentoo`): commit A = standin/gentoo + Manifests + md5-cache on
 *   `develop` and `master`; commit B = A + standin/gentoo-branches/bump on `bump`; commit C =
 *   A + standin/gentoo-branches/broken on `broken` (B and C are children of A); commit F =
 *   B + standin/gentoo-branches/fix on `fix` (a child of B: the fix a zero-day cherry-pick
 *   takes to production without B);
 * - overlay.git (repository `gentoo-infra`, lib's DEFAULT_OVERLAY_NAME): the profiles the
 *   Stacks of examples/minimal render (renderOverlayFiles) + standin/overlay + md5-cache, one
 *   commit on `develop` and `master`.
 * Commits carry fixed names, e-mail addresses and dates: the same inputs give the same ids.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { arches, catalog, stacks } from "../../examples/minimal/stacks";
import { mergeFileMaps, renderOverlayFiles } from "../../lib/stack/render";
import { resolveStack } from "../../lib/stack/resolve";
import { DEFAULT_OVERLAY_NAME } from "../../lib/stack/stack-args";
import {
  die as dieWith,
  GI_ROOT,
  makePrefix,
  portageProblems,
  type Repository,
  run,
  VENV,
} from "./portage-prefix";

const PROGRAM = "build-tree-standin";
const die = (message: string): never => dieWith(PROGRAM, message);
const say = (message: string): void => {
  process.stdout.write(`${PROGRAM}: ${message}\n`);
};

const STANDIN = join(GI_ROOT, "standin");
/** The fixed date of commit A and of the overlay's commit, and the distfiles' mtime. */
const EPOCH = 1_767_225_600; // 2026-01-01T00:00:00Z
const DAY = 86_400;
/** The distfiles mirror's layout.conf (portage/package/ebuild/fetch.py MirrorLayoutConfig). */
const MIRROR_LAYOUT = [
  "# The site's distfiles mirror (gentoo-infra stand-in tree): every file at the top level.",
  "[structure]",
  "0=flat",
  "",
].join("\n");

/**
 * The branches of gentoo.git besides develop/master, in order: each a child of `parent` (A is
 * `develop`), its commit = the parent's tree + standin/gentoo-branches/<name>.
 */
const GENTOO_BRANCHES = [
  {
    name: "bump",
    parent: "develop",
    date: EPOCH + DAY,
    message: "sys-libs/zlib: add 1.3.2 (stand-in version bump)",
  },
  {
    name: "broken",
    parent: "develop",
    date: EPOCH + 2 * DAY,
    message: "sys-libs/zlib: add 1.3.99, whose build fails (stand-in, on purpose)",
  },
  {
    name: "fix",
    parent: "bump",
    date: EPOCH + 3 * DAY,
    message: "sys-apps/baselayout: 2.17-r1 (stand-in security fix)",
  },
] as const;

/** git with no user or system configuration, fixed identity and the given date. */
function git(cwd: string, args: readonly string[], date = EPOCH): string {
  const stamp = `@${date} +0000`;
  const result = run("git", args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      LC_ALL: "C",
      TZ: "UTC",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "gentoo-infra stand-in",
      GIT_AUTHOR_EMAIL: "standin@gentoo-infra.invalid",
      GIT_AUTHOR_DATE: stamp,
      GIT_COMMITTER_NAME: "gentoo-infra stand-in",
      GIT_COMMITTER_EMAIL: "standin@gentoo-infra.invalid",
      GIT_COMMITTER_DATE: stamp,
    },
  });
  if (result.status !== 0) die(`git ${args.join(" ")} failed in ${cwd}:\n${result.stderr}`);
  return result.stdout.trim();
}

/** Commits everything in the work tree; returns the commit id. */
function commitAll(cwd: string, message: string, date: number): string {
  git(cwd, ["add", "--all", "."], date);
  git(cwd, ["-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", message], date);
  return git(cwd, ["rev-parse", "HEAD"], date);
}

/** Copies a source directory over a work tree; files get mode 0644 (git records no x bit). */
function copyTree(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  for (const entry of readdirSync(to, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) chmodSync(join(entry.parentPath, entry.name), 0o644);
  }
}

/** Packs every directory of standin/distfiles reproducibly; returns file name → path. */
function makeDistfiles(out: string): Map<string, string> {
  const source = join(STANDIN, "distfiles");
  mkdirSync(out, { recursive: true });
  const made = new Map<string, string>();
  for (const dir of readdirSync(source, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    const file = `${dir.name}.tar.gz`;
    const target = join(out, file);
    // Fixed order, mtimes, owners and modes; gzip without name and time stamp.
    const result = run("bash", [
      "-c",
      'set -o pipefail; tar -C "$1" --sort=name --format=gnu --mtime="@$2" --owner=0 --group=0 --numeric-owner --mode=a+rX,u+w,go-w -cf - "$3" | gzip -9 -n >"$4"',
      "pack",
      source,
      String(EPOCH),
      dir.name,
      target,
    ]);
    if (result.status !== 0) die(`packing ${file} failed:\n${result.stderr}`);
    made.set(file, target);
  }
  if (made.size === 0) die(`${source} has no directory to pack into a distfile`);
  // Portage asks every GENTOO_MIRRORS entry for <mirror>/distfiles/layout.conf first, and
  // prints a "!!!" line when it is missing; served with the distfiles, it says "flat".
  writeFileSync(join(out, "layout.conf"), MIRROR_LAYOUT);
  return made;
}

/** The distfile names an md5-cache SRC_URI value names (USE conditionals and arrows resolved). */
export function distfileNames(srcUri: string): string[] {
  const names: string[] = [];
  const tokens = srcUri.split(/\s+/).filter(Boolean);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === "(" || token === ")" || token.endsWith("?")) continue;
    if (tokens[i + 1] === "->") {
      names.push(tokens[i + 2] as string);
      i += 2;
      continue;
    }
    names.push(basename(token));
  }
  return names;
}

/** BLAKE2B and SHA512 of a file, the hashes layout.conf's manifest-hashes names. */
function manifestLine(file: string, path: string): string {
  const data = readFileSync(path);
  const blake2b = createHash("blake2b512").update(data).digest("hex");
  const sha512 = createHash("sha512").update(data).digest("hex");
  return `DIST ${file} ${data.length} BLAKE2B ${blake2b} SHA512 ${sha512}`;
}

/**
 * Writes a thin Manifest (DIST lines only) into every package directory whose ebuilds name
 * a distfile, from md5-cache's SRC_URI; returns the distfile names used.
 */
function writeManifests(tree: string, distfiles: ReadonlyMap<string, string>): Set<string> {
  const used = new Set<string>();
  const byPackage = new Map<string, Set<string>>();
  const cache = join(tree, "metadata", "md5-cache");
  for (const category of readdirSync(cache)) {
    for (const entry of readdirSync(join(cache, category))) {
      const src = readFileSync(join(cache, category, entry), "utf8")
        .split("\n")
        .find((line) => line.startsWith("SRC_URI="));
      if (!src) continue;
      // The cache entry is <PF>; the package directory is its PN (PF minus version).
      const pn = entry.replace(/-[0-9][^-]*(?:-r[0-9]+)?$/, "");
      const key = `${category}/${pn}`;
      for (const name of distfileNames(src.slice("SRC_URI=".length))) {
        if (!distfiles.has(name)) {
          die(`${category}/${entry} names the distfile ${name}, which standin/distfiles lacks`);
        }
        used.add(name);
        const set = byPackage.get(key) ?? new Set<string>();
        set.add(name);
        byPackage.set(key, set);
      }
    }
  }
  for (const [key, names] of byPackage) {
    if (!existsSync(join(tree, key))) die(`no package directory ${key} for its cache entries`);
    const lines = [...names].sort().map((n) => manifestLine(n, distfiles.get(n) as string));
    writeFileSync(join(tree, key, "Manifest"), `${lines.join("\n")}\n`);
  }
  return used;
}

/** Regenerates `metadata/md5-cache` of `repo` with the venv's egencache. */
function egencache(scratch: string, repos: readonly Repository[], repo: string): number {
  const location = repos.find((r) => r.name === repo)?.location as string;
  rmSync(join(location, "metadata", "md5-cache"), { recursive: true, force: true });
  const gentoo = repos.find((r) => r.name === "gentoo")?.location as string;
  const prefixDir = mkdtempSync(join(scratch, "prefix-"));
  const prefix = makePrefix(prefixDir, {
    repositories: repos,
    profile: join(gentoo, "profiles/default/linux/amd64/23.0"),
  });
  // egencache ignores the calling environment: the repositories go on its command line.
  const result = run(
    join(VENV, "bin", "egencache"),
    [
      "--update",
      "--repo",
      repo,
      "--jobs",
      "2",
      "--repositories-configuration",
      prefix.env.PORTAGE_REPOSITORIES as string,
    ],
    { env: prefix.env },
  );
  rmSync(prefixDir, { recursive: true, force: true });
  const problems = portageProblems(result.stdout + result.stderr);
  if (result.status !== 0 || problems.length > 0) {
    die(
      `egencache --repo ${repo} failed (exit ${result.status}):\n${result.stdout}${result.stderr}`,
    );
  }
  if (!existsSync(join(location, "metadata", "md5-cache"))) {
    die(`egencache --repo ${repo} wrote no metadata/md5-cache`);
  }
  return result.seconds;
}

/** The overlay files the Stacks of examples/minimal render, merged. */
function renderedOverlay(): Record<string, string> {
  return mergeFileMaps(
    stacks.map((definition) =>
      renderOverlayFiles(resolveStack(definition, catalog), catalog, arches, DEFAULT_OVERLAY_NAME),
    ),
  );
}

/** Top-level directories of a repository source that are package categories. */
function categoriesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter(
      (e) => e.isDirectory() && !["metadata", "profiles", "eclass", "licenses"].includes(e.name),
    )
    .map((e) => e.name)
    .sort();
}

/** Initialises a bare repository and pushes the work repository's branches to it. */
function publish(work: string, bare: string, branches: readonly string[]): void {
  mkdirSync(dirname(bare), { recursive: true });
  git(dirname(bare), ["init", "--quiet", "--bare", "--initial-branch=develop", bare]);
  git(work, ["push", "--quiet", bare, ...branches.map((b) => `refs/heads/${b}:refs/heads/${b}`)]);
  git(bare, ["gc", "--quiet"]);
}

function main(): void {
  const out = process.argv[2];
  if (!out) die("usage: build.ts <output directory>");
  if (!existsSync(join(VENV, "bin", "egencache"))) {
    die(`${VENV}/bin/egencache is missing: run 'scripts/setup python' (Portage into the venv)`);
  }
  mkdirSync(out, { recursive: true });
  const scratch = mkdtempSync(join(out, ".scratch-"));
  try {
    const start = process.hrtime.bigint();
    let cacheSeconds = 0;

    // Distfiles.
    const distfiles = makeDistfiles(join(out, "distfiles"));
    say(`distfiles: ${[...distfiles.keys()].join(" ")}`);

    // gentoo.git, commit A.
    const tree = join(scratch, "gentoo");
    git(scratch, ["init", "--quiet", "--initial-branch=develop", tree]);
    copyTree(join(STANDIN, "gentoo"), tree);
    const overlay = join(scratch, "overlay");
    const repos: Repository[] = [
      { name: "gentoo", location: tree },
      { name: DEFAULT_OVERLAY_NAME, location: overlay },
    ];
    const treeOnly = repos.slice(0, 1);
    cacheSeconds += egencache(scratch, treeOnly, "gentoo");
    const used = writeManifests(tree, distfiles);
    const commits: Record<string, string> = {};
    commits.develop = commitAll(tree, "Stand-in Gentoo tree (NOT Gentoo): base", EPOCH);
    git(tree, ["branch", "master"]);
    commits.master = commits.develop;

    // overlay.git, built against commit A of the tree.
    git(scratch, ["init", "--quiet", "--initial-branch=develop", overlay]);
    const rendered = renderedOverlay();
    const own = join(STANDIN, "overlay");
    for (const path of Object.keys(rendered)) {
      if (existsSync(join(own, path))) {
        die(`standin/overlay/${path} would overwrite a file the Stack renders; remove it`);
      }
    }
    copyTree(own, overlay);
    for (const [path, content] of Object.entries(rendered)) {
      mkdirSync(dirname(join(overlay, path)), { recursive: true });
      writeFileSync(join(overlay, path), content);
    }
    // renderOverlayMetadata writes no profiles/categories; the overlay's own categories are
    // listed here so that the repository declares every category it has packages in.
    if (!("profiles/categories" in rendered)) {
      writeFileSync(
        join(overlay, "profiles", "categories"),
        [
          "# Written by scripts/build-tree-standin: the categories of this overlay's packages.",
          ...categoriesOf(own),
          "",
        ].join("\n"),
      );
    }
    cacheSeconds += egencache(scratch, repos, DEFAULT_OVERLAY_NAME);
    writeManifests(overlay, distfiles).forEach((n) => {
      used.add(n);
    });
    const overlayCommit = commitAll(
      overlay,
      "Stand-in site overlay: the profiles of examples/minimal's Stacks, gi-site-tools",
      EPOCH,
    );
    git(overlay, ["branch", "master"]);

    // gentoo.git, the branches B and C (children of A) and F (a child of B).
    for (const branch of GENTOO_BRANCHES) {
      git(tree, ["checkout", "--quiet", "-b", branch.name, branch.parent]);
      copyTree(join(STANDIN, "gentoo-branches", branch.name), tree);
      cacheSeconds += egencache(scratch, treeOnly, "gentoo");
      writeManifests(tree, distfiles).forEach((n) => {
        used.add(n);
      });
      commits[branch.name] = commitAll(tree, branch.message, branch.date);
    }
    for (const name of distfiles.keys()) {
      if (!used.has(name)) die(`the distfile ${name} is named by no ebuild of any branch`);
    }

    publish(tree, join(out, "gentoo.git"), [
      "develop",
      "master",
      ...GENTOO_BRANCHES.map((b) => b.name),
    ]);
    publish(overlay, join(out, "overlay.git"), ["develop", "master"]);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    say(`built in ${seconds.toFixed(1)} s (egencache ${cacheSeconds.toFixed(1)} s)`);
    for (const [branch, commit] of Object.entries(commits)) {
      say(`gentoo.git  ${branch.padEnd(8)} ${commit}`);
    }
    say(`overlay.git develop  ${overlayCommit}`);
    say(`overlay.git master   ${overlayCommit}`);
    for (const path of distfiles.values()) {
      say(`distfile    ${relative(out, path)} (${statSync(path).size} bytes)`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) main();
