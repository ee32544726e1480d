/**
 * The two tools an installed machine runs Portage with, written by its install (PxeInstallHost's
 * install configuration) next to the Stack's Portage files:
 * - the trust helper (make.conf's `PORTAGE_TRUST_HELPER`, in getuto's place): Portage runs it
 *   before it fetches binary packages; it keeps `/etc/portage/gnupg` holding the farm's
 *   package-signing key only, locally signed by a local trust key as getuto does;
 * - the sync command: pins the Gentoo tree and the overlay to the environment's tree snapshot
 *   commits (`/etc/gentoo-infra/tree-snapshot`), cloned from the binhost's git.
 * Both are bash scripts kept as files beside this module, filled in here. Pure: no Pulumi.
 */
import { fillShellPlaceholders, shellScriptSource } from "../host/script-file";
import { DEFAULT_MACHINE_TRUST_HELPER, DEFAULT_VERIFY_GPG_HOME } from "./make-conf";
import { TREE_SNAPSHOT_PATH } from "./repos-conf";

/** Where an installed machine keeps its Portage tools and the key they trust. */
const MACHINE_PORTAGE_PATHS = {
  /** The trust helper (make.conf's PORTAGE_TRUST_HELPER). */
  trustHelper: DEFAULT_MACHINE_TRUST_HELPER,
  /** The sync command. */
  sync: "/usr/local/sbin/gentoo-infra-sync",
  /** The farm's package-signing public key (armored), the one key the trust keyring holds. */
  signingKey: "/etc/gentoo-infra/package-signing.asc",
} as const;

/** One file of an installed machine: path, octal mode, content. */
export interface MachineFile {
  readonly path: string;
  readonly mode: string;
  readonly content: string;
}

const TRUST_HELPER_SOURCE = shellScriptSource(__dirname, "machine-trust-helper.sh");
const SYNC_SOURCE = shellScriptSource(__dirname, "machine-sync.sh");

/**
 * The trust helper (lib/portage/machine-trust-helper.sh): does nothing when
 * `/etc/portage/gnupg` holds exactly the primary keys of the signing key file, each valid
 * (locally signed); otherwise it makes the keyring anew (a rotated or added key, a keyring
 * someone imported another key into). Exit status non-zero when the key file is missing or
 * unreadable: Portage then stops before fetching.
 */
export function renderMachineTrustHelper(
  paths: { readonly gnupgHome?: string; readonly signingKey?: string } = {},
): string {
  return fillShellPlaceholders(TRUST_HELPER_SOURCE, {
    GNUPG_HOME: paths.gnupgHome ?? DEFAULT_VERIFY_GPG_HOME,
    SIGNING_KEY: paths.signingKey ?? MACHINE_PORTAGE_PATHS.signingKey,
  });
}

/**
 * The sync command (lib/portage/machine-sync.sh): reads the tree snapshot file (repository
 * names, locations, clone URLs and commits of the machine's environment); when the file names
 * where the environment's current snapshot is served (`GI_SNAPSHOT_URL`, the binhost's client
 * directory), takes the two commits from there first (a promotion moved them) and writes them
 * into the file; then pins both repositories to the commits. Fails, moving nothing, when the
 * served snapshot cannot be fetched or names no commits.
 */
export function renderMachineSyncScript(snapshotFile: string = TREE_SNAPSHOT_PATH): string {
  return fillShellPlaceholders(SYNC_SOURCE, { SNAPSHOT_FILE: snapshotFile });
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
