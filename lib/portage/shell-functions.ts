/**
 * Bash functions that builders and installed machines share: pinning a repository to a tree
 * snapshot commit, and the keyring Portage verifies binary packages with. The builder's
 * build script (lib/buildfarm/build-script.ts) and the machine's tools
 * (./machine-tools.ts) paste them in; plain text, no Pulumi.
 */

/**
 * Bash: `sync_repo <name> <url> <commit> <dir>` clones `url` into `dir` if needed, then
 * checks out exactly `commit` (detached) and removes untracked files; generates the metadata
 * cache when the repository does not carry one (a plain gentoo.git clone). Fails unless
 * HEAD is the commit afterwards.
 */
export const SYNC_REPO_FUNCTION = `sync_repo() {
  local name=$1 url=$2 commit=$3 dir=$4
  # A directory that is no clone yet (missing, or a tree the image unpacked from a tarball)
  # becomes one in place; after checkout, files git does not track (nor ignore) are removed.
  if [ ! -d "$dir/.git" ]; then
    mkdir -p "$dir"
    git -C "$dir" init --quiet
    git -C "$dir" remote add origin "$url"
  fi
  git -C "$dir" remote set-url origin "$url"
  git -C "$dir" fetch --quiet --tags origin
  git -C "$dir" -c advice.detachedHead=false checkout --quiet --force --detach "$commit"
  git -C "$dir" clean --quiet --force -d
  if [ "$(git -C "$dir" rev-parse HEAD)" != "$commit" ]; then
    echo "gentoo-infra: $name is not at $commit" >&2
    return 1
  fi
  if ! git -C "$dir" cat-file -e "HEAD:metadata/md5-cache" 2>/dev/null; then
    egencache --update --repo "$name" --jobs "$(nproc)"
  fi
}
`;

/** The user ID of the local key that certifies the package-signing key in a trust keyring. */
export const LOCAL_TRUST_KEY_UID = "gentoo-infra local trust key";

/**
 * Bash: `trust_keyring <gnupg home> <public key file> <label>` makes the keyring Portage
 * verifies binary packages with, the way getuto makes Gentoo's: a local trust key
 * (ultimately trusted, no passphrase: the keyring only verifies) locally signs every primary
 * key of the (armored or binary) public key file, so that those keys are valid and nothing
 * else is. Without the local signature Portage refuses packages ("undefined trust").
 * Verification runs as nobody, so the keyring is world-readable.
 */
export const TRUST_KEYRING_FUNCTION = `trust_keyring() {
  local home=$1 keyfile=$2 label=$3 fpr
  install -d -m 0755 "$home"
  gpg --batch --quiet --homedir "$home" --import "$keyfile"
  if ! gpg --batch --quiet --homedir "$home" --list-secret-keys "${LOCAL_TRUST_KEY_UID}" >/dev/null 2>&1; then
    gpg --batch --quiet --homedir "$home" --pinentry-mode loopback --passphrase '' \\
      --quick-generate-key "${LOCAL_TRUST_KEY_UID} ($label)" ed25519 sign never
  fi
  for fpr in $(gpg --batch --with-colons --homedir "$home" --show-keys "$keyfile" | awk -F: '$1 == "pub" { p = 1; next } p && $1 == "fpr" { print $10; p = 0 }'); do
    gpg --batch --quiet --homedir "$home" --yes --quick-lsign-key "$fpr"
  done
  gpg --batch --quiet --homedir "$home" --check-trustdb
  chmod -R a+rX "$home"
}
`;
