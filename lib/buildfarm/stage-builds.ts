/**
 * The catalyst stage builds of a build farm: stage1 → stage2 → stage3 per (environment,
 * arch, system profile), run on one builder of that cell, and stage4 per environment, run
 * on the builder named in `stages.stage4`. Plans (which builder runs which specs, and the
 * specs' values) depend on plain arguments only: they are made and checked before anything
 * is created, so a value catalyst would misparse is an argument error. The tree commit a
 * spec pins is its builder's Stack's (`stack.treeSources`), known only as an Output: each
 * spec is pinned to it ({@link pinSpec}) and rendered when it resolves.
 */
import type * as pulumi from "@pulumi/pulumi";
import { type BuildProfileRef, buildProfileKey } from "../binhost/paths";
import type { PushedFile } from "../host/pushed-files";
import { ARCHES } from "../portage/arch";
import { isStack } from "../stack/model";
import { stackProfilePath } from "../stack/render";
import { ValidationError, type Violation, violation } from "../validation/violations";
import { BUILDER_PATHS, buildProfileSlug, CATALYST_STOREDIR } from "./builder-layout";
import {
  type CatalystSpec,
  pinSpec,
  renderCatalystSpec,
  stage4Spec,
  stageSourcePath,
  stageSpecs,
  validateCatalystSpecValues,
} from "./catalyst-spec";
import {
  type BuildFarmUpload,
  DEFAULT_UPLOAD_ROOT,
  farmOverlayName,
  type GentooBuildFarmArgs,
} from "./gentoo-build-farm-args";
import { renderStageScript, type StageBuild } from "./stage-script";
import { builderUnitStem, renderBuilderUnits } from "./systemd-units";

/** The stage builds one builder runs. */
export interface StagePlan {
  /** The build profile of the builder that runs them. */
  readonly host: BuildProfileRef;
  /** Its specs, in build order, not yet pinned to a tree commit ({@link pinSpec}). */
  readonly specs: readonly {
    readonly path: string;
    readonly spec: CatalystSpec;
    readonly comment: string;
  }[];
  /** The builds, in order. */
  readonly builds: readonly StageBuild[];
}

const STAMP = /^\d{8}T\d{6}Z$/;

/** The problems of a spec's values (what the farm's arguments put there), under `prefix`. */
function specViolations(spec: CatalystSpec, prefix: string): Violation[] {
  return validateCatalystSpecValues(spec).map((v) => ({
    ...v,
    argument: `${prefix}.${v.argument}`,
  }));
}

/**
 * Plans the stage builds: which builder runs which specs. Returns the plans keyed by the
 * host builder's label, and every violation (seed missing for an arch, a stage4 that names
 * no builder, a spec catalyst would reject). Expects builders already validated.
 */
