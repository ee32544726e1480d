/**
 * The fixed parts of a builder's build script (./build-script): the outcome record and
 * notification, the trust keyring Portage verifies binary packages with, the signature check
 * of new packages, the retention prune and the atomic publish. Plain text, no Pulumi.
 *
 * They run inside the build's throwaway root (./ephemeral-run), so whatever they change
 * outside the persistent directories (the GnuPG homes, /etc/hosts, the CA bundle) is gone
 * after the build.
 */
import { TRUST_KEYRING_FUNCTION } from "../portage/shell-functions";

/** Where a build records its outcome and what it published (a persistent directory). */
export const DEFAULT_BUILD_STATUS_DIR = "/var/lib/gentoo-infra/builds";

/** The keyring Portage verifies binary packages with (make.conf's BINPKG_GPG_VERIFY_GPG_HOME). */
export const VERIFY_GPG_HOME = "/etc/portage/gnupg";

/** The phases a build reports durations for, in order. */
export const BUILD_PHASES = [
  "prepare",
  "fetch",
  "emerge",
  "sign",
  "prune",
  "upload",
  "publish",
] as const;

/** One phase of {@link BUILD_PHASES}. */
export type BuildPhase = (typeof BUILD_PHASES)[number];

/**
 * The outcome a build POSTs to `notifyUrl` and keeps in `<statusDir>/<env>-<arch>-<stack>.json`
 * (what `gentoo-infra build-status` and `scripts/site info` show).
 */
export interface BuildOutcome {
  /** `<env>/<arch>/<stack>`. */
  readonly buildProfile: string;
  /** `success` or `failure`. */
  readonly status: "success" | "failure";
  /** The step that ran last (the failing one on failure, `finished` on success). */
  readonly step: string;
  /** The script's exit status. */
  readonly exitCode: number;
  /** Binary packages this build added to the build profile's repository (`<category>/<PF>-<BUILD_ID>`). */
  readonly packages: readonly string[];
  /** Binary packages the retention prune removed. */
  readonly pruned: readonly string[];
  /** Whether a new index was published (false when nothing changed or the build failed). */
  readonly published: boolean;
  /** Wall-clock seconds of the whole build. */
  readonly durationSeconds: number;
  /** Seconds per phase (phases that did not run are absent). */
  readonly phases: Readonly<Partial<Record<BuildPhase, number>>>;
  /** ISO 8601 UTC start and end. */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The snapshot commits built. */
  readonly treeCommit: string;
  readonly overlayCommit: string;
  /** The builder's host name. */
  readonly host: string;
  /** Where the build's output is: `journalctl -u <service>` on the builder. */
  readonly log: string;
}

/**
 * Bash functions: phase timing, the outcome record (JSON written atomically to the status
 * directory) and the notification. Expects BUILD_PROFILE, STATUS_FILE, RUNNING_FILE,
 * NOTIFY_URL, TREE_COMMIT, OVERLAY_COMMIT, LOG_HINT and the arrays NEW_PACKAGES and
 * PRUNED_PACKAGES.
 */
export const OUTCOME_FUNCTIONS = `# Phase timing (milliseconds) for the outcome record.
declare -A PHASE_MS=()
phase_name="" phase_started=0
phase() {
  local now
  now=$(date +%s%3N)
  if [ -n "$phase_name" ]; then
    PHASE_MS[$phase_name]=$(( \${PHASE_MS[$phase_name]:-0} + now - phase_started ))
  fi
  phase_name=$1 phase_started=$now
}

json_strings() {
  local first=1 item
  printf '['
  for item in "$@"; do
    if [ "$first" = 1 ]; then first=0; else printf ','; fi
    printf '"%s"' "$item"
  done
  printf ']'
}

json_phases() {
  local first=1 name
  printf '{'
  for name in $BUILD_PHASES_LIST; do
    [ -n "\${PHASE_MS[$name]:-}" ] || continue
    if [ "$first" = 1 ]; then first=0; else printf ','; fi
    printf '"%s":%d.%03d' "$name" $(( PHASE_MS[$name] / 1000 )) $(( PHASE_MS[$name] % 1000 ))
  done
  printf '}'
}

# Writes the outcome to the status directory (atomically) and POSTs it; a failing hook is
# logged, never fatal.
report() {
  local status=$1 exit_code=$2 finished body elapsed
  phase finished
  finished=$(date +%s%3N)
  elapsed=$(( finished - BUILD_STARTED_MS ))
  body=$(printf '{"buildProfile":"%s","status":"%s","step":"%s","exitCode":%d,"packages":%s,"pruned":%s,"published":%s,"durationSeconds":%d.%03d,"phases":%s,"startedAt":"%s","finishedAt":"%s","treeCommit":"%s","overlayCommit":"%s","host":"%s","log":"%s"}' \\
    "$BUILD_PROFILE" "$status" "$step" "$exit_code" \\
    "$(json_strings "\${NEW_PACKAGES[@]}")" "$(json_strings "\${PRUNED_PACKAGES[@]}")" "$PUBLISHED" \\
    $(( elapsed / 1000 )) $(( elapsed % 1000 )) "$(json_phases)" \\
    "$(date -u -d "@$(( BUILD_STARTED_MS / 1000 ))" +%Y-%m-%dT%H:%M:%SZ)" \\
    "$(date -u -d "@$(( finished / 1000 ))" +%Y-%m-%dT%H:%M:%SZ)" \\
    "$TREE_COMMIT" "$OVERLAY_COMMIT" "$(hostname)" "$LOG_HINT")
  printf '%s\\n' "$body" >"$STATUS_FILE.tmp" && mv -f "$STATUS_FILE.tmp" "$STATUS_FILE"
  rm -f "$RUNNING_FILE"
  echo "gentoo-infra: $status at step $step: $body"
  curl --fail --silent --show-error --max-time 30 --retry 3 \\
    --header 'Content-Type: application/json' --data "$body" "$NOTIFY_URL" ||
    echo "gentoo-infra: could not notify $NOTIFY_URL" >&2
}
`;

