# actionlint (GitHub Actions workflow linter, Go module) into $GI_CACHE/go/bin, built only when
# missing. The render tier runs it on examples/site/ci/github-actions.yml (test/render/pipelines.test.ts).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
version=v1.7.12
bin="$GI_CACHE/go/bin/actionlint"
stamp="$GI_CACHE/go/bin/.actionlint-$version"
if [ -x "$bin" ] && [ -f "$stamp" ]; then exit 0; fi
command -v go >/dev/null || { echo "setup: go is missing: install Go >= 1.22 (https://go.dev/dl or apt-get install golang)" >&2; exit 1; }
mkdir -p "$GI_CACHE/go/bin"
GOBIN="$GI_CACHE/go/bin" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
touch "$stamp"
