# shellcheck shell=bash
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
