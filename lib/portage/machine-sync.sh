#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# gentoo-infra: pins the Gentoo tree and the overlay of this machine to its environment's tree
# snapshot (SNAPSHOT_FILE below), cloned from the binhost's git. repos.conf has
# auto-sync = no: run this instead of emerge --sync.
# Rendered from lib/portage/machine-sync.sh by gentoo-infra's install: edits are overwritten.
set -euo pipefail
readonly SNAPSHOT_FILE=@SNAPSHOT_FILE@
# shellcheck source=/dev/null
. "$SNAPSHOT_FILE"

# The environment's current commits, from the binhost (a promotion moves them). Only the two
# commits are taken from it, each 40 hex digits; nothing fetched is ever run.
if [ -n "${GI_SNAPSHOT_URL:-}" ]; then
  fetched=$(mktemp)
  trap 'rm -f "$fetched" "$SNAPSHOT_FILE.new"' EXIT
  if ! wget --quiet --output-document="$fetched" "$GI_SNAPSHOT_URL"; then
    echo "gentoo-infra-sync: could not fetch $GI_SNAPSHOT_URL; nothing moved" >&2
    exit 1
  fi
  gentoo=$(sed -n 's/^GI_GENTOO_COMMIT="\([0-9a-f]\{40\}\)"$/\1/p' "$fetched")
  overlay=$(sed -n 's/^GI_OVERLAY_COMMIT="\([0-9a-f]\{40\}\)"$/\1/p' "$fetched")
  if [ "${#gentoo}" != 40 ] || [ "${#overlay}" != 40 ]; then
    echo "gentoo-infra-sync: $GI_SNAPSHOT_URL names no commits (GI_GENTOO_COMMIT, GI_OVERLAY_COMMIT); nothing moved" >&2
    exit 1
  fi
  if [ "$gentoo" != "$GI_GENTOO_COMMIT" ] || [ "$overlay" != "$GI_OVERLAY_COMMIT" ]; then
    sed -e "s/^GI_GENTOO_COMMIT=.*/GI_GENTOO_COMMIT=\"$gentoo\"/" \
      -e "s/^GI_OVERLAY_COMMIT=.*/GI_OVERLAY_COMMIT=\"$overlay\"/" "$SNAPSHOT_FILE" >"$SNAPSHOT_FILE.new"
    chmod 0644 "$SNAPSHOT_FILE.new"
    mv -f "$SNAPSHOT_FILE.new" "$SNAPSHOT_FILE"
    echo "gentoo-infra-sync: new tree snapshot from $GI_SNAPSHOT_URL"
    GI_GENTOO_COMMIT=$gentoo GI_OVERLAY_COMMIT=$overlay
  fi
fi

source sync-repo.sh
sync_repo "$GI_GENTOO_REPO" "$GI_GENTOO_SYNC_URI" "$GI_GENTOO_COMMIT" "$GI_GENTOO_LOCATION"
sync_repo "$GI_OVERLAY_REPO" "$GI_OVERLAY_SYNC_URI" "$GI_OVERLAY_COMMIT" "$GI_OVERLAY_LOCATION"
echo "gentoo-infra-sync: $GI_GENTOO_REPO at $GI_GENTOO_COMMIT, $GI_OVERLAY_REPO at $GI_OVERLAY_COMMIT ($GI_ENVIRONMENT)"
