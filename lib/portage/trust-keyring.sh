# shellcheck shell=bash
# The keyring Portage verifies binary packages with; included by the builders' build script
# (lib/buildfarm/build.sh) and the machines' trust helper (lib/portage/machine-trust-helper.sh).

# The user ID of the local key that certifies the package-signing key in a trust keyring.
readonly LOCAL_TRUST_KEY_UID="gentoo-infra local trust key"

# trust_keyring <gnupg home> <public key file> <label> makes the keyring Portage verifies
# binary packages with, the way getuto makes Gentoo's: a local trust key (ultimately trusted,
# no passphrase: the keyring only verifies) locally signs every primary key of the (armored or
# binary) public key file, so that those keys are valid and nothing else is. Without the local
# signature Portage refuses packages ("undefined trust"). Verification runs as nobody, so the
# keyring is world-readable.
trust_keyring() {
  local home=$1 keyfile=$2 label=$3 fpr
  install -d -m 0755 "$home"
  gpg --batch --quiet --homedir "$home" --import "$keyfile"
  if ! gpg --batch --quiet --homedir "$home" --list-secret-keys "$LOCAL_TRUST_KEY_UID" >/dev/null 2>&1; then
    gpg --batch --quiet --homedir "$home" --pinentry-mode loopback --passphrase '' \
      --quick-generate-key "$LOCAL_TRUST_KEY_UID ($label)" ed25519 sign never
  fi
  for fpr in $(gpg --batch --with-colons --homedir "$home" --show-keys "$keyfile" | awk -F: '$1 == "pub" { p = 1; next } p && $1 == "fpr" { print $10; p = 0 }'); do
    gpg --batch --quiet --homedir "$home" --yes --quick-lsign-key "$fpr"
  done
  gpg --batch --quiet --homedir "$home" --check-trustdb
  chmod -R a+rX "$home"
}
