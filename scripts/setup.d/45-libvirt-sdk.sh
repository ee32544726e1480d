# @pulumi/libvirt (the Node SDK of the libvirt provider) into node_modules/@pulumi/libvirt.
# It is not in package.json: the npm registry here answers 404 for it, and a dependency npm cannot
# fetch would break `npm ci` on a fresh clone. So this step, after 10-node.sh and 40-toolchain.sh:
# - keeps an installed copy at LIBVIRT_VERSION whose source stamp is current;
# - else installs it from npm where the registry serves it (`npm install --no-save`);
# - else generates it from the schema of the plugin built by 40-toolchain.sh (gen-nodejs-sdk,
#   the pinned CLI's code generator), compiles it with tsc and installs the result.
# `npm ci` / `npm install` remove it again (it is extraneous to the lockfile); `npm run setup`
# puts it back in seconds.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
# shellcheck source=../../toolchain/versions.env
source "$GI_ROOT/toolchain/versions.env"
cd "$GI_ROOT"

dest="node_modules/@pulumi/libvirt"
schema="$GI_CACHE/toolchain/schema/libvirt.json"
stampfile="$dest/.gentoo-infra-source"
if [ -f "$schema" ]; then
  want="generated $(sha256sum "$schema" | cut -d' ' -f1)"
else
  want="npm"
fi
have=$(cat "$stampfile" 2>/dev/null || true)
installed=$(node -p "try { require('./$dest/package.json').version } catch { '' }")
if [ "$installed" = "$LIBVIRT_VERSION" ] && { [ "$have" = "$want" ] || [ "$have" = "npm" ]; }; then
  exit 0
fi

if npm view "@pulumi/libvirt@$LIBVIRT_VERSION" version >/dev/null 2>&1; then
  npm install --no-save --no-audit --no-fund "@pulumi/libvirt@$LIBVIRT_VERSION"
  echo npm >"$stampfile"
  exit 0
fi

[ -f "$schema" ] || {
  echo "setup(libvirt-sdk): npm does not serve @pulumi/libvirt@$LIBVIRT_VERSION and $schema is" \
    "missing; run 'scripts/setup toolchain' (builds pulumi-resource-libvirt and its schema) first" >&2
  exit 1
}
command -v gen-nodejs-sdk >/dev/null || "$GI_ROOT/toolchain/build" sdkgen

work="$GI_CACHE/libvirt-sdk"
rm -rf "$work"
gen-nodejs-sdk "$schema" "$work/src"
# What `pulumi package gen-sdk --version V` does to the generated package.json, plus: no install
# script (it would try to install the plugin) and no build tools among the dependencies.
node -e '
  const fs = require("fs"); const [file, version] = process.argv.slice(1);
  const p = JSON.parse(fs.readFileSync(file, "utf8"));
  p.version = version; p.pulumi.version = version;
  delete p.scripts;
  delete p.dependencies.typescript; delete p.dependencies["@types/node"];
  fs.writeFileSync(file, JSON.stringify(p, null, 4) + "\n");' "$work/src/package.json" "$LIBVIRT_VERSION"
tsc -p "$work/src/tsconfig.json" || {
  echo "setup(libvirt-sdk): tsc failed on the generated SDK in $work/src" >&2
  exit 1
}
# The package as npm would have installed it: compiled files at the root, main = index.js.
mkdir -p "$work/pkg"
cp -r "$work/src/bin/." "$work/pkg/"
cp "$work/src/README.md" "$work/pkg/" 2>/dev/null || true
node -e '
  const fs = require("fs"); const [src, dst] = process.argv.slice(1);
  const p = JSON.parse(fs.readFileSync(src, "utf8"));
  p.main = "index.js"; p.types = "index.d.ts";
  fs.writeFileSync(dst, JSON.stringify(p, null, 4) + "\n");' "$work/src/package.json" "$work/pkg/package.json"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -r "$work/pkg" "$dest"
echo "$want" >"$stampfile"
