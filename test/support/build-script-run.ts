/**
 * The builder's build script (lib/buildfarm/build.sh, rendered by renderBuildScript) run on
 * this host, with fakes for what it drives that log how they were called (fake-commands.ts):
 * shared by test/render/build-script-run.test.ts (every tool it drives faked) and
 * test/render/build-script-unreachable.test.ts (git, curl, rsync and ssh real).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderBuildScript } from "../../lib/buildfarm/build-script";
import type { BuildScriptArgs } from "../../lib/buildfarm/build-script-args";
import type { BuildOutcome } from "../../lib/buildfarm/build-script-steps";
import { buildScriptArgs } from "./buildfarm-fixtures";
import { calls, fakeCommands } from "./fake-commands";

/**
 * The fakes. emerge of @world adds $FAKE_NEW to PKGDIR and fails when $FAKE_FAIL is set;
 * curl answers a HEAD request, prints $FAKE_INDEX for a served index (a 404 without it) and
 * takes every POST; git keeps the checked-out commit as HEAD; sleep returns at once.
 */
export const BUILD_FAKES: Readonly<Record<string, string>> = {
  emerge: `for a in "$@"; do
  if [ "$a" = @world ]; then
    [ -z "\${FAKE_FAIL:-}" ] || exit 1
    if [ -n "\${FAKE_NEW:-}" ]; then mkdir -p "$(dirname "$FAKE_PKGDIR/$FAKE_NEW")"; : >"$FAKE_PKGDIR/$FAKE_NEW"; fi
  fi
done`,
  portageq: `case $1 in
  envvar) echo "buildpkg binpkg-signing getbinpkg" ;;
  best_version) echo dev-lang/perl-5.40.0 ;;
esac`,
  "perl-cleaner": "",
  emaint: "",
  python3: "",
  git: `dir=$2
shift 2
[ "$1" != -c ] || shift 2
case $1 in
  init) mkdir -p "$dir/.git" ;;
  checkout) echo "\${!#}" >"$dir/.git/fake-head" ;;
  rev-parse) cat "$dir/.git/fake-head" ;;
esac`,
  rsync: "",
  curl: `case " $* " in
  *" --head "*) exit 0 ;;
  *" --data "*) exit 0 ;;
esac
[ -n "\${FAKE_INDEX+set}" ] || exit 22
printf '%s' "$FAKE_INDEX"`,
  gpgconf: "",
  sleep: "",
};

/** One run of the build script. */
export interface BuildRun {
  readonly status: number | null;
  readonly output: string;
  /** The calls of the fakes that build, prune, publish, notify and wait (not the probes). */
  readonly calls: readonly string[];
  readonly outcome: BuildOutcome;
}

/** A builder made by {@link builder}: its directories, and a build. */
export interface Builder {
  readonly dir: string;
  readonly pkgdir: string;
  readonly statusDir: string;
  /** The rendered script. */
  readonly script: string;
  /**
   * Runs the script with `env` (the fakes first on PATH), by bash, or by the command `argv`
   * gives for the script's path.
   */
  build(env: Readonly<Record<string, string>>, argv?: (script: string) => string[]): BuildRun;
}

/** Options of {@link builder}. */
export interface BuilderOptions {
  /** Tools run for real: their fakes are left out. */
  readonly real?: readonly string[];
  /** Fakes added to, or replacing, {@link BUILD_FAKES}. */
  readonly fakes?: Readonly<Record<string, string>>;
}

/**
 * A builder's directories below `dir` (its repositories, PKGDIR, outcome records, fakes) and
 * its build script, rendered from buildScriptArgs with `args` over them.
 */
export function builder(
  dir: string,
  args: Partial<BuildScriptArgs>,
  options: BuilderOptions = {},
): Builder {
  const pkgdir = join(dir, "binpkgs");
  const statusDir = join(dir, "builds");
  const log = join(dir, "calls");
  const fakes = Object.fromEntries(
    Object.entries({ ...BUILD_FAKES, ...options.fakes }).filter(
      ([name]) => !options.real?.includes(name),
    ),
  );
  const path = fakeCommands(join(dir, "bin"), log, fakes);
  const script = join(dir, "build");
  writeFileSync(
    script,
    renderBuildScript({
      ...buildScriptArgs,
      tree: { ...buildScriptArgs.tree, location: join(dir, "repos", "gentoo") },
      overlay: { ...buildScriptArgs.overlay, location: join(dir, "repos", "infra") },
      pkgdir,
      statusDir,
      ...args,
    }),
  );
  mkdirSync(pkgdir, { recursive: true });
  // buildScriptArgs' build profile, production/amd64/web.
  const statusFile = join(statusDir, "production-amd64-web.json");
  return {
    dir,
    pkgdir,
    statusDir,
    script,
    build: (env, argv = (file) => ["bash", file]) => {
      rmSync(log, { force: true });
      const [command, ...rest] = argv(script);
      const r = spawnSync(command as string, rest, {
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, PATH: path, FAKE_PKGDIR: pkgdir, ...env },
      });
      return {
        status: r.status,
        output: `${r.stdout}${r.stderr}`,
        calls: (existsSync(log) ? calls(log) : []).filter(
          (c) =>
            /^(emerge|perl-cleaner|python3|emaint|rsync|curl|sleep) /.test(c) &&
            c !== "python3 -c import portage",
        ),
        outcome: JSON.parse(readFileSync(statusFile, "utf8")),
      };
    },
  };
}
