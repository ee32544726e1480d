#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# gentoo-infra: a builder's build of one build profile. Pins the Gentoo tree and the overlay to
# the environment's snapshot commits, updates @world into signed gpkg binary packages, rebuilds
# what needs rebuilding, verifies, prunes, reindexes, uploads to the binhost and reports the
# outcome. Runs in a throwaway root (ephemeral-run).
# Rendered from lib/buildfarm/build.sh by renderBuildScript (the values below are filled in):
# edits on the builder are overwritten.
set -euo pipefail

readonly BUILD_PROFILE=@BUILD_PROFILE@
readonly TREE_NAME=@TREE_NAME@ TREE_URL=@TREE_URL@ TREE_COMMIT=@TREE_COMMIT@ TREE_DIR=@TREE_DIR@
readonly OVERLAY_NAME=@OVERLAY_NAME@ OVERLAY_URL=@OVERLAY_URL@ OVERLAY_COMMIT=@OVERLAY_COMMIT@ OVERLAY_DIR=@OVERLAY_DIR@
readonly PKGDIR_PATH=@PKGDIR@
readonly UPLOAD_TARGET=@UPLOAD_TARGET@
readonly UPLOAD_KEY=@UPLOAD_KEY@ UPLOAD_KNOWN_HOSTS=@UPLOAD_KNOWN_HOSTS@
readonly NOTIFY_URL=@NOTIFY_URL@
readonly RETENTION_DAYS=@RETENTION_DAYS@
readonly STATUS_DIR=@STATUS_DIR@ STATUS_NAME=@STATUS_NAME@
# The systemd service that runs this script (named in the outcome's log field), or empty.
readonly SERVICE_NAME=@SERVICE_NAME@
readonly BUILD_PHASES=(@BUILD_PHASES@)
readonly VERIFY_GPG_HOME=@VERIFY_GPG_HOME@
# Kernel packages built with @world (--oneshot), or none.
readonly KERNEL_PACKAGES=(@KERNEL_PACKAGES@)
# The package-signing key file to import into SIGNING_GPG_HOME, or empty: the key is there.
readonly SIGNING_KEY=@SIGNING_KEY@ SIGNING_GPG_HOME=@SIGNING_GPG_HOME@
# The site's root CA certificate file, or empty: the builder's CA store trusts the binhost.
readonly ROOT_CERTIFICATE=@ROOT_CERTIFICATE@
# "<address> <name>" lines for /etc/hosts, or none.
readonly HOSTS_LINES=(@HOSTS_LINES@)
# Where this build profile's repository is served, or empty: compare with the last publish.
readonly REPOSITORY_URL=@REPOSITORY_URL@
# The base Stacks' repositories to wait for, and how long, or none.
readonly BASE_REPOSITORIES=(@BASE_REPOSITORIES@) BASE_WAIT_SECONDS=@BASE_WAIT_SECONDS@
# The retention prune's Python program (lib/buildfarm/prune-packages.py).
readonly PRUNE_PROGRAM=@PRUNE_PROGRAM@

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

source build-functions.sh

source ../portage/sync-repo.sh

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
