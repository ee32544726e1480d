/**
 * A throwaway Portage prefix for the stand-in tree's tools (build, check, test): Portage from
 * the venv runs with PORTAGE_OVERRIDE_EPREFIX=<prefix>, so it reads `<prefix>/etc/portage` and
 * writes below the prefix only; repositories come from PORTAGE_REPOSITORIES, never from the
 * host's /etc/portage. The same arrangement as test/render/portage-harness.ts.
 */
import { type SpawnSyncOptions, spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/** The repository root. */
export const GI_ROOT = join(__dirname, "..", "..");
/** The cache directory (toolchain, venv, images, trees). */
export const GI_CACHE = process.env.GI_CACHE ?? join(GI_ROOT, ".cache");
/** The Python venv holding Portage (scripts/setup.d/20-python.sh). */
export const VENV = join(GI_CACHE, "venv");

/** Stops the program with a message on stderr (no stack: the message says what to do). */
export function die(program: string, message: string): never {
  process.stderr.write(`${program}: ${message}\n`);
  process.exit(1);
}

/** An ebuild repository Portage should know: name and location. */
export interface Repository {
  readonly name: string;
  readonly location: string;
}

/** A Portage prefix. */
export interface Prefix {
  /** EPREFIX. */
  readonly dir: string;
  /** The environment every Portage tool runs with in this prefix. */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * repos.conf content naming `repositories` (the first is the main repository). Auto-sync off:
 * nothing is ever fetched.
 */
export function reposConf(repositories: readonly Repository[]): string {
  const [main] = repositories;
  if (!main) throw new Error("reposConf: no repository");
  return [
    "[DEFAULT]",
    `main-repo = ${main.name}`,
    ...repositories.flatMap((r, i) => [
      "",
      `[${r.name}]`,
      `location = ${r.location}`,
      "auto-sync = no",
      `priority = ${i === 0 ? -1000 : 0}`,
    ]),
    "",
  ].join("\n");
}

/** What goes into a new prefix. */
export interface PrefixOptions {
  /**
   * Repositories Portage knows, through PORTAGE_REPOSITORIES (the first is the main one).
   * @default none: the prefix's own etc/portage/repos.conf (written by the caller)
   */
  readonly repositories?: readonly Repository[];
  /**
   * The profile `etc/portage/make.profile` links to (absolute path).
   * @default none: the caller writes etc/portage/make.profile
   */
  readonly profile?: string;
}

/**
 * Makes a prefix in `dir`: `share/portage` links to the venv's (make.globals there). Portage's
 * own user and group are root (Debian has no `portage` user), and there is no sandbox binary
 * here: FEATURES in the environment turns sandbox, usersandbox and userpriv off.
 */
export function makePrefix(dir: string, options: PrefixOptions = {}): Prefix {
  mkdirSync(join(dir, "share"), { recursive: true });
  symlinkSync(join(VENV, "share", "portage"), join(dir, "share", "portage"));
  mkdirSync(join(dir, "etc", "portage"), { recursive: true });
  if (options.profile) symlinkSync(options.profile, join(dir, "etc", "portage", "make.profile"));
  return {
    dir,
    env: {
      // A minimal environment: nothing from the caller's USE, FEATURES, PORTAGE_* leaks in.
      PATH: `${join(VENV, "bin")}:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: dir,
      LC_ALL: "C.UTF-8",
      TZ: "UTC",
      NOCOLOR: "true",
      PORTAGE_OVERRIDE_EPREFIX: dir,
      ...(options.repositories ? { PORTAGE_REPOSITORIES: reposConf(options.repositories) } : {}),
      PORTAGE_USERNAME: "root",
      PORTAGE_GRPNAME: "root",
      FEATURES: "-sandbox -usersandbox -userpriv -usersync",
      PYTHONDONTWRITEBYTECODE: "1",
    },
  };
}

/** What a command printed and how it ended. */
export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time in seconds. */
  readonly seconds: number;
}

/** Runs a command to its end (10 minutes at most) and returns what it printed. */
export function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): Run {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
    ...options,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.error) {
    return { status: null, stdout: "", stderr: String(result.error), seconds };
  }
  return {
    status: result.status,
    stdout: String(result.stdout ?? ""),
    stderr: String(result.stderr ?? ""),
    seconds,
  };
}

/** Lines of Portage output that report a problem (`!!!`). */
export function portageProblems(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.includes("!!!"))
    .filter((line) => !/Problem with sandbox binary/.test(line));
}
