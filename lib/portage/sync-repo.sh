# shellcheck shell=bash source-path=SCRIPTDIR
# Pins a repository to a tree snapshot commit; included by the builders' build script
# (lib/buildfarm/build.sh) and the machines' sync command (lib/portage/machine-sync.sh).

source ../host/retry.sh

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
