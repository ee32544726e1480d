/**
 * Pure pieces of BinhostMirror's git serving: builders (no internet) clone the Gentoo tree
 * and the overlay from `https://<binhost>/git/<name>.git` (read-only smart HTTP: nginx →
 * fcgiwrap → git-http-backend). The repositories are bare, at `/srv/git/<name>.git`,
 * outside the upload root, owned by the admin user; the machine running Pulumi pushes the
 * pinned commits into them over SSH as that user. No Pulumi here: validation, the setup
 * commands, git-http-backend's configuration and the push script.
 */
import { execFileSync } from "node:child_process";
import { fillShellPlaceholders, shellScriptSource } from "../host/script-file";
import { shQuote } from "../host/shell";
import {
  GIT_COMMIT,
  matches,
  plainAbsolutePathViolations,
  USER_NAME,
} from "../validation/patterns";
import { throwIfViolations, type Violation, violation } from "../validation/violations";

/** One git repository a BinhostMirror serves (see `BinhostMirrorArgs.gitRepositories`). */
export interface BinhostGitRepository {
  /** Served at `git/<name>.git`, stored at `/srv/git/<name>.git`: `[a-z0-9][a-z0-9._-]*`, unique. */
  readonly name: string;
  /**
   * A local clone (bare or not) on the machine running Pulumi that has every commit of
   * `branches`; a relative path is relative to the Pulumi project directory.
   */
  readonly clone: string;
  /**
   * Branch on the binhost → the full 40-hex commit it points at (an environment's tree
   * snapshot commit). The binhost has exactly these branches; HEAD names the first one.
   */
  readonly branches: Readonly<Record<string, string>>;
}

/** Where the bare repositories live on the binhost (outside the upload root). */
export const BINHOST_GIT_ROOT = "/srv/git";

/** Debian's fcgiwrap socket (the `fcgiwrap.socket` unit; fcgiwrap runs as www-data). */
export const FCGIWRAP_SOCKET = "/run/fcgiwrap.socket";

/** Debian's git-http-backend (Gentoo: `/usr/libexec/git-core/git-http-backend`). */
export const GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend";

/**
 * git-http-backend's system configuration (nginx points GIT_CONFIG_SYSTEM at it), so that
 * it trusts the admin-owned repositories; other git commands on the binhost never read it.
 */
export const GIT_HTTP_BACKEND_CONFIG = "/etc/gentoo-infra/git-http-backend.gitconfig";

/** The environment variables the push script (lib/binhost/git-push.sh) reads its secrets and host key from. */
export const GIT_PUSH_ENV = {
  /** The admin user's private key, OpenSSH format (secret). */
  privateKey: "GI_SSH_KEY",
  /** known_hosts line(s) pinning the binhost's host key. */
  knownHosts: "GI_KNOWN_HOSTS",
} as const;

const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const COMMIT = GIT_COMMIT;
const BRANCH_CHARS = /^[A-Za-z0-9._/-]+$/;

/** `/srv/git/<name>.git`. */
function gitRepositoryPath(name: string, root = BINHOST_GIT_ROOT): string {
  return `${root}/${name}.git`;
}

/** Where the push goes: `ssh://<user>@<address>/srv/git/<name>.git`. */
export function gitPushRemote(
  user: string,
  address: string,
  name: string,
  root = BINHOST_GIT_ROOT,
): string {
  return `ssh://${user}@${address}${gitRepositoryPath(name, root)}`;
}

/**
 * Why `branch` cannot name a branch, or undefined. A simple subset of
 * `git check-ref-format --branch`: `[A-Za-z0-9._/-]`, no `..`, no leading `-`, no empty or
 * dot-led component, no trailing `/`, `.` or `.lock`, not `HEAD`.
 */
export function branchNameProblem(branch: string): string | undefined {
  if (!BRANCH_CHARS.test(branch)) return "has characters other than letters, digits, . _ / -";
  if (branch.startsWith("-")) return "starts with -";
  if (branch === "HEAD") return "is HEAD";
  if (branch.includes("..")) return "contains ..";
  if (branch.split("/").some((c) => c === "" || c.startsWith(".") || c.endsWith(".lock"))) {
    return "has an empty component, or one that starts with . or ends with .lock";
  }
  if (branch.endsWith(".")) return "ends with .";
  return undefined;
}

