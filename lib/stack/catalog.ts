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
import { isOneLine } from "../validation/patterns";
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
  const table = kind === "system" ? catalog.systemProfiles : catalog.applicationProfiles;
  return isTable(table) ? table : {};
}

/** Whether `value` is a plain object (a table by name), not a list, a function or null. */
export function isTable(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The strings of `value` when it is a list; nothing otherwise. */
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** What a profile contributes to a Stack, with every value of the wrong type left out. */
export interface ProfileContribution {
  readonly packages: readonly string[];
  readonly use: readonly string[];
  readonly packageUse: Readonly<Record<string, readonly string[]>>;
  readonly makeDefaults: Readonly<Record<string, string>>;
}

/**
 * The settings of a profile as a Stack combines them: lists and tables of the wrong type,
 * and entries of the wrong type, are left out ({@link validateCatalog} reports them), so
 * that the rest can still be checked for conflicts.
 */
export function contributionOf(catalog: ProfileCatalog, ref: ProfileRef): ProfileContribution {
  const found: unknown = profilesOf(catalog, ref.kind)[ref.name];
  const p: ProfileSettings = isTable(found) ? found : {};
  const table = (value: unknown) => Object.entries(isTable(value) ? value : {});
  return {
    packages: strings(p.packages),
    use: strings(p.use),
    packageUse: Object.fromEntries(table(p.packageUse).map(([atom, t]) => [atom, strings(t)])),
    makeDefaults: Object.fromEntries(
      table(p.makeDefaults).filter((e): e is [string, string] => typeof e[1] === "string"),
    ),
  };
}

/** A violation when `value`, if given, is not a list. */
function notAList(argument: string, value: unknown, example: string): Violation[] {
  if (value === undefined || Array.isArray(value)) return [];
  return [violation(argument, value, "is not a list", `give a list, e.g. ${example}`)];
}

/** A violation when `value`, if given, is not a table by name. */
function notATable(argument: string, value: unknown, example: string): Violation[] {
  if (value === undefined || isTable(value)) return [];
  return [violation(argument, value, "is not a table by name", `give an object, e.g. ${example}`)];
}

/** Whether the catalog has profile `name` of `kind`. */
export function hasProfile(catalog: ProfileCatalog, kind: ProfileKind, name: unknown): boolean {
  return typeof name === "string" && Object.hasOwn(profilesOf(catalog, kind), name);
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
  if (typeof name !== "string") return undefined;
  let current: string | undefined = name;
  while (current !== undefined) {
    if (!Object.hasOwn(table, current) || chain.includes(current)) return undefined;
    chain.push(current);
    const parent: unknown = table[current]?.parent;
    if (parent !== undefined && typeof parent !== "string") return undefined;
    current = parent;
  }
  return chain.reverse();
}

function settingsViolations(path: string, settings: ProfileSettings): Violation[] {
  const found: Violation[] = [
    ...notAList(`${path}.packages`, settings.packages, '["app-admin/sudo"]'),
    ...notAList(`${path}.use`, settings.use, '["ipv6", "-X"]'),
    ...notAList(`${path}.acceptKeywords`, settings.acceptKeywords, '["dev-ruby/rails"]'),
    ...notATable(`${path}.packageUse`, settings.packageUse, '{ "app-admin/sudo": ["-sendmail"] }'),
    ...notATable(`${path}.makeDefaults`, settings.makeDefaults, '{ VIDEO_CARDS: "intel" }'),
  ];
  const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
  for (const [i, atom] of list(settings.packages).entries()) {
    if (!isPackageAtom(atom)) {
      found.push(violation(`${path}.packages[${i}]`, atom, "is not a package atom", ATOM_FIX));
    }
  }
  if (Array.isArray(settings.use)) found.push(...useListViolations(`${path}.use`, settings.use));
  const packageUse = isTable(settings.packageUse) ? settings.packageUse : {};
  for (const [atom, tokens] of Object.entries(packageUse)) {
    const argument = `${path}.packageUse["${atom}"]`;
    if (!isPackageAtom(atom)) {
      found.push(
        violation(`${path}.packageUse`, atom, "has a key that is not a package atom", ATOM_FIX),
      );
    }
    if (Array.isArray(tokens)) found.push(...useListViolations(argument, tokens));
    else found.push(...notAList(argument, tokens ?? null, '["-sendmail"]'));
  }
  for (const [i, atom] of list(settings.acceptKeywords).entries()) {
    if (!isPackageAtom(atom)) {
      found.push(
        violation(`${path}.acceptKeywords[${i}]`, atom, "is not a package atom", ATOM_FIX),
      );
    }
  }
  const makeDefaults = isTable(settings.makeDefaults) ? settings.makeDefaults : {};
  for (const [name, value] of Object.entries(makeDefaults)) {
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
    if (typeof value !== "string") {
      found.push(
        violation(argument, value, "is not text", 'give the value as a string, e.g. "intel"'),
      );
    } else if (!isSafeShellValue(value)) {
      found.push(violation(argument, value, "cannot be written without escaping", SHELL_VALUE_FIX));
    }
  }
  const description = settings.description;
  if (description !== undefined && !isOneLine(description)) {
    found.push(
      violation(
        `${path}.description`,
        description,
        typeof description === "string"
          ? "has a line break or another control character"
          : "is not text",
        "use one line of text",
      ),
    );
  }
  return found;
}

/** Violations of a list of USE tokens: bad syntax, and a flag both enabled and disabled. */
export function useListViolations(argument: string, tokens: readonly unknown[]): Violation[] {
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
    const profile = table[name] as ProfileSettings & { parent?: unknown };
    if (!PROFILE_NAME_PATTERN.test(name)) {
      found.push(violation(path, name, `is not a valid ${kind} profile name`, PROFILE_NAME_FIX));
    }
    if (!isTable(profile)) {
      found.push(
        violation(
          path,
          profile,
          "is not a profile",
          'give its settings, e.g. { packages: ["app-admin/sudo"] }',
        ),
      );
      continue;
    }
    found.push(...settingsViolations(path, profile));
    if (profile.parent === undefined) continue;
    if (typeof profile.parent !== "string" || !Object.hasOwn(table, profile.parent)) {
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
  if (!isTable(catalog) || !isTable(catalog.systemProfiles)) {
    const given = isTable(catalog) ? catalog.systemProfiles : undefined;
    return [
      violation(
        "catalog.systemProfiles",
        given,
        given === undefined ? "is missing" : "is not a table of profiles by name",
        "define at least one system profile",
      ),
    ];
  }
  if (catalog.applicationProfiles !== undefined && !isTable(catalog.applicationProfiles)) {
    found.push(
      violation(
        "catalog.applicationProfiles",
        catalog.applicationProfiles,
        "is not a table of profiles by name",
        'give an object, e.g. { "ruby-app": { packages: ["dev-lang/ruby"] } }',
      ),
    );
  }
  found.push(...kindViolations(catalog, "system"));
  found.push(...kindViolations(catalog, "application"));
  return found;
}
