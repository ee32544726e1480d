/**
 * The two tools an installed machine runs Portage with, written by its install (PxeInstallHost's
 * install configuration) next to the Stack's Portage files:
 * - the trust helper (make.conf's `PORTAGE_TRUST_HELPER`, in getuto's place): Portage runs it
 *   before it fetches binary packages; it keeps `/etc/portage/gnupg` holding the farm's
 *   package-signing key only, locally signed by a local trust key as getuto does;
 * - the sync command: pins the Gentoo tree and the overlay to the environment's tree snapshot
 *   commits (`/etc/gentoo-infra/tree-snapshot`), cloned from the binhost's git.
 * Pure: plain text, no Pulumi, no I/O.
 */
import { DEFAULT_MACHINE_TRUST_HELPER, DEFAULT_VERIFY_GPG_HOME } from "./make-conf";
import { TREE_SNAPSHOT_PATH } from "./repos-conf";
import { LOCAL_TRUST_KEY_UID, SYNC_REPO_FUNCTION, TRUST_KEYRING_FUNCTION } from "./shell-functions";

/** Where an installed machine keeps its Portage tools and the key they trust. */
const MACHINE_PORTAGE_PATHS = {
  /** The trust helper (make.conf's PORTAGE_TRUST_HELPER). */
  trustHelper: DEFAULT_MACHINE_TRUST_HELPER,
  /** The sync command. */
  sync: "/usr/local/sbin/gentoo-infra-sync",
  /** The farm's package-signing public key (armored), the one key the trust keyring holds. */
  signingKey: "/etc/gentoo-infra/package-signing.asc",
} as const;

const PLAIN_PATH = /^\/[A-Za-z0-9._/-]+$/;

/** A path as one shell word; only plain absolute paths are rendered. */
function shellWord(path: string): string {
  if (!PLAIN_PATH.test(path)) throw new Error(`not a plain absolute path: ${JSON.stringify(path)}`);
  return path;
}

/** One file of an installed machine: path, octal mode, content. */
export interface MachineFile {
  readonly path: string;
  readonly mode: string;
  readonly content: string;
}

/**
 * The trust helper: does nothing when `/etc/portage/gnupg` holds exactly the primary keys of
 * the signing key file, each valid (locally signed); otherwise it makes the keyring anew
 * (a rotated or added key, a keyring someone imported another key into). Exit status
 * non-zero when the key file is missing or unreadable: Portage then stops before fetching.
 */
export function renderMachineTrustHelper(
  paths: { readonly gnupgHome?: string; readonly signingKey?: string } = {},
): string {
  const home = paths.gnupgHome ?? DEFAULT_VERIFY_GPG_HOME;
  const keyFile = paths.signingKey ?? MACHINE_PORTAGE_PATHS.signingKey;
  return `#!/bin/bash
# gentoo-infra: Portage's trust helper on this machine (make.conf's PORTAGE_TRUST_HELPER, in
# getuto's place). Keeps ${home} holding the farm's package-signing key
# (${keyFile}) and nothing else, locally signed by a local trust key
# the way getuto does it. Rendered by gentoo-infra's install: edits are overwritten.
set -euo pipefail
readonly HOME_DIR=${shellWord(home)} KEY_FILE=${shellWord(keyFile)}

${TRUST_KEYRING_FUNCTION}
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
  local_keys=$(gpg --batch --with-colons --homedir "$HOME_DIR" --list-secret-keys "${LOCAL_TRUST_KEY_UID}" 2>/dev/null | primary_keys "" || true)
  valid=$(gpg --batch --with-colons --homedir "$HOME_DIR" --list-keys 2>/dev/null | primary_keys "f" || true)
  others=$(gpg --batch --with-colons --homedir "$HOME_DIR" --list-keys 2>/dev/null | primary_keys "" | LC_ALL=C comm -23 - <(printf '%s\\n' "$local_keys") || true)
  if [ -n "$local_keys" ] && [ "$valid" = "$want" ] && [ "$others" = "$want" ]; then
    exit 0
  fi
fi
echo "gentoo-infra-getuto: making ${home} for the package-signing key(s) \${want//$'\\n'/ }"
# An agent still serving the old keyring (Portage's verification, an import by hand) would
# lose its socket under it and race the new one: stop it first.
gpgconf --homedir "$HOME_DIR" --kill all >/dev/null 2>&1 || true
rm -rf "$HOME_DIR"
trust_keyring "$HOME_DIR" "$KEY_FILE" "$(hostname)"
gpgconf --homedir "$HOME_DIR" --kill all >/dev/null 2>&1 || true
`;
}

