/**
 * Renders /etc/portage/make.conf (make.conf(5)) for a builder and for an installed
 * machine. Pure: no Pulumi, no I/O. Every variable was checked against Portage 3.0.83
 * (make.globals, const.py SUPPORTED_FEATURES, dbapi/bintree.py).
 */
import type { ArchInfo } from "./arch";
import { lines, shellAssignment } from "./syntax";

/** Where Portage keeps the keyring it verifies binary package signatures with. */
export const DEFAULT_VERIFY_GPG_HOME = "/etc/portage/gnupg";
/** The builder's GnuPG home holding the binary package signing key. */
export const DEFAULT_SIGNING_GPG_HOME = "/root/.gnupg";
/** Where a builder writes the binary packages it builds (uploaded to its binhost path). */
export const DEFAULT_PKGDIR = "/var/cache/binpkgs";

/** Settings both sides share. */
interface CommonMakeConf {
  /** First comment line (no leading `#`). */
  readonly comment: string;
  /** The arch whose CHOST and baseline COMMON_FLAGS are written. */
  readonly arch: ArchInfo;
  /** GENTOO_MIRRORS, in order of preference. */
  readonly gentooMirrors: readonly string[];
  /** The Portage profile the machine uses (`<repo>:<path>`), named in a comment. */
  readonly profile: string;
}

/** Input of {@link renderBuilderMakeConf}. */
export interface BuilderMakeConf extends CommonMakeConf {
  /** Parallel make jobs and load limit: MAKEOPTS="-j<n> -l<n>". */
  readonly makeJobs: number;
  /** Fingerprint (40 hex digits) of the OpenPGP key that signs binary packages. */
  readonly signingKeyFingerprint: string;
  /**
   * GnuPG home with the signing key.
   * @default {@link DEFAULT_SIGNING_GPG_HOME}
   */
  readonly signingGpgHome?: string;
  /**
   * Local package directory.
   * @default {@link DEFAULT_PKGDIR}
   */
  readonly pkgDir?: string;
}

/** Input of {@link renderMachineMakeConf}. */
export interface MachineMakeConf extends CommonMakeConf {
  /**
   * Keyring used to verify binary package signatures (verification runs as `nobody`, so
   * it must be world-readable).
   * @default {@link DEFAULT_VERIFY_GPG_HOME}
   */
  readonly verifyGpgHome?: string;
  /**
   * The program Portage runs before fetching binary packages to set up that keyring
   * (PORTAGE_TRUST_HELPER; getuto on a stock Gentoo, which trusts Gentoo's release keys,
   * not the farm's).
   * @default {@link DEFAULT_MACHINE_TRUST_HELPER}
   */
  readonly trustHelper?: string;
}

/** The machine's trust helper the install writes (./machine-tools: `gentoo-infra-getuto`). */
export const DEFAULT_MACHINE_TRUST_HELPER = "/usr/local/sbin/gentoo-infra-getuto";

/** `NAME="${COMMON_FLAGS}"`: a deliberate reference, expanded by Portage. */
function fromCommonFlags(name: string): string {
  return `${name}="\${COMMON_FLAGS}"`;
}

function compilerLines(arch: ArchInfo): string[] {
  return [
    shellAssignment("COMMON_FLAGS", arch.commonFlags),
    ...["CFLAGS", "CXXFLAGS", "FCFLAGS", "FFLAGS"].map(fromCommonFlags),
    shellAssignment("CHOST", arch.chost),
  ];
}

function profileComment(profile: string): string {
  return `# USE flags, packages and keywords come from the profile ${profile} (make.profile/parent).`;
}

/**
 * make.conf of a builder: builds gpkg binary packages into PKGDIR and signs each with the
 * binhost key; fetches what its binhost paths already have (getbinpkg) so that it builds
 * only what is missing.
 */
export function renderBuilderMakeConf(conf: BuilderMakeConf): string {
  const fingerprint = conf.signingKeyFingerprint.toUpperCase();
  return lines([
    `# ${conf.comment}`,
    profileComment(conf.profile),
    ...compilerLines(conf.arch),
    shellAssignment("MAKEOPTS", `-j${conf.makeJobs} -l${conf.makeJobs}`),
    "",
    "# Build signed gpkg binary packages; reuse those the binhost paths in binrepos.conf have.",
    shellAssignment("FEATURES", "buildpkg binpkg-signing binpkg-request-signature getbinpkg"),
    shellAssignment("BINPKG_FORMAT", "gpkg"),
    shellAssignment("BINPKG_COMPRESS", "zstd"),
    shellAssignment("BINPKG_GPG_SIGNING_GPG_HOME", conf.signingGpgHome ?? DEFAULT_SIGNING_GPG_HOME),
    shellAssignment("BINPKG_GPG_SIGNING_KEY", `0x${fingerprint}!`),
    shellAssignment("BINPKG_GPG_SIGNING_DIGEST", "SHA512"),
    shellAssignment("BINPKG_GPG_VERIFY_GPG_HOME", DEFAULT_VERIFY_GPG_HOME),
    shellAssignment("PKGDIR", conf.pkgDir ?? DEFAULT_PKGDIR),
    "",
    shellAssignment("GENTOO_MIRRORS", conf.gentooMirrors.join(" ")),
  ]);
}

/**
 * make.conf of an installed machine: installs signed binary packages from its build
 * profile's binhost paths (binrepos.conf) and refuses unsigned ones.
 */
export function renderMachineMakeConf(conf: MachineMakeConf): string {
  return lines([
    `# ${conf.comment}`,
    profileComment(conf.profile),
    ...compilerLines(conf.arch),
    "",
    "# Install signed binary packages from the binhost paths in binrepos.conf.",
    shellAssignment("FEATURES", "getbinpkg binpkg-request-signature"),
    shellAssignment("BINPKG_FORMAT", "gpkg"),
    shellAssignment("BINPKG_GPG_VERIFY_GPG_HOME", conf.verifyGpgHome ?? DEFAULT_VERIFY_GPG_HOME),
    "# The keyring holds the farm's package-signing key only, made the way getuto makes it.",
    shellAssignment("PORTAGE_TRUST_HELPER", conf.trustHelper ?? DEFAULT_MACHINE_TRUST_HELPER),
    "",
    shellAssignment("GENTOO_MIRRORS", conf.gentooMirrors.join(" ")),
  ]);
}