function planStages(
  args: GentooBuildFarmArgs,
  overlayName: string,
): { plans: Map<string, StagePlan>; violations: Violation[] } {
  const plans = new Map<string, StagePlan>();
  const stages = args.stages;
  if (stages === undefined) return { plans, violations: [] };
  const out: Violation[] = [];
  if (!STAMP.test(stages.buildStamp ?? "")) {
    out.push(
      violation(
        "stages.buildStamp",
        stages.buildStamp,
        "is not a UTC build stamp",
        "use YYYYMMDDTHHMMSSZ, e.g. 20261122T030000Z",
      ),
    );
  }
  const add = (host: BuildProfileRef, specs: StagePlan["specs"], builds: StageBuild[]) => {
    const label = buildProfileKey(host);
    const plan = plans.get(label);
    plans.set(label, {
      host,
      specs: [...(plan?.specs ?? []), ...specs],
      builds: [...(plan?.builds ?? []), ...builds],
    });
  };
  // stage1-3: one builder per (environment, arch, system profile), the first by label.
  const cells = new Map<string, BuildProfileRef & { systemProfile: string }>();
  for (const b of [...args.builders].sort((x, y) =>
    x.stack.resolved.name.localeCompare(y.stack.resolved.name),
  )) {
    const key = `${b.environment}/${b.arch}/${b.stack.resolved.systemProfile}`;
    if (!cells.has(key)) {
      cells.set(key, {
        environment: b.environment,
        arch: b.arch,
        stack: b.stack.resolved.name,
        systemProfile: b.stack.resolved.systemProfile,
      });
    }
  }
  const repos = [`/var/db/repos/${overlayName}`];
  for (const [key, cell] of [...cells].sort(([a], [b]) => a.localeCompare(b))) {
    const arch = ARCHES[cell.arch as keyof typeof ARCHES];
    const seed = stages.seeds?.[cell.arch as keyof typeof ARCHES];
    if (typeof seed !== "string") {
      out.push(
        violation(
          `stages.seeds.${cell.arch}`,
          seed,
          "is missing",
          `give the seed stage3 for ${cell.arch}, relative to ${CATALYST_STOREDIR}/builds/`,
        ),
      );
      continue;
    }
    const specs = stageSpecs({
      environment: cell.environment,
      subarch: arch.catalystSubarch,
      chost: arch.chost,
      systemProfile: cell.systemProfile,
      profile: `${overlayName}:system/${cell.systemProfile}/${cell.arch}`,
      buildStamp: stages.buildStamp,
      seed,
      repos,
    });
    const targets = ["stage1", "stage2", "stage3"] as const;
    const problems = targets.flatMap((t) => specViolations(specs[t], "stages"));
    if (problems.length > 0) {
      out.push(...problems);
      continue;
    }
    const dir = `${BUILDER_PATHS.catalystSpecs}/${cell.environment}-${cell.arch}-${cell.systemProfile}`;
    const stamp = `${cell.systemProfile}-${stages.buildStamp}`;
    add(
      cell,
      targets.map((t) => ({
        path: `${dir}/${t}.spec`,
        spec: specs[t],
        comment: `gentoo-infra: ${t} of ${key}. Rendered file.`,
      })),
      targets.map((t) => ({
        specPath: `${dir}/${t}.spec`,
        output: stageSourcePath(cell.environment, t, arch.catalystSubarch, stamp),
        ...(t === "stage3" ? { uploadTo: `${cell.environment}/${cell.arch}` } : {}),
      })),
    );
  }
  // stage4: one per environment, on the named builder.
  for (const [environment, want] of Object.entries(stages.stage4 ?? {})) {
    const b = args.builders.find(
      (x) =>
        x.environment === environment &&
        x.arch === want?.arch &&
        x.stack.resolved.name === want?.stack,
    );
    if (b === undefined || want === undefined) {
      out.push(
        violation(
          `stages.stage4.${environment}`,
          want,
          "names no builder of this farm",
          "give the stack name and arch of one of the environment's builders",
        ),
      );
      continue;
    }
    const arch = ARCHES[b.arch];
    const stack = b.stack.resolved;
    const spec = stage4Spec({
      environment,
      subarch: arch.catalystSubarch,
      profile: `${overlayName}:${stackProfilePath(stack.name, b.arch)}`,
      buildStamp: stages.buildStamp,
      name: stack.name,
      source: stageSourcePath(
        environment,
        "stage3",
        arch.catalystSubarch,
        `${stack.systemProfile}-${stages.buildStamp}`,
      ),
      packages: stack.packages,
      repos,
    });
    const problems = specViolations(spec, `stages.stage4.${environment}`);
    if (problems.length > 0) {
      out.push(...problems);
      continue;
    }
    const host = { environment, arch: b.arch, stack: stack.name };
    const path = `${BUILDER_PATHS.catalystSpecs}/${environment}-stage4/stage4.spec`;
    add(
      host,
      [{ path, spec, comment: `gentoo-infra: stage4 of ${environment}. Rendered file.` }],
      [
        {
          specPath: path,
          output: stageSourcePath(
            environment,
            "stage4",
            arch.catalystSubarch,
            `${stack.name}-${stages.buildStamp}`,
          ),
          uploadTo: `${environment}/${b.arch}`,
        },
      ],
    );
  }
  return { plans, violations: out };
}