/** Whether `name` can name a served repository: `NAME`, without `.git`. */
function isGitRepositoryName(name: unknown): name is string {
  return matches(NAME, name) && !name.endsWith(".git");
}

/** The violation of a name that {@link isGitRepositoryName} refuses, `at` naming it. */
function notARepositoryName(at: string, name: unknown): Violation {
  return violation(
    at,
    name,
    "is not a repository name",
    "use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, without .git (e.g. gentoo)",
  );
}

/** The problems of a list of repository names, each named `<at>[i]`. */
function repositoryNamesViolations(at: string, names: unknown): Violation[] {
  if (!Array.isArray(names)) {
    return [violation(at, names, "is not a list", 'list the repository names, e.g. ["gentoo"]')];
  }
  return names.flatMap((name, i) =>
    isGitRepositoryName(name) ? [] : [notARepositoryName(`${at}[${i}]`, name)],
  );
}

/** The problem of the bare repositories' directory (the parameter `root`): a plain path. */
function gitRootViolations(root: unknown): Violation[] {
  return plainAbsolutePathViolations("root", root, BINHOST_GIT_ROOT);
}

/**
 * Every problem of `gitRepositories` (argument names below `gitRepositories`): a name that
 * cannot name a repository or is used twice, no branches, a bad branch name, a commit that
 * is not 40 hex digits; with `checkClones`, a clone that git cannot open or that lacks a
 * commit (`git cat-file -e <commit>^{commit}`), so that a missing commit fails before
 * anything is created instead of at the push.
 */
export function validateGitRepositories(repos: unknown, checkClones = true): Violation[] {
  if (repos === undefined) return [];
  if (!Array.isArray(repos)) {
    return [
      violation(
        "gitRepositories",
        repos,
        "is not a list",
        "list the repositories, e.g. [{ name, clone, branches }]",
      ),
    ];
  }
  const out: Violation[] = [];
  const first = new Map<string, number>();
  repos.forEach((repo: Partial<BinhostGitRepository> | undefined, i) => {
    const at = `gitRepositories[${i}]`;
    if (typeof repo !== "object" || repo === null || Array.isArray(repo)) {
      out.push(
        violation(
          at,
          repo,
          "is not a git repository",
          'give { name, clone, branches }, e.g. { name: "gentoo", clone: "../gentoo", branches: { master: "<40 hex digits>" } }',
        ),
      );
      return;
    }
    const name = repo?.name;
    if (!isGitRepositoryName(name)) out.push(notARepositoryName(`${at}.name`, name));
    else if (first.has(name)) {
      out.push(
        violation(
          `${at}.name`,
          name,
          `is also the name of gitRepositories[${first.get(name)}]`,
          "give each repository its own name",
        ),
      );
    } else first.set(name, i);

    const branches = repo?.branches;
    const entries =
      typeof branches === "object" && branches !== null && !Array.isArray(branches)
        ? Object.entries(branches)
        : [];
    if (entries.length === 0) {
      out.push(
        violation(
          `${at}.branches`,
          branches,
          "names no branch",
          'map at least one branch to its commit, e.g. { develop: "<40 hex digits>" }',
        ),
      );
    }
    const commits: [string, string][] = [];
    for (const [branch, commit] of entries) {
      const problem = branchNameProblem(branch);
      if (problem !== undefined) {
        out.push(
          violation(
            `${at}.branches`,
            branch,
            `names a branch that ${problem}`,
            "use a git branch name such as develop or release/2026.1",
          ),
        );
      }
      if (typeof commit !== "string" || !COMMIT.test(commit)) {
        out.push(
          violation(
            `${at}.branches.${branch}`,
            commit,
            "is not a full commit hash",
            "give the 40 lower-case hex digits of the commit (e.g. the tree snapshot's commit)",
          ),
        );
      } else commits.push([branch, commit]);
    }

    const clone = repo?.clone;
    if (typeof clone !== "string" || clone === "") {
      out.push(
        violation(
          `${at}.clone`,
          clone,
          "is not a path",
          "give the path of a local clone of the repository",
        ),
      );
    } else if (checkClones) {
      out.push(...cloneViolations(at, clone, commits));
    }
  });
  return out;
}