/**
 * The sync command: reads the tree snapshot file (repository names, locations, clone URLs
 * and commits of the machine's environment); when the file names where the environment's
 * current snapshot is served (`GI_SNAPSHOT_URL`, the binhost's client directory), takes the
 * two commits from there first (a promotion moved them) and writes them into the file; then
 * pins both repositories to the commits. Fails, moving nothing, when the served snapshot
 * cannot be fetched or names no commits.
 */
export function renderMachineSyncScript(snapshotFile: string = TREE_SNAPSHOT_PATH): string {
  return `#!/bin/bash
# gentoo-infra: pins the Gentoo tree and the overlay of this machine to its environment's tree
# snapshot (${snapshotFile}), cloned from the binhost's git. repos.conf has
# auto-sync = no: run this instead of emerge --sync. Rendered by gentoo-infra's install:
# edits are overwritten.
set -euo pipefail
readonly SNAPSHOT_FILE=${shellWord(snapshotFile)}
# shellcheck source=/dev/null
. "$SNAPSHOT_FILE"

# The environment's current commits, from the binhost (a promotion moves them). Only the two
# commits are taken from it, each 40 hex digits; nothing fetched is ever run.
if [ -n "\${GI_SNAPSHOT_URL:-}" ]; then
  fetched=$(mktemp)
  trap 'rm -f "$fetched" "$SNAPSHOT_FILE.new"' EXIT
  if ! wget --quiet --output-document="$fetched" "$GI_SNAPSHOT_URL"; then
    echo "gentoo-infra-sync: could not fetch $GI_SNAPSHOT_URL; nothing moved" >&2
    exit 1
  fi
  gentoo=$(sed -n 's/^GI_GENTOO_COMMIT="\\([0-9a-f]\\{40\\}\\)"$/\\1/p' "$fetched")
  overlay=$(sed -n 's/^GI_OVERLAY_COMMIT="\\([0-9a-f]\\{40\\}\\)"$/\\1/p' "$fetched")
  if [ "\${#gentoo}" != 40 ] || [ "\${#overlay}" != 40 ]; then
    echo "gentoo-infra-sync: $GI_SNAPSHOT_URL names no commits (GI_GENTOO_COMMIT, GI_OVERLAY_COMMIT); nothing moved" >&2
    exit 1
  fi
  if [ "$gentoo" != "$GI_GENTOO_COMMIT" ] || [ "$overlay" != "$GI_OVERLAY_COMMIT" ]; then
    sed -e "s/^GI_GENTOO_COMMIT=.*/GI_GENTOO_COMMIT=\\"$gentoo\\"/" \\
      -e "s/^GI_OVERLAY_COMMIT=.*/GI_OVERLAY_COMMIT=\\"$overlay\\"/" "$SNAPSHOT_FILE" >"$SNAPSHOT_FILE.new"
    chmod 0644 "$SNAPSHOT_FILE.new"
    mv -f "$SNAPSHOT_FILE.new" "$SNAPSHOT_FILE"
    echo "gentoo-infra-sync: new tree snapshot from $GI_SNAPSHOT_URL"
    GI_GENTOO_COMMIT=$gentoo GI_OVERLAY_COMMIT=$overlay
  fi
fi

${SYNC_REPO_FUNCTION}
sync_repo "$GI_GENTOO_REPO" "$GI_GENTOO_SYNC_URI" "$GI_GENTOO_COMMIT" "$GI_GENTOO_LOCATION"
sync_repo "$GI_OVERLAY_REPO" "$GI_OVERLAY_SYNC_URI" "$GI_OVERLAY_COMMIT" "$GI_OVERLAY_LOCATION"
echo "gentoo-infra-sync: $GI_GENTOO_REPO at $GI_GENTOO_COMMIT, $GI_OVERLAY_REPO at $GI_OVERLAY_COMMIT ($GI_ENVIRONMENT)"
`;
}

/**
 * The machine's Portage tools and the signing key they trust, as files to install: the
 * key (0644) and the two scripts (0755).
 */
export function machinePortageToolFiles(signingPublicKeyArmored: string): MachineFile[] {
  return [
    { path: MACHINE_PORTAGE_PATHS.signingKey, mode: "0644", content: signingPublicKeyArmored },
    { path: MACHINE_PORTAGE_PATHS.sync, mode: "0755", content: renderMachineSyncScript() },
    { path: MACHINE_PORTAGE_PATHS.trustHelper, mode: "0755", content: renderMachineTrustHelper() },
  ];
}
