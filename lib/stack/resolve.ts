/**
 * Resolution of a Stack definition against a catalog: inheritance of Stacks and profiles,
 * the merged settings, the package sets, and every conflict. Pure.
 */
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import {
  contributionOf,
  describeProfile,
  hasProfile,
  knownProfilesFix,
  type ProfileRef,
  profileChain,
  profilePath,
  validateCatalog,
} from "./catalog";
import {
  PROFILE_NAME_FIX,
  PROFILE_NAME_PATTERN,
  type ProfileCatalog,
  type StackDefinition,
} from "./model";

/** A Stack with its inheritance worked out. */
export interface ResolvedStack {
  /** The Stack's name. */
  readonly name: string;
  /** The resolved base Stack, if any. */
  readonly base?: ResolvedStack;
  /** Names of the Stack chain, root first, this Stack last (`linux, ruby, rails`). */
  readonly stackChain: readonly string[];
  /** The system profile (inherited from the base when not set). */
  readonly systemProfile: string;
  /** The system profile's inheritance chain, root first. */
  readonly systemProfiles: readonly string[];
  /**
   * Every application profile in load order, parents before children, the base Stack's
   * before this Stack's own, each once.
   */
  readonly applicationProfiles: readonly string[];
  /** Application profiles this Stack adds to its base's (with ancestors the base lacks). */
  readonly ownApplicationProfiles: readonly string[];
  /**
   * The profiles this Stack's own Portage profile lists after its base (or its system
   * profile): its own application profiles that no other own profile inherits from.
   */
  readonly applicationProfileLeaves: readonly string[];
  /** Packages of the system profile chain (the `@system` additions), sorted. */
  readonly systemPackages: readonly string[];
  /** Packages of every application profile (the world file), sorted. */
  readonly applicationPackages: readonly string[];
  /** All packages of the Stack: system and application, sorted. */
  readonly packages: readonly string[];
  /** Packages its base Stack lacks (all packages when there is no base), sorted. */
  readonly ownPackages: readonly string[];
  /** The merged global USE of our profiles after Portage's incremental stacking, sorted. */
  readonly use: readonly string[];
}

const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/** Argument path of a nested base: `base`, `base.base` … */
function basePath(depth: number): string {
  return Array.from({ length: depth }, () => "base").join(".");
}

