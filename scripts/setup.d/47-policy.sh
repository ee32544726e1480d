# The policy pack (policy/, docs/pull-requests.md "Policies"): its own node_modules (@pulumi/policy
# and the @pulumi/pulumi it runs with, from policy/package-lock.json) and its TypeScript compiled
# to policy/bin (a compiled pack adds ~2 s to a preview, one type-checked by ts-node ~5 s).
# Each part runs only when its inputs are newer than its output.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$GI_ROOT/policy"
stamp=node_modules/.gentoo-infra-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
if [ ! -f bin/index.js ] || [ -n "$(find . -maxdepth 1 \( -name '*.ts' -o -name tsconfig.json \) -newer bin/index.js)" ]; then
  rm -rf bin
  "$GI_ROOT/node_modules/.bin/tsc" -p tsconfig.json || {
    echo "setup(policy): tsc -p policy/tsconfig.json failed (see above)" >&2
    exit 1
  }
fi
