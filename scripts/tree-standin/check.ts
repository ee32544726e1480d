/**
 * Builds the stand-in tree's packages for real, on this machine, with the venv's Portage: the
 * proof that builders can build from gentoo.git and overlay.git (docs/tree-standin.md).
 * Started by scripts/check-tree-standin.
 *
 *   check.ts <trees dir>   (the output of scripts/build-tree-standin)
 *
 * In a throwaway prefix, with clones of both repositories at `develop`, the builder files
 * that lib renders for examples/minimal's `tools` Stack (make.conf, repos.conf, make.profile),
 * GENTOO_MIRRORS pointing at an HTTP server on 127.0.0.1 that serves <trees>/distfiles at
 * /distfiles/, and signing turned off (no key here):
 * 1. `emerge --oneshot` of every package of the catalog: a gpkg per package appears in
 *    PKGDIR, the distfile is fetched from the mirror, the installed scripts run;
 * 2. the tree pinned to `broken`: the update fails at sys-libs/zlib-1.3.99;
 * 3. the tree pinned to `bump`: the update offers and builds sys-libs/zlib-1.3.2.
 * Prints the time of each step. GI_CHECK_KEEP=1 keeps the prefix.
 */
import { spawn } from "node:child_process";
import {
  appendFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { catalog, tools } from "../../examples/minimal/stacks";
import { renderBuildProfileFiles } from "../../lib/stack/render";
import { resolveStack } from "../../lib/stack/resolve";
import { DEFAULT_OVERLAY_NAME } from "../../lib/stack/stack-args";
import { die as dieWith, makePrefix, run, VENV } from "./portage-prefix";

const PROGRAM = "check-tree-standin";
const die = (message: string): never => dieWith(PROGRAM, message);
const say = (message: string): void => {
  process.stdout.write(`${PROGRAM}: ${message}\n`);
};

/** Every package the catalog of examples/minimal names (system and application profiles). */
export function catalogPackages(): string[] {
  const all = [
    ...Object.values(catalog.systemProfiles).flatMap((p) => p.packages ?? []),
    ...Object.values(catalog.applicationProfiles ?? {}).flatMap((p) => p.packages ?? []),
    "sys-kernel/gentoo-kernel",
    "app-admin/gi-site-tools",
  ];
  return [...new Set(all)].sort();
}

/** Runs a command without blocking the event loop (the mirror answers meanwhile). */
function runAsync(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  log: string,
): Promise<{ status: number | null; seconds: number }> {
  const start = process.hrtime.bigint();
  appendFileSync(log, `\n$ ${command} ${args.join(" ")}\n`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d) => appendFileSync(log, d));
    child.stderr.on("data", (d) => appendFileSync(log, d));
    child.on("close", (status) =>
      resolve({ status, seconds: Number(process.hrtime.bigint() - start) / 1e9 }),
    );
  });
}

/** Serves `<dir>/<file>` at `/distfiles/<file>`; records every request path. */
async function startMirror(
  dir: string,
): Promise<{ url: string; requests: string[]; close: () => void }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(`${req.method} ${path}`);
    const file = path.startsWith("/distfiles/") ? join(dir, basename(path)) : "";
    if (file && basename(path) === path.slice("/distfiles/".length) && existsSync(file)) {
      res.writeHead(200, { "content-length": statSync(file).size });
      createReadStream(file).pipe(res);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => server.close() };
}

/** The gpkg files below PKGDIR, relative to it. */
function binaryPackages(pkgdir: string): string[] {
  if (!existsSync(pkgdir)) return [];
  return readdirSync(pkgdir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".gpkg.tar"))
    .map((e) => relative(pkgdir, join(e.parentPath, e.name)))
    .sort();
}

function git(args: readonly string[]): string {
  const result = run("git", args, { env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: "1" } });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout.trim();
}

/** A prefix set up like a builder of examples/minimal's `tools` Stack. */
export interface BuilderPrefix {
  /** EPREFIX. */
  readonly dir: string;
  /** The environment to run Portage tools with (FEATURES from make.conf only). */
  readonly env: NodeJS.ProcessEnv;
  /** The clone of gentoo.git (at `develop`; check out another commit to pin it). */
  readonly gentoo: string;
  /** The clone of overlay.git (at `develop`). */
  readonly overlay: string;
  /** PKGDIR. */
  readonly pkgdir: string;
  /** DISTDIR. */
  readonly distdir: string;
  /** Whether `gtar` had to be provided (this host has none). */
  readonly gtarLinked: string | undefined;
}

/**
 * Makes a builder-like prefix in `dir` (which must not exist or be empty): clones of
 * `<trees>/gentoo.git` and `<trees>/overlay.git` at `develop`, the builder files lib renders
 * for examples/minimal's `tools` Stack with GENTOO_MIRRORS = `mirrors`, then the check's
 * changes to make.conf: no signing (no key here), no binhost, no sandbox binary, no portage
 * user, every directory inside the prefix.
 */
