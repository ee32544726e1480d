#!/bin/bash
# gentoo-infra: a builder's stage builds. catalyst snapshots the Gentoo tree at the snapshot
# commit and builds each spec in order; the stages marked for upload go to the binhost's
# stages/ with their .DIGESTS and .CONTENTS; the outcome is POSTed to a hook.
# Rendered from lib/buildfarm/stages.sh by renderStageScript (the values below are filled
# in): edits on the builder are overwritten.
set -euo pipefail

readonly LABEL=@LABEL@
readonly TREE_COMMIT=@TREE_COMMIT@
readonly STOREDIR=@STORE_DIR@
readonly UPLOAD_BASE=@UPLOAD_BASE@
readonly UPLOAD_KEY=@UPLOAD_KEY@ UPLOAD_KNOWN_HOSTS=@UPLOAD_KNOWN_HOSTS@
readonly NOTIFY_URL=@NOTIFY_URL@
# The builds in order: each one's spec, its output below $STOREDIR/builds/ without extension,
# and where its tarballs go below the binhost's stages/ (empty for a stage only built on).
readonly SPECS=(@SPECS@)
readonly OUTPUTS=(@OUTPUTS@)
readonly UPLOAD_TO=(@UPLOAD_TO@)

readonly UPLOAD_SSH="ssh -i $UPLOAD_KEY -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$UPLOAD_KNOWN_HOSTS"
step=start

# Reports the outcome as JSON; a failing hook is logged, never fatal.
notify() {
  local status=$1 exit_code=$2 body
  body=$(printf '{"stageBuild":"%s","status":"%s","step":"%s","exitCode":%d,"treeCommit":"%s","host":"%s"}' \
    "$LABEL" "$status" "$step" "$exit_code" "$TREE_COMMIT" "$(hostname)")
  curl --fail --silent --show-error --max-time 30 --retry 3 \
    --header 'Content-Type: application/json' --data "$body" "$NOTIFY_URL" ||
    echo "gentoo-infra: could not notify $NOTIFY_URL" >&2
}

on_exit() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then notify success 0; else notify failure "$rc"; fi
}
trap on_exit EXIT

step=snapshot
# catalyst makes a squashfs of the tree clone at exactly this commit.
catalyst --snapshot "$TREE_COMMIT"

for i in "${!SPECS[@]}"; do
  step=${OUTPUTS[i]##*/}
  catalyst --file "${SPECS[i]}"
  if [ -n "${UPLOAD_TO[i]}" ]; then
    rsync --archive --mkpath -e "$UPLOAD_SSH" "$STOREDIR/builds/${OUTPUTS[i]}".tar.* "$UPLOAD_BASE/${UPLOAD_TO[i]}/"
  fi
done

step=finished
