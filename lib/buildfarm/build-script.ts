/**
 * The bash script a builder's systemd service runs for one build profile: pin the Gentoo
 * tree and the overlay to the environment's snapshot commits, update @world into signed
 * gpkg binary packages, rebuild what needs rebuilding, verify, prune, reindex, upload to the
 * binhost and report the outcome. Its arguments and their validation are in
 * ./build-script-args, its fixed parts in ./build-script-steps.
 *
 * Portage configuration (make.conf with FEATURES="buildpkg binpkg-signing", the signing
 * key, repos.conf) comes from the Stack renderer; the script checks it rather than setting
 * it. python-updater is not run: it left the Gentoo tree years ago (python-r1 era); a
 * PYTHON_TARGETS change is picked up by `--newuse` in the world update.
 */
import { binhostRepositoryPath } from "../binhost/paths";
import { shQuote } from "../host/shell";
import { SYNC_REPO_FUNCTION } from "../portage/shell-functions";
import { throwIfViolations } from "../validation/violations";
import {
  type BuildRepository,
  type BuildScriptArgs,
  validateBuildScriptArgs,
} from "./build-script-args";
import {
  BUILD_PHASES,
  DEFAULT_BUILD_STATUS_DIR,
  OUTCOME_FUNCTIONS,
  PRUNE_PYTHON,
  TRUST_KEYRING,
  VERIFY_FUNCTION,
  VERIFY_GPG_HOME,
} from "./build-script-steps";

