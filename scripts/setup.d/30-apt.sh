# Debian packages listed in scripts/apt-packages.txt, installed only when the command
# each provides is missing (quick when warm; needs root or sudo when cold).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
missing=()
while read -r pkg cmd; do
  case "$pkg" in ''|'#'*) continue ;; esac
  case "$cmd" in
    /*) [ -e "$cmd" ] || missing+=("$pkg") ;;
    *) command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$pkg") ;;
  esac
done < "$GI_ROOT/scripts/apt-packages.txt"
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "setup: installing Debian packages: ${missing[*]}"
# Packages such as nginx and dnsmasq start their service on install; we only want their
# binaries (tests start them by hand, on loopback or inside a namespace). A temporary
# policy-rc.d that answers 101 forbids every service start during the install.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$GI_CACHE/apt.log" 2>&1; then
  echo "setup: apt-get install ${missing[*]} failed (log: $GI_CACHE/apt.log); install them by hand" >&2
  exit 1
fi
