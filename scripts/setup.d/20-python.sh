# Python judges (Portage, pkgcheck, pkilint) in a virtual environment under .cache/venv,
# reinstalled only when scripts/python-requirements.txt changes.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
req="$GI_ROOT/scripts/python-requirements.txt"
venv="$GI_CACHE/venv"
stamp="$venv/.requirements"
if [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then exit 0; fi
command -v python3 >/dev/null || { echo "setup: python3 is missing: apt-get install python3 python3-venv" >&2; exit 1; }
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