/** Renders the build script. Throws a ValidationError naming every problem with `args`. */
export function renderBuildScript(args: BuildScriptArgs): string {
  throwIfViolations("build script", validateBuildScriptArgs(args));
  const profile = binhostRepositoryPath(args.buildProfile).slice(0, -1);
  const slug = profile.replaceAll("/", "-");
  const root = (args.upload.rootDir ?? "/srv/binhost").replace(/\/+$/, "");
  const q = shQuote;
  const location = (r: BuildRepository) => r.location ?? `/var/db/repos/${r.name}`;
  const statusDir = args.statusDir ?? DEFAULT_BUILD_STATUS_DIR;
  const kernels = args.kernelPackages ?? [];
  const key = args.signingKey;
  const hosts = args.hosts ?? [];
  const bases = args.baseRepositories ?? [];
  const optional = [
    kernels.length > 0 ? `readonly KERNEL_PACKAGES=(${kernels.map(q).join(" ")})` : "",
    key
      ? `readonly SIGNING_KEY=${q(key.keyPath)} SIGNING_GPG_HOME=${q(key.gpgHome ?? "/root/.gnupg")}`
      : "",
    args.rootCertificatePath ? `readonly ROOT_CERTIFICATE=${q(args.rootCertificatePath)}` : "",
    hosts.length > 0
      ? `readonly HOSTS_LINES=(${hosts.map((h) => q(`${h.address} ${h.hostname}`)).join(" ")})`
      : "",
    args.repositoryUrl ? `readonly REPOSITORY_URL=${q(args.repositoryUrl)}` : "",
    bases.length > 0
      ? `readonly BASE_REPOSITORIES=(${bases.map(q).join(" ")}) BASE_WAIT_SECONDS=${(args.baseWaitMinutes ?? 60) * 60}`
      : "",
  ]
    .filter((line) => line !== "")
    .map((line) => `${line}\n`)
    .join("");

  const siteTrust = [
    hosts.length > 0
      ? `# Names the builder resolves inside this throwaway root only.
printf '%s\\n' "\${HOSTS_LINES[@]}" >>/etc/hosts
`
      : "",
    args.rootCertificatePath
      ? `# The site's root CA joins the CA bundle git, wget, curl and Portage read (this root only).
cat "$ROOT_CERTIFICATE" >>/etc/ssl/certs/ca-certificates.crt
`
      : "",
  ].join("");
  const keySteps = key
    ? `step=import-signing-key
# The package-signing key, pushed as a secret file, goes into the GnuPG home make.conf names.
install -d -m 0700 "$SIGNING_GPG_HOME"
gpg --batch --quiet --homedir "$SIGNING_GPG_HOME" --import "$SIGNING_KEY"
SIGNING_FPR=$(gpg --batch --with-colons --homedir "$SIGNING_GPG_HOME" --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
readonly SIGNING_FPR

step=trust-keyring
${TRUST_KEYRING}
`
    : "";
  const baseWait =
    bases.length > 0
      ? `step=wait-base
# An application Stack installs its bases' packages from the binhost: wait for their index.
for url in "\${BASE_REPOSITORIES[@]}"; do
  waited=0
  until curl --fail --silent --head --output /dev/null --max-time 30 "\${url}Packages"; do
    if [ "$waited" -ge "$BASE_WAIT_SECONDS" ]; then
      echo "gentoo-infra: the base build profile \${url} has published no index after $((BASE_WAIT_SECONDS / 60)) min; build it first" >&2
      exit 1
    fi
    sleep 15
    waited=$((waited + 15))
  done
done

`
      : "";
  const worldUpdate =
    kernels.length > 0
      ? `emerge "\${EMERGE_OPTS[@]}" --update --deep --newuse --with-bdeps=y @world
step=kernel
# Kernels become binary packages like any other package; --oneshot keeps them out of world.
emerge "\${EMERGE_OPTS[@]}" --oneshot --update --newuse "\${KERNEL_PACKAGES[@]}"`
      : `emerge "\${EMERGE_OPTS[@]}" --update --deep --newuse --with-bdeps=y @world`;
  const publishedCheck = args.repositoryUrl
    ? `# What the binhost serves now (the index's PATH entries), compared with PKGDIR; no index
# (a new or emptied binhost) is never "nothing new".
served="(no index)"
if index=$(curl --fail --silent --show-error --max-time 60 "\${REPOSITORY_URL}Packages"); then
  served=$(printf '%s\\n' "$index" | sed -n 's/^PATH: //p' | LC_ALL=C sort)
fi
if [ "$current" = "$served" ]; then`
    : `if [ -f "$PUBLISHED_LIST" ] && [ "$current" = "$(cat "$PUBLISHED_LIST")" ]; then`;
  const verify = key
    ? `step=verify-signatures
# Nothing is published that a client would refuse: every new package must verify.
for pkg in "\${NEW_PACKAGES[@]}"; do
  verify_package "$pkg"
done
`
    : `step=verify-signatures
echo "gentoo-infra: no signing key pushed; signatures are not checked before publishing"
`;
  // The service name is validated to plain characters: safe inside double quotes.
  const logHint = args.serviceName
    ? `"journalctl -u ${args.serviceName} on $(hostname)"`
    : q("the build's standard output");

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
readonly RETENTION_DAYS=${args.retentionDays}
readonly EMERGE_OPTS=(--color=n --nospinner --verbose --binpkg-respect-use=y)
readonly STATUS_DIR=${q(statusDir)}
readonly STATUS_FILE="$STATUS_DIR/${slug}.json" RUNNING_FILE="$STATUS_DIR/${slug}.running" PUBLISHED_LIST="$STATUS_DIR/${slug}.published"
LOG_HINT=${logHint}
readonly LOG_HINT
readonly BUILD_PHASES_LIST=${q(BUILD_PHASES.join(" "))}
readonly VERIFY_GPG_HOME=${q(VERIFY_GPG_HOME)}
${optional}BUILD_STARTED_MS=$(date +%s%3N)
NEW_PACKAGES=() PRUNED_PACKAGES=() PUBLISHED=false
step=start

${OUTCOME_FUNCTIONS}
on_exit() {
  local rc=$?
  trap - EXIT
  if [ "$rc" -eq 0 ]; then report success 0; else report failure "$rc"; fi
  # gpg starts agents in the throwaway root's GnuPG homes; they must not outlive it.
  gpgconf --kill all >/dev/null 2>&1 || true
${key ? '  gpgconf --homedir "$SIGNING_GPG_HOME" --kill all >/dev/null 2>&1 || true\n  gpgconf --homedir "$VERIFY_GPG_HOME" --kill all >/dev/null 2>&1 || true\n' : ""}  exit "$rc"
}
trap on_exit EXIT

mkdir -p "$STATUS_DIR" "$PKGDIR_PATH"
printf '{"buildProfile":"%s","startedAt":"%s","treeCommit":"%s","overlayCommit":"%s"}\\n' \\
  "$BUILD_PROFILE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$TREE_COMMIT" "$OVERLAY_COMMIT" >"$RUNNING_FILE"

# The binary packages in PKGDIR, one relative path a line, sorted.
packages_list() {
  (cd "$PKGDIR_PATH" && find . -name '*.gpkg.tar' -printf '%P\\n' | LC_ALL=C sort)
}

${VERIFY_FUNCTION}
${SYNC_REPO_FUNCTION}
phase prepare
step=site-trust
${siteTrust}${keySteps}phase fetch
step=sync-tree
sync_repo "$TREE_NAME" "$TREE_URL" "$TREE_COMMIT" "$TREE_DIR"
step=sync-overlay
sync_repo "$OVERLAY_NAME" "$OVERLAY_URL" "$OVERLAY_COMMIT" "$OVERLAY_DIR"

${baseWait}step=check-config
features=" $(portageq envvar FEATURES) "
for feature in buildpkg binpkg-signing; do
  if [[ "$features" != *" $feature "* ]]; then
    echo "gentoo-infra: FEATURES lacks $feature; render make.conf with the Stack's builder settings" >&2
    exit 1
  fi
done

phase emerge
before=$(packages_list)
step=update-world
perl_before=$(portageq best_version / dev-lang/perl || true)
${worldUpdate}

step=preserved-rebuild
emerge "\${EMERGE_OPTS[@]}" @preserved-rebuild

step=perl-cleaner
# After a Perl upgrade, rebuild every Perl module and libperl consumer (Gentoo's Perl guide).
if [ "$(portageq best_version / dev-lang/perl || true)" != "$perl_before" ]; then
  perl-cleaner --all -- "\${EMERGE_OPTS[@]}"
fi

phase sign
mapfile -t NEW_PACKAGES < <(comm -13 <(printf '%s\\n' "$before") <(packages_list) | sed '/^$/d')
echo "gentoo-infra: \${#NEW_PACKAGES[@]} new binary package(s)"
${verify}
phase prune
step=prune
# Packages that nothing installed in this build's root needs and that are older than the
# retention go; clients one update behind still find everything younger.
# Portage's Python: python3 on Gentoo; the stand-in image's Portage lives in a venv.
portage_python=""
for candidate in python3 /usr/lib/gentoo-infra/portage/bin/python; do
  if "$candidate" -c 'import portage' 2>/dev/null; then portage_python=$candidate; break; fi
done
if [ -z "$portage_python" ]; then
  echo "gentoo-infra: no Python here imports portage" >&2
  exit 1
fi
pruned=$(PORTAGE_OVERRIDE_EPREFIX=\${PORTAGE_OVERRIDE_EPREFIX:-/} "$portage_python" - "$RETENTION_DAYS" <<'PRUNE'
${PRUNE_PYTHON}PRUNE
)
mapfile -t PRUNED_PACKAGES < <(printf '%s' "$pruned" | sed '/^$/d')
echo "gentoo-infra: pruned \${#PRUNED_PACKAGES[@]} binary package(s)"

phase upload
step=upload
current=$(packages_list)
${publishedCheck}
  # Nothing new: the served repository stays byte for byte as it is.
  echo "gentoo-infra: nothing new to publish"
else
  # Packages first (each file lands whole, by rename); the index is left alone for now.
  rsync --archive --exclude=/Packages --exclude=/Packages.gz -e "$UPLOAD_SSH" "$PKGDIR_PATH/" "$UPLOAD_TARGET"
  phase publish
  step=index
  emaint binhost --fix
  step=publish
  # The index last, renamed into place after every file is there; files the index no longer
  # names (pruned) go only after it.
  rsync --archive --delete-after --delay-updates -e "$UPLOAD_SSH" "$PKGDIR_PATH/" "$UPLOAD_TARGET"
  printf '%s\\n' "$current" >"$PUBLISHED_LIST"
  PUBLISHED=true
fi

step=finished
`;
}
