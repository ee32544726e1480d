#!/bin/bash
# gentoo-infra: a builder's build of one build profile. Pins the Gentoo tree and the overlay to
# the environment's snapshot commits, updates @world into signed gpkg binary packages, rebuilds
# what needs rebuilding, verifies, prunes, reindexes, uploads to the binhost and reports the
# outcome. Runs in a throwaway root (ephemeral-run).
# Rendered from lib/buildfarm/build.sh by renderBuildScript (the values below are filled in):
# edits on the builder are overwritten.
set -euo pipefail

readonly BUILD_PROFILE='production/amd64/web'
readonly TREE_NAME='gentoo' TREE_URL='https://git.example.ch/gentoo.git' TREE_COMMIT='3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39' TREE_DIR='/var/db/repos/gentoo'
readonly OVERLAY_NAME='infra' OVERLAY_URL='https://git.example.ch/infra-overlay.git' OVERLAY_COMMIT='9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d' OVERLAY_DIR='/var/db/repos/infra'
readonly PKGDIR_PATH='/var/cache/binpkgs'
readonly UPLOAD_TARGET='binhost@binhost.example.ch:/srv/binhost/production/amd64/web/'
readonly UPLOAD_KEY='/etc/gentoo-infra/upload_ed25519' UPLOAD_KNOWN_HOSTS='/etc/gentoo-infra/known_hosts'
readonly NOTIFY_URL='https://hooks.example.ch/builds'
readonly RETENTION_DAYS='30'
readonly STATUS_DIR='/var/lib/gentoo-infra/builds' STATUS_NAME='production-amd64-web'
# The systemd service that runs this script (named in the outcome's log field), or empty.
readonly SERVICE_NAME=''
readonly BUILD_PHASES=('prepare' 'fetch' 'emerge' 'sign' 'prune' 'upload' 'publish')
readonly VERIFY_GPG_HOME='/etc/portage/gnupg'
# Kernel packages built with @world (--oneshot), or none.
readonly KERNEL_PACKAGES=()
# The package-signing key file to import into SIGNING_GPG_HOME, or empty: the key is there.
readonly SIGNING_KEY='' SIGNING_GPG_HOME=''
# The site's root CA certificate file, or empty: the builder's CA store trusts the binhost.
readonly ROOT_CERTIFICATE=''
# "<address> <name>" lines for /etc/hosts, or none.
readonly HOSTS_LINES=()
# Where this build profile's repository is served, or empty: compare with the last publish.
readonly REPOSITORY_URL=''
# The base Stacks' repositories to wait for, and how long, or none.
readonly BASE_REPOSITORIES=() BASE_WAIT_SECONDS='3600'
# The retention prune's Python program (lib/buildfarm/prune-packages.py).
readonly PRUNE_PROGRAM='# gentoo-infra: the retention prune of a builder build script (lib/buildfarm/build.sh runs it
# with the Python that imports Portage, the retention in days as its argument). Removes the
# binary packages of PKGDIR that nothing installed in the build root needs (not the installed
# build of any package: same version and BUILD_TIME) and that are older than the retention
# (BUILD_TIME). The build root holds exactly what this build installed: the @world closure and
# the kernel packages. Prints each removed package, relative to PKGDIR.
import os
import sys
import time

import portage

days = int(sys.argv[1])
root = portage.settings["EROOT"]
bindb = portage.db[root]["bintree"]
# Rescan the files: a build that failed between an earlier prune and its reindex left an index
# naming removed files (Portage trusts the PKGDIR index by default).
bindb.populate(getbinpkgs=False, force_reindex=True)
vardb = portage.db[root]["vartree"].dbapi
# A build is identified by its BUILD_TIME too: older builds of an installed version go.
installed = {(str(cpv), vardb.aux_get(cpv, ["BUILD_TIME"])[0]) for cpv in vardb.cpv_all()}
limit = time.time() - days * 86400
for cpv in bindb.dbapi.cpv_all():
    build_time_text = bindb.dbapi.aux_get(cpv, ["BUILD_TIME"])[0]
    if (str(cpv), build_time_text) in installed:
        continue
    build_time = int(build_time_text or 0)
    if build_time >= limit:
        continue
    path = bindb.getname(cpv)
    try:
        os.unlink(path)
    except FileNotFoundError:
        continue
    print(os.path.relpath(path, bindb.pkgdir))
'

