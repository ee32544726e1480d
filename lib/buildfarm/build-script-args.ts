/** The arguments of a builder's build script (./build-script) and their validation. Pure. */
import { type BuildProfileRef, validateBuildProfileRef } from "../binhost/paths";
import { GIT_COMMIT, HTTP_URL, isWholeNumber, matches, USER_NAME } from "../validation/patterns";
import { type Violation, violation } from "../validation/violations";
import { DEFAULT_BUILD_STATUS_DIR } from "./build-script-steps";

/** A git repository pinned to a commit. */
export interface BuildRepository {
  /** Repository name as in repos.conf (`gentoo`, `infra`). */
  readonly name: string;
  /** Clone URL. */
  readonly url: string;
  /** The snapshot commit (40 hex digits). */
  readonly commit: string;
  /**
   * Location on the builder.
   * @default `/var/db/repos/<name>`
   */
  readonly location?: string;
}

/** Inputs of {@link renderBuildScript}. */
export interface BuildScriptArgs {
  /** The build profile this builder serves. */
  readonly buildProfile: BuildProfileRef;
  /** The Gentoo tree at the environment's snapshot commit. */
  readonly tree: BuildRepository;
  /** The overlay at the environment's snapshot commit. */
  readonly overlay: BuildRepository;
  /** Upload target: rsync over SSH into `<rootDir>/<env>/<arch>/<stack>/` on `host`. */
  readonly upload: UploadTarget;
  /** URL that receives a JSON POST with the outcome. */
  readonly notifyUrl: string;
  /** Binary packages older than this many days that no installed package needs are pruned. */
  readonly retentionDays: number;
  /**
   * PKGDIR of the builder.
   * @default "/var/cache/binpkgs"
   */
  readonly pkgdir?: string;
  /**
   * Kernel packages built into binary packages with @world (e.g. the distribution kernel
   * `sys-kernel/gentoo-kernel`), merged with `--oneshot` so they do not enter the world file.
   * @default none: only what @world pulls in
   */
  readonly kernelPackages?: readonly string[];
  /**
   * The armored OpenPGP private key that signs binary packages, as a file on the builder:
   * imported into `gpgHome` before the build (into the build's throwaway root when the
   * builder is ephemeral).
   * @default none: the key must already be in make.conf's BINPKG_GPG_SIGNING_GPG_HOME
   */
  readonly signingKey?: {
    /** Path of the armored private key file (mode 0600). */
    readonly keyPath: string;
    /**
     * GnuPG home the key is imported into; make.conf's BINPKG_GPG_SIGNING_GPG_HOME.
     * @default "/root/.gnupg"
     */
    readonly gpgHome?: string;
  };
  /**
   * The site's root CA certificate as a file on the builder: added to the CA bundle of the
   * build's throwaway root, so git, wget and Portage trust the binhost's HTTPS.
   * @default none: the builder's own CA store must trust the binhost
   */
  readonly rootCertificatePath?: string;
  /**
   * Names pinned to addresses in the throwaway root's /etc/hosts (the binhost's name when the
   * builders have no DNS for it).
   * @default none
   */
  readonly hosts?: readonly { readonly address: string; readonly hostname: string }[];
  /**
   * Repository URLs (`<binhost>/<env>/<arch>/<base stack>/`) of the base Stacks' build
   * profiles: the build waits until each serves a `Packages` index, so that an application
   * Stack installs its base's packages from the binhost instead of building (and storing)
   * them itself.
   * @default none
   */
  readonly baseRepositories?: readonly string[];
  /**
   * How long to wait for the base repositories before failing.
   * @default 60
   */
  readonly baseWaitMinutes?: number;
  /**
   * Where this build profile's repository is served (`<binhost>/<env>/<arch>/<stack>/`): a
   * build publishes nothing only when the served index already lists exactly the packages in
   * PKGDIR, so a binhost that lost its files (a replaced VM) gets them again.
   * @default none: compare with the list of the last publish kept on the builder
   */
  readonly repositoryUrl?: string;
  /**
   * Persistent directory for the outcome record and the list of what was last published.
   * @default {@link DEFAULT_BUILD_STATUS_DIR}
   */
  readonly statusDir?: string;
  /**
   * The systemd service that runs the script: named in the outcome's `log` field.
   * @default none: the log field says "the build's standard output"
   */
  readonly serviceName?: string;
}

const COMMIT = GIT_COMMIT;
const REPO_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const SAFE_URL = /^(https|ssh|git):\/\/[A-Za-z0-9._~:/@%+-]+$/;

