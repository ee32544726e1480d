/**
 * The bash script a builder's stage service runs: make catalyst's squashfs snapshot of the
 * Gentoo tree at the snapshot commit, build each spec in order, upload the finished stage
 * tarballs (with their .DIGESTS and .CONTENTS) to `stages/<env>/<arch>/` on the binhost
 * (the binhost's stage layout, `stagePath`), and report the outcome.
 */
import { shQuote } from "../host/shell";
import { GIT_COMMIT } from "../validation/patterns";
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
  if (!/^[a-z_][a-z0-9_-]*$/.test(args.upload.user ?? ""))
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

/** Renders the stage script. Throws a ValidationError naming every problem with `args`. */
export function renderStageScript(args: StageScriptArgs): string {
  throwIfViolations("stage script", validateStageScriptArgs(args));
  const q = shQuote;
  const root = (args.upload.rootDir ?? "/srv/binhost").replace(/\/+$/, "");
  const steps = args.builds.map((b) => {
    const name = b.output.split("/").pop() ?? b.output;
    const lines = [`step=${q(name)}`, `catalyst --file ${q(b.specPath)}`];
    if (b.uploadTo !== undefined) {
      lines.push(
        `rsync --archive --mkpath -e "$UPLOAD_SSH" "$STOREDIR/builds/"${q(b.output)}.tar.* "$UPLOAD_BASE/"${q(`${b.uploadTo}/`)}`,
      );
    }
    return lines.join("\n");
  });
  return `#!/bin/bash
# gentoo-infra stage build on ${args.label}. Rendered file: edits are overwritten.
# Tree snapshot ${args.treeCommit}.
set -euo pipefail

readonly LABEL=${q(args.label)}
readonly TREE_COMMIT=${q(args.treeCommit)}
readonly STOREDIR=${q(args.storeDir ?? "/var/tmp/catalyst")}
readonly UPLOAD_BASE=${q(`${args.upload.user}@${args.upload.host}:${root}/stages`)}
readonly UPLOAD_SSH=${q(`ssh -i ${args.upload.sshKeyPath} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${args.upload.knownHostsPath}`)}
readonly NOTIFY_URL=${q(args.notifyUrl)}
step=start

# Reports the outcome as JSON; a failing hook is logged, never fatal.
notify() {
  local status=$1 exit_code=$2 body
  body=$(printf '{"stageBuild":"%s","status":"%s","step":"%s","exitCode":%d,"treeCommit":"%s","host":"%s"}' \\
    "$LABEL" "$status" "$step" "$exit_code" "$TREE_COMMIT" "$(hostname)")
  curl --fail --silent --show-error --max-time 30 --retry 3 \\
    --header 'Content-Type: application/json' --data "$body" "$NOTIFY_URL" ||
    echo "gentoo-infra: could not notify $NOTIFY_URL" >&2
}

on_exit() {
  local rc=$?
  if [ "$rc" -eq 0 ]; then notify success 0; else notify failure "$rc"; fi
}
trap on_exit EXIT

step=snapshot
# catalyst makes a squashfs of the tree clone at exactly this commit.
catalyst --snapshot "$TREE_COMMIT"

${steps.join("\n\n")}

step=finished
`;
}
