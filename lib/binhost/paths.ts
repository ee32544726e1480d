/**
 * The binhost's URL and path scheme, shared by the build farm (upload targets), the binhost
 * (nginx locations), the Stack renderer (binrepos.conf sync-uri) and the install host
 * (stage URLs). Paths are relative to the binhost's document root and have no leading slash.
 */

import { type Violation, violation } from "../validation/violations";

/** One build profile: an (environment, arch, Stack) cell. */
export interface BuildProfileRef {
  readonly environment: string;
  readonly arch: string;
  readonly stack: string;
}

/** One segment of a build profile: its environment, arch or Stack. */
const SEGMENT = /^[a-z0-9][a-z0-9_.-]*$/;

/**
 * Checks that a build profile's environment, arch and Stack are path segments (they name
 * binhost paths, units, status files and the commands that use them), each named
 * `<at>.<field>`. Shared by the build script, the builder units and commands, the binhost's
 * nginx.conf and its after-change command.
 */
export function validateBuildProfileRef(
  profile: BuildProfileRef,
  at = "buildProfile",
): Violation[] {
  if (typeof profile !== "object" || profile === null) {
    return [
      violation(
        at,
        profile,
        "is not a build profile",
        'give { environment, arch, stack }, e.g. { environment: "production", arch: "amd64", stack: "web" }',
      ),
    ];
  }
  const out: Violation[] = [];
  for (const field of ["environment", "arch", "stack"] as const) {
    const value: unknown = profile[field];
    if (typeof value !== "string" || !SEGMENT.test(value)) {
      out.push(
        violation(
          `${at}.${field}`,
          value,
          "is not a path segment",
          "use lower-case letters, digits, '.', '_' and '-'",
        ),
      );
    }
  }
  return out;
}

/**
 * `<environment>/<arch>/<stack>`: the key of a build profile wherever one is looked up (a
 * Stack's `buildProfiles`, a farm's `builders`, a binhost's client configuration, an install
 * host's stages) and how users read it; the binhost path without its trailing slash.
 */
export function buildProfileKey(profile: BuildProfileRef): string {
  return `${profile.environment}/${profile.arch}/${profile.stack}`;
}

/** A stage tarball as catalyst names it, placed under an environment and arch. */
export interface StageRef {
  readonly environment: string;
  /** Gentoo arch (directory name on the binhost). */
  readonly arch: string;
  /** catalyst target. */
  readonly target: "stage1" | "stage2" | "stage3" | "stage4";
  /** catalyst subarch (`amd64`, `i686`). */
  readonly subarch: string;
  /** catalyst version_stamp (`server-20261122T030000Z`). */
  readonly versionStamp: string;
  /**
   * Tarball compression suffix.
   * @default "xz" (catalyst's `compression_mode: pixz`)
   */
  readonly compression?: "xz" | "bz2" | "gz" | "zst";
}

/** Top-level directories of the binhost besides the package repositories. */
export const BINHOST_DIRECTORIES = {
  /** Source archives (DISTDIR mirror layout). */
  distfiles: "distfiles/",
  /** Stage tarballs with their .DIGESTS and .CONTENTS files. */
  stages: "stages/",
  /** Certificate revocation lists, one per CA. */
  crl: "crl/",
  /** The package-signing public key (ASCII-armoured OpenPGP). */
  keys: "keys/",
  /**
   * What installed machines read besides packages, per build profile
   * (`client/<env>/<arch>/<stack>/`): the environment's current tree snapshot.
   */
  client: "client/",
} as const;

/** The file of a build profile's client directory that holds the environment's tree snapshot. */
export const CLIENT_TREE_SNAPSHOT = "tree-snapshot";

/** The binary package repository of a build profile: `<env>/<arch>/<stack>/`. */
export function binhostRepositoryPath(profile: BuildProfileRef): string {
  return `${profile.environment}/${profile.arch}/${profile.stack}/`;
}

/** `binhostRepositoryPath` under a base URL (`https://binhost.example.ch/production/amd64/web/`). */
export function binhostRepositoryUrl(baseUrl: string, profile: BuildProfileRef): string {
  return `${trimSlash(baseUrl)}/${binhostRepositoryPath(profile)}`;
}

/** A build profile's client directory: `client/<env>/<arch>/<stack>/`. */
export function binhostClientPath(profile: BuildProfileRef): string {
  return `${BINHOST_DIRECTORIES.client}${binhostRepositoryPath(profile)}`;
}

/** Where machines of a build profile fetch their environment's current tree snapshot. */
export function binhostTreeSnapshotUrl(baseUrl: string, profile: BuildProfileRef): string {
  return `${trimSlash(baseUrl)}/${binhostClientPath(profile)}${CLIENT_TREE_SNAPSHOT}`;
}

/** catalyst's output file name: `<target>-<subarch>-<version_stamp>.tar.<ext>`. */
export function stageFileName(stage: StageRef): string {
  return `${stage.target}-${stage.subarch}-${stage.versionStamp}.tar.${stage.compression ?? "xz"}`;
}

/** Where a stage lives on the binhost: `stages/<env>/<arch>/<file>`. */
export function stagePath(stage: StageRef): string {
  return `${BINHOST_DIRECTORIES.stages}${stage.environment}/${stage.arch}/${stageFileName(stage)}`;
}

/** `stagePath` under a base URL. Its digests are at the same URL plus `.DIGESTS`. */
export function stageUrl(baseUrl: string, stage: StageRef): string {
  return `${trimSlash(baseUrl)}/${stagePath(stage)}`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
