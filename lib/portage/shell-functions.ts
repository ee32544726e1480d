/**
 * Bash functions that builders and installed machines share, kept as files beside this module
 * (./sync-repo.sh, ./trust-keyring.sh): the machine's tools (./machine-tools.ts) include them
 * with a `source` line; the builder's build script (lib/buildfarm/build-script.ts) pastes
 * them in. Plain text, no Pulumi.
 */
import { shellScriptSource } from "../host/script-file";

/** A file of functions without its `# shellcheck shell=` line, for pasting into a script. */
const functions = (file: string) =>
  shellScriptSource(__dirname, file).replace(/^# shellcheck shell=\S+\n/, "");

/** Bash: `sync_repo <name> <url> <commit> <dir>` (./sync-repo.sh). */
export const SYNC_REPO_FUNCTION = functions("sync-repo.sh");

/** Bash: `trust_keyring <gnupg home> <public key file> <label>` (./trust-keyring.sh). */
export const TRUST_KEYRING_FUNCTION = functions("trust-keyring.sh");
