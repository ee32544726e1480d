#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# gentoo-infra: Portage's trust helper on this machine (make.conf's PORTAGE_TRUST_HELPER, in
# getuto's place). Keeps HOME_DIR below holding the farm's package-signing key (KEY_FILE) and
# nothing else, locally signed by a local trust key the way getuto does it.
# Rendered from lib/portage/machine-trust-helper.sh by gentoo-infra's install: edits are
# overwritten.
set -euo pipefail
readonly HOME_DIR=@GNUPG_HOME@ KEY_FILE=@SIGNING_KEY@

source trust-keyring.sh

# The primary key fingerprints of a --with-colons listing whose validity is one of the letters of
# $1 (any validity when $1 is empty), sorted.
primary_keys() {
  awk -F: -v valid="$1" '$1 == "pub" || $1 == "sec" { p = (valid == "" || index(valid, $2) > 0); next } p && $1 == "fpr" { print $10; p = 0 }' | LC_ALL=C sort
}

[ -r "$KEY_FILE" ] || { echo "gentoo-infra-getuto: $KEY_FILE is missing: the install writes it" >&2; exit 1; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
want=$(gpg --batch --with-colons --homedir "$scratch" --show-keys "$KEY_FILE" 2>/dev/null | primary_keys "")
[ -n "$want" ] || { echo "gentoo-infra-getuto: $KEY_FILE holds no OpenPGP public key" >&2; exit 1; }
if [ -d "$HOME_DIR" ]; then
  local_keys=$(gpg --batch --with-colons --homedir "$HOME_DIR" --list-secret-keys "$LOCAL_TRUST_KEY_UID" 2>/dev/null | primary_keys "" || true)
  valid=$(gpg --batch --with-colons --homedir "$HOME_DIR" --list-keys 2>/dev/null | primary_keys "f" || true)
  others=$(gpg --batch --with-colons --homedir "$HOME_DIR" --list-keys 2>/dev/null | primary_keys "" | LC_ALL=C comm -23 - <(printf '%s\n' "$local_keys") || true)
  if [ -n "$local_keys" ] && [ "$valid" = "$want" ] && [ "$others" = "$want" ]; then
    exit 0
  fi
fi
echo "gentoo-infra-getuto: making $HOME_DIR for the package-signing key(s) ${want//$'\n'/ }"
# An agent still serving the old keyring (Portage's verification, an import by hand) would
# lose its socket under it and race the new one: stop it first.
gpgconf --homedir "$HOME_DIR" --kill all >/dev/null 2>&1 || true
rm -rf "$HOME_DIR"
trust_keyring "$HOME_DIR" "$KEY_FILE" "$(hostname)"
gpgconf --homedir "$HOME_DIR" --kill all >/dev/null 2>&1 || true