readonly EMERGE_OPTS=(--color=n --nospinner --verbose --binpkg-respect-use=y)
# An unreachable binhost fails the connection within 30 s; one that stops answering during an
# upload ends it after a minute (4 unanswered keepalives 15 s apart), for retry to try again.
readonly UPLOAD_SSH="ssh -i $UPLOAD_KEY -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$UPLOAD_KNOWN_HOSTS -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"
readonly STATUS_FILE="$STATUS_DIR/$STATUS_NAME.json" RUNNING_FILE="$STATUS_DIR/$STATUS_NAME.running" PUBLISHED_LIST="$STATUS_DIR/$STATUS_NAME.published"
if [ -n "$SERVICE_NAME" ]; then
  LOG_HINT="journalctl -u $SERVICE_NAME on $(hostname)"
else
  LOG_HINT="the build's standard output"
fi
readonly LOG_HINT
BUILD_STARTED_MS=$(date +%s%3N)
NEW_PACKAGES=() PRUNED_PACKAGES=() PUBLISHED=false
step=start

# The functions of a builder's build script (lib/buildfarm/build.sh includes them): phase
# timing, the outcome record and its notification, the keyring Portage verifies binary packages
# with, and the signature check of new packages. They read the build script's variables.
#
# They run inside the build's throwaway root (lib/buildfarm/ephemeral-run.sh), so whatever
# they change outside the persistent directories (the GnuPG homes) is gone after the build.

# The keyring Portage verifies binary packages with; included by the builders' build script
# (lib/buildfarm/build.sh) and the machines' trust helper (lib/portage/machine-trust-helper.sh).

# The user ID of the local key that certifies the package-signing key in a trust keyring.
readonly LOCAL_TRUST_KEY_UID="gentoo-infra local trust key"

# trust_keyring <gnupg home> <public key file> <label> makes the keyring Portage verifies
# binary packages with, the way getuto makes Gentoo's: a local trust key (ultimately trusted,
# no passphrase: the keyring only verifies) locally signs every primary key of the (armored or
# binary) public key file, so that those keys are valid and nothing else is. Without the local
# signature Portage refuses packages ("undefined trust"). Verification runs as nobody, so the
# keyring is world-readable.
trust_keyring() {
  local home=$1 keyfile=$2 label=$3 fpr
  install -d -m 0755 "$home"
  gpg --batch --quiet --homedir "$home" --import "$keyfile"
  if ! gpg --batch --quiet --homedir "$home" --list-secret-keys "$LOCAL_TRUST_KEY_UID" >/dev/null 2>&1; then
    gpg --batch --quiet --homedir "$home" --pinentry-mode loopback --passphrase '' \
      --quick-generate-key "$LOCAL_TRUST_KEY_UID ($label)" ed25519 sign never
  fi
  for fpr in $(gpg --batch --with-colons --homedir "$home" --show-keys "$keyfile" | awk -F: '$1 == "pub" { p = 1; next } p && $1 == "fpr" { print $10; p = 0 }'); do
    gpg --batch --quiet --homedir "$home" --yes --quick-lsign-key "$fpr"
  done
  gpg --batch --quiet --homedir "$home" --check-trustdb
  chmod -R a+rX "$home"
}

# Phase timing (milliseconds) for the outcome record.
declare -A PHASE_MS=()
phase_name="" phase_started=0
phase() {
  local now
  now=$(date +%s%3N)
  if [ -n "$phase_name" ]; then
    PHASE_MS[$phase_name]=$(( ${PHASE_MS[$phase_name]:-0} + now - phase_started ))
  fi
  phase_name=$1 phase_started=$now
}

json_strings() {
  local first=1 item
  printf '['
  for item in "$@"; do
    if [ "$first" = 1 ]; then first=0; else printf ','; fi
    printf '"%s"' "$item"
  done
  printf ']'
}

json_phases() {
  local first=1 name
  printf '{'
  for name in "${BUILD_PHASES[@]}"; do
    [ -n "${PHASE_MS[$name]:-}" ] || continue
    if [ "$first" = 1 ]; then first=0; else printf ','; fi
    printf '"%s":%d.%03d' "$name" $(( PHASE_MS[$name] / 1000 )) $(( PHASE_MS[$name] % 1000 ))
  done
  printf '}'
}

