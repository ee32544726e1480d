/**
 * Lets Portage itself (the venv's `portage` package) judge rendered configuration.
 *
 * A temporary Portage prefix holds everything: `<prefix>/etc/portage` (our make.conf,
 * make.profile, repos.conf, binrepos.conf), `<prefix>/var/lib/portage/world`, the overlay
 * we render at `<prefix>/repos/<overlay>` (with the packages of the stand-in site overlay,
 * standin/overlay), and a copy of the stand-in for the official Gentoo tree (standin/gentoo,
 * NOT the real tree) at `<prefix>/repos/gentoo`. Portage runs with
 * PORTAGE_OVERRIDE_EPREFIX=<prefix>, so it reads nothing from the host's /etc/portage and
 * writes only below the prefix.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * The stand-in for the official Gentoo tree (see its README.md); scripts/build-tree-standin
 * makes gentoo.git from the same directory.
 */
export const GENTOO_STANDIN = join(__dirname, "..", "..", "standin", "gentoo");

/**
 * The stand-in site overlay's own packages (see its README.md): copied into every rendered
 * overlay, so that a catalog may name them (examples/minimal's `app-admin/gi-site-tools`).
 */
export const OVERLAY_STANDIN = join(__dirname, "..", "..", "standin", "overlay");

/** Where the Python judges live. */
export const VENV = join(process.env.GI_CACHE ?? join(__dirname, "..", "..", ".cache"), "venv");

/** A prefix populated with rendered files. */
export interface PortagePrefix {
  /** The prefix directory (EPREFIX). */
  readonly dir: string;
  /** Location of the stand-in Gentoo tree copy. */
  readonly gentooLocation: string;
  /** Location of the rendered overlay. */
  readonly overlayLocation: string;
  /** Removes the prefix. */
  readonly remove: () => void;
}

/**
 * Makes a prefix with the stand-in tree and the stand-in overlay's packages at the overlay's
 * location; render with its locations, then write the rendered overlay files over it.
 */
export function createPrefix(overlayName: string): PortagePrefix {
  const dir = mkdtempSync(join(tmpdir(), "gi-portage-"));
  const gentooLocation = join(dir, "repos", "gentoo");
  cpSync(GENTOO_STANDIN, gentooLocation, { recursive: true });
  const overlayLocation = join(dir, "repos", overlayName);
  for (const entry of readdirSync(OVERLAY_STANDIN, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      cpSync(join(OVERLAY_STANDIN, entry.name), join(overlayLocation, entry.name), {
        recursive: true,
      });
    }
  }
  // Portage installed as a Python module reads make.globals from <EPREFIX>/share/portage.
  mkdirSync(join(dir, "share"), { recursive: true });
  symlinkSync(join(VENV, "share", "portage"), join(dir, "share", "portage"));
  return {
    dir,
    gentooLocation,
    overlayLocation,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Writes a file map below `root` (absolute paths in the map are made relative to it). */
export function writeFiles(root: string, files: Readonly<Record<string, string>>): void {
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, path.replace(/^\/+/, ""));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/** Result of running a Portage tool in a prefix. */
export interface PortageRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The signal that ended it (a timeout), if any. */
  readonly signal?: NodeJS.Signals | null;
}

function portageEnv(prefix: PortagePrefix): NodeJS.ProcessEnv {
  // A minimal environment: nothing from the caller's USE, FEATURES, PORTAGE_* leaks in.
  return {
    PATH: `${join(VENV, "bin")}:/usr/bin:/bin`,
    HOME: prefix.dir,
    LC_ALL: "C.UTF-8",
    NOCOLOR: "true",
    PORTAGE_OVERRIDE_EPREFIX: prefix.dir,
    PYTHONDONTWRITEBYTECODE: "1",
  };
}

/** Runs test/render/portage-check.py: what Portage loaded, as JSON facts. */
export function portageCheck(prefix: PortagePrefix, atoms: readonly string[]): PortageRun {
  const result = spawnSync(
    join(VENV, "bin", "python"),
    [join(__dirname, "portage-check.py"), ...atoms],
    { env: portageEnv(prefix), encoding: "utf8", timeout: 600_000 },
  );
  if (result.error) throw result.error;
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    signal: result.signal,
  };
}

/** Runs `emerge` with `args` in the prefix. */
export function emerge(prefix: PortagePrefix, args: readonly string[]): PortageRun {
  const result = spawnSync(join(VENV, "bin", "emerge"), args, {
    env: portageEnv(prefix),
    encoding: "utf8",
    timeout: 600_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Lines of Portage's stderr that signal a problem (`!!!` errors and warnings), minus the
 * notices caused by the test machine itself (no `portage` user, no sandbox binary).
 */
export function portageProblems(stderr: string): string[] {
  return stderr
    .split("\n")
    .filter((line) => line.includes("!!!"))
    .filter((line) => !/Problem with sandbox binary/.test(line));
}

/** Packages in `emerge --pretend` output: `cat/pkg-ver::repo` per `[ebuild ...]` line. */
export function mergeList(stdout: string): string[] {
  return [...stdout.matchAll(/^\[ebuild[^\]]*\] (\S+)/gm)].map((m) => m[1] as string);
}
