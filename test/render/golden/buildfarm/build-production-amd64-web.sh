#!/bin/bash
# gentoo-infra build of production/amd64/web. Rendered file: edits are overwritten.
# Tree gentoo at 3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39, overlay infra at 9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d.
set -euo pipefail

readonly BUILD_PROFILE='production/amd64/web'
readonly TREE_NAME='gentoo' TREE_URL='https://git.example.ch/gentoo.git' TREE_COMMIT='3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39' TREE_DIR='/var/db/repos/gentoo'
readonly OVERLAY_NAME='infra' OVERLAY_URL='https://git.example.ch/infra-overlay.git' OVERLAY_COMMIT='9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d' OVERLAY_DIR='/var/db/repos/infra'
readonly PKGDIR_PATH='/var/cache/binpkgs'
readonly UPLOAD_TARGET='binhost@binhost.example.ch:/srv/binhost/production/amd64/web/'
readonly UPLOAD_SSH='ssh -i /etc/gentoo-infra/upload_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/gentoo-infra/known_hosts'
readonly NOTIFY_URL='https://hooks.example.ch/builds'
readonly RETENTION='30d'
readonly EMERGE_OPTS=(--color=n --nospinner --verbose --quiet-build=y)
step=start

# Reports the outcome as JSON; a failing hook is logged, never fatal.
notify() {
  local status=$1 exit_code=$2 body
  body=$(printf '{"buildProfile":"%s","status":"%s","step":"%s","exitCode":%d,"treeCommit":"%s","overlayCommit":"%s","host":"%s"}' \
    "$BUILD_PROFILE" "$status" "$step" "$exit_code" "$TREE_COMMIT" "$OVERLAY_COMMIT" "$(hostname)")
  curl --fail --silent --show-error --max-time 30 --retry 3 \
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

step=check-config
features=" $(portageq envvar FEATURES) "
for feature in buildpkg binpkg-signing; do
  if [[ "$features" != *" $feature "* ]]; then
    echo "gentoo-infra: FEATURES lacks $feature; render make.conf with the Stack's builder settings" >&2
    exit 1
  fi
done

step=update-world
perl_before=$(portageq best_version / dev-lang/perl)
emerge "${EMERGE_OPTS[@]}" --update --deep --newuse --with-bdeps=y @world

step=preserved-rebuild
emerge "${EMERGE_OPTS[@]}" @preserved-rebuild

step=perl-cleaner
# After a Perl upgrade, rebuild every Perl module and libperl consumer (Gentoo's Perl guide).
if [ "$(portageq best_version / dev-lang/perl)" != "$perl_before" ]; then
  perl-cleaner --all -- "${EMERGE_OPTS[@]}"
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
