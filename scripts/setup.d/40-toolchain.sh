# The pinned Pulumi toolchain (docs/toolchain.md): the CLI, the Node.js language host and the
# provider plugins at the versions of toolchain/versions.env, plugins installed into the
# project-local PULUMI_HOME (.cache/pulumi-home).
# - A `pulumi` already on PATH at the pinned version is used as it is (with its own language host);
#   otherwise the CLI and language host are built from the Go module proxy into
#   .cache/toolchain/bin. Provider plugins are always built here (none can be downloaded).
# - Each binary is rebuilt only when the stamp of its inputs changed (toolchain/build), so a warm
#   run takes seconds.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
# shellcheck source=../../toolchain/versions.env
source "$GI_ROOT/toolchain/versions.env"
cd "$GI_ROOT"

fail() {
  echo "setup(toolchain): $*" >&2
  exit 1
}

# package.json must carry the Node SDKs at the pinned versions (versions.env is the one place).
for pair in "@pulumi/pulumi=$PULUMI_VERSION" "@pulumi/tls=$TLS_VERSION" \
  "@pulumi/random=$RANDOM_VERSION" "@pulumi/command=$COMMAND_VERSION"; do
  pkg=${pair%=*} want=${pair#*=}
  have=$(node -p "require('./package.json').dependencies['$pkg'] || 'none'")
  [ "$have" = "$want" ] ||
    fail "package.json has $pkg $have, toolchain/versions.env pins $want; fix: npm install --save-exact $pkg@$want"
done

# The CLI: a pulumi elsewhere on PATH at the pinned version wins over building one.
bindir="$GI_CACHE/toolchain/bin"
other_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$bindir" | paste -sd: -)
system_pulumi=$(PATH="$other_path" command -v pulumi || true)
components=()
if [ -n "$system_pulumi" ] && [ "$("$system_pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
  pulumi_bin=$system_pulumi
else
  components+=(cli language-nodejs)
  pulumi_bin="$bindir/pulumi"
fi
components+=(tls random libvirt command sdkgen)
"$GI_ROOT/toolchain/build" "${components[@]}"

# The dynamic-provider plugin (pulumi.dynamic.Resource) is a script the CLI bundles; @pulumi/pulumi
# ships the same script at the SDK's version: link it beside the CLI we built.
if [ "$pulumi_bin" = "$bindir/pulumi" ]; then
  ln -sfn "$GI_ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" \
    "$bindir/pulumi-resource-pulumi-nodejs"
fi

have=$("$pulumi_bin" version)
[ "$have" = "v$PULUMI_VERSION" ] || fail "$pulumi_bin is $have, expected v$PULUMI_VERSION"

# Plugins into PULUMI_HOME; reinstalled only when the binary changed.
install_plugin() {
  local name=$1 version=$2 file="$GI_CACHE/toolchain/plugins/pulumi-resource-$1"
  local installed="$PULUMI_HOME/plugins/resource-$name-v$version/pulumi-resource-$name"
  if [ -f "$installed" ] && cmp -s "$file" "$installed"; then return 0; fi
  "$pulumi_bin" plugin install resource "$name" "$version" --file "$file" --reinstall >/dev/null ||
    fail "pulumi plugin install resource $name $version --file $file failed"
}
install_plugin tls "$TLS_VERSION"
install_plugin random "$RANDOM_VERSION"
install_plugin libvirt "$LIBVIRT_VERSION"
install_plugin command "$COMMAND_VERSION"
