/**
 * The bash script a builder's systemd service runs for one build profile: pin the Gentoo
 * tree and the overlay to the environment's snapshot commits, update @world into signed
 * gpkg binary packages, rebuild what needs rebuilding, verify, prune, reindex, upload to the
 * binhost and report the outcome. The script is lib/buildfarm/build.sh (with its functions in
 * ./build-functions.sh and the prune in ./prune-packages.py), filled in here; its arguments
 * and their validation are in ./build-script-args, the outcome it records in
 * ./build-script-steps.
 *
 * Portage configuration (make.conf with FEATURES="buildpkg binpkg-signing", the signing
 * key, repos.conf) comes from the Stack renderer; the script checks it rather than setting
 * it. python-updater is not run: it left the Gentoo tree years ago (python-r1 era); a
 * PYTHON_TARGETS change is picked up by `--newuse` in the world update.
 */
import { binhostRepositoryPath } from "../binhost/paths";
import { fillShellPlaceholders, scriptSource, shellScriptSource } from "../host/script-file";
import { throwIfViolations } from "../validation/violations";
import {
  type BuildRepository,
  type BuildScriptArgs,
  validateBuildScriptArgs,
} from "./build-script-args";
import { BUILD_PHASES, DEFAULT_BUILD_STATUS_DIR, VERIFY_GPG_HOME } from "./build-script-steps";

const BUILD_SOURCE = shellScriptSource(__dirname, "build.sh");
const PRUNE_PROGRAM = scriptSource(__dirname, "prune-packages.py");

/** Renders the build script. Throws a ValidationError naming every problem with `args`. */
export function renderBuildScript(args: BuildScriptArgs): string {
  throwIfViolations("build script", validateBuildScriptArgs(args));
  const profile = binhostRepositoryPath(args.buildProfile).slice(0, -1);
  const root = (args.upload.rootDir ?? "/srv/binhost").replace(/\/+$/, "");
  const location = (r: BuildRepository) => r.location ?? `/var/db/repos/${r.name}`;
  const key = args.signingKey;
  const bases = args.baseRepositories ?? [];
  return fillShellPlaceholders(BUILD_SOURCE, {
    BUILD_PROFILE: profile,
    TREE_NAME: args.tree.name,
    TREE_URL: args.tree.url,
    TREE_COMMIT: args.tree.commit,
    TREE_DIR: location(args.tree),
    OVERLAY_NAME: args.overlay.name,
    OVERLAY_URL: args.overlay.url,
    OVERLAY_COMMIT: args.overlay.commit,
    OVERLAY_DIR: location(args.overlay),
    PKGDIR: args.pkgdir ?? "/var/cache/binpkgs",
    UPLOAD_TARGET: `${args.upload.user}@${args.upload.host}:${root}/${profile}/`,
    UPLOAD_KEY: args.upload.sshKeyPath,
    UPLOAD_KNOWN_HOSTS: args.upload.knownHostsPath,
    NOTIFY_URL: args.notifyUrl,
    RETENTION_DAYS: String(args.retentionDays),
    STATUS_DIR: args.statusDir ?? DEFAULT_BUILD_STATUS_DIR,
    STATUS_NAME: profile.replaceAll("/", "-"),
    SERVICE_NAME: args.serviceName ?? "",
    BUILD_PHASES: BUILD_PHASES,
    VERIFY_GPG_HOME,
    KERNEL_PACKAGES: args.kernelPackages ?? [],
    SIGNING_KEY: key?.keyPath ?? "",
    SIGNING_GPG_HOME: key ? (key.gpgHome ?? "/root/.gnupg") : "",
    ROOT_CERTIFICATE: args.rootCertificatePath ?? "",
    HOSTS_LINES: (args.hosts ?? []).map((h) => `${h.address} ${h.hostname}`),
    REPOSITORY_URL: args.repositoryUrl ?? "",
    BASE_REPOSITORIES: bases,
    BASE_WAIT_SECONDS: String((args.baseWaitMinutes ?? 60) * 60),
    PRUNE_PROGRAM,
  });
}
