/**
 * Lexical rules shared by the Portage renderers and the validators of their inputs:
 * what a package atom, a USE flag, a variable name and a safe value look like.
 * These are deliberately stricter than Portage where that keeps rendering trivially
 * correct (no quoting or escaping of shell metacharacters is ever needed).
 */
import { isOneLine } from "../validation/patterns";

const CATEGORY = "[A-Za-z0-9+_][A-Za-z0-9+_.-]*";
const PACKAGE_NAME = "[A-Za-z0-9+_][A-Za-z0-9+_-]*?";
const VERSION = "[0-9]+(?:\\.[0-9]+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)[0-9]*)*(?:-r[0-9]+)?";
const SLOT = "[A-Za-z0-9+_][A-Za-z0-9+_.-]*(?:/[A-Za-z0-9+_][A-Za-z0-9+_.-]*)?";
const REPO = "[A-Za-z0-9_][A-Za-z0-9_-]*";

const UNVERSIONED_ATOM = new RegExp(`^${CATEGORY}/${PACKAGE_NAME}(?::${SLOT})?(?:::${REPO})?$`);
const ENDS_IN_VERSION = new RegExp(`-${VERSION}$`);
const VERSIONED_ATOM = new RegExp(
  `^(?:[<>]=?|=|~)${CATEGORY}/${PACKAGE_NAME}-${VERSION}\\*?(?::${SLOT})?(?:::${REPO})?$`,
);

/**
 * Whether `atom` is a package dependency atom Portage accepts in profile and user files:
 * `cat/pkg`, optionally with a version operator and version (`>=dev-lang/ruby-3.3`),
 * a slot (`:3.3`) and a repository (`::gentoo`). USE dependencies are not allowed here.
 */
export function isPackageAtom(atom: unknown): atom is string {
  if (typeof atom !== "string") return false;
  if (VERSIONED_ATOM.test(atom)) return true;
  // PMS: a package name must not end in a hyphen and something that looks like a version.
  const name = atom.split(/:/)[0] ?? "";
  return UNVERSIONED_ATOM.test(atom) && !ENDS_IN_VERSION.test(name);
}

/** Fix text for an invalid atom. */
export const ATOM_FIX =
  'use category/package, optionally with an operator and version, slot or repository, e.g. "dev-lang/ruby" or ">=dev-lang/ruby-3.3:3.3"';

const USE_FLAG = /^[A-Za-z0-9][A-Za-z0-9+_@.-]*$/;

/** Whether `flag` is a USE flag name (without a leading `-`). */
export function isUseFlagName(flag: unknown): flag is string {
  return typeof flag === "string" && USE_FLAG.test(flag);
}

/** Whether `token` is a USE token: a flag, or `-flag` to disable it. */
export function isUseToken(token: unknown): token is string {
  return typeof token === "string" && isUseFlagName(token.startsWith("-") ? token.slice(1) : token);
}

/** Fix text for an invalid USE token. */
export const USE_FIX =
  'use a flag name of letters, digits and + _ @ . -, prefixed with "-" to disable it, e.g. "ipv6" or "-X"';

/** Whether `name` is a shell variable name as make.conf and make.defaults use them. */
export function isVariableName(name: unknown): name is string {
  if (typeof name !== "string") return false;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * Whether `value` is text that can be written inside double quotes in make.conf or
 * make.defaults with no escaping: no double quote, backslash, dollar sign, backtick, line
 * break or other control character.
 */
export function isSafeShellValue(value: unknown): value is string {
  return isOneLine(value) && !/["\\$`]/.test(value);
}

/** Fix text for an unsafe shell value. */
export const SHELL_VALUE_FIX =
  'remove double quotes, backslashes, "$", backticks, line breaks and other control characters from the value';

/** `NAME="value"` for make.conf and make.defaults; `value` must pass {@link isSafeShellValue}. */
export function shellAssignment(name: string, value: string): string {
  if (!isVariableName(name) || !isSafeShellValue(value)) {
    throw new Error(`cannot render ${name}=${JSON.stringify(value)} without escaping`);
  }
  return `${name}="${value}"`;
}

/**
 * A value for an INI file Portage reads with Python's ConfigParser (repos.conf,
 * binrepos.conf): `%` is doubled because ConfigParser interpolates `%(name)s`.
 * Line breaks are refused: they would start a new key.
 */
export function iniValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`INI value ${JSON.stringify(value)} has a line break`);
  return value.replaceAll("%", "%%");
}

/** Whether `name` is a repository name Portage accepts in `profiles/repo_name`. */
export function isRepositoryName(name: unknown): name is string {
  return (
    typeof name === "string" && /^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(name) && !/-[0-9]+$/.test(name)
  );
}

/** Joins lines with a trailing newline. */
export function lines(values: readonly string[]): string {
  return `${values.join("\n")}\n`;
}
