# zlint (certificate and CRL linter, Go module) into $GI_CACHE/go/bin, built only when missing.
# The render tier runs it with the RFC 5280 lint sources (see test/render/pki-lint.test.ts).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
version=v3.7.3
bin="$GI_CACHE/go/bin/zlint"
stamp="$GI_CACHE/go/bin/.zlint-$version"
if [ -x "$bin" ] && [ -f "$stamp" ]; then exit 0; fi
command -v go >/dev/null || { echo "setup: go is missing: install Go >= 1.22 (https://go.dev/dl or apt-get install golang)" >&2; exit 1; }
mkdir -p "$GI_CACHE/go/bin"
GOBIN="$GI_CACHE/go/bin" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "github.com/zmap/zlint/v3/cmd/zlint@$version"
touch "$stamp"
