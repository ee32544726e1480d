/**
 * The bash script a builder's systemd service runs for one build profile: pin the Gentoo
 * tree and the overlay to the environment's snapshot commits, update @world into signed
 * gpkg binary packages, rebuild what needs rebuilding, prune, reindex, upload to the
 * binhost and report the outcome to a notification hook.
 *
 * Portage configuration (make.conf with FEATURES="buildpkg binpkg-signing", the signing
 * key, repos.conf) comes from the Stack renderer; the script checks it rather than setting
 * it. python-updater is not run: it left the Gentoo tree years ago (python-r1 era); a
 * PYTHON_TARGETS change is picked up by `--newuse` in the world update.
 */
import type { BuildProfileRef } from "../binhost/paths";
import { binhostRepositoryPath } from "../binhost/paths";
import { throwIfViolations, type Violation, violation } from "../validation";

/** A git repository pinned to a commit. */
export interface BuildRepository {
  /** Repository name as in repos.conf (`gentoo`, `infra`). */
  readonly name: string;
  /** Clone URL. */
  readonly url: string;
  /** The snapshot commit (40 hex digits). */
  readonly commit: string;
  /**
   * Location on the builder.
   * @default `/var/db/repos/<name>`
   */
  readonly location?: string;
}

/** Inputs of {@link renderBuildScript}. */
export interface BuildScriptArgs {
  /** The build profile this builder serves. */
  readonly buildProfile: BuildProfileRef;
  /** The Gentoo tree at the environment's snapshot commit. */
  readonly tree: BuildRepository;
  /** The overlay at the environment's snapshot commit. */
  readonly overlay: BuildRepository;
  /** Upload target: rsync over SSH into `<rootDir>/<env>/<arch>/<stack>/` on `host`. */
  readonly upload: {
    readonly host: string;
    readonly user: string;
    /**
     * Binhost document root. Give "/" when the upload account is confined to the document
     * root by rrsync (as BinhostMirror's is): paths are then relative to it.
     * @default "/srv/binhost"
     */
    readonly rootDir?: string;
    readonly sshKeyPath: string;
    /** known_hosts file holding the binhost's host key (strict checking). */
    readonly knownHostsPath: string;
  };
  /** URL that receives a JSON POST with the outcome. */
  readonly notifyUrl: string;
  /** Binary packages older than this many days that no installed package needs are pruned. */
  readonly retentionDays: number;
  /**
   * PKGDIR of the builder.
   * @default "/var/cache/binpkgs"
   */
  readonly pkgdir?: string;
  /**
   * Kernel packages built into binary packages with @world (e.g. the distribution kernel
   * `sys-kernel/gentoo-kernel`), merged with `--oneshot` so they do not enter the world file.
   * @default none: only what @world pulls in
   */
  readonly kernelPackages?: readonly string[];
  /**
   * The armored OpenPGP private key that signs binary packages, as a file on the builder:
   * imported into `gpgHome` before the build (into the build's throwaway root when the
   * builder is ephemeral).
   * @default none: the key must already be in make.conf's BINPKG_GPG_SIGNING_GPG_HOME
   */
  readonly signingKey?: {
    /** Path of the armored private key file (mode 0600). */
    readonly keyPath: string;
    /**
     * GnuPG home the key is imported into; make.conf's BINPKG_GPG_SIGNING_GPG_HOME.
     * @default "/root/.gnupg"
     */
    readonly gpgHome?: string;
  };
}

const COMMIT = /^[0-9a-f]{40}$/;
const REPO_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const SAFE_URL = /^(https|ssh|git):\/\/[A-Za-z0-9._~:/@%+-]+$/;
const NOTIFY_URL = /^https?:\/\/[A-Za-z0-9._~:/@%+?=&-]+$/;
const PATH = /^\/[A-Za-z0-9._/-]+$/;
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const USER = /^[a-z_][a-z0-9_-]*$/;
const SEGMENT = /^[a-z0-9][a-z0-9_.-]*$/;
const PACKAGE = /^[a-z0-9][a-z0-9+_.-]*\/[A-Za-z0-9+_][A-Za-z0-9+_.-]*$/;

