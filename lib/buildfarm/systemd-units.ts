/**
 * systemd units of a builder: a oneshot service running the rendered build script, a timer
 * starting it on a schedule, and a path unit starting it on request: the component's
 * after-change command creates the request file ({@link buildRequestFile}) so that a new
 * snapshot is built at once, or, when a build runs, right after it.
 */
import { type BuildProfileRef, validateBuildProfileRef } from "../binhost/paths";
import { CALENDAR_FIX, isCalendarExpression } from "../validation/calendar";
import { throwIfViolations, type Violation, violation } from "../validation/violations";

/** Inputs of {@link renderBuilderUnits}. */
export interface BuilderUnitsArgs {
  /** The build profile built. */
  readonly buildProfile: BuildProfileRef;
  /** Absolute path of the rendered build script on the builder. */
  readonly scriptPath: string;
  /**
   * What the service builds: binary packages, or catalyst stages (unit stem
   * `gentoo-infra-stages-…`; its timer is not meant to be installed).
   * @default "packages"
   */
  readonly kind?: "packages" | "stages";
  /**
   * A runner the service starts with the script's path as its one argument (e.g. the
   * ephemeral-root runner of ./ephemeral-run), instead of the script itself.
   * @default none: ExecStart is the script
   */
  readonly runnerPath?: string;
  /** systemd calendar expression (`*-*-* 03:00:00`); check with `systemd-analyze calendar`. */
  readonly schedule: string;
  /**
   * Random delay added to each start, spreading builders that share a hypervisor.
   * @default 30
   */
  readonly randomDelayMinutes?: number;
  /**
   * A build running longer than this is stopped and reported as failed.
   * @default 24
   */
  readonly timeoutHours?: number;
}

/** The service, timer and path unit, with the unit names they must be installed under. */
export interface BuilderUnits {
  readonly serviceName: string;
  readonly service: string;
  readonly timerName: string;
  readonly timer: string;
  /** The path unit that starts the service while the request file exists. */
  readonly requestPathName: string;
  readonly requestPath: string;
}

const PATH = /^\/[A-Za-z0-9._/-]+$/;

/**
 * The file that asks for a build: the after-change command creates it, the service removes it
 * as it starts, and the path unit (`PathExists=`) starts the service while it exists. A path
 * unit is level-triggered: when its file appears during a build (a scheduled one), starting the
 * running service does nothing, but systemd checks the path again when the build ends and
 * starts the service once more. (A `systemctl start` of a running oneshot service, from the
 * command or from the service's own `ExecStopPost`, joins the running start job and is lost.)
 */
export function buildRequestFile(stem: string): string {
  return `/var/lib/gentoo-infra/${stem}.requested`;
}

/** The unit name stem of a build profile: `gentoo-infra-build-production-amd64-web`. */
export function builderUnitStem(
  profile: BuildProfileRef,
  kind: "packages" | "stages" = "packages",
): string {
  const what = kind === "stages" ? "stages" : "build";
  return `gentoo-infra-${what}-${profile.environment}-${profile.arch}-${profile.stack}`;
}

/** The problems of a build schedule: a systemd calendar expression (OnCalendar=). */
export function scheduleViolations(schedule: unknown): Violation[] {
  return isCalendarExpression(schedule)
    ? []
    : [violation("schedule", schedule, "is not a systemd calendar expression", CALENDAR_FIX)];
}

/** Checks the arguments of {@link renderBuilderUnits}. */
export function validateBuilderUnitsArgs(args: BuilderUnitsArgs): Violation[] {
  const out: Violation[] = [];
  out.push(...validateBuildProfileRef(args.buildProfile));
  if (!PATH.test(args.scriptPath ?? "")) {
    out.push(
      violation(
        "scriptPath",
        args.scriptPath,
        "is not an absolute path",
        "use e.g. /usr/local/libexec/gentoo-infra/build",
      ),
    );
  }
  if (args.runnerPath !== undefined && !PATH.test(args.runnerPath)) {
    out.push(
      violation(
        "runnerPath",
        args.runnerPath,
        "is not an absolute path",
        "use e.g. /usr/local/libexec/gentoo-infra/ephemeral-run",
      ),
    );
  }
  out.push(...scheduleViolations(args.schedule));
  for (const [field, value] of [
    ["randomDelayMinutes", args.randomDelayMinutes],
    ["timeoutHours", args.timeoutHours],
  ] as const) {
    if (
      value !== undefined &&
      (!Number.isInteger(value) || value < (field === "timeoutHours" ? 1 : 0))
    ) {
      out.push(
        violation(
          field,
          value,
          "is not a whole number in range",
          field === "timeoutHours" ? "use 1 or more" : "use 0 or more",
        ),
      );
    }
  }
  return out;
}

/** Renders the service and timer. Throws a ValidationError naming every problem. */
export function renderBuilderUnits(args: BuilderUnitsArgs): BuilderUnits {
  throwIfViolations("builder units", validateBuilderUnitsArgs(args));
  const stem = builderUnitStem(args.buildProfile, args.kind);
  const profile = `${args.buildProfile.environment}/${args.buildProfile.arch}/${args.buildProfile.stack}`;
  const what = args.kind === "stages" ? "stage build on" : "build of";
  const service = [
    "[Unit]",
    `Description=gentoo-infra ${what} ${profile}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    // The request this run answers (the path unit would start it again otherwise). Stage
    // builds are started by hand and have no request file.
    ...(args.kind === "stages" ? [] : [`ExecStartPre=/bin/rm -f ${buildRequestFile(stem)}`]),
    `ExecStart=${args.runnerPath ? `${args.runnerPath} ${args.scriptPath}` : args.scriptPath}`,
    `TimeoutStartSec=${args.timeoutHours ?? 24}h`,
    "Nice=10",
    "IOSchedulingClass=idle",
    "",
  ].join("\n");
  const timer = [
    "[Unit]",
    `Description=Schedule of the gentoo-infra ${what} ${profile}`,
    "",
    "[Timer]",
    `OnCalendar=${args.schedule}`,
    "Persistent=true",
    `RandomizedDelaySec=${args.randomDelayMinutes ?? 30}min`,
    `Unit=${stem}.service`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
  const requestPath = [
    "[Unit]",
    `Description=Requests for the gentoo-infra ${what} ${profile}`,
    "",
    "[Path]",
    // Checked again whenever the service stops: a request made during a build starts the next.
    `PathExists=${buildRequestFile(stem)}`,
    `Unit=${stem}.service`,
    "",
    "[Install]",
    "WantedBy=paths.target",
    "",
  ].join("\n");
  return {
    serviceName: `${stem}.service`,
    service,
    timerName: `${stem}.timer`,
    timer,
    requestPathName: `${stem}.path`,
    requestPath,
  };
}
