/**
 * The bash script a builder's stage service runs (lib/buildfarm/stages.sh, filled in here):
 * make catalyst's squashfs snapshot of the Gentoo tree at the snapshot commit, build each spec
 * in order, upload the finished stage tarballs (with their .DIGESTS and .CONTENTS) to
 * `stages/<env>/<arch>/` on the binhost (the binhost's stage layout, `stagePath`), and report
 * the outcome.
 */
import { fillShellPlaceholders, shellScriptSource } from "../host/script-file";
import { GIT_COMMIT, USER_NAME } from "../validation/patterns";
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import type { UploadTarget } from "./build-script-args";

/** One catalyst build of a {@link StageScriptArgs}. */
export interface StageBuild {
  /** Path of the rendered spec on the builder. */
  readonly specPath: string;
  /**
   * Where to upload its tarball, `<env>/<arch>` under the binhost's `stages/`; absent for
   * intermediate stages (stage1, stage2).
   */
  readonly uploadTo?: string;
  /** Its output relative to `$storedir/builds/` without extension (`stageSourcePath`). */
  readonly output: string;
}

/** Inputs of {@link renderStageScript}. */
export interface StageScriptArgs {
  /** What is built, for messages (`production/amd64/web`). */
  readonly label: string;
  /** The Gentoo tree commit catalyst snapshots (`catalyst -s`). */
  readonly treeCommit: string;
  /** The builds, in order (a stage before those built on it). */
  readonly builds: readonly StageBuild[];
  /** Upload over rsync+SSH, as for the package build. */
  readonly upload: UploadTarget;
  /** URL that receives a JSON POST with the outcome. */
  readonly notifyUrl: string;
  /**
   * catalyst's storedir.
   * @default "/var/tmp/catalyst"
   */
  readonly storeDir?: string;
}

const PATH = /^\/[A-Za-z0-9._/-]+$/;
const OUTPUT = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const UPLOAD_TO = /^[a-z0-9][a-z0-9_.-]*\/[a-z0-9][a-z0-9_.-]*$/;

/** Checks the arguments of {@link renderStageScript}. */
export function validateStageScriptArgs(args: StageScriptArgs): Violation[] {
  const out: Violation[] = [];
  if (!GIT_COMMIT.test(args.treeCommit ?? "")) {
    out.push(
      violation("treeCommit", args.treeCommit, "is not a full commit hash", "give 40 hex digits"),
    );
  }
  if (args.builds.length === 0) {
    out.push(violation("builds", args.builds, "is empty", "give at least one spec"));
  }
  args.builds.forEach((b, i) => {
    if (!PATH.test(b.specPath))
      out.push(
        violation(
          `builds[${i}].specPath`,
          b.specPath,
          "is not an absolute path",
          "use e.g. /etc/gentoo-infra/catalyst/stage1.spec",
        ),
      );
    if (!OUTPUT.test(b.output) || b.output.split("/").includes(".."))
      out.push(
        violation(
          `builds[${i}].output`,
          b.output,
          "is not a relative path",
          "use stageSourcePath()",
        ),
      );
    if (b.uploadTo !== undefined && !UPLOAD_TO.test(b.uploadTo))
      out.push(
        violation(
          `builds[${i}].uploadTo`,
          b.uploadTo,
          "is not <environment>/<arch>",
          "use e.g. production/amd64",
        ),
      );
  });
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(args.upload.host ?? ""))
    out.push(
      violation(
        "upload.host",
        args.upload.host,
        "is not a host name",
        "use e.g. binhost.example.ch",
      ),
    );
  if (!USER_NAME.test(args.upload.user ?? ""))
    out.push(violation("upload.user", args.upload.user, "is not a user name", "use e.g. binhost"));
  for (const [field, value] of [
    ["upload.rootDir", args.upload.rootDir ?? "/srv/binhost"],
    ["upload.sshKeyPath", args.upload.sshKeyPath],
    ["upload.knownHostsPath", args.upload.knownHostsPath],
    ["storeDir", args.storeDir ?? "/var/tmp/catalyst"],
  ] as const) {
    if (value !== "/" && !PATH.test(value ?? ""))
      out.push(violation(field, value, "is not an absolute path", "use e.g. /var/tmp/catalyst"));
  }
  if (!/^https?:\/\/[A-Za-z0-9._~:/@%+?=&-]+$/.test(args.notifyUrl ?? ""))
    out.push(
      violation(
        "notifyUrl",
        args.notifyUrl,
        "is not an http(s) URL",
        "use e.g. https://hooks.example.ch/builds",
      ),
    );
  return out;
}

const STAGES_SOURCE = shellScriptSource(__dirname, "stages.sh");

/**
 * Renders the stage script (lib/buildfarm/stages.sh). Throws a ValidationError naming every
 * problem with `args`.
 */
export function renderStageScript(args: StageScriptArgs): string {
  throwIfViolations("stage script", validateStageScriptArgs(args));
  const root = (args.upload.rootDir ?? "/srv/binhost").replace(/\/+$/, "");
  return fillShellPlaceholders(STAGES_SOURCE, {
    LABEL: args.label,
    TREE_COMMIT: args.treeCommit,
    STORE_DIR: args.storeDir ?? "/var/tmp/catalyst",
    UPLOAD_BASE: `${args.upload.user}@${args.upload.host}:${root}/stages`,
    UPLOAD_KEY: args.upload.sshKeyPath,
    UPLOAD_KNOWN_HOSTS: args.upload.knownHostsPath,
    NOTIFY_URL: args.notifyUrl,
    SPECS: args.builds.map((b) => b.specPath),
    OUTPUTS: args.builds.map((b) => b.output),
    UPLOAD_TO: args.builds.map((b) => b.uploadTo ?? ""),
  });
}
