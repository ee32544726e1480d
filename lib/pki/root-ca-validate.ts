/** Validation of {@link RootCaArgs}: every problem that can be known before anything is created. */
import { type Violation, violation } from "../validation/violations";
import { validatePgpKeyRequest } from "./openpgp-key";
import type { RevocationReason } from "./profiles";
import type { RootCaArgs, RootCaCertificate } from "./root-ca-args";
import {
  isRecord,
  validateBase,
  validateCertificateSpec,
  validateCrlBaseUrl,
  validateDays,
  validateKeyAlgorithm,
  validateList,
  validateName,
  validateOutlives,
  validateRevocations,
  validateUnique,
  validateWindow,
} from "./validate";
import {
  CA_RENEW_BEFORE_DAYS,
  CA_VALIDITY_DAYS,
  CRL_REFRESH_BEFORE_DAYS,
  CRL_VALIDITY_DAYS,
  LEAF_VALIDITY_DAYS,
} from "./validity";

/**
 * Every problem of a RootCa's arguments, before anything is created: the base DN, key
 * algorithm, CRL URL, intermediate name, lifetimes and renewal windows (each within its
 * issuer's), the certificates and revocations. `_name` is the component's name: RootCa's
 * children take any name, so nothing about it is checked; it is taken like every component's
 * validator takes it.
 */
export function validateRootCaArgs(_name: string, args: RootCaArgs): Violation[] {
  const subCaDays = args.subCaValidityDays ?? CA_VALIDITY_DAYS.level2;
  const out: Violation[] = [
    ...validateBase(args.baseDn, args.organization),
    ...validateKeyAlgorithm("keyAlgorithm", args.keyAlgorithm),
    ...validateCrlBaseUrl("crlBaseUrl", args.crlBaseUrl),
    ...validateName("intermediate", args.intermediate),
    ...validateDays("subCaValidityDays", args.subCaValidityDays),
    ...validateDays("subCaRenewBeforeDays", args.subCaRenewBeforeDays, 0),
    ...validateWindow(
      "subCaRenewBeforeDays",
      args.subCaRenewBeforeDays ?? CA_RENEW_BEFORE_DAYS.level2,
      "subCaValidityDays",
      subCaDays,
    ),
    ...validateDays("renewBeforeDays", args.renewBeforeDays, 0),
    ...validateDays("crlValidityDays", args.crlValidityDays),
    ...validateDays("crlRefreshBeforeDays", args.crlRefreshBeforeDays, 0),
    ...validateWindow(
      "crlRefreshBeforeDays",
      args.crlRefreshBeforeDays ?? CRL_REFRESH_BEFORE_DAYS,
      "crlValidityDays",
      args.crlValidityDays ?? CRL_VALIDITY_DAYS,
    ),
  ];
  const mode = (args.root as { mode?: unknown } | undefined)?.mode;
  if (mode !== "in-stack" && mode !== "offline") {
    out.push(violation("root.mode", mode, "is not a root mode", 'use "in-stack" or "offline"'));
  } else if (mode === "in-stack") {
    out.push(
      ...validateOutlives(
        "subCaValidityDays",
        subCaDays,
        "the level-1 validity",
        CA_VALIDITY_DAYS.level1,
      ),
    );
  }
  out.push(
    ...validateList(
      "certificates",
      args.certificates,
      '[{ name: "web1", kind: "host", commonName: "web1.example.ch" }]',
    ),
    ...validateList("revoked", args.revoked, '[{ certificate: "web1" }]'),
  );
  const certificates: readonly RootCaCertificate[] = Array.isArray(args.certificates)
    ? args.certificates
    : [];
  certificates.forEach((c: unknown, i) => {
    if (!isRecord(c)) {
      out.push(
        violation(
          `certificates[${i}]`,
          c,
          "is not a certificate",
          'give { name, kind, commonName }, e.g. { name: "web1", kind: "host", commonName: "web1.example.ch" }',
        ),
      );
    }
  });
  certificates.filter(isRecord).forEach((c) => {
    const i = certificates.indexOf(c);
    const spec = { ...c, renewBeforeDays: c.renewBeforeDays ?? args.renewBeforeDays };
    out.push(...validateCertificateSpec(`certificates[${i}]`, spec));
    out.push(
      ...validateOutlives(
        `certificates[${i}].validityDays`,
        c.validityDays ?? LEAF_VALIDITY_DAYS,
        "subCaValidityDays",
        subCaDays,
      ),
    );
  });
  out.push(
    ...validateUnique(
      "certificates",
      certificates.map((c) => (isRecord(c) ? c.name : Symbol())),
      "certificate name",
    ),
  );
  out.push(
    ...validateRevocations(
      "revoked",
      "certificate",
      (Array.isArray(args.revoked) ? args.revoked : []).map((r: unknown) =>
        isRecord(r)
          ? {
              name: r.certificate as string,
              ...(r.reason ? { reason: r.reason as RevocationReason } : {}),
            }
          : undefined,
      ),
      certificates.filter(isRecord).map((c) => c.name),
      "certificate",
    ),
  );
  if (args.packageSigningKey !== undefined) {
    for (const v of validatePgpKeyRequest(args.packageSigningKey)) {
      out.push({ ...v, argument: `packageSigningKey.${v.argument}` });
    }
  }
  return out;
}
