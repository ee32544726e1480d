/**
 * Validation of a profile catalog and the inheritance chains of its profiles. Pure.
 */
import {
  ATOM_FIX,
  isPackageAtom,
  isSafeShellValue,
  isUseToken,
  isVariableName,
  SHELL_VALUE_FIX,
  USE_FIX,
} from "../portage/syntax";
import { type Violation, violation } from "../validation/violations";
import {
  type ApplicationProfileDefinition,
  PROFILE_NAME_FIX,
  PROFILE_NAME_PATTERN,
  type ProfileCatalog,
  type ProfileSettings,
  RESERVED_MAKE_DEFAULTS,
  type SystemProfileDefinition,
} from "./model";

/** Which table of the catalog a profile lives in. */
export type ProfileKind = "system" | "application";

/** A profile named by kind and name. */
export interface ProfileRef {
  readonly kind: ProfileKind;
  readonly name: string;
}

/** The catalog table of `kind`. */
export function profilesOf(
  catalog: ProfileCatalog,
  kind: ProfileKind,
): Readonly<Record<string, SystemProfileDefinition | ApplicationProfileDefinition>> {
  return (kind === "system" ? catalog.systemProfiles : catalog.applicationProfiles) ?? {};
}

/** Whether the catalog has profile `name` of `kind`. */
export function hasProfile(catalog: ProfileCatalog, kind: ProfileKind, name: string): boolean {
  return Object.hasOwn(profilesOf(catalog, kind), name);
}

/** The argument path of a profile: `catalog.systemProfiles.server`. */
export function profilePath(ref: ProfileRef): string {
  return `catalog.${ref.kind}Profiles.${ref.name}`;
}

/** "system profile \"server\"" for messages. */
export function describeProfile(ref: ProfileRef): string {
  return `${ref.kind} profile "${ref.name}"`;
}

/** Fix text naming the profiles of a kind. */
export function knownProfilesFix(catalog: ProfileCatalog, kind: ProfileKind): string {
  const names = Object.keys(profilesOf(catalog, kind)).sort();
  return names.length === 0
    ? `define it in catalog.${kind}Profiles`
    : `use one of ${names.join(", ")}, or define it in catalog.${kind}Profiles`;
}

/**
 * The inheritance chain of a profile, root first and the profile itself last; undefined
 * when the profile or an ancestor is unknown, or the chain has a cycle.
 */
export function profileChain(
  catalog: ProfileCatalog,
  kind: ProfileKind,
  name: string,
): string[] | undefined {
  const table = profilesOf(catalog, kind);
  const chain: string[] = [];
  let current: string | undefined = name;
  while (current !== undefined) {
    if (!Object.hasOwn(table, current) || chain.includes(current)) return undefined;
    chain.push(current);
    current = table[current]?.parent;
  }
  return chain.reverse();
}

function settingsViolations(path: string, settings: ProfileSettings): Violation[] {
  const found: Violation[] = [];
  for (const [i, atom] of (settings.packages ?? []).entries()) {
    if (!isPackageAtom(atom)) {
      found.push(violation(`${path}.packages[${i}]`, atom, "is not a package atom", ATOM_FIX));
    }
  }
  found.push(...useListViolations(`${path}.use`, settings.use ?? []));
  for (const [atom, tokens] of Object.entries(settings.packageUse ?? {})) {
    if (!isPackageAtom(atom)) {
      found.push(
        violation(`${path}.packageUse`, atom, "has a key that is not a package atom", ATOM_FIX),
      );
    }
    found.push(...useListViolations(`${path}.packageUse["${atom}"]`, tokens));
  }
  for (const [i, atom] of (settings.acceptKeywords ?? []).entries()) {
    if (!isPackageAtom(atom)) {
      found.push(
        violation(`${path}.acceptKeywords[${i}]`, atom, "is not a package atom", ATOM_FIX),
      );
    }
  }
  for (const [name, value] of Object.entries(settings.makeDefaults ?? {})) {
    const argument = `${path}.makeDefaults.${name}`;
    if ((RESERVED_MAKE_DEFAULTS as readonly string[]).includes(name)) {
      found.push(
        violation(
          argument,
          value,
          `sets ${name}, which gentoo-infra decides`,
          name === "USE" ? "list the flags in `use`" : "remove it: the arch table decides it",
        ),
      );
    } else if (!isVariableName(name)) {
      found.push(violation(argument, name, "is not a variable name", "use letters, digits and _"));
    }
    if (!isSafeShellValue(value)) {
      found.push(violation(argument, value, "cannot be written without escaping", SHELL_VALUE_FIX));
    }
  }
  if (settings.description !== undefined && /[\r\n]/.test(settings.description)) {
    found.push(
      violation(`${path}.description`, settings.description, "has a line break", "use one line"),
    );
  }
  return found;
}

