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
import { shQuote } from "../host/shell";
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

/**
 * Renders the runner: `ephemeral-run <script>` runs `<script>` (a path inside the builder's
 * root) in a throwaway overlay root. Its exit status is the script's. Throws a
 * ValidationError naming every problem with `args`.
 */
export function renderEphemeralRunner(args: EphemeralRunnerArgs): string {
  throwIfViolations("ephemeral runner", validateEphemeralRunnerArgs(args));
  const q = shQuote;
  const work = args.workDir ?? DEFAULT_EPHEMERAL_WORK_DIR;
  return `#!/bin/bash
# gentoo-infra: runs a build in a throwaway overlay of this machine's root filesystem.
# Rendered file: edits are overwritten. Usage: ephemeral-run <script inside the root>
set -euo pipefail

readonly WORK=${q(work)}
readonly PERSISTENT=(${args.persistentPaths.map(q).join(" ")})

if [ "$#" -ne 1 ]; then
  echo "usage: $0 <script>" >&2
  exit 2
fi
readonly SCRIPT=$1

# Mounts made below live in a private mount namespace: they vanish with this process,
# even when it is killed.
if [ -z "\${GENTOO_INFRA_EPHEMERAL:-}" ]; then
  exec unshare --mount --propagation private env GENTOO_INFRA_EPHEMERAL=1 "$0" "$@"
fi

# One build at a time on this machine (package and stage builds share the clones).
exec 9>/run/gentoo-infra-build.lock
flock 9

readonly ROOT="$WORK/root"
cleanup() {
  umount --recursive --lazy "$ROOT" 2>/dev/null || true
  rm -rf --one-file-system "$WORK/upper" "$WORK/work"
}
trap cleanup EXIT

cleanup
mkdir -p "$WORK/upper" "$WORK/work" "$ROOT"
# Lower layer: the root filesystem as provisioned (without its submounts); upper layer: empty.
mount -t overlay gentoo-infra-build -o "lowerdir=/,upperdir=$WORK/upper,workdir=$WORK/work" "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mount --rbind /run "$ROOT/run"
for dir in "\${PERSISTENT[@]}"; do
  mkdir -p "$dir" "$ROOT$dir"
  mount --bind "$dir" "$ROOT$dir"
done

# Not exec: the EXIT trap must run to delete the upper layer.
status=0
chroot "$ROOT" "$SCRIPT" || status=$?
exit "$status"
`;
}
