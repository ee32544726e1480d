/**
 * Validation of PKI arguments: every rule returns violations, components collect them all
 * and throw one error before creating anything. Pure: no `@pulumi/pulumi`.
 */

import {
  DNS_LABEL,
  EMAIL,
  HTTP_URL,
  isOneLine,
  isWholeNumber,
  matches,
} from "../validation/patterns";
import { type Violation, violation } from "../validation/violations";
import { parseDn, validateBaseDn } from "./dn";
import {
  CERTIFICATE_KINDS,
  type CertificateKind,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  REVOCATION_REASONS,
  type RevocationReason,
} from "./profiles";

/** Pattern of names that become part of resource names and CRL file names. */
export const NAME_PATTERN = DNS_LABEL;

const NAME_FIX = "use lower-case letters, digits and inner hyphens (e.g. production, web1)";

/** A name used in resource and file names: lower-case DNS-label style. */
export function validateName(argument: string, value: unknown): Violation[] {
  if (typeof value === "string" && NAME_PATTERN.test(value)) return [];
  return [violation(argument, value, "is not a valid name", NAME_FIX)];
}

/**
 * The most days of any validity, renewal or CRL window: 100 years keeps every date well
 * inside X.509's GeneralizedTime (year 9999) and OpenPGP's 32-bit expiry.
 */
export const MAX_DAYS = 36500;

/** A whole number of days from `min` to {@link MAX_DAYS}. */
export function validateDays(argument: string, value: unknown, min = 1): Violation[] {
  if (value === undefined || isWholeNumber(value, min, MAX_DAYS)) return [];
  return [
    violation(
      argument,
      value,
      `is not a whole number of days from ${min} to ${MAX_DAYS}`,
      `use an integer from ${min} to ${MAX_DAYS}`,
    ),
  ];
}

/** A violation when `value`, if given, is not a list. */
export function validateList(argument: string, value: unknown, example: string): Violation[] {
  if (value === undefined || Array.isArray(value)) return [];
  return [violation(argument, value, "is not a list", `give a list, e.g. ${example}`)];
}

/** Whether `value` is a plain object (not a list, a function or null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** renewBefore must leave part of the validity: 0 <= renewBefore < validity. */
export function validateWindow(
  argument: string,
  windowDays: number | undefined,
  validityArgument: string,
  validityDays: number | undefined,
): Violation[] {
  if (windowDays === undefined || validityDays === undefined) return [];
  if (!Number.isInteger(windowDays) || !Number.isInteger(validityDays)) return [];
  if (windowDays < validityDays) return [];
  return [
    violation(
      argument,
      windowDays,
      `is not shorter than ${validityArgument} (${validityDays})`,
      `use fewer days than ${validityArgument}, or the item would be re-issued on every run`,
    ),
  ];
}

/** A child certificate must not outlive its issuer: childDays <= parentDays. */
export function validateOutlives(
  childArgument: string,
  childDays: number,
  parentArgument: string,
  parentDays: number,
): Violation[] {
  if (childDays <= parentDays) return [];
  return [
    violation(
      childArgument,
      childDays,
      `outlives its issuer (${parentArgument} is ${parentDays})`,
      `use at most ${parentDays} days, or lengthen ${parentArgument}`,
    ),
  ];
}

/** One of {@link KEY_ALGORITHMS}. */
export function validateKeyAlgorithm(argument: string, value: unknown): Violation[] {
  if (value === undefined || (KEY_ALGORITHMS as readonly unknown[]).includes(value)) return [];
  return [
    violation(
      argument,
      value,
      "is not a supported key algorithm",
      `use one of ${KEY_ALGORITHMS.join(", ")}`,
    ),
  ];
}

/** One of {@link CERTIFICATE_KINDS}. */
export function validateKind(argument: string, value: unknown): Violation[] {
  if ((CERTIFICATE_KINDS as readonly unknown[]).includes(value)) return [];
  return [
    violation(
      argument,
      value,
      "is not a certificate kind",
      `use one of ${CERTIFICATE_KINDS.join(", ")}`,
    ),
  ];
}

/** One of {@link REVOCATION_REASONS}. */
export function validateReason(argument: string, value: unknown): Violation[] {
  if (value === undefined || (REVOCATION_REASONS as readonly unknown[]).includes(value)) return [];
  return [
    violation(
      argument,
      value,
      "is not a revocation reason",
      `use one of ${REVOCATION_REASONS.join(", ")}`,
    ),
  ];
}