export function builderPrefix(
  dir: string,
  trees: string,
  mirrors: readonly string[],
): BuilderPrefix {
  const prefix = makePrefix(dir);
  const gentoo = join(dir, "var/db/repos/gentoo");
  const overlay = join(dir, "var/db/repos", DEFAULT_OVERLAY_NAME);
  git(["clone", "--quiet", "--branch", "develop", join(trees, "gentoo.git"), gentoo]);
  git(["clone", "--quiet", "--branch", "develop", join(trees, "overlay.git"), overlay]);
  const files = renderBuildProfileFiles(resolveStack(tools, catalog), {
    environment: "development",
    arch: "amd64",
    overlayName: DEFAULT_OVERLAY_NAME,
    binhostUrl: "https://binhost.invalid",
    gentooSyncUri: `file://${join(trees, "gentoo.git")}`,
    overlaySyncUri: `file://${join(trees, "overlay.git")}`,
    snapshot: {
      gentoo: git(["-C", gentoo, "rev-parse", "HEAD"]),
      overlay: git(["-C", overlay, "rev-parse", "HEAD"]),
    },
    signingKeyFingerprint: "0".repeat(40),
    gentooMirrors: mirrors,
    builderMakeJobs: 1,
    gentooLocation: gentoo,
    overlayLocation: overlay,
  }).builder;
  for (const [path, content] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  const pkgdir = join(dir, "var/cache/binpkgs");
  const distdir = join(dir, "var/cache/distfiles");
  appendFileSync(
    join(dir, "etc/portage/make.conf"),
    [
      "",
      "# scripts/tree-standin/check.ts: no signing (no key here), no binhost, no sandbox binary,",
      "# no portage user; every directory inside the prefix.",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: make.conf's own ${FEATURES}
      'FEATURES="${FEATURES} -binpkg-signing -binpkg-request-signature -getbinpkg -sandbox -usersandbox -userpriv -usersync"',
      `PKGDIR="${pkgdir}"`,
      `DISTDIR="${distdir}"`,
      `PORTAGE_TMPDIR="${join(dir, "var/tmp")}"`,
      'PORTAGE_USERNAME="root"',
      'PORTAGE_GRPNAME="root"',
      "",
    ].join("\n"),
  );
  mkdirSync(join(dir, "var/tmp"), { recursive: true });
  // FEATURES come from make.conf here, as on a builder: none from the environment.
  const env = Object.fromEntries(Object.entries(prefix.env).filter(([k]) => k !== "FEATURES"));
  // Portage's unpack runs `gtar` (GNU tar under its Gentoo name); Debian has only `tar`.
  let gtarLinked: string | undefined;
  if (run("sh", ["-c", "command -v gtar"], { env }).status !== 0) {
    const tar = run("sh", ["-c", "command -v tar"], { env }).stdout.trim();
    if (!tar) throw new Error("neither gtar nor tar is on PATH");
    mkdirSync(join(dir, "host-tools"));
    symlinkSync(tar, join(dir, "host-tools", "gtar"));
    env.PATH = `${join(dir, "host-tools")}:${env.PATH}`;
    gtarLinked = `${join(dir, "host-tools/gtar")} → ${tar}`;
  }
  return { dir, env, gentoo, overlay, pkgdir, distdir, gtarLinked };
}

/** Pins a clone to a branch of the repository it was cloned from (detached). */
export function pin(clone: string, branch: string): void {
  git(["-C", clone, "checkout", "--quiet", "--detach", `origin/${branch}`]);
}

async function main(): Promise<void> {
  const trees = process.argv[2];
  if (!trees) die("usage: check.ts <trees dir>");
  for (const need of ["gentoo.git", "overlay.git", "distfiles"]) {
    if (!existsSync(join(trees, need)))
      die(`${join(trees, need)} is missing: run scripts/build-tree-standin`);
  }
  const dir = mkdtempSync(join(tmpdir(), "gi-tree-check-"));
  const keep = process.env.GI_CHECK_KEEP === "1";
  const mirror = await startMirror(join(trees, "distfiles"));
  const log = join(dir, "check.log");
  const timings: string[] = [];
  try {
    const { env, gentoo, overlay, pkgdir, gtarLinked } = builderPrefix(dir, trees, [mirror.url]);
    if (gtarLinked) say(`this host has no gtar (Portage's unpack needs it): ${gtarLinked}`);
    const commits = {
      gentoo: git(["-C", gentoo, "rev-parse", "HEAD"]),
      overlay: git(["-C", overlay, "rev-parse", "HEAD"]),
    };
    const emerge = join(VENV, "bin", "emerge");
    const atoms = catalogPackages();
    const base = ["--getbinpkg=n", "--usepkg=n", "--color=n"];

    // 1. The catalog at develop.
    say(
      `emerge --oneshot ${atoms.join(" ")} (tree ${commits.gentoo.slice(0, 12)}, overlay ${commits.overlay.slice(0, 12)})`,
    );
    const first = await runAsync(emerge, ["--oneshot", ...base, ...atoms], env, log);
    timings.push(`develop build ${first.seconds.toFixed(1)} s`);
    if (first.status !== 0) die(`emerge of the catalog failed (exit ${first.status}); log: ${log}`);
    const built = binaryPackages(pkgdir);
    const expected = [...atoms, "sys-libs/zlib"].sort();
    const builtNames = built.map((p) => p.split("/").slice(0, 2).join("/")).sort();
    if (JSON.stringify(builtNames) !== JSON.stringify(expected)) {
      die(`PKGDIR holds ${built.join(", ")}; expected one gpkg of each of ${expected.join(", ")}`);
    }
    say(`built ${built.length} gpkg files in ${first.seconds.toFixed(1)} s:`);
    for (const p of built) say(`  ${p}`);
    const fetched = mirror.requests.filter((r) => r.includes("gi-standin-sudo"));
    if (fetched.length === 0)
      die(`the distfile was not fetched from ${mirror.url}: ${mirror.requests.join(", ")}`);
    say(`the mirror served: ${mirror.requests.join(", ")}`);
    const sudo = run(join(dir, "usr/bin/gi-standin-sudo-distfile"), []);
    if (!/built from the distfile/.test(sudo.stdout))
      die(`gi-standin-sudo-distfile printed: ${sudo.stdout}${sudo.stderr}`);
    say(`installed: ${sudo.stdout.trim()}`);
    const siteTools = run(join(dir, "usr/bin/gi-site-tools"), ["version"]);
    say(`installed: gi-site-tools version → ${siteTools.stdout.trim()}`);
    if (!existsSync(join(dir, "boot/gi-standin-vmlinuz-6.12.21")))
      die("no /boot/gi-standin-vmlinuz-6.12.21");

    // 2. Pinned to `broken`: the update must fail at sys-libs/zlib-1.3.99.
    pin(gentoo, "broken");
    const before = statSync(log).size;
    const broken = await runAsync(
      emerge,
      ["--oneshot", "--update", "--deep", ...base, ...atoms],
      env,
      log,
    );
    timings.push(`broken build ${broken.seconds.toFixed(1)} s`);
    const brokenLog = run("tail", ["-c", `+${before + 1}`, log]).stdout;
    if (broken.status === 0)
      die("the update at `broken` succeeded; it must fail at sys-libs/zlib-1.3.99");
    if (
      !/stand-in build failure \(branch broken\)/.test(brokenLog) ||
      !/sys-libs\/zlib-1\.3\.99/.test(brokenLog)
    ) {
      die(`the update at \`broken\` failed, but not at sys-libs/zlib-1.3.99; log: ${log}`);
    }
    say(
      `broken: emerge failed as it must, at sys-libs/zlib-1.3.99, in ${broken.seconds.toFixed(1)} s`,
    );

    // 3. Pinned to `bump`: the update offers and builds sys-libs/zlib-1.3.2.
    pin(gentoo, "bump");
    const pretendStart = statSync(log).size;
    const pretend = await runAsync(
      emerge,
      ["--pretend", "--update", "--deep", ...base, ...atoms],
      env,
      log,
    );
    const pretendLog = run("tail", ["-c", `+${pretendStart + 1}`, log]).stdout;
    const offered = [...pretendLog.matchAll(/^\[ebuild[^\]]*\] (\S+)/gm)].map((m) => m[1]);
    if (pretend.status !== 0 || !offered.some((p) => p?.startsWith("sys-libs/zlib-1.3.2"))) {
      die(
        `at \`bump\`, emerge --pretend --update offers ${offered.join(", ") || "nothing"}; expected sys-libs/zlib-1.3.2`,
      );
    }
    say(`bump: emerge --pretend --update offers ${offered.join(", ")}`);
    const bump = await runAsync(
      emerge,
      ["--oneshot", "--update", "--deep", ...base, ...atoms],
      env,
      log,
    );
    timings.push(`bump build ${bump.seconds.toFixed(1)} s`);
    if (bump.status !== 0) die(`the update at \`bump\` failed; log: ${log}`);
    if (!binaryPackages(pkgdir).some((p) => p.startsWith("sys-libs/zlib/zlib-1.3.2-"))) {
      die("the update at `bump` made no gpkg of sys-libs/zlib-1.3.2");
    }
    say(`bump: built sys-libs/zlib-1.3.2 in ${bump.seconds.toFixed(1)} s`);
    say(`OK ${timings.join(", ")}`);
  } finally {
    mirror.close();
    if (keep) say(`kept ${dir} (log: ${log})`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => die(String(error)));
}
