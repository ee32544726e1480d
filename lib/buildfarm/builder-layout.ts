/**
 * Where a builder's files live and what they are called: pure naming for the build farm.
 */
import { type BuildProfileRef, validateBuildProfileRef } from "../binhost/paths";
import { throwIfViolations } from "../validation/violations";
import { builderUnitStem, buildRequestFile } from "./systemd-units";

/** Fixed paths on every builder. */
export const BUILDER_PATHS = {
  /** Directory of the rendered scripts. */
  libexec: "/usr/local/libexec/gentoo-infra",
  /** The ephemeral-root runner the service starts. */
  runner: "/usr/local/libexec/gentoo-infra/ephemeral-run",
  /** The private key the build script uploads with (secret, 0600). */
  uploadKey: "/etc/gentoo-infra/upload_ed25519",
  /** known_hosts holding the binhost's host key (strict checking). */
  knownHosts: "/etc/gentoo-infra/upload_known_hosts",
  /** The armored package-signing private key (secret, 0600). */
  signingKey: "/etc/gentoo-infra/package-signing-key.asc",
  /** Installed systemd units. */
  systemdUnits: "/etc/systemd/system",
  /** The site's root CA certificate, trusted inside builds. */
  rootCertificate: "/etc/gentoo-infra/root-ca.pem",
  /** Outcome records: `<env>-<arch>-<stack>.json`, `.running` while a build runs. */
  buildStatus: "/var/lib/gentoo-infra/builds",
  /** catalyst spec files of the stage builds. */
  catalystSpecs: "/etc/gentoo-infra/catalyst",
} as const;

/**
 * Directories that survive a build (bind-mounted into the throwaway root): the repository
 * clones (so a build fetches only new commits), PKGDIR (the packages the retention policy
 * prunes and the upload mirrors), distfiles (sources downloaded once), catalyst's
 * storedir (seeds, snapshots and the stages a later stage builds on) and the outcome
 * records (what the last build did and what was last published).
 */
export const PERSISTENT_BUILDER_PATHS = [
  "/var/db/repos",
  "/var/cache/binpkgs",
  "/var/cache/distfiles",
  "/var/tmp/catalyst",
  "/var/lib/gentoo-infra/builds",
] as const;

/**
 * Commands a builder runs once at first boot: Gentoo images link /etc/portage/make.profile
 * to a profile of the tree; the Stack pushes a make.profile directory (its `parent` file),
 * which must not be written through that link into the tree.
 */
export const BUILDER_FIRST_BOOT: readonly string[] = [
  "if [ -L /etc/portage/make.profile ]; then rm /etc/portage/make.profile; fi",
];

/** catalyst's storedir on a builder. */
export const CATALYST_STOREDIR = "/var/tmp/catalyst";

/** `<environment>-<arch>-<stack>`: the build profile as one name segment. */
export function buildProfileSlug(profile: BuildProfileRef): string {
  return `${profile.environment}-${profile.arch}-${profile.stack}`;
}

/** The child-resource name of a farm's builder: `<farm>-<environment>-<arch>-<stack>`. */
export function builderName(farm: string, profile: BuildProfileRef): string {
  return `${farm}-${buildProfileSlug(profile)}`;
}

/** Path of a build profile's build script on its builder. */
export function buildScriptPath(profile: BuildProfileRef): string {
  return `${BUILDER_PATHS.libexec}/build-${buildProfileSlug(profile)}`;
}

/** The outcome record of a build profile's last build on its builder. */
export function buildStatusFile(profile: BuildProfileRef): string {
  return `${BUILDER_PATHS.buildStatus}/${buildProfileSlug(profile)}.json`;
}

/**
 * The command run after a builder's files change: reload units, keep the timer enabled and
 * start a build now (without waiting for it), so that a new snapshot or configuration is
 * built at once rather than at the next scheduled time: it creates the build request file,
 * which the path unit answers with a build now, or when the running build (a scheduled one,
 * say) ends (renderBuilderUnits). The unit names hold the build profile
 * unquoted: a profile whose environment, arch or Stack is not a path segment throws a
 * ValidationError naming it (`profile.stack`).
 */
export function builderAfterChange(profile: BuildProfileRef): string {
  throwIfViolations("builderAfterChange", validateBuildProfileRef(profile, "profile"));
  const stem = builderUnitStem(profile);
  // daemon-reload is tried twice: on an overloaded host systemd can miss its 25 s D-Bus timeout.
  return `{ systemctl daemon-reload || { sleep 10; systemctl daemon-reload; }; } && systemctl enable --now ${stem}.timer ${stem}.path && install -D -m 0644 /dev/null ${buildRequestFile(stem)}`;
}
