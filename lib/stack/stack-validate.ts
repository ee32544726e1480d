/** Validation of {@link StackArgs}: every problem that can be known before anything is created. */
import { ARCH_FIX, isArchName } from "../portage/arch";
import { isRepositoryName } from "../portage/syntax";
import { ENVIRONMENT_FIX, isEnvironment } from "../snapshot/environments";
import { isLateBound, type Violation, violation } from "../validation/violations";
import {
  BUILD_PROFILE_SETTING_CHECKS,
  type BuildProfileSettingChecks,
  treeSnapshotCommitViolations,
} from "./render";
import { validateStackDefinition } from "./resolve";
import {
  DEFAULT_BUILDER_MAKE_JOBS,
  DEFAULT_OVERLAY_NAME,
  type StackArgs,
  stackDefinitionOf,
} from "./stack-args";

function listViolations<T extends string>(
  argument: string,
  values: readonly T[] | undefined,
  known: (v: unknown) => boolean,
  noun: string,
  fix: string,
): Violation[] {
  if (!Array.isArray(values) || values.length === 0) {
    return [violation(argument, values, `names no ${noun}`, fix)];
  }
  const found: Violation[] = [];
  for (const [i, value] of values.entries()) {
    if (!known(value)) {
      found.push(violation(`${argument}[${i}]`, value, `is not a known ${noun}`, fix));
    } else if (values.indexOf(value) !== i) {
      found.push(
        violation(`${argument}[${i}]`, value, `repeats ${noun} "${value}"`, "list it once"),
      );
    }
  }
  return found;
}

/**
 * Every problem of a Stack's arguments that can be known before deployment: the
 * definition and catalog ({@link validateStackDefinition}), environments, arches, missing
 * tree snapshots, the overlay name, and any late-bound value given as a plain value.
 */
export function validateStackArgs(name: string, args: StackArgs): Violation[] {
  // The definition's own name is the stackName argument when one is given.
  const found = validateStackDefinition(stackDefinitionOf(name, args), args.catalog).map((v) =>
    v.argument === "name" && args.stackName !== undefined ? { ...v, argument: "stackName" } : v,
  );
  found.push(
    ...listViolations(
      "environments",
      args.environments,
      isEnvironment,
      "environment",
      ENVIRONMENT_FIX,
    ),
  );
  found.push(...listViolations("arches", args.arches, isArchName, "arch", ARCH_FIX));
  const environments = (Array.isArray(args.environments) ? args.environments : []).filter(
    isEnvironment,
  );
  for (const environment of environments) {
    if (args.treeSnapshots?.[environment] === undefined) {
      found.push(
        violation(
          `treeSnapshots.${environment}`,
          undefined,
          "is missing",
          `give the commits of the Gentoo tree clone and the overlay that ${environment} builds from`,
        ),
      );
    }
  }
  const overlayName = args.overlayName ?? DEFAULT_OVERLAY_NAME;
  if (!isRepositoryName(overlayName) || overlayName === "gentoo") {
    found.push(
      violation(
        "overlayName",
        overlayName,
        "is not a usable repository name",
        'use letters, digits, "_" and "-", not ending in "-<digits>", and not "gentoo"',
      ),
    );
  }
  // Each late-bound setting given as a plain value is checked now by the check its render
  // runs on the resolved value; one still an Output is checked when it resolves.
  const checks = BUILD_PROFILE_SETTING_CHECKS;
  for (const key of Object.keys(checks) as (keyof BuildProfileSettingChecks)[]) {
    const value =
      key === "builderMakeJobs" ? (args.builderMakeJobs ?? DEFAULT_BUILDER_MAKE_JOBS) : args[key];
    if (key === "gentooMirrors" && value === undefined) continue;
    if (!isLateBound(value)) found.push(...checks[key](value));
  }
  for (const environment of environments) {
    const commits: unknown = args.treeSnapshots?.[environment];
    if (commits === undefined || isLateBound(commits)) continue;
    if (typeof commits !== "object" || commits === null || Array.isArray(commits)) {
      found.push(
        violation(
          `treeSnapshots.${environment}`,
          commits,
          "is not a tree snapshot",
          "give { gentoo, overlay }: the commits of the Gentoo tree clone and of the overlay",
        ),
      );
      continue;
    }
    const given = commits as Partial<Record<"gentoo" | "overlay", unknown>>;
    for (const repo of ["gentoo", "overlay"] as const) {
      if (!isLateBound(given[repo])) {
        found.push(...treeSnapshotCommitViolations(environment, repo, given[repo]));
      }
    }
  }
  return found;
}

/**
 * One fact every Stack of a component must share (the binhost URL, the overlay name): the
 * problem of the Stack at `at` (named `stack`) when its `value` differs from `first`, the
 * value of the Stack at `firstAt`. A value still late-bound is not compared.
 */
export function stackDisagreement(
  at: string,
  stack: string,
  field: string,
  value: unknown,
  first: { readonly at: string; readonly value: unknown },
  fix: string,
): Violation[] {
  if (isLateBound(value) || isLateBound(first.value) || value === first.value) return [];
  return [
    violation(
      at,
      stack,
      `has ${field} "${String(value)}" while ${first.at} has "${String(first.value)}"`,
      fix,
    ),
  ];
}
