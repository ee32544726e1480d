#!/bin/bash
# gentoo-infra BinhostMirror: the binhost repository's branches become exactly the commits
# below, pushed from the clone in one atomic forced push; branches not listed are deleted. SSH
# takes the admin private key from GI_SSH_KEY and pins the binhost's host key from
# GI_KNOWN_HOSTS, both written to a private temporary directory removed on exit: the key is
# never in the script or its output.
# Rendered from lib/binhost/git-push.sh by gitPushScript (the values below are filled in).
set -euo pipefail
clone=@CLONE@
remote=@REMOTE@
# <commit>:refs/heads/<branch>, one a branch.
refspecs=(@REFSPECS@)
: "${GI_SSH_KEY:?must hold the admin private key}" "${GI_KNOWN_HOSTS:?must pin the binhost host key}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
(umask 077 && printf '%s\n' "$GI_SSH_KEY" >"$tmp/id" && printf '%s\n' "$GI_KNOWN_HOSTS" >"$tmp/known_hosts")
export GIT_SSH_COMMAND="ssh -i '$tmp/id' -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile='$tmp/known_hosts' -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=30"
# Branches of the remote that are not listed above are deleted.
heads=$(git -C "$clone" ls-remote --heads "$remote")
delete=()
while read -r _ ref; do
  [ -n "$ref" ] || continue
  listed=false
  for refspec in "${refspecs[@]}"; do
    if [ "${refspec#*:}" = "$ref" ]; then listed=true; fi
  done
  [ "$listed" = true ] || delete+=(":$ref")
done <<<"$heads"
git -C "$clone" push --atomic --force --porcelain "$remote" "${refspecs[@]}" ${delete[@]+"${delete[@]}"}