function cloneViolations(
  at: string,
  clone: string,
  commits: readonly (readonly [string, string])[],
): Violation[] {
  const opened = git(["-C", clone, "rev-parse", "--git-dir"]);
  if (opened === "no git") {
    return [
      violation(
        `${at}.clone`,
        clone,
        "cannot be checked: git is not installed",
        "install git on the machine running Pulumi (it pushes from this clone)",
      ),
    ];
  }
  if (opened !== "") {
    return [
      violation(
        `${at}.clone`,
        clone,
        `is not a git repository (${opened})`,
        "give the path of a local clone (bare or not) of the repository",
      ),
    ];
  }
  return commits
    .filter(([, commit]) => git(["-C", clone, "cat-file", "-e", `${commit}^{commit}`]) !== "")
    .map(([branch, commit]) =>
      violation(
        `${at}.branches.${branch}`,
        commit,
        `is not a commit of ${clone}`,
        `fetch the commit into ${clone}, or pin a commit it has`,
      ),
    );
}

/** Runs git; "" on success, "no git" when git is missing, else git's first line of error. */
function git(argv: readonly string[]): string {
  try {
    execFileSync("git", argv, { stdio: ["ignore", "ignore", "pipe"] });
    return "";
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === "ENOENT") return "no git";
    const line = String(err.stderr ?? "")
      .split("\n")
      .find((l) => l.trim() !== "");
    return line?.trim() ?? "git failed";
  }
}

/**
 * git-http-backend's system configuration: `safe.directory` for each served repository
 * (they belong to the admin user, git-http-backend runs as www-data, and git refuses
 * repositories of another user) and no pushes over HTTP. `safe.directory = .` too: the
 * git-upload-pack that git-http-backend starts inside the repository checks its ownership
 * as `.` (git 2.39.5 of Debian bookworm), after git-http-backend checked the full path. A
 * name that is not a repository name or a `root` that is not a plain absolute path (a line
 * break would add configuration) throws a ValidationError naming it (`names[1]`, `root`).
 */
export function gitHttpBackendConfig(names: readonly string[], root = BINHOST_GIT_ROOT): string {
  throwIfViolations("gitHttpBackendConfig", [
    ...repositoryNamesViolations("names", names),
    ...gitRootViolations(root),
  ]);
  return [
    "# gentoo-infra BinhostMirror: git-http-backend's system configuration (nginx sets",
    "# GIT_CONFIG_SYSTEM to this file). Rendered file: edits are overwritten.",
    "[safe]",
    ...[...names].sort().map((n) => `\tdirectory = ${gitRepositoryPath(n, root)}`),
    "\tdirectory = .",
    "[http]",
    "\treceivepack = false",
    "",
  ].join("\n");
}

/** A repository to create on the binhost and the branch its HEAD names. */
export interface BinhostGitSetup {
  readonly name: string;
  /** The branch HEAD points at (what a plain `git clone` checks out). */
  readonly head: string;
}

/**
 * Commands (run as root, after first boot) that create each bare repository
 * `<root>/<name>.git` owned by `owner` (the user pushes log in as) and world-readable
 * (`--shared=0644`), allow forced pushes (`--shared` forbids them), refuse pushes over
 * HTTP, point HEAD at its first branch, and start fcgiwrap's socket. Idempotent: `git init`
 * on an existing repository keeps its objects and refs. `owner` and `root` stand in the
 * commands unquoted: an owner that is not a user name, a root that is not a plain absolute
 * path, a repository name or a head branch that git would not take throws a ValidationError
 * naming it (`owner`, `root`, `repos[1].name`, `repos[0].head`).
 */
