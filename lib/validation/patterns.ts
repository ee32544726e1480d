/**
 * One pattern per kind of text value that the components check, written once (issues 15, 16):
 * DNS labels and names, git commits, http(s) URLs, user names and plain paths. Each is
 * anchored and admits no whitespace, quote, `$`, backtick, `;`, `|`, backslash or control
 * character (nor, but in a URL or a path, a slash), so a value that passes can go into a shell
 * command, a unit or a configuration file as inert data. Pure: no Pulumi.
 *
 * Not here: a certificate's DNS name (lib/pki/validate.ts `validateDnsName`: a leading `*.`
 * and upper case allowed, as in a SAN) and MAC addresses (lib/network/mac.ts `macViolation`).
 */

import { type Violation, violation } from "./violations";

/** One DNS label: 1 to 63 lower-case letters, digits and inner hyphens (RFC 1123). */
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";

/** A host name: one DNS label (`web1`). */
export const DNS_LABEL = new RegExp(`^${LABEL}$`);

/** A DNS name of one or more labels, 253 characters at most (`web1`, `dev.example.org`). */
export const DNS_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

/** A fully qualified DNS name: two or more labels, 253 characters at most. */
export const FQDN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})+$`);

/**
 * A full git commit id: 40 lower-case hex digits (SHA-1). The builders' and machines' git and
 * the Gentoo repositories use SHA-1; a SHA-256 id (64 digits) is refused everywhere alike.
 */
export const GIT_COMMIT = /^[0-9a-f]{40}$/;

/**
 * An http(s) URL: a host (a DNS name or an IPv4 address), an optional port, a path of
 * letters, digits and `. _ ~ / % + = @ : -`, and an optional query that may also hold `&`.
 * No quote, space, `$`, backtick, `;`, `|`, `#` or backslash anywhere.
 */
export const HTTP_URL = new RegExp(
  `^https?://(?=[^/:?]{1,253}(?:[/:?]|$))${LABEL}(?:\\.${LABEL})*(?::\\d{1,5})?(?:/[A-Za-z0-9._~/%+=@:-]*)?(?:\\?[A-Za-z0-9._~/%+=@:&-]*)?$`,
);

/**
 * A git URL as Portage's repos.conf `sync-uri` and git take it: `https`, `http`, `ssh`, `git`
 * or `file` with letters, digits and `. _ ~ : / @ % + -` after the `://`, or the scp form
 * `user@host:path`. No quote, space, `$`, backtick, `;`, `|`, `&`, `#` or backslash.
 */
export const GIT_URL = new RegExp(
  `^(?:(?:https?|ssh|git|file)://[A-Za-z0-9._~:/@%+-]+|[A-Za-z0-9._-]+@${LABEL}(?:\\.${LABEL})*:[A-Za-z0-9._~/%+-]+)$`,
);

/** An OpenPGP v4 fingerprint: 40 hex digits (either case), no spaces. */
export const OPENPGP_FINGERPRINT = /^[0-9A-Fa-f]{40}$/;

/** An email address (ASCII): a local part of letters, digits and `. _ % + -`, then a DNS name. */
export const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;

/**
 * A user or group name as `useradd` takes it: lower-case letters, digits, `_` and `-`, not
 * starting with a digit or `-` (`gi-admin`, `www-data`).
 */
export const USER_NAME = /^[a-z_][a-z0-9_-]*$/;

/** True when `value` is a string that `pattern` matches. */
export function matches(pattern: RegExp, value: unknown): value is string {
  return typeof value === "string" && pattern.test(value);
}

/**
 * True when `value` is text without control characters (no line break, tab or NUL): free
 * text such as a description or a name in a certificate, which a renderer puts on one line.
 */
export function isOneLine(value: unknown): value is string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
  return typeof value === "string" && !/[\u0000-\u001f\u007f]/.test(value);
}

/**
 * True when `value` is an absolute path of plain segments (letters, digits and `. _ + -`
 * between slashes, no `.` or `..` segment), inert in a shell command.
 */
export function isPlainAbsolutePath(value: unknown): value is string {
  if (typeof value !== "string" || !/^(\/[A-Za-z0-9._+-]+)+\/?$/.test(value)) return false;
  return value.split("/").every((segment) => segment !== "." && segment !== "..");
}

/**
 * True when `value` is a relative path of plain segments (as {@link isPlainAbsolutePath},
 * without the leading slash): no `.` or `..` segment, no trailing slash, not starting with `-`.
 */
export function isPlainRelativePath(value: unknown): value is string {
  return (
    typeof value === "string" &&
    !value.startsWith("-") &&
    !value.endsWith("/") &&
    isPlainAbsolutePath(`/${value}`)
  );
}

/**
 * The problem of a value that is not a plain absolute path ({@link isPlainAbsolutePath}),
 * named `argument`, with `example` in the fix; none for one that is.
 */
export function plainAbsolutePathViolations(
  argument: string,
  value: unknown,
  example: string,
): Violation[] {
  return isPlainAbsolutePath(value)
    ? []
    : [
        violation(
          argument,
          value,
          "is not an absolute path of plain segments",
          `use e.g. ${example}: letters, digits and . _ + - between slashes, no . or .. segment`,
        ),
      ];
}

/** True when `value` is a whole number from `min` to `max` (a count or size with sane bounds). */
export function isWholeNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}