/** An http(s) URL without a trailing slash, under which CRL files are served. */
export function validateCrlBaseUrl(argument: string, value: unknown): Violation[] {
  const fix =
    'use an http:// URL without a trailing slash, e.g. "http://binhost.example.ch/crl" (where BinhostMirror serves CRLs)';
  if (!matches(HTTP_URL, value)) {
    return [violation(argument, value, "is not an http(s) URL", fix)];
  }
  if (value.endsWith("/") || value.includes("?")) {
    return [violation(argument, value, "ends with a slash, query or fragment", fix)];
  }
  return [];
}

/** Path length of a root: none, or at least 2 (root → level 1 → level 2). */
export function validateRootPathLength(argument: string, value: unknown): Violation[] {
  if (value === undefined || (typeof value === "number" && Number.isInteger(value) && value >= 2))
    return [];
  return [
    violation(
      argument,
      value,
      "leaves no room for level 1 and level 2 CAs",
      "leave it unset (no limit) or use 2 or more",
    ),
  ];
}

/** A common name: one line (no control character), 1 to 64 characters. */
export function validateCommonName(argument: string, value: unknown): Violation[] {
  if (isOneLine(value) && value.length > 0 && value.length <= 64) return [];
  return [
    violation(
      argument,
      value,
      "is not a common name of 1 to 64 characters on one line",
      "give a short name, e.g. web1.example.ch",
    ),
  ];
}

/**
 * A DNS name (SAN dNSName): two or more labels of letters, digits and hyphens, a leading
 * `*.` allowed. Single-label names ("puppet") are refused: RFC 5280 wants the preferred
 * name syntax of a fully qualified name, and pkilint reports them as errors.
 */
export function validateDnsName(argument: string, value: unknown): Violation[] {
  const label = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  const re = new RegExp(`^(\\*\\.)?${label}(\\.${label})+$`);
  if (typeof value === "string" && value.length <= 253 && re.test(value)) return [];
  return [
    violation(
      argument,
      value,
      "is not a fully qualified DNS name",
      "use a host name such as web1.example.ch",
    ),
  ];
}

/** An IPv4 or IPv6 address. */
export function validateIpAddress(argument: string, value: unknown): Violation[] {
  const { isIP } = require("node:net") as typeof import("node:net");
  if (typeof value === "string" && isIP(value) !== 0) return [];
  return [
    violation(argument, value, "is not an IP address", "use e.g. 192.0.2.10 or 2001:db8::10"),
  ];
}

/** An email address (SAN rfc822Name, ASCII). */
export function validateEmail(argument: string, value: unknown): Violation[] {
  if (matches(EMAIL, value)) return [];
  return [violation(argument, value, "is not an email address", "use e.g. alice@example.ch")];
}

/** What a leaf certificate is, as {@link validateCertificateSpec} checks it. */
export interface CertificateSpec {
  /** Name (part of resource names). */
  readonly name?: string;
  /** Kind. */
  readonly kind: CertificateKind;
  /** Subject common name. */
  readonly commonName: string;
  /** SAN DNS names. */
  readonly dnsNames?: readonly string[];
  /** SAN IP addresses. */
  readonly ipAddresses?: readonly string[];
  /** SAN email addresses. */
  readonly emailAddresses?: readonly string[];
  /** Key algorithm. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Days of validity. */
  readonly validityDays?: number;
  /** Days before expiry at which it is renewed. */
  readonly renewBeforeDays?: number;
}