# Writes the outcome to the status directory (atomically) and POSTs it; a failing hook is
# logged, never fatal. The outcome's fields are BuildOutcome's (lib/buildfarm/build-script-steps.ts).
# shellcheck disable=SC2154 # step is the build script's: the step that ran last
report() {
  local status=$1 exit_code=$2 finished body elapsed
  phase finished
  finished=$(date +%s%3N)
  elapsed=$(( finished - BUILD_STARTED_MS ))
  body=$(printf '{"buildProfile":"%s","status":"%s","step":"%s","exitCode":%d,"packages":%s,"pruned":%s,"published":%s,"durationSeconds":%d.%03d,"phases":%s,"startedAt":"%s","finishedAt":"%s","treeCommit":"%s","overlayCommit":"%s","host":"%s","log":"%s"}' \
    "$BUILD_PROFILE" "$status" "$step" "$exit_code" \
    "$(json_strings "${NEW_PACKAGES[@]}")" "$(json_strings "${PRUNED_PACKAGES[@]}")" "$PUBLISHED" \
    $(( elapsed / 1000 )) $(( elapsed % 1000 )) "$(json_phases)" \
    "$(date -u -d "@$(( BUILD_STARTED_MS / 1000 ))" +%Y-%m-%dT%H:%M:%SZ)" \
    "$(date -u -d "@$(( finished / 1000 ))" +%Y-%m-%dT%H:%M:%SZ)" \
    "$TREE_COMMIT" "$OVERLAY_COMMIT" "$(hostname)" "$LOG_HINT")
  printf '%s\n' "$body" >"$STATUS_FILE.tmp" && mv -f "$STATUS_FILE.tmp" "$STATUS_FILE"
  rm -f "$RUNNING_FILE"
  echo "gentoo-infra: $status at step $step: $body"
  curl --fail --silent --show-error --max-time 30 --retry 3 \
    --header 'Content-Type: application/json' --data "$body" "$NOTIFY_URL" ||
    echo "gentoo-infra: could not notify $NOTIFY_URL" >&2
}

# Makes the keyring Portage verifies binary packages with (make.conf's
# BINPKG_GPG_VERIFY_GPG_HOME, VERIFY_GPG_HOME) for the package-signing key SIGNING_FPR of
# SIGNING_GPG_HOME, with trust_keyring. Without it, packages the builder fetches from its
# binhost paths (getbinpkg) and the packages it has just built are refused ("undefined trust").
trust_signing_key() {
  local public_key
  public_key=$(mktemp)
  gpg --batch --quiet --homedir "$SIGNING_GPG_HOME" --export "$SIGNING_FPR" >"$public_key"
  trust_keyring "$VERIFY_GPG_HOME" "$public_key" "build $BUILD_PROFILE"
  rm -f "$public_key"
}