/** Whether builders can clone from `url`: an https, ssh or git URL of safe characters. */
export function isCloneUrl(url: unknown): boolean {
  return typeof url === "string" && SAFE_URL.test(url);
}
const NOTIFY_URL = HTTP_URL;
const PATH = /^\/[A-Za-z0-9._/-]+$/;
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const REPOSITORY_URL = /^https?:\/\/[A-Za-z0-9._~:/@%+-]+\/$/;
const PACKAGE = /^[a-z0-9][a-z0-9+_.-]*\/[A-Za-z0-9+_][A-Za-z0-9+_.-]*$/;

/** Whether `value` is a `category/package` name (no version, no operator). */
export function isPackageName(value: unknown): value is string {
  return typeof value === "string" && PACKAGE.test(value);
}

/** Where a builder uploads: rsync over SSH to the binhost's upload account. */
export interface UploadTarget {
  readonly host: string;
  readonly user: string;
  /**
   * Binhost document root. Give "/" when the upload account is confined to the document
   * root by rrsync (as BinhostMirror's is): paths are then relative to it.
   * @default "/srv/binhost"
   */
  readonly rootDir?: string;
  readonly sshKeyPath: string;
  /** known_hosts file holding the binhost's host key (strict checking). */
  readonly knownHostsPath: string;
}

/**
 * The checks of the build script's settings that a build farm takes from its own plain
 * arguments, each under the script argument it checks (`upload.host`, …): the farm runs
 * them on what it is given before anything is created, {@link validateBuildScriptArgs} on
 * what the script is rendered with.
 */
export const BUILD_SCRIPT_SETTING_CHECKS = {
  uploadHost: (value: unknown): Violation[] =>
    matches(HOST, value)
      ? []
      : [violation("upload.host", value, "is not a host name", "use e.g. binhost.example.ch")],
  uploadUser: (value: unknown): Violation[] =>
    matches(USER_NAME, value)
      ? []
      : [violation("upload.user", value, "is not a user name", "use e.g. binhost")],
  /** The binhost's root directory; undefined (the default) and "/" are allowed. */
  uploadRootDir: (value: unknown): Violation[] =>
    value === undefined || value === "/" || matches(PATH, value)
      ? []
      : [
          violation(
            "upload.rootDir",
            value,
            "is not an absolute path",
            "use the binhost's root directory, e.g. /srv/binhost",
          ),
        ],
  notifyUrl: (value: unknown): Violation[] =>
    matches(NOTIFY_URL, value)
      ? []
      : [
          violation(
            "notifyUrl",
            value,
            "is not an http(s) URL",
            "use e.g. https://hooks.example.ch/builds",
          ),
        ],
  retentionDays: (value: unknown): Violation[] =>
    isWholeNumber(value, 1, 3650)
      ? []
      : [
          violation(
            "retentionDays",
            value,
            "is not a whole number of days from 1 to 3650",
            "use e.g. 30",
          ),
        ],
  kernelPackages: (value: unknown): Violation[] =>
    Array.isArray(value)
      ? value.flatMap((p, i) =>
          isPackageName(p)
            ? []
            : [
                violation(
                  `kernelPackages[${i}]`,
                  p,
                  "is not a category/package name",
                  "use e.g. sys-kernel/gentoo-kernel",
                ),
              ],
        )
      : [
          violation(
            "kernelPackages",
            value,
            "is not a list",
            'list category/package names, e.g. ["sys-kernel/gentoo-kernel"]',
          ),
        ],
};