/** Violations of a list of USE tokens: bad syntax, and a flag both enabled and disabled. */
export function useListViolations(argument: string, tokens: readonly string[]): Violation[] {
  const found: Violation[] = [];
  for (const [i, token] of tokens.entries()) {
    if (!isUseToken(token)) {
      found.push(violation(`${argument}[${i}]`, token, "is not a USE token", USE_FIX));
    } else if (!token.startsWith("-") && tokens.includes(`-${token}`)) {
      found.push(
        violation(
          argument,
          tokens,
          `both enables and disables "${token}"`,
          `keep either "${token}" or "-${token}"`,
        ),
      );
    }
  }
  return found;
}

function kindViolations(catalog: ProfileCatalog, kind: ProfileKind): Violation[] {
  const found: Violation[] = [];
  const table = profilesOf(catalog, kind);
  const reportedCycles = new Set<string>();
  for (const name of Object.keys(table)) {
    const ref = { kind, name };
    const path = profilePath(ref);
    const profile = table[name] as ProfileSettings & { parent?: string };
    if (!PROFILE_NAME_PATTERN.test(name)) {
      found.push(violation(path, name, `is not a valid ${kind} profile name`, PROFILE_NAME_FIX));
    }
    found.push(...settingsViolations(path, profile));
    if (profile.parent === undefined) continue;
    if (!Object.hasOwn(table, profile.parent)) {
      found.push(
        violation(
          `${path}.parent`,
          profile.parent,
          `is not a ${kind} profile in the catalog`,
          knownProfilesFix(catalog, kind),
        ),
      );
      continue;
    }
    const cycle = findCycle(table, name);
    if (cycle !== undefined) {
      const key = [...cycle].sort().join(" ");
      if (reportedCycles.has(key)) continue;
      reportedCycles.add(key);
      found.push(
        violation(
          `${path}.parent`,
          profile.parent,
          `makes ${kind} profile inheritance circular: ${[...cycle, cycle[0]].join(" → ")}`,
          "remove the parent of one profile in the cycle",
        ),
      );
    }
  }
  return found;
}

/** The cycle `name` is part of (starting at `name`), or undefined. */
function findCycle(
  table: Readonly<Record<string, { readonly parent?: string }>>,
  name: string,
): string[] | undefined {
  const seen: string[] = [];
  let current: string | undefined = name;
  while (current !== undefined && Object.hasOwn(table, current)) {
    const at = seen.indexOf(current);
    if (at >= 0) return at === 0 ? seen : undefined;
    seen.push(current);
    current = table[current]?.parent;
  }
  return undefined;
}

/**
 * Every problem of a catalog: names, atoms, USE tokens, make.defaults variables, unknown
 * parents and inheritance cycles (each cycle reported once).
 */
export function validateCatalog(catalog: ProfileCatalog): Violation[] {
  const found: Violation[] = [];
  if (catalog === undefined || catalog === null || typeof catalog.systemProfiles !== "object") {
    return [
      violation(
        "catalog.systemProfiles",
        catalog?.systemProfiles,
        "is missing",
        "define at least one system profile",
      ),
    ];
  }
  found.push(...kindViolations(catalog, "system"));
  found.push(...kindViolations(catalog, "application"));
  return found;
}