/** Whether `value` is a `category/package` name (no version, no operator). */
export function isPackageName(value: unknown): value is string {
  return typeof value === "string" && PACKAGE.test(value);
}

/** Checks the arguments of {@link renderBuildScript}. */
export function validateBuildScriptArgs(args: BuildScriptArgs): Violation[] {
  const out: Violation[] = [];
  for (const field of ["environment", "arch", "stack"] as const) {
    if (!SEGMENT.test(args.buildProfile[field] ?? "")) {
      out.push(
        violation(
          `buildProfile.${field}`,
          args.buildProfile[field],
          "is not a path segment",
          "use lower-case letters, digits, '.', '_' and '-'",
        ),
      );
    }
  }
  for (const which of ["tree", "overlay"] as const) {
    const r = args[which];
    if (!REPO_NAME.test(r.name ?? ""))
      out.push(
        violation(
          `${which}.name`,
          r.name,
          "is not a repository name",
          "use the name from the repository's profiles/repo_name",
        ),
      );
    if (!SAFE_URL.test(r.url ?? ""))
      out.push(
        violation(
          `${which}.url`,
          r.url,
          "is not an https, ssh or git URL",
          "use e.g. https://git.example.ch/gentoo.git",
        ),
      );
    if (!COMMIT.test(r.commit ?? ""))
      out.push(
        violation(
          `${which}.commit`,
          r.commit,
          "is not a full commit hash",
          "give the 40 hex digits of the snapshot commit",
        ),
      );
    if (r.location !== undefined && !PATH.test(r.location))
      out.push(
        violation(
          `${which}.location`,
          r.location,
          "is not an absolute path",
          "use e.g. /var/db/repos/gentoo",
        ),
      );
  }
  if (args.tree.name === args.overlay.name) {
    out.push(
      violation(
        "overlay.name",
        args.overlay.name,
        "is the tree's name too",
        "give the overlay its own repository name",
      ),
    );
  }
  const u = args.upload;
  if (!HOST.test(u.host ?? ""))
    out.push(violation("upload.host", u.host, "is not a host name", "use e.g. binhost.example.ch"));
  if (!USER.test(u.user ?? ""))
    out.push(violation("upload.user", u.user, "is not a user name", "use e.g. binhost"));
  for (const field of ["rootDir", "sshKeyPath", "knownHostsPath"] as const) {
    const value = u[field];
    const optional = field === "rootDir" && (value === undefined || value === "/");
    if (!optional && !PATH.test(value ?? "")) {
      out.push(
        violation(
          `upload.${field}`,
          value,
          "is not an absolute path",
          "use e.g. /etc/gentoo-infra/upload_key",
        ),
      );
    }
  }
  if (!NOTIFY_URL.test(args.notifyUrl ?? ""))
    out.push(
      violation(
        "notifyUrl",
        args.notifyUrl,
        "is not an http(s) URL",
        "use e.g. https://hooks.example.ch/builds",
      ),
    );
  if (!Number.isInteger(args.retentionDays) || args.retentionDays < 1) {
    out.push(
      violation(
        "retentionDays",
        args.retentionDays,
        "is not a positive whole number of days",
        "use e.g. 30",
      ),
    );
  }
  if (args.pkgdir !== undefined && !PATH.test(args.pkgdir))
    out.push(
      violation("pkgdir", args.pkgdir, "is not an absolute path", "use e.g. /var/cache/binpkgs"),
    );
  (args.kernelPackages ?? []).forEach((p, i) => {
    if (!isPackageName(p))
      out.push(
        violation(
          `kernelPackages[${i}]`,
          p,
          "is not a category/package name",
          "use e.g. sys-kernel/gentoo-kernel",
        ),
      );
  });
  const key = args.signingKey;
  if (key !== undefined) {
    for (const field of ["keyPath", "gpgHome"] as const) {
      const value = key[field];
      if ((field === "keyPath" || value !== undefined) && !PATH.test(value ?? "")) {
        out.push(
          violation(
            `signingKey.${field}`,
            value,
            "is not an absolute path",
            "use e.g. /etc/gentoo-infra/package-signing-key.asc",
          ),
        );
      }
    }
  }
  return out;
}