/** Checks the arguments of {@link renderBuildScript}. */
export function validateBuildScriptArgs(args: BuildScriptArgs): Violation[] {
  const out: Violation[] = [];
  out.push(...validateBuildProfileRef(args.buildProfile));
  for (const which of ["tree", "overlay"] as const) {
    const r = args[which];
    if (!REPO_NAME.test(r.name ?? ""))
      out.push(
        violation(
          `${which}.name`,
          r.name,
          "is not a repository name",
          "use the name from the repository's profiles/repo_name",
        ),
      );
    if (!SAFE_URL.test(r.url ?? ""))
      out.push(
        violation(
          `${which}.url`,
          r.url,
          "is not an https, ssh or git URL",
          "use e.g. https://git.example.ch/gentoo.git",
        ),
      );
    if (!COMMIT.test(r.commit ?? ""))
      out.push(
        violation(
          `${which}.commit`,
          r.commit,
          "is not a full commit hash",
          "give the 40 hex digits of the snapshot commit",
        ),
      );
    if (r.location !== undefined && !PATH.test(r.location))
      out.push(
        violation(
          `${which}.location`,
          r.location,
          "is not an absolute path",
          "use e.g. /var/db/repos/gentoo",
        ),
      );
  }
  if (args.tree.name === args.overlay.name) {
    out.push(
      violation(
        "overlay.name",
        args.overlay.name,
        "is the tree's name too",
        "give the overlay its own repository name",
      ),
    );
  }
  const u = args.upload;
  const checks = BUILD_SCRIPT_SETTING_CHECKS;
  out.push(...checks.uploadHost(u.host), ...checks.uploadUser(u.user));
  out.push(...checks.uploadRootDir(u.rootDir));
  for (const field of ["sshKeyPath", "knownHostsPath"] as const) {
    const value = u[field];
    if (!PATH.test(value ?? "")) {
      out.push(
        violation(
          `upload.${field}`,
          value,
          "is not an absolute path",
          "use e.g. /etc/gentoo-infra/upload_key",
        ),
      );
    }
  }
  out.push(...checks.notifyUrl(args.notifyUrl), ...checks.retentionDays(args.retentionDays));
  if (args.pkgdir !== undefined && !PATH.test(args.pkgdir))
    out.push(
      violation("pkgdir", args.pkgdir, "is not an absolute path", "use e.g. /var/cache/binpkgs"),
    );
  if (args.kernelPackages !== undefined) out.push(...checks.kernelPackages(args.kernelPackages));
  const key = args.signingKey;
  if (key !== undefined) {
    for (const field of ["keyPath", "gpgHome"] as const) {
      const value = key[field];
      if ((field === "keyPath" || value !== undefined) && !PATH.test(value ?? "")) {
        out.push(
          violation(
            `signingKey.${field}`,
            value,
            "is not an absolute path",
            "use e.g. /etc/gentoo-infra/package-signing-key.asc",
          ),
        );
      }
    }
  }
  if (args.rootCertificatePath !== undefined && !PATH.test(args.rootCertificatePath)) {
    out.push(
      violation(
        "rootCertificatePath",
        args.rootCertificatePath,
        "is not an absolute path",
        "use e.g. /etc/gentoo-infra/root-ca.pem",
      ),
    );
  }
  (args.hosts ?? []).forEach((h, i) => {
    if (!IPV4.test(h.address ?? ""))
      out.push(
        violation(
          `hosts[${i}].address`,
          h.address,
          "is not an IPv4 address",
          "use e.g. 192.168.150.10",
        ),
      );
    if (!HOST.test(h.hostname ?? ""))
      out.push(
        violation(
          `hosts[${i}].hostname`,
          h.hostname,
          "is not a host name",
          "use e.g. binhost.example.ch",
        ),
      );
  });
  (args.baseRepositories ?? []).forEach((url, i) => {
    if (!REPOSITORY_URL.test(url ?? ""))
      out.push(
        violation(
          `baseRepositories[${i}]`,
          url,
          "is not an http(s) URL ending in /",
          "use e.g. https://binhost.example.ch/production/amd64/linux/",
        ),
      );
  });
  if (
    args.baseWaitMinutes !== undefined &&
    (!Number.isInteger(args.baseWaitMinutes) || args.baseWaitMinutes < 1)
  ) {
    out.push(
      violation(
        "baseWaitMinutes",
        args.baseWaitMinutes,
        "is not a positive whole number of minutes",
        "use e.g. 60",
      ),
    );
  }
  if (args.repositoryUrl !== undefined && !REPOSITORY_URL.test(args.repositoryUrl))
    out.push(
      violation(
        "repositoryUrl",
        args.repositoryUrl,
        "is not an http(s) URL ending in /",
        "use e.g. https://binhost.example.ch/production/amd64/web/",
      ),
    );
  if (args.statusDir !== undefined && !PATH.test(args.statusDir))
    out.push(
      violation(
        "statusDir",
        args.statusDir,
        "is not an absolute path",
        `use e.g. ${DEFAULT_BUILD_STATUS_DIR}`,
      ),
    );
  if (args.serviceName !== undefined && !/^[A-Za-z0-9@._-]+\.service$/.test(args.serviceName))
    out.push(
      violation(
        "serviceName",
        args.serviceName,
        "is not a systemd service name",
        "use e.g. gentoo-infra-build-production-amd64-web.service",
      ),
    );
  return out;
}
