#!/bin/bash
# gentoo-infra: runs a build in a throwaway overlay of this machine's root filesystem.
# Usage: ephemeral-run <script inside the root>
# Rendered from lib/buildfarm/ephemeral-run.sh by renderEphemeralRunner (the values below are
# filled in): edits on the builder are overwritten.
set -euo pipefail

readonly WORK=@WORK_DIR@
readonly PERSISTENT=(@PERSISTENT_PATHS@)

if [ "$#" -ne 1 ]; then
  echo "usage: $0 <script>" >&2
  exit 2
fi
readonly SCRIPT=$1

# Mounts made below live in a private mount namespace: they vanish with this process,
# even when it is killed.
if [ -z "${GENTOO_INFRA_EPHEMERAL:-}" ]; then
  exec unshare --mount --propagation private env GENTOO_INFRA_EPHEMERAL=1 "$0" "$@"
fi

# One build at a time on this machine (package and stage builds share the clones).
exec 9>/run/gentoo-infra-build.lock
flock 9

readonly ROOT="$WORK/root"
cleanup() {
  umount --recursive --lazy "$ROOT" 2>/dev/null || true
  rm -rf --one-file-system "$WORK/upper" "$WORK/work"
}
trap cleanup EXIT

cleanup
mkdir -p "$WORK/upper" "$WORK/work" "$ROOT"
# Lower layer: the root filesystem as provisioned (without its submounts); upper layer: empty.
mount -t overlay gentoo-infra-build -o "lowerdir=/,upperdir=$WORK/upper,workdir=$WORK/work" "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mount --rbind /run "$ROOT/run"
for dir in "${PERSISTENT[@]}"; do
  mkdir -p "$dir" "$ROOT$dir"
  mount --bind "$dir" "$ROOT$dir"
done

# Not exec: the EXIT trap must run to delete the upper layer.
status=0
chroot "$ROOT" "$SCRIPT" || status=$?
exit "$status"