/** Rules of one leaf certificate; `prefix` is its argument path (e.g. `certificates[2]`). */
export function validateCertificateSpec(prefix: string, spec: CertificateSpec): Violation[] {
  const p = (field: string) => (prefix ? `${prefix}.${field}` : field);
  const out: Violation[] = [
    ...(prefix === "" ? [] : validateName(p("name"), spec.name)),
    ...validateKind(p("kind"), spec.kind),
    ...validateCommonName(p("commonName"), spec.commonName),
    ...validateKeyAlgorithm(p("keyAlgorithm"), spec.keyAlgorithm),
    ...validateDays(p("validityDays"), spec.validityDays),
    ...validateDays(p("renewBeforeDays"), spec.renewBeforeDays, 0),
    ...validateWindow(
      p("renewBeforeDays"),
      spec.renewBeforeDays,
      p("validityDays"),
      spec.validityDays,
    ),
  ];
  // A host or Puppet certificate's common name is also its DNS name (its SAN by default).
  if (
    (spec.kind === "host" || spec.kind === "puppet") &&
    out.every((v) => v.argument !== p("commonName"))
  ) {
    out.push(...validateDnsName(p("commonName"), spec.commonName));
  }
  out.push(
    ...validateList(p("dnsNames"), spec.dnsNames, '["web1.example.ch"]'),
    ...validateList(p("ipAddresses"), spec.ipAddresses, '["192.0.2.10"]'),
    ...validateList(p("emailAddresses"), spec.emailAddresses, '["alice@example.ch"]'),
  );
  const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
  for (const [i, d] of list(spec.dnsNames).entries())
    out.push(...validateDnsName(p(`dnsNames[${i}]`), d));
  for (const [i, a] of list(spec.ipAddresses).entries())
    out.push(...validateIpAddress(p(`ipAddresses[${i}]`), a));
  for (const [i, e] of list(spec.emailAddresses).entries())
    out.push(...validateEmail(p(`emailAddresses[${i}]`), e));
  if (spec.kind === "puppet" && spec.keyAlgorithm === "ecdsa-p384") {
    out.push(
      violation(
        p("keyAlgorithm"),
        spec.keyAlgorithm,
        "cannot carry keyEncipherment, which Puppet requires (RFC 5480 forbids it for EC keys)",
        "use rsa-3072 or rsa-4096, or leave it unset (rsa-4096)",
      ),
    );
  }
  if (
    spec.kind === "user" &&
    (spec.emailAddresses === undefined ||
      (Array.isArray(spec.emailAddresses) && spec.emailAddresses.length === 0))
  ) {
    out.push(
      violation(
        p("emailAddresses"),
        spec.emailAddresses,
        "is empty for a user certificate",
        "give the user's email address",
      ),
    );
  }
  if (
    (spec.kind === "host" || spec.kind === "puppet") &&
    Array.isArray(spec.dnsNames) &&
    !spec.dnsNames.includes(spec.commonName)
  ) {
    out.push(
      violation(
        p("dnsNames"),
        spec.dnsNames,
        `does not contain the commonName ${JSON.stringify(spec.commonName)}`,
        "add the commonName, or leave dnsNames unset to use [commonName]",
      ),
    );
  }
  return out;
}

/** Names must be unique within a list: each repeat is a violation. */
export function validateUnique(
  argument: string,
  names: readonly unknown[],
  what: string,
): Violation[] {
  const seen = new Set<unknown>();
  const out: Violation[] = [];
  names.forEach((name, i) => {
    if (seen.has(name)) {
      out.push(
        violation(
          `${argument}[${i}]`,
          name,
          `repeats the ${what} ${JSON.stringify(name)}`,
          `give each ${what} once`,
        ),
      );
    }
    seen.add(name);
  });
  return out;
}

/** A revocation as declared by name. */
export interface RevocationSpec {
  /** Name of the revoked item (a certificate or an intermediate). */
  readonly name: string;
  /** Reason. */
  readonly reason?: RevocationReason;
}

/** Each revocation names a known item, once, with a known reason. */
export function validateRevocations(
  argument: string,
  field: string,
  revocations: readonly (RevocationSpec | undefined)[],
  known: readonly string[],
  what: string,
): Violation[] {
  const out: Violation[] = [];
  revocations.forEach((r, i) => {
    if (r === undefined) {
      out.push(
        violation(
          `${argument}[${i}]`,
          r,
          "is not a revocation",
          `give { ${field}, reason }, e.g. { ${field}: "${known[0] ?? "web1"}" }`,
        ),
      );
      return;
    }
    if (!known.includes(r.name)) {
      out.push(
        violation(
          `${argument}[${i}].${field}`,
          r.name,
          `is not a declared ${what}`,
          known.length > 0 ? `name one of ${known.join(", ")}` : `declare the ${what} first`,
        ),
      );
    }
    out.push(...validateReason(`${argument}[${i}].reason`, r.reason));
  });
  out.push(
    ...validateUnique(
      argument,
      revocations.map((r) => (r === undefined ? Symbol() : r.name)),
      `revoked ${what}`,
    ),
  );
  return out;
}

/** A base DN and the organization label derived from it. */
export function validateBase(baseDn: unknown, organization: unknown): Violation[] {
  const out = validateBaseDn("baseDn", baseDn);
  if (organization !== undefined) {
    const ok =
      isOneLine(organization) &&
      parseDn(`CN=${organization} Root CA`).ok &&
      organization.length <= 40;
    if (!ok)
      out.push(
        violation(
          "organization",
          organization,
          "is not a short label",
          "use up to 40 characters, e.g. Example",
        ),
      );
  }
  return out;
}