function field(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}.${name}`;
}

/** The Stack chain of a definition, root first; violations for cycles and bad names. */
function stackChainOf(definition: StackDefinition): {
  chain: StackDefinition[];
  cyclic: boolean;
  violations: Violation[];
} {
  const chain: StackDefinition[] = [];
  const violations: Violation[] = [];
  let current: StackDefinition | undefined = definition;
  let depth = 0;
  let cyclic = false;
  while (current !== undefined) {
    const prefix = basePath(depth);
    const name = current.name;
    const repeated = chain.findIndex((d) => d === current || d.name === name);
    if (repeated >= 0) {
      const names = [...chain.map((d) => d.name), name];
      violations.push(
        violation(
          prefix,
          name,
          `makes Stack inheritance circular: ${names.join(" → ")}`,
          "remove the base of one Stack in the cycle",
        ),
      );
      cyclic = true;
      break;
    }
    if (typeof name !== "string" || !PROFILE_NAME_PATTERN.test(name)) {
      violations.push(
        violation(field(prefix, "name"), name, "is not a valid Stack name", PROFILE_NAME_FIX),
      );
    }
    const apps: unknown = current.applicationProfiles;
    if (apps !== undefined && !Array.isArray(apps)) {
      violations.push(
        violation(
          field(prefix, "applicationProfiles"),
          apps,
          "is not a list",
          'list application profile names, e.g. ["ruby-app"]',
        ),
      );
    }
    chain.push(current);
    current = current.base;
    depth += 1;
  }
  return { chain: chain.reverse(), cyclic, violations };
}

interface Contribution {
  readonly ref: ProfileRef;
  readonly use: readonly string[];
  readonly packageUse: Readonly<Record<string, readonly string[]>>;
  readonly makeDefaults: Readonly<Record<string, string>>;
}

function related(catalog: ProfileCatalog, a: ProfileRef, b: ProfileRef): boolean {
  if (a.kind !== b.kind) return false;
  return (
    (profileChain(catalog, a.kind, a.name) ?? []).includes(b.name) ||
    (profileChain(catalog, b.kind, b.name) ?? []).includes(a.name)
  );
}

const CONFLICT_FIX =
  "set it in only one of the two profiles, or make one profile inherit from the other";

/**
 * Conflicts between profiles that one Stack combines and neither of which inherits from
 * the other: a USE flag enabled by one and disabled by the other (globally or for one
 * atom), or a make.defaults variable set to two values.
 */
export function conflictViolations(
  stackName: string,
  catalog: ProfileCatalog,
  profiles: readonly ProfileRef[],
): Violation[] {
  const contributions: Contribution[] = profiles.map((ref) => ({
    ref,
    ...contributionOf(catalog, ref),
  }));
  const found: Violation[] = [];
  const where = `in Stack "${stackName}"`;
  for (const [j, later] of contributions.entries()) {
    for (const earlier of contributions.slice(0, j)) {
      if (related(catalog, earlier.ref, later.ref)) continue;
      const other = describeProfile(earlier.ref);
      for (const token of later.use) {
        const opposite = token.startsWith("-") ? token.slice(1) : `-${token}`;
        if (earlier.use.includes(opposite)) {
          found.push(
            violation(
              `${profilePath(later.ref)}.use`,
              token,
              `conflicts with "${opposite}" of ${other} ${where}`,
              CONFLICT_FIX,
            ),
          );
        }
      }
      for (const [atom, tokens] of Object.entries(later.packageUse)) {
        const earlierTokens = earlier.packageUse[atom] ?? [];
        for (const token of tokens) {
          const opposite = token.startsWith("-") ? token.slice(1) : `-${token}`;
          if (earlierTokens.includes(opposite)) {
            found.push(
              violation(
                `${profilePath(later.ref)}.packageUse["${atom}"]`,
                token,
                `conflicts with "${opposite}" of ${other} ${where}`,
                CONFLICT_FIX,
              ),
            );
          }
        }
      }
      for (const [name, value] of Object.entries(later.makeDefaults)) {
        const earlierValue = earlier.makeDefaults[name];
        if (earlierValue !== undefined && earlierValue !== value) {
          found.push(
            violation(
              `${profilePath(later.ref)}.makeDefaults.${name}`,
              value,
              `conflicts with ${JSON.stringify(earlierValue)} of ${other} ${where}`,
              CONFLICT_FIX,
            ),
          );
        }
      }
    }
  }
  return found;
}

/** Merges USE tokens as Portage stacks incremental variables: the last sign wins. */
export function mergeUse(lists: readonly (readonly string[])[]): string[] {
  const state = new Map<string, boolean>();
  for (const list of lists) {
    for (const token of list) {
      const enabled = !token.startsWith("-");
      state.set(enabled ? token : token.slice(1), enabled);
    }
  }
  return [...state.entries()]
    .map(([flag, enabled]) => (enabled ? flag : `-${flag}`))
    .sort((a, b) => a.replace(/^-/, "").localeCompare(b.replace(/^-/, "")));
}

/** Application profiles of `names` expanded with their ancestors, parents first, each once. */
function expandApplicationProfiles(
  catalog: ProfileCatalog,
  names: readonly string[],
  into: string[],
): void {
  for (const name of names) {
    for (const member of profileChain(catalog, "application", name) ?? []) {
      if (!into.includes(member)) into.push(member);
    }
  }
}

interface Walk {
  readonly resolved?: ResolvedStack;
  readonly violations: Violation[];
}

function resolveChain(catalog: ProfileCatalog, chain: readonly StackDefinition[]): Walk {
  const violations: Violation[] = [];
  let resolved: ResolvedStack | undefined;
  let broken = false;
  for (const [index, definition] of chain.entries()) {
    const prefix = basePath(chain.length - 1 - index);
    const base = resolved;
    const own = definition.systemProfile;
    // Best effort: an invalid part is reported and left out, so that the remaining parts
    // (and the Stacks built on this one) are still checked for conflicts.
    let systemProfile = own === undefined ? base?.systemProfile : undefined;
    if (own === undefined && index === 0) {
      violations.push(
        violation(
          field(prefix, "systemProfile"),
          undefined,
          `is required for Stack "${definition.name}", which has no base`,
          knownProfilesFix(catalog, "system"),
        ),
      );
      broken = true;
    } else if (own !== undefined && !hasProfile(catalog, "system", own)) {
      violations.push(
        violation(
          field(prefix, "systemProfile"),
          own,
          "is not a system profile in the catalog",
          knownProfilesFix(catalog, "system"),
        ),
      );
      broken = true;
    } else if (own !== undefined && base?.systemProfile && own !== base.systemProfile) {
      violations.push(
        violation(
          field(prefix, "systemProfile"),
          own,
          `gives Stack "${definition.name}" a second system profile: its base "${base.name}" has "${base.systemProfile}"`,
          `omit systemProfile to inherit "${base.systemProfile}", or drop the base`,
        ),
      );
      broken = true;
      systemProfile = base.systemProfile;
    } else if (own !== undefined) {
      systemProfile = own;
    }
    const ownApps: readonly string[] = Array.isArray(definition.applicationProfiles)
      ? definition.applicationProfiles
      : [];
    for (const [i, name] of ownApps.entries()) {
      if (!hasProfile(catalog, "application", name)) {
        violations.push(
          violation(
            `${field(prefix, "applicationProfiles")}[${i}]`,
            name,
            "is not an application profile in the catalog",
            knownProfilesFix(catalog, "application"),
          ),
        );
        broken = true;
      } else if (profileChain(catalog, "application", name) === undefined) {
        // The catalog's own violations (unknown parent, cycle) already name the problem.
        broken = true;
      }
    }
    let systemProfiles: string[] = [];
    if (systemProfile !== undefined && systemProfile !== "") {
      const chain = profileChain(catalog, "system", systemProfile);
      if (chain === undefined) broken = true;
      else systemProfiles = chain;
    }
    systemProfile = systemProfiles.length > 0 ? systemProfile : "";
    const applicationProfiles = [...(base?.applicationProfiles ?? [])];
    expandApplicationProfiles(catalog, ownApps, applicationProfiles);
    const baseApps = new Set(base?.applicationProfiles ?? []);
    const ownApplicationProfiles = applicationProfiles.filter((n) => !baseApps.has(n));
    const applicationProfileLeaves = ownApplicationProfiles.filter(
      (n) =>
        ownApps.includes(n) &&
        !ownApplicationProfiles.some(
          (other) => other !== n && (profileChain(catalog, "application", other) ?? []).includes(n),
        ),
    );
    const refs: ProfileRef[] = [
      ...systemProfiles.map((name) => ({ kind: "system" as const, name })),
      ...applicationProfiles.map((name) => ({ kind: "application" as const, name })),
    ];
    violations.push(...conflictViolations(definition.name, catalog, refs));
    const settingsOf = (ref: ProfileRef) => contributionOf(catalog, ref);
    const systemPackages = sortedUnique(
      systemProfiles.flatMap((name) => settingsOf({ kind: "system", name }).packages),
    );
    const applicationPackages = sortedUnique(
      applicationProfiles.flatMap((name) => settingsOf({ kind: "application", name }).packages),
    );
    const packages = sortedUnique([...systemPackages, ...applicationPackages]);
    const basePackages = new Set(base?.packages ?? []);
    resolved = {
      name: definition.name,
      ...(base ? { base } : {}),
      stackChain: [...(base?.stackChain ?? []), definition.name],
      systemProfile: systemProfile ?? "",
      systemProfiles,
      applicationProfiles,
      ownApplicationProfiles,
      applicationProfileLeaves,
      systemPackages,
      applicationPackages,
      packages,
      ownPackages: packages.filter((p) => !basePackages.has(p)),
      use: mergeUse(refs.map((ref) => settingsOf(ref).use)),
    };
  }
  return { resolved: broken ? undefined : resolved, violations };
}

/**
 * Every problem of a Stack definition together with its catalog: bad names, Stack
 * inheritance cycles, a missing, unknown or second system profile, unknown application
 * profiles, and conflicting settings among the profiles it combines.
 */
export function validateStackDefinition(
  definition: StackDefinition,
  catalog: ProfileCatalog,
): Violation[] {
  return analyse(definition, catalog).violations;
}

function analyse(definition: StackDefinition, catalog: ProfileCatalog): Walk {
  const catalogViolations = validateCatalog(catalog);
  const { chain, cyclic, violations: chainViolations } = stackChainOf(definition);
  if (cyclic || typeof catalog?.systemProfiles !== "object") {
    return { violations: [...chainViolations, ...catalogViolations] };
  }
  const walk = resolveChain(catalog, chain);
  const violations = [...chainViolations, ...walk.violations, ...catalogViolations];
  return violations.length > 0 ? { violations } : walk;
}

/**
 * Resolves a Stack definition; throws one `ValidationError` naming every problem
 * ({@link validateStackDefinition}).
 */
export function resolveStack(definition: StackDefinition, catalog: ProfileCatalog): ResolvedStack {
  const walk = analyse(definition, catalog);
  throwIfViolations(`Stack "${definition?.name}"`, walk.violations);
  if (walk.resolved === undefined) {
    throw new Error(`Stack "${definition.name}" did not resolve although it has no violations`);
  }
  return walk.resolved;
}
