# shellcheck shell=bash source-path=SCRIPTDIR
# The functions of a builder's build script (lib/buildfarm/build.sh includes them): phase
# timing, the outcome record and its notification, the keyring Portage verifies binary packages
# with, and the signature check of new packages. They read the build script's variables.
#
# They run inside the build's throwaway root (lib/buildfarm/ephemeral-run.sh), so whatever
# they change outside the persistent directories (the GnuPG homes) is gone after the build.

source ../portage/trust-keyring.sh

# Phase timing (milliseconds) for the outcome record.
declare -A PHASE_MS=()
phase_name="" phase_started=0
phase() {
  local now
  now=$(date +%s%3N)
  if [ -n "$phase_name" ]; then
    PHASE_MS[$phase_name]=$(( ${PHASE_MS[$phase_name]:-0} + now - phase_started ))
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
  for name in "${BUILD_PHASES[@]}"; do
    [ -n "${PHASE_MS[$name]:-}" ] || continue
    if [ "$first" = 1 ]; then first=0; else printf ','; fi
    printf '"%s":%d.%03d' "$name" $(( PHASE_MS[$name] / 1000 )) $(( PHASE_MS[$name] % 1000 ))
  done
  printf '}'
}

# Writes the outcome to the status directory (atomically) and POSTs it; a failing hook is
# logged, never fatal. The outcome's fields are BuildOutcome's (lib/buildfarm/build-script-steps.ts).
# shellcheck disable=SC2154 # step is the build script's: the step that ran last
report() {
  local status=$1 exit_code=$2 finished body elapsed
  phase finished
  finished=$(date +%s%3N)
  elapsed=$(( finished - BUILD_STARTED_MS ))
  body=$(printf '{"buildProfile":"%s","status":"%s","step":"%s","exitCode":%d,"packages":%s,"pruned":%s,"published":%s,"durationSeconds":%d.%03d,"phases":%s,"startedAt":"%s","finishedAt":"%s","treeCommit":"%s","overlayCommit":"%s","host":"%s","log":"%s"}' \
    "$BUILD_PROFILE" "$status" "$step" "$exit_code" \
    "$(json_strings "${NEW_PACKAGES[@]}")" "$(json_strings "${PRUNED_PACKAGES[@]}")" "$PUBLISHED" \
    $(( elapsed / 1000 )) $(( elapsed % 1000 )) "$(json_phases)" \
    "$(date -u -d "@$(( BUILD_STARTED_MS / 1000 ))" +%Y-%m-%dT%H:%M:%SZ)" \
    "$(date -u -d "@$(( finished / 1000 ))" +%Y-%m-%dT%H:%M:%SZ)" \
    "$TREE_COMMIT" "$OVERLAY_COMMIT" "$(hostname)" "$LOG_HINT")
  printf '%s\n' "$body" >"$STATUS_FILE.tmp" && mv -f "$STATUS_FILE.tmp" "$STATUS_FILE"
  rm -f "$RUNNING_FILE"
  echo "gentoo-infra: $status at step $step: $body"
  curl --fail --silent --show-error --max-time 30 --retry 3 \
    --header 'Content-Type: application/json' --data "$body" "$NOTIFY_URL" ||
    echo "gentoo-infra: could not notify $NOTIFY_URL" >&2
}

# Makes the keyring Portage verifies binary packages with (make.conf's
# BINPKG_GPG_VERIFY_GPG_HOME, VERIFY_GPG_HOME) for the package-signing key SIGNING_FPR of
# SIGNING_GPG_HOME, with trust_keyring. Without it, packages the builder fetches from its
# binhost paths (getbinpkg) and the packages it has just built are refused ("undefined trust").
trust_signing_key() {
  local public_key
  public_key=$(mktemp)
  gpg --batch --quiet --homedir "$SIGNING_GPG_HOME" --export "$SIGNING_FPR" >"$public_key"
  trust_keyring "$VERIFY_GPG_HOME" "$public_key" "build $BUILD_PROFILE"
  rm -f "$public_key"
}

# verify_package <path below PKGDIR_PATH> refuses to publish a package whose signatures do not
# verify with the trust keyring: the clear-signed Manifest must carry a valid signature by the
# package-signing key SIGNING_FPR, and every member with a detached signature must verify.
verify_package() {
  local pkg=$1 dir member name sig want got
  dir=$(mktemp -d)
  tar -xf "$PKGDIR_PATH/$pkg" -C "$dir"
  if ! gpg --batch --homedir "$VERIFY_GPG_HOME" --status-fd 1 --verify "$dir"/*/Manifest 2>/dev/null |
    grep -q "^\[GNUPG:\] VALIDSIG .* $SIGNING_FPR\$"; then
    echo "gentoo-infra: $pkg: its Manifest is not signed by $SIGNING_FPR" >&2
    rm -rf "$dir"
    return 1
  fi
  # Every member but the Manifest and the format marker needs a detached signature that
  # verifies, and the size and SHA512 the signed Manifest gives it.
  for member in "$dir"/*/*; do
    name=${member##*/}
    case $name in Manifest | gpkg-1 | *.sig) continue ;; esac
    sig=$member.sig
    if [ ! -e "$sig" ] || ! gpg --batch --quiet --homedir "$VERIFY_GPG_HOME" --verify "$sig" "$member" 2>/dev/null; then
      echo "gentoo-infra: $pkg: ${sig##*/} is missing or does not verify" >&2
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