/**
 * Bash: the keyring Portage verifies binary packages with ({@link TRUST_KEYRING_FUNCTION},
 * the getuto way) for the package-signing key `$SIGNING_FPR` of `$SIGNING_GPG_HOME`.
 * Without it, packages the builder fetches from its binhost paths (getbinpkg) and the
 * packages it has just built are refused ("undefined trust").
 */
export const TRUST_KEYRING = `${TRUST_KEYRING_FUNCTION}signing_public_key=$(mktemp)
gpg --batch --quiet --homedir "$SIGNING_GPG_HOME" --export "$SIGNING_FPR" >"$signing_public_key"
trust_keyring "$VERIFY_GPG_HOME" "$signing_public_key" "build $BUILD_PROFILE"
rm -f "$signing_public_key"
`;

/**
 * Bash: refuses to publish a package whose signatures do not verify with the trust keyring:
 * the clear-signed Manifest must carry a valid signature by the package-signing key, and
 * every member with a detached signature must verify.
 */
export const VERIFY_FUNCTION = `verify_package() {
  local pkg=$1 dir member name sig want got
  dir=$(mktemp -d)
  tar -xf "$PKGDIR_PATH/$pkg" -C "$dir"
  if ! gpg --batch --homedir "$VERIFY_GPG_HOME" --status-fd 1 --verify "$dir"/*/Manifest 2>/dev/null |
    grep -q "^\\[GNUPG:\\] VALIDSIG .* $SIGNING_FPR\\$"; then
    echo "gentoo-infra: $pkg: its Manifest is not signed by $SIGNING_FPR" >&2
    rm -rf "$dir"
    return 1
  fi
  # Every member but the Manifest and the format marker needs a detached signature that
  # verifies, and the size and SHA512 the signed Manifest gives it.
  for member in "$dir"/*/*; do
    name=\${member##*/}
    case $name in Manifest | gpkg-1 | *.sig) continue ;; esac
    sig=$member.sig
    if [ ! -e "$sig" ] || ! gpg --batch --quiet --homedir "$VERIFY_GPG_HOME" --verify "$sig" "$member" 2>/dev/null; then
      echo "gentoo-infra: $pkg: \${sig##*/} is missing or does not verify" >&2
      rm -rf "$dir"
      return 1
    fi
    want=$(awk -v m="$name" '$1 == "DATA" && $2 == m { for (i = 4; i < NF; i++) if ($i == "SHA512") print $3 " " tolower($(i + 1)) }' "$dir"/*/Manifest)
    got="$(stat -c %s "$member") $(sha512sum "$member" | cut -d' ' -f1)"
    if [ "$want" != "$got" ]; then
      echo "gentoo-infra: $pkg: $name does not match its Manifest entry" >&2
      rm -rf "$dir"
      return 1
    fi
  done
  rm -rf "$dir"
}
`;

/**
 * Python run by the prune step: removes binary packages from PKGDIR that nothing installed in
 * the build's root needs (not the installed build of any package: same version and
 * BUILD_TIME) and that are older than
 * the retention (BUILD_TIME). The build's root holds exactly what this build installed: the
 * @world closure and the kernel packages. Prints each removed package.
 */
export const PRUNE_PYTHON = `import os, sys, time
import portage
days = int(sys.argv[1])
root = portage.settings["EROOT"]
bindb = portage.db[root]["bintree"]
# Rescan the files: a build that failed between an earlier prune and its reindex left an index
# naming removed files (Portage trusts the PKGDIR index by default).
bindb.populate(getbinpkgs=False, force_reindex=True)
vardb = portage.db[root]["vartree"].dbapi
# A build is identified by its BUILD_TIME too: older builds of an installed version go.
installed = {(str(cpv), vardb.aux_get(cpv, ["BUILD_TIME"])[0]) for cpv in vardb.cpv_all()}
limit = time.time() - days * 86400
for cpv in bindb.dbapi.cpv_all():
    build_time_text = bindb.dbapi.aux_get(cpv, ["BUILD_TIME"])[0]
    if (str(cpv), build_time_text) in installed:
        continue
    build_time = int(build_time_text or 0)
    if build_time >= limit:
        continue
    path = bindb.getname(cpv)
    try:
        os.unlink(path)
    except FileNotFoundError:
        continue
    print(os.path.relpath(path, bindb.pkgdir))
`;
