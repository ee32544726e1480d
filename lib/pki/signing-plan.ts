/**
 * The diff logic of the signing providers: decides from the stored outputs and the new
 * inputs whether a certificate or CRL must be re-signed, and why. An unchanged input never
 * re-signs; only a changed signed field, a new issuer key or the renewal window do.
 * Pure: no `@pulumi/pulumi` (the providers in `./signed-certificate` and `./signed-crl`
 * call it, and unit tests table-test it).
 */
import type { EncodedRdn } from "./dn";
import type { ExtendedKeyUsage, KeyUsage, RevocationReason } from "./profiles";
import { crlNeedsRefresh, needsRenewal } from "./validity";
import type { IssuerIdentity } from "./x509-sign";

/** The value Pulumi passes for an input that is not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Whether `value` is, or contains, a not-yet-known input. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object")
    return Object.values(value).some(containsUnknown);
  return false;
}

/** Inputs of a signed certificate (the signing key aside). */
export interface CertificateFields {
  /** Subject in X.509 order. */
  readonly subject: readonly EncodedRdn[];
  /** The certified public key, PEM. */
  readonly publicKeyPem: string;
  /** Issuer certificate PEM; absent for self-signed. */
  readonly issuerCertificatePem?: string | undefined;
  /** Basic constraints cA. */
  readonly isCa: boolean;
  /** Path length constraint; absent for none. */
  readonly pathLength?: number | undefined;
  /** Key usage. */
  readonly keyUsage: readonly KeyUsage[];
  /** Extended key usage. */
  readonly extendedKeyUsage: readonly ExtendedKeyUsage[];
  /** SAN DNS names. */
  readonly dnsNames: readonly string[];
  /** SAN IP addresses. */
  readonly ipAddresses: readonly string[];
  /** SAN email addresses. */
  readonly emailAddresses: readonly string[];
  /** CRL distribution point URL. */
  readonly crlDistributionUrl?: string | undefined;
  /** Days of validity. */
  readonly validityDays: number;
  /** Days before notAfter at which the certificate is re-issued. */
  readonly renewBeforeDays: number;
  /** Minutes notBefore is backdated. */
  readonly backdateMinutes: number;
  /** A revoked certificate is frozen: never renewed or re-signed. */
  readonly revoked: boolean;
}

/** What the provider stores for a signed certificate. */
export interface CertificateState extends CertificateFields {
  /** The certificate, PEM. */
  readonly certificatePem: string;
  /** Serial number, hex. */
  readonly serialNumber: string;
  /** notBefore, ISO 8601. */
  readonly notBefore: string;
  /** notAfter, ISO 8601. */
  readonly notAfter: string;
  /** Subject key identifier, hex. */
  readonly subjectKeyId: string;
  /** SHA-256 of the certified SPKI. */
  readonly publicKeySha256: string;
  /** Issuer subject as signed (absent for self-signed). */
  readonly issuerSubject?: string | undefined;
  /** SHA-256 of the issuer's SPKI as signed (absent for self-signed). */
  readonly issuerPublicKeySha256?: string | undefined;
}

/** What a diff decided. */
export interface Plan {
  /** Whether anything changes (re-sign or settings). */
  readonly changes: boolean;
  /** Properties whose change forces a new signature (a replacement). */
  readonly replaces: readonly string[];
}

const SIGNED_FIELDS = [
  "subject",
  "isCa",
  "pathLength",
  "keyUsage",
  "extendedKeyUsage",
  "dnsNames",
  "ipAddresses",
  "emailAddresses",
  "crlDistributionUrl",
  "validityDays",
] as const;

const SETTINGS = ["renewBeforeDays", "backdateMinutes"] as const;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Plans a certificate diff. `keyOf` and `issuerOf` derive key facts from PEM (injected so
 * that this module stays free of crypto). A revoked certificate never changes. Otherwise a
 * changed signed field, a different subject key, an issuer with another key or name, or
 * `nowMs` inside the renewal window replaces it; changed settings update it in place.
 */
export function planCertificate(
  olds: CertificateState,
  news: CertificateFields,
  nowMs: number,
  keyOf: (pem: string) => string,
  issuerOf: (pem: string) => IssuerIdentity,
): Plan {
  if (news.revoked) return { changes: false, replaces: [] };
  const replaces: string[] = [];
  for (const field of SIGNED_FIELDS) {
    if (containsUnknown(news[field]) || !same(olds[field], news[field])) replaces.push(field);
  }
  if (containsUnknown(news.publicKeyPem) || keyOf(news.publicKeyPem) !== olds.publicKeySha256) {
    replaces.push("publicKeyPem");
  }
  let issuerUnknown = false;
  if (containsUnknown(news.issuerCertificatePem)) {
    issuerUnknown = true;
  } else if (
    (news.issuerCertificatePem === undefined) !==
    (olds.issuerPublicKeySha256 === undefined)
  ) {
    replaces.push("issuerCertificatePem");
  } else if (news.issuerCertificatePem !== undefined) {
    const issuer = issuerOf(news.issuerCertificatePem);
    if (
      issuer.publicKeySha256 !== olds.issuerPublicKeySha256 ||
      issuer.subject !== olds.issuerSubject
    ) {
      replaces.push("issuerCertificatePem");
    }
  }
  if (needsRenewal(olds.notAfter, news.renewBeforeDays, nowMs)) replaces.push("notAfter");
  const settingsChanged = SETTINGS.some((s) => !same(olds[s], news[s]));
  return { changes: replaces.length > 0 || settingsChanged || issuerUnknown, replaces };
}