/** Single-quotes `value` for bash. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Renders the build script. Throws a ValidationError naming every problem with `args`. */
export function renderBuildScript(args: BuildScriptArgs): string {
  throwIfViolations("build script", validateBuildScriptArgs(args));
  const profile = binhostRepositoryPath(args.buildProfile).slice(0, -1);
  const root = (args.upload.rootDir ?? "/srv/binhost").replace(/\/+$/, "");
  const q = shellQuote;
  const location = (r: BuildRepository) => r.location ?? `/var/db/repos/${r.name}`;
  const kernels = args.kernelPackages ?? [];
  const kernelLine =
    kernels.length > 0 ? `readonly KERNEL_PACKAGES=(${kernels.map(q).join(" ")})\n` : "";
  const key = args.signingKey;
  const signingLine = key
    ? `readonly SIGNING_KEY=${q(key.keyPath)} SIGNING_GPG_HOME=${q(key.gpgHome ?? "/root/.gnupg")}\n`
    : "";
  const importStep = key
    ? `step=import-signing-key
# The package-signing key, pushed as a secret file, goes into the GnuPG home make.conf names.
install -d -m 0700 "$SIGNING_GPG_HOME"
gpg --batch --quiet --homedir "$SIGNING_GPG_HOME" --import "$SIGNING_KEY"

`
    : "";
  const worldUpdate =
    kernels.length > 0
      ? `emerge "\${EMERGE_OPTS[@]}" --update --deep --newuse --with-bdeps=y @world
# Kernels become binary packages like any other package; --oneshot keeps them out of world.
emerge "\${EMERGE_OPTS[@]}" --oneshot --update --newuse "\${KERNEL_PACKAGES[@]}"`
      : `emerge "\${EMERGE_OPTS[@]}" --update --deep --newuse --with-bdeps=y @world`;
  return `#!/bin/bash
# gentoo-infra build of ${profile}. Rendered file: edits are overwritten.
# Tree ${args.tree.name} at ${args.tree.commit}, overlay ${args.overlay.name} at ${args.overlay.commit}.
set -euo pipefail

readonly BUILD_PROFILE=${q(profile)}
readonly TREE_NAME=${q(args.tree.name)} TREE_URL=${q(args.tree.url)} TREE_COMMIT=${q(args.tree.commit)} TREE_DIR=${q(location(args.tree))}
readonly OVERLAY_NAME=${q(args.overlay.name)} OVERLAY_URL=${q(args.overlay.url)} OVERLAY_COMMIT=${q(args.overlay.commit)} OVERLAY_DIR=${q(location(args.overlay))}
readonly PKGDIR_PATH=${q(args.pkgdir ?? "/var/cache/binpkgs")}
readonly UPLOAD_TARGET=${q(`${args.upload.user}@${args.upload.host}:${root}/${profile}/`)}
readonly UPLOAD_SSH=${q(`ssh -i ${args.upload.sshKeyPath} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${args.upload.knownHostsPath}`)}
readonly NOTIFY_URL=${q(args.notifyUrl)}
readonly RETENTION=${q(`${args.retentionDays}d`)}
readonly EMERGE_OPTS=(--color=n --nospinner --verbose --quiet-build=y)
${kernelLine}${signingLine}step=start

# Reports the outcome as JSON; a failing hook is logged, never fatal.
notify() {
  local status=$1 exit_code=$2 body
  body=$(printf '{"buildProfile":"%s","status":"%s","step":"%s","exitCode":%d,"treeCommit":"%s","overlayCommit":"%s","host":"%s"}' \\
    "$BUILD_PROFILE" "$status" "$step" "$exit_code" "$TREE_COMMIT" "$OVERLAY_COMMIT" "$(hostname)")
  curl --fail --silent --show-error --max-time 30 --retry 3 \\
    --header 'Content-Type: application/json' --data "$body" "$NOTIFY_URL" ||
    echo "gentoo-infra: could not notify $NOTIFY_URL" >&2
}

on_exit() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then notify success 0; else notify failure "$rc"; fi
}
trap on_exit EXIT

# Clones if needed, then checks out exactly the snapshot commit; generates the metadata
# cache when the repository does not carry one (a plain gentoo.git clone).
sync_repo() {
  local name=$1 url=$2 commit=$3 dir=$4
  # A directory that is no clone yet (missing, or a tree the image unpacked from a tarball)
  # becomes one in place; after checkout, files git does not track (nor ignore) are removed.
  if [ ! -d "$dir/.git" ]; then
    mkdir -p "$dir"
    git -C "$dir" init --quiet
    git -C "$dir" remote add origin "$url"
  fi
  git -C "$dir" remote set-url origin "$url"
  git -C "$dir" fetch --quiet --tags origin
  git -C "$dir" -c advice.detachedHead=false checkout --quiet --force --detach "$commit"
  git -C "$dir" clean --quiet --force -d
  if [ "$(git -C "$dir" rev-parse HEAD)" != "$commit" ]; then
    echo "gentoo-infra: $name is not at $commit" >&2
    return 1
  fi
  if ! git -C "$dir" cat-file -e "HEAD:metadata/md5-cache" 2>/dev/null; then
    egencache --update --repo "$name" --jobs "$(nproc)"
  fi
}

step=sync-tree
sync_repo "$TREE_NAME" "$TREE_URL" "$TREE_COMMIT" "$TREE_DIR"
step=sync-overlay
sync_repo "$OVERLAY_NAME" "$OVERLAY_URL" "$OVERLAY_COMMIT" "$OVERLAY_DIR"

${importStep}step=check-config
features=" $(portageq envvar FEATURES) "
for feature in buildpkg binpkg-signing; do
  if [[ "$features" != *" $feature "* ]]; then
    echo "gentoo-infra: FEATURES lacks $feature; render make.conf with the Stack's builder settings" >&2
    exit 1
  fi
done

step=update-world
perl_before=$(portageq best_version / dev-lang/perl)
${worldUpdate}

step=preserved-rebuild
emerge "\${EMERGE_OPTS[@]}" @preserved-rebuild

step=perl-cleaner
# After a Perl upgrade, rebuild every Perl module and libperl consumer (Gentoo's Perl guide).
if [ "$(portageq best_version / dev-lang/perl)" != "$perl_before" ]; then
  perl-cleaner --all -- "\${EMERGE_OPTS[@]}"
fi

step=prune
# --deep keeps only packages of what is installed; --time-limit spares anything newer
# than the retention, so clients one update behind still find their packages.
PKGDIR="$PKGDIR_PATH" eclean-pkg --deep --time-limit="$RETENTION"

step=index
emaint binhost --fix

step=upload
# Packages first, the index last and atomically, so a client never reads an index that
# names packages not yet uploaded; pruned files go only after the new index is in place.
rsync --archive --exclude=/Packages --exclude=/Packages.gz -e "$UPLOAD_SSH" "$PKGDIR_PATH/" "$UPLOAD_TARGET"
rsync --archive --delete-after --delay-updates -e "$UPLOAD_SSH" "$PKGDIR_PATH/" "$UPLOAD_TARGET"

step=finished
`;
}
