/**
 * The runner that makes a builder ephemeral per build: it runs the build script in a fresh
 * overlay of the builder's own root filesystem and throws the overlay away afterwards.
 *
 * How: in a private mount namespace (`unshare --mount`), an overlayfs whose lower layer is
 * the builder's `/` (its image as provisioned plus the pushed configuration) and whose upper
 * layer is an empty directory under `workDir`; the API filesystems (/proc, /sys, /dev, /run)
 * are mounted in, the persistent directories (repository clones, PKGDIR, distfiles) are
 * bind-mounted from the real root, and the script runs under `chroot`. Everything else the
 * build writes (installed packages, /etc changes, the imported GnuPG home) lands in the
 * upper layer and is deleted: the next build starts from the image again. Only util-linux
 * (unshare, mount) and coreutils (chroot) are needed, so it works on the Debian stand-in
 * image and on Gentoo alike.
 */
import { fillShellPlaceholders, shellScriptSource } from "../host/script-file";
import { throwIfViolations, type Violation, violation } from "../validation/violations";

/** Inputs of {@link renderEphemeralRunner}. */
export interface EphemeralRunnerArgs {
  /**
   * Directory on the builder holding the overlay's upper, work and merged directories;
   * emptied before and after each build. Keep it out of paths a build walks: the kernel
   * hides it inside the overlay (overlapping layers).
   * @default "/var/lib/gentoo-infra/ephemeral"
   */
  readonly workDir?: string;
  /**
   * Directories that survive builds: bind-mounted read-write from the real root into the
   * overlay (created when missing).
   */
  readonly persistentPaths: readonly string[];
}

/** Default of {@link EphemeralRunnerArgs.workDir}. */
export const DEFAULT_EPHEMERAL_WORK_DIR = "/var/lib/gentoo-infra/ephemeral";

const PATH = /^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/;
const API_FILESYSTEMS = ["/proc", "/sys", "/dev", "/run"];

/** Checks the arguments of {@link renderEphemeralRunner}. */
export function validateEphemeralRunnerArgs(args: EphemeralRunnerArgs): Violation[] {
  const out: Violation[] = [];
  const work = args.workDir ?? DEFAULT_EPHEMERAL_WORK_DIR;
  if (!PATH.test(work) || work.split("/").includes("..")) {
    out.push(
      violation(
        "workDir",
        args.workDir,
        "is not an absolute directory path",
        `use e.g. ${DEFAULT_EPHEMERAL_WORK_DIR}`,
      ),
    );
  }
  const inside = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);
  args.persistentPaths.forEach((p, i) => {
    if (!PATH.test(p) || p.split("/").includes("..")) {
      out.push(
        violation(
          `persistentPaths[${i}]`,
          p,
          "is not an absolute directory path",
          "use e.g. /var/cache/binpkgs",
        ),
      );
    } else if (inside(p, work) || inside(work, p)) {
      out.push(
        violation(
          `persistentPaths[${i}]`,
          p,
          `overlaps the work directory ${work}`,
          "keep persistent directories apart from workDir",
        ),
      );
    } else if (API_FILESYSTEMS.some((api) => inside(p, api))) {
      out.push(
        violation(
          `persistentPaths[${i}]`,
          p,
          "is under an API filesystem the runner mounts itself",
          "persist a directory under /var or /srv instead",
        ),
      );
    } else if (args.persistentPaths.indexOf(p) !== i) {
      out.push(violation(`persistentPaths[${i}]`, p, "is listed twice", "list it once"));
    }
  });
  return out;
}

const EPHEMERAL_RUN_SOURCE = shellScriptSource(__dirname, "ephemeral-run.sh");

/**
 * Renders the runner (lib/buildfarm/ephemeral-run.sh): `ephemeral-run <script>` runs
 * `<script>` (a path inside the builder's root) in a throwaway overlay root. Its exit status
 * is the script's. Throws a ValidationError naming every problem with `args`.
 */
export function renderEphemeralRunner(args: EphemeralRunnerArgs): string {
  throwIfViolations("ephemeral runner", validateEphemeralRunnerArgs(args));
  return fillShellPlaceholders(EPHEMERAL_RUN_SOURCE, {
    WORK_DIR: args.workDir ?? DEFAULT_EPHEMERAL_WORK_DIR,
    PERSISTENT_PATHS: args.persistentPaths,
  });
}