/** A revocation as declared (input of a CRL). */
export interface DeclaredRevocation {
  /** Serial number of the revoked certificate, hex. */
  readonly serialNumber: string;
  /** Reason. */
  readonly reason: RevocationReason;
  /** notAfter of the revoked certificate: the entry may leave the CRL after it. */
  readonly notAfter: string;
  /** Revocation date; when absent, the date the CRL first lists it. */
  readonly revokedAt?: string | undefined;
  /**
   * The certificate's name in its RootCa, for a reviewer (the preview report says "certificate
   * web1 revoked"); not signed into the CRL, and no reason to re-sign it.
   */
  readonly certificate?: string | undefined;
}

/** A revocation as signed into a CRL. */
export interface SignedRevocation {
  /** Serial number, lower-case hex without leading zero octets. */
  readonly serialNumber: string;
  /** Reason. */
  readonly reason: RevocationReason;
  /** notAfter of the revoked certificate. */
  readonly notAfter: string;
  /** Revocation date, ISO 8601. */
  readonly revokedAt: string;
}

/** Inputs of a CRL (the signing key aside). */
export interface CrlFields {
  /** The CA certificate, PEM. */
  readonly issuerCertificatePem: string;
  /** Declared revocations. */
  readonly revocations: readonly DeclaredRevocation[];
  /** Days from thisUpdate to nextUpdate. */
  readonly validityDays: number;
  /** Days before nextUpdate at which the CRL is re-signed. */
  readonly refreshBeforeDays: number;
}

/** What the provider stores for a CRL. */
export interface CrlState extends Omit<CrlFields, "revocations"> {
  /** Revocations as signed. */
  readonly revocations: readonly SignedRevocation[];
  /** The CRL, PEM (`X509 CRL`). */
  readonly crlPem: string;
  /** CRL Number. */
  readonly crlNumber: number;
  /** thisUpdate, ISO 8601. */
  readonly thisUpdate: string;
  /** nextUpdate, ISO 8601. */
  readonly nextUpdate: string;
  /** Issuer subject as signed. */
  readonly issuerSubject: string;
  /** SHA-256 of the issuer's SPKI as signed. */
  readonly issuerPublicKeySha256: string;
}

/** Normalizes a hex serial number: lower case, no leading zero octets. */
export function normalizeSerial(serial: string): string {
  const hex = serial.toLowerCase().replace(/[^0-9a-f]/g, "");
  return hex.replace(/^(00)+(?=..)/, "") || "00";
}

/**
 * The revocations a CRL signed at `nowMs` lists: every declared one (keeping the date it
 * was first listed), plus earlier ones no longer declared whose certificate has not expired
 * (revocation is sticky: removing a line from the list never un-revokes). Sorted by serial.
 */
export function mergeRevocations(
  previous: readonly SignedRevocation[],
  declared: readonly DeclaredRevocation[],
  nowMs: number,
): SignedRevocation[] {
  const before = new Map(previous.map((r) => [normalizeSerial(r.serialNumber), r]));
  const out = new Map<string, SignedRevocation>();
  for (const d of declared) {
    const serialNumber = normalizeSerial(d.serialNumber);
    const old = before.get(serialNumber);
    const revokedAt =
      d.revokedAt ?? old?.revokedAt ?? new Date(Math.floor(nowMs / 1000) * 1000).toISOString();
    out.set(serialNumber, { serialNumber, reason: d.reason, notAfter: d.notAfter, revokedAt });
  }
  for (const [serialNumber, old] of before) {
    if (!out.has(serialNumber) && new Date(old.notAfter).getTime() > nowMs)
      out.set(serialNumber, old);
  }
  return [...out.values()].sort((a, b) => (a.serialNumber < b.serialNumber ? -1 : 1));
}

/**
 * Plans a CRL diff: re-sign (an update, never a replacement, so the CRL Number keeps
 * growing) when the revocations, the issuer's key or name, or the validity change, or when
 * `nowMs` is within `refreshBeforeDays` of nextUpdate.
 */
export function planCrl(
  olds: CrlState,
  news: CrlFields,
  nowMs: number,
  issuerOf: (pem: string) => IssuerIdentity,
): Plan & { readonly reasons: readonly string[] } {
  const reasons: string[] = [];
  if (containsUnknown(news.issuerCertificatePem)) {
    reasons.push("issuerCertificatePem");
  } else {
    const issuer = issuerOf(news.issuerCertificatePem);
    if (
      issuer.publicKeySha256 !== olds.issuerPublicKeySha256 ||
      issuer.subject !== olds.issuerSubject
    ) {
      reasons.push("issuerCertificatePem");
    }
  }
  if (containsUnknown(news.revocations)) {
    reasons.push("revocations");
  } else if (!same(mergeRevocations(olds.revocations, news.revocations, nowMs), olds.revocations)) {
    reasons.push("revocations");
  }
  if (!same(olds.validityDays, news.validityDays)) reasons.push("validityDays");
  if (crlNeedsRefresh(olds.nextUpdate, news.refreshBeforeDays, nowMs)) reasons.push("nextUpdate");
  const settingsChanged = !same(olds.refreshBeforeDays, news.refreshBeforeDays);
  return { changes: reasons.length > 0 || settingsChanged, replaces: [], reasons };
}

/** The next CRL Number: greater than the last, and time-based so a re-created CRL keeps growing. */
export function nextCrlNumber(previous: number | undefined, nowMs: number): number {
  const seconds = Math.floor(nowMs / 1000);
  return previous === undefined ? seconds : Math.max(previous + 1, seconds);
}