/**
 * The stage violations of a farm's arguments (see {@link planStages}), judged on the
 * builders that are themselves valid enough to plan (a Stack with that build profile and a
 * snapshot of its environment), so that stage problems are reported with builder problems.
 */
export function validateStages(args: GentooBuildFarmArgs): Violation[] {
  if (args.stages === undefined) return [];
  const builders = (Array.isArray(args.builders) ? args.builders : []).filter(
    (b) =>
      isStack(b.stack) &&
      Object.hasOwn(
        b.stack.buildProfiles,
        buildProfileKey({ environment: b.environment, arch: b.arch, stack: b.stack.resolved.name }),
      ) &&
      b.stack.treeSources?.[b.environment] !== undefined,
  );
  return planStages({ ...args, builders }, farmOverlayName(args)).violations;
}

/** Path of the stage script of a builder. */
function stageScriptPath(host: BuildProfileRef): string {
  return `${BUILDER_PATHS.libexec}/stages-${buildProfileSlug(host)}`;
}

/**
 * The files of each stage-building builder (specs, stage script, service) and the command
 * that starts the stage build after they change, keyed by the builder's label. `commits`:
 * each builder's tree commit (its Stack's for its environment), by the builder's label.
 */
export function stageBuildFiles(
  args: GentooBuildFarmArgs,
  overlayName: string,
  upload: pulumi.Output<Pick<BuildFarmUpload, "host" | "user">>,
  notifyUrl: pulumi.Output<string>,
  commits: pulumi.Output<Readonly<Record<string, string>>>,
): Map<string, { files: PushedFile[]; afterChange: string }> {
  const result = new Map<string, { files: PushedFile[]; afterChange: string }>();
  // The plan depends on plain arguments only, checked before anything was created
  // (validateStages); the commits pin its specs when they are known.
  const { plans, violations } = planStages(args, overlayName);
  if (violations.length > 0) throw new ValidationError("GentooBuildFarm stage builds", violations);
  for (const [label, plan] of plans) {
    const treeCommit = commits.apply((byLabel) => {
      const commit = byLabel[label];
      if (commit === undefined) throw new Error(`no tree commit for ${label}`);
      return commit;
    });
    const scriptPath = stageScriptPath(plan.host);
    const units = renderBuilderUnits({
      buildProfile: plan.host,
      kind: "stages",
      scriptPath,
      runnerPath: BUILDER_PATHS.runner,
      schedule: args.schedule,
      timeoutHours: 48,
    });
    const script = upload.apply((u) =>
      notifyUrl.apply((url) =>
        treeCommit.apply((commit) =>
          renderStageScript({
            label,
            treeCommit: commit,
            builds: plan.builds,
            upload: {
              host: u.host,
              user: u.user,
              rootDir: args.binhost.rootDir ?? DEFAULT_UPLOAD_ROOT,
              sshKeyPath: BUILDER_PATHS.uploadKey,
              knownHostsPath: BUILDER_PATHS.knownHosts,
            },
            notifyUrl: url,
            storeDir: CATALYST_STOREDIR,
          }),
        ),
      ),
    );
    result.set(label, {
      files: [
        ...plan.specs.map((s) => ({
          path: s.path,
          content: treeCommit.apply((commit) =>
            renderCatalystSpec(pinSpec(s.spec, commit), s.comment),
          ),
        })),
        { path: scriptPath, content: script, mode: "0755" },
        { path: `${BUILDER_PATHS.systemdUnits}/${units.serviceName}`, content: units.service },
      ],
      afterChange: `systemctl daemon-reload && systemctl start --no-block ${builderUnitStem(plan.host, "stages")}.service`,
    });
  }
  return result;
}
