# The library compiled to dist/ (JavaScript, declarations and source maps; package.json's main,
# types and exports point there): what a program that imports "gentoo-infra" runs, without
# type-checking the library again on every preview (docs/getting-started.md, "Your site
# in a repository of its own"). After 45-libvirt-sdk: the library imports the generated @pulumi/libvirt.
# Skipped when nothing in lib/ is newer than dist/.tsbuildinfo; incremental otherwise.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$GI_ROOT"
if [ -f dist/.tsbuildinfo ] && [ -z "$(find lib tsconfig.json tsconfig.build.json -newer dist/.tsbuildinfo -print -quit)" ]; then
  exit 0
fi
"$GI_ROOT/node_modules/.bin/tsc" -p tsconfig.build.json || {
  echo "setup(library): tsc -p tsconfig.build.json failed (see above)" >&2
  exit 1
}
# The library's scripts kept as files (Python and shell: lib/host/script-file.ts), beside the
# JavaScript that reads them.
while IFS= read -r -d '' asset; do
  install -D -m 0644 "$asset" "dist/${asset#lib/}"
done < <(find lib -type f \( -name '*.py' -o -name '*.sh' \) -print0)
# tsc leaves .tsbuildinfo as it was when nothing it emits changed: mark this check done.
touch dist/.tsbuildinfo