export function binhostGitSetupCommands(
  repos: readonly BinhostGitSetup[],
  owner: string,
  root = BINHOST_GIT_ROOT,
): string[] {
  throwIfViolations("binhostGitSetupCommands", gitSetupViolations(repos, owner, root));
  if (repos.length === 0) return [];
  const asOwner = (path: string, rest: string) =>
    `runuser -u ${owner} -- git --git-dir=${shQuote(path)} ${rest}`;
  return [
    `install -d -m 0755 -o root -g root ${root}`,
    `install -d -m 0755 -o ${owner} -g ${owner} ${repos.map((r) => shQuote(gitRepositoryPath(r.name, root))).join(" ")}`,
    ...repos.flatMap((r) => {
      const path = gitRepositoryPath(r.name, root);
      return [
        `runuser -u ${owner} -- git init --quiet --bare --shared=0644 ${shQuote(path)}`,
        asOwner(path, "config receive.denyNonFastForwards false"),
        asOwner(path, "config http.receivepack false"),
        asOwner(path, `symbolic-ref HEAD ${shQuote(`refs/heads/${r.head}`)}`),
      ];
    }),
    "systemctl enable --now fcgiwrap.socket",
  ];
}

/** The problems of the arguments of {@link binhostGitSetupCommands}. */
function gitSetupViolations(repos: unknown, owner: unknown, root: unknown): Violation[] {
  const out: Violation[] = [];
  if (!Array.isArray(repos)) {
    out.push(
      violation(
        "repos",
        repos,
        "is not a list",
        'list { name, head }, e.g. [{ name: "gentoo", head: "master" }]',
      ),
    );
  } else {
    repos.forEach((repo: Partial<BinhostGitSetup> | null, i) => {
      const name = repo?.name;
      if (!isGitRepositoryName(name)) out.push(notARepositoryName(`repos[${i}].name`, name));
      const head = repo?.head;
      const problem = typeof head === "string" ? branchNameProblem(head) : "is not text";
      if (problem !== undefined) {
        out.push(
          violation(
            `repos[${i}].head`,
            head,
            `is not a branch name (it ${problem})`,
            "use a git branch name such as develop or release/2026.1",
          ),
        );
      }
    });
  }
  if (!matches(USER_NAME, owner)) {
    out.push(violation("owner", owner, "is not a user name", "use e.g. gi-admin"));
  }
  out.push(...gitRootViolations(root));
  return out;
}

/**
 * What a push command's triggers list, so that a preview names the served commits and a
 * new commit re-runs the push: `<commit> refs/heads/<branch>`, sorted by branch.
 */
export function gitPushTriggers(branches: Readonly<Record<string, string>>): string[] {
  return Object.entries(branches)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([branch, commit]) => `${commit} refs/heads/${branch}`);
}

/** Inputs of {@link gitPushScript}. */
export interface GitPushScriptArgs {
  /** The local clone to push from. */
  readonly clone: string;
  /** The repository on the binhost ({@link gitPushRemote}). */
  readonly remote: string;
  /** Branch → commit; the remote gets exactly these branches. */
  readonly branches: Readonly<Record<string, string>>;
}

const GIT_PUSH_SOURCE = shellScriptSource(__dirname, "git-push.sh");

/**
 * The bash script (lib/binhost/git-push.sh) that makes the remote's branches exactly
 * `branches`: one atomic forced push of `<commit>:refs/heads/<branch>` each, deleting remote
 * branches not listed. SSH uses the private key from `$GI_SSH_KEY` and strict host key
 * checking against `$GI_KNOWN_HOSTS` only ({@link GIT_PUSH_ENV}); both are written to a
 * private temporary directory (0700, key 0600) that a trap removes. The key is never in the
 * script or its output.
 */
export function gitPushScript(args: GitPushScriptArgs): string {
  const entries = Object.entries(args.branches).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return fillShellPlaceholders(GIT_PUSH_SOURCE, {
    CLONE: args.clone,
    REMOTE: args.remote,
    REFSPECS: entries.map(([branch, commit]) => `${commit}:refs/heads/${branch}`),
  });
}