# verify_package <path below PKGDIR_PATH> refuses to publish a package whose signatures do not
# verify with the trust keyring: the clear-signed Manifest must carry a valid signature by the
# package-signing key SIGNING_FPR, and every member with a detached signature must verify.
verify_package() {
  local pkg=$1 dir member name sig want got
  dir=$(mktemp -d)
  tar -xf "$PKGDIR_PATH/$pkg" -C "$dir"
  if ! gpg --batch --homedir "$VERIFY_GPG_HOME" --status-fd 1 --verify "$dir"/*/Manifest 2>/dev/null |
    grep -q "^\[GNUPG:\] VALIDSIG .* $SIGNING_FPR\$"; then
    echo "gentoo-infra: $pkg: its Manifest is not signed by $SIGNING_FPR" >&2
    rm -rf "$dir"
    return 1
  fi
  # Every member but the Manifest and the format marker needs a detached signature that
  # verifies, and the size and SHA512 the signed Manifest gives it.
  for member in "$dir"/*/*; do
    name=${member##*/}
    case $name in Manifest | gpkg-1 | *.sig) continue ;; esac
    sig=$member.sig
    if [ ! -e "$sig" ] || ! gpg --batch --quiet --homedir "$VERIFY_GPG_HOME" --verify "$sig" "$member" 2>/dev/null; then
      echo "gentoo-infra: $pkg: ${sig##*/} is missing or does not verify" >&2
      rm -rf "$dir"
      return 1
    fi
    want=$(awk -v m="$name" '$1 == "DATA" && $2 == m { for (i = 4; i < NF; i++) if ($i == "SHA512") print $3 " " tolower($(i + 1)) }' "$dir"/*/Manifest)
    got="$(stat -c %s "$member") $(sha512sum "$member" | cut -d' ' -f1)"
    if [ "$want" != "$got" ]; then
      echo "gentoo-infra: $pkg: $name does not match its Manifest entry" >&2
      rm -rf "$dir"
      return 1
    fi
  done
  rm -rf "$dir"
}

# Pins a repository to a tree snapshot commit; included by the builders' build script
# (lib/buildfarm/build.sh) and the machines' sync command (lib/portage/machine-sync.sh).

# A bounded retry for the network steps of the scripts that run on servers: the fetch from the
# binhost's git (lib/portage/sync-repo.sh), a builder's upload to the binhost
# (lib/buildfarm/build.sh). Included by sync-repo.sh.

# retry <what> <command> [<argument>...] runs an external command (not a function: under
# set -e a function run in a condition would not stop at its first failure) up to 3 times,
# 10 s and then 20 s apart, and says on standard error which attempt failed and with what
# status. After the third failure it prints one line naming <what> and returns the command's
# last status. A refused connection thus fails after about 30 s; a command that hangs is
# bounded by its own timeouts, not here.
retry() {
  local what=$1 attempt status=0
  shift
  for attempt in 1 2 3; do
    if "$@"; then return 0; else status=$?; fi
    if [ "$attempt" -lt 3 ]; then
      echo "gentoo-infra: $what failed (exit $status, attempt $attempt of 3); trying again in $((attempt * 10)) s" >&2
      sleep $((attempt * 10))
    fi
  done
  echo "gentoo-infra: $what failed 3 times (last exit $status); giving up" >&2
  return "$status"
}

# sync_repo <name> <url> <commit> <dir> clones `url` into `dir` if needed, then checks out
# exactly `commit` (detached) and removes untracked files; generates the metadata cache when
# the repository does not carry one (a plain gentoo.git clone). Fails unless HEAD is the
# commit afterwards. A fetch that fails is tried again (retry: 3 attempts, 10 s and 20 s apart).
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
  retry "fetch of $name from $url" git -C "$dir" fetch --quiet --tags origin
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

on_exit() {
  local rc=$?
  trap - EXIT
  if [ "$rc" -eq 0 ]; then report success 0; else report failure "$rc"; fi
  # gpg starts agents in the throwaway root's GnuPG homes; they must not outlive it.
  gpgconf --kill all >/dev/null 2>&1 || true
  if [ -n "$SIGNING_KEY" ]; then
    gpgconf --homedir "$SIGNING_GPG_HOME" --kill all >/dev/null 2>&1 || true
    gpgconf --homedir "$VERIFY_GPG_HOME" --kill all >/dev/null 2>&1 || true
  fi
  exit "$rc"
}
trap on_exit EXIT

mkdir -p "$STATUS_DIR" "$PKGDIR_PATH"
printf '{"buildProfile":"%s","startedAt":"%s","treeCommit":"%s","overlayCommit":"%s"}\n' \
  "$BUILD_PROFILE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$TREE_COMMIT" "$OVERLAY_COMMIT" >"$RUNNING_FILE"

# The binary packages in PKGDIR, one relative path a line, sorted.
packages_list() {
  (cd "$PKGDIR_PATH" && find . -name '*.gpkg.tar' -printf '%P\n' | LC_ALL=C sort)
}

phase prepare
step=site-trust
# Names the builder resolves inside this throwaway root only.
if [ "${#HOSTS_LINES[@]}" -gt 0 ]; then
  printf '%s\n' "${HOSTS_LINES[@]}" >>/etc/hosts
fi
# The site's root CA joins the CA bundle git, wget, curl and Portage read (this root only).
if [ -n "$ROOT_CERTIFICATE" ]; then
  cat "$ROOT_CERTIFICATE" >>/etc/ssl/certs/ca-certificates.crt
fi
if [ -n "$SIGNING_KEY" ]; then
  step=import-signing-key
  # The package-signing key, pushed as a secret file, goes into the GnuPG home make.conf names.
  install -d -m 0700 "$SIGNING_GPG_HOME"
  gpg --batch --quiet --homedir "$SIGNING_GPG_HOME" --import "$SIGNING_KEY"
  SIGNING_FPR=$(gpg --batch --with-colons --homedir "$SIGNING_GPG_HOME" --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
  readonly SIGNING_FPR

  step=trust-keyring
  trust_signing_key
fi

phase fetch
step=sync-tree
sync_repo "$TREE_NAME" "$TREE_URL" "$TREE_COMMIT" "$TREE_DIR"
step=sync-overlay
sync_repo "$OVERLAY_NAME" "$OVERLAY_URL" "$OVERLAY_COMMIT" "$OVERLAY_DIR"

if [ "${#BASE_REPOSITORIES[@]}" -gt 0 ]; then
  step=wait-base
  # An application Stack installs its bases' packages from the binhost: wait for their index.
  for url in "${BASE_REPOSITORIES[@]}"; do
    waited=0
    until curl --fail --silent --head --output /dev/null --max-time 30 "${url}Packages"; do
      if [ "$waited" -ge "$BASE_WAIT_SECONDS" ]; then
        echo "gentoo-infra: the base build profile ${url} has published no index after $((BASE_WAIT_SECONDS / 60)) min; build it first" >&2
        exit 1
      fi
      sleep 15
      waited=$((waited + 15))
    done
  done
fi

step=check-config
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
emerge "${EMERGE_OPTS[@]}" --update --deep --newuse --with-bdeps=y @world
if [ "${#KERNEL_PACKAGES[@]}" -gt 0 ]; then
  step=kernel
  # Kernels become binary packages like any other package; --oneshot keeps them out of world.
  emerge "${EMERGE_OPTS[@]}" --oneshot --update --newuse "${KERNEL_PACKAGES[@]}"
fi

step=preserved-rebuild
emerge "${EMERGE_OPTS[@]}" @preserved-rebuild

step=perl-cleaner
# After a Perl upgrade, rebuild every Perl module and libperl consumer (Gentoo's Perl guide).
if [ "$(portageq best_version / dev-lang/perl || true)" != "$perl_before" ]; then
  perl-cleaner --all -- "${EMERGE_OPTS[@]}"
fi

phase sign
mapfile -t NEW_PACKAGES < <(comm -13 <(printf '%s\n' "$before") <(packages_list) | sed '/^$/d')
echo "gentoo-infra: ${#NEW_PACKAGES[@]} new binary package(s)"
step=verify-signatures
if [ -n "$SIGNING_KEY" ]; then
  # Nothing is published that a client would refuse: every new package must verify.
  for pkg in "${NEW_PACKAGES[@]}"; do
    verify_package "$pkg"
  done
else
  echo "gentoo-infra: no signing key pushed; signatures are not checked before publishing"
fi

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
pruned=$(PORTAGE_OVERRIDE_EPREFIX=${PORTAGE_OVERRIDE_EPREFIX:-/} "$portage_python" -c "$PRUNE_PROGRAM" "$RETENTION_DAYS")
mapfile -t PRUNED_PACKAGES < <(printf '%s' "$pruned" | sed '/^$/d')
echo "gentoo-infra: pruned ${#PRUNED_PACKAGES[@]} binary package(s)"

phase upload
step=upload
current=$(packages_list)
# What is published now, one path a line: what the binhost serves (its index's PATH entries)
# when REPOSITORY_URL is known, where no index (a new or emptied binhost) is never "nothing
# new"; the list of the last publish kept here otherwise.
if [ -n "$REPOSITORY_URL" ]; then
  served="(no index)"
  if index=$(curl --fail --silent --show-error --max-time 60 "${REPOSITORY_URL}Packages"); then
    served=$(printf '%s\n' "$index" | sed -n 's/^PATH: //p' | LC_ALL=C sort)
  fi
elif [ -f "$PUBLISHED_LIST" ]; then
  served=$(cat "$PUBLISHED_LIST")
else
  served="(nothing published)"
fi
if [ "$current" = "$served" ]; then
  # Nothing new: the served repository stays byte for byte as it is.
  echo "gentoo-infra: nothing new to publish"
else
  # Packages first (each file lands whole, by rename); the index is left alone for now. Each
  # upload is tried 3 times (retry, lib/host/retry.sh, included with sync-repo.sh): a transfer
  # cut short leaves no file half-written under its name, and the index is still the old one.
  retry "upload of the packages to $UPLOAD_TARGET" \
    rsync --archive --exclude=/Packages --exclude=/Packages.gz -e "$UPLOAD_SSH" "$PKGDIR_PATH/" "$UPLOAD_TARGET"
  phase publish
  step=index
  emaint binhost --fix
  step=publish
  # The index last, renamed into place after every file is there; files the index no longer
  # names (pruned) go only after it.
  retry "publish of the index to $UPLOAD_TARGET" \
    rsync --archive --delete-after --delay-updates -e "$UPLOAD_SSH" "$PKGDIR_PATH/" "$UPLOAD_TARGET"
  printf '%s\n' "$current" >"$PUBLISHED_LIST"
  PUBLISHED=true
fi

step=finished
