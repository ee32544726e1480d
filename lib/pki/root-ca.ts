import * as pulumi from "@pulumi/pulumi";
import { assertValid } from "../validation/resource-error";
import { type Violation, violation } from "../validation/violations";
import { Certificate, LEAF_VALIDITY_DAYS } from "./certificate";
import {
  CA_RENEW_BEFORE_DAYS,
  CA_VALIDITY_DAYS,
  CertificateAuthority,
  type Issuer,
} from "./certificate-authority";
import { organizationOf } from "./dn";
import { validatePgpKeyRequest } from "./openpgp-key";
import { PackageSigningKey, type PackageSigningKeyArgs } from "./package-signing-key";
import {
  CERTIFICATE_KINDS,
  type CertificateKind,
  defaultLeafKeyAlgorithm,
  type KeyAlgorithm,
  type RevocationReason,
} from "./profiles";
import { CRL_REFRESH_BEFORE_DAYS, CRL_VALIDITY_DAYS, RevocationList } from "./revocation-list";
import { caCommonNames, crlFileName, RootAuthority } from "./root-authority";
import {
  type CertificateSpec,
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

/** Where the root and the level-1 intermediate come from. */
export type RootCaRoot =
  | {
      /** Create root and level 1 in this stack (development and tests; the root key is then online). */
      readonly mode: "in-stack";
    }
  | {
      /** Take the level 1 from the offline root stack (examples/pki-root) through a StackReference. */
      readonly mode: "offline";
      /** The root certificate, PEM. */
      readonly rootCertificatePem: pulumi.Input<string>;
      /** The root's CRL, PEM; published with the other CRLs when given. @default not published by this stack */
      readonly rootCrlPem?: pulumi.Input<string>;
      /** The level-1 certificate signed for `intermediate`, PEM. */
      readonly level1CertificatePem: pulumi.Input<string>;
      /** The level-1 private key, PEM (a secret output of the root stack). */
      readonly level1PrivateKeyPem: pulumi.Input<string>;
    };

/** A certificate RootCa issues: a {@link CertificateSpec} with a name. */
export interface RootCaCertificate extends CertificateSpec {
  /** Name, unique in `certificates`; part of the child's name (`<rootca>-cert-<name>`). */
  readonly name: string;
}

/** Arguments of {@link RootCa}. */
export interface RootCaArgs {
  /** Base DN, most specific first, e.g. "dc=example,dc=ch". */
  readonly baseDn: string;
  /** Label in CA common names. @default the first DC (or O) of baseDn */
  readonly organization?: string;
  /** Key algorithm of CA keys and of leaf keys that name none (puppet leaves default to rsa-4096). @default "ecdsa-p384" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** URL under which the CRL files in `crlFiles` are served (by BinhostMirror, under `/crl`), e.g. "http://binhost.example.ch/crl". */
  readonly crlBaseUrl: string;
  /** Name of the level-1 intermediate (usually the environment), e.g. "production". */
  readonly intermediate: string;
  /** Where root and level 1 come from. */
  readonly root: RootCaRoot;
  /** Days of validity of the level-2 sub-CAs. @default 1825 */
  readonly subCaValidityDays?: number;
  /** Days before expiry at which a sub-CA certificate is re-issued (same key). @default 90 */
  readonly subCaRenewBeforeDays?: number;
  /** End-entity certificates to issue, each by the sub-CA of its kind. @default none */
  readonly certificates?: readonly RootCaCertificate[];
  /** Days before expiry at which a leaf is re-issued, unless it sets its own. @default 30 */
  readonly renewBeforeDays?: number;
  /** Revoked certificates by name; each stays declared in `certificates` until it expires. @default none */
  readonly revoked?: readonly {
    readonly certificate: string;
    readonly reason?: RevocationReason;
  }[];
  /** Days from thisUpdate to nextUpdate of the level-1 and sub-CA CRLs. @default 7 */
  readonly crlValidityDays?: number;
  /** Days before nextUpdate at which those CRLs are re-signed by `pulumi up`. @default 3 */
  readonly crlRefreshBeforeDays?: number;
  /** An OpenPGP key for signing binary packages. @default none */
  readonly packageSigningKey?: PackageSigningKeyArgs;
}

/** Validates {@link RootCaArgs}; returns every violation. */
export function validateRootCaArgs(args: RootCaArgs): Violation[] {
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

/**
 * The PKI of one environment: root → level-1 intermediate (path length 1) → level-2
 * sub-CAs for puppet, user, client and host certificates (path length 0) → the declared
 * end-entity certificates; one CRL per CA it holds the key of; optionally the OpenPGP key
 * that signs binary packages. With `root.mode: "offline"` the root and level 1 come from the
 * offline root stack and this stack never sees the root key.
 *
 * Children: `${name}-root` (RootAuthority, in-stack only), `${name}-<kind>-ca` (4),
 * `${name}-level1-crl`, `${name}-<kind>-crl` (4), `${name}-cert-<certificate>`,
 * `${name}-package-signing` (when `packageSigningKey` is set).
 */
export class RootCa extends pulumi.ComponentResource {
  /** The root CA, level 1 and root CRL of this stack, when `root.mode` is "in-stack". */
  public readonly rootAuthority: RootAuthority | undefined;
  /** The base DN every certificate of this PKI is issued under (the `baseDn` argument). */
  public readonly baseDn: string;
  /** The level-2 sub-CAs by kind. */
  public readonly subCas: Readonly<Record<CertificateKind, CertificateAuthority>>;
  /** The end-entity certificates by name. */
  public readonly certificates: Readonly<Record<string, Certificate>>;
  /** The CRLs this stack signs, by CA slug (`level1-<intermediate>`, `<intermediate>-<kind>`). */
  public readonly crls: Readonly<Record<string, RevocationList>>;
  /** CRL files to publish under `crlBaseUrl`: file name → PEM. */
  public readonly crlFiles: pulumi.Output<Record<string, string>>;
  /** The root certificate, PEM: the trust anchor clients install. */
  public readonly rootCertificatePem: pulumi.Output<string>;
  /** Per kind, the chain a server sends after its certificate: sub-CA then level-1, PEM. */
  public readonly chainPems: Readonly<Record<CertificateKind, pulumi.Output<string>>>;
  /** The package signing key, when `packageSigningKey` is set. */
  public readonly packageSigningKey: PackageSigningKey | undefined;

  constructor(name: string, args: RootCaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:pki:RootCa", name, {}, opts);
    assertValid(this, `RootCa "${name}"`, validateRootCaArgs(args));

    this.baseDn = args.baseDn;
    const organization = args.organization ?? organizationOf(args.baseDn);
    const keyAlgorithm = args.keyAlgorithm ?? "ecdsa-p384";
    const url = (slug: string) => `${args.crlBaseUrl}/${crlFileName(slug)}`;
    const level1Slug = `level1-${args.intermediate}`;
    const files: Record<string, pulumi.Input<string>> = {};

    let level1: Issuer;
    if (args.root.mode === "in-stack") {
      this.rootAuthority = new RootAuthority(
        `${name}-root`,
        {
          baseDn: args.baseDn,
          organization,
          keyAlgorithm,
          crlBaseUrl: args.crlBaseUrl,
          intermediates: [args.intermediate],
        },
        { parent: this },
      );
      level1 = (this.rootAuthority.intermediates[args.intermediate] as CertificateAuthority).issuer;
      this.rootCertificatePem = this.rootAuthority.rootCertificatePem;
      files[crlFileName("root")] = this.rootAuthority.crl.crlPem;
    } else {
      this.rootAuthority = undefined;
      level1 = {
        certificatePem: args.root.level1CertificatePem,
        privateKeyPem: pulumi.secret(args.root.level1PrivateKeyPem),
        crlUrl: url(level1Slug),
      };
      this.rootCertificatePem = pulumi.output(args.root.rootCertificatePem);
      if (args.root.rootCrlPem !== undefined) files[crlFileName("root")] = args.root.rootCrlPem;
    }

    const crlArgs = {
      validityDays: args.crlValidityDays ?? CRL_VALIDITY_DAYS,
      refreshBeforeDays: args.crlRefreshBeforeDays ?? CRL_REFRESH_BEFORE_DAYS,
    };
    const crls: Record<string, RevocationList> = {};
    crls[level1Slug] = new RevocationList(
      `${name}-level1-crl`,
      { issuer: level1, ...crlArgs },
      { parent: this },
    );

    const subCas = {} as Record<CertificateKind, CertificateAuthority>;
    const chainPems = {} as Record<CertificateKind, pulumi.Output<string>>;
    for (const kind of CERTIFICATE_KINDS) {
      subCas[kind] = new CertificateAuthority(
        `${name}-${kind}-ca`,
        {
          commonName: caCommonNames.level2(organization, args.intermediate, kind),
          baseDn: args.baseDn,
          level: "level2",
          issuer: level1,
          keyAlgorithm,
          ...(args.subCaValidityDays === undefined ? {} : { validityDays: args.subCaValidityDays }),
          ...(args.subCaRenewBeforeDays === undefined
            ? {}
            : { renewBeforeDays: args.subCaRenewBeforeDays }),
          crlUrl: url(`${args.intermediate}-${kind}`),
        },
        { parent: this },
      );
      chainPems[kind] = pulumi.concat(subCas[kind].certificatePem, level1.certificatePem);
    }

    const revoked = new Map(
      (args.revoked ?? []).map((r) => [r.certificate, r.reason ?? "unspecified"] as const),
    );
    const certificates: Record<string, Certificate> = {};
    for (const spec of args.certificates ?? []) {
      certificates[spec.name] = new Certificate(
        `${name}-cert-${spec.name}`,
        {
          kind: spec.kind,
          commonName: spec.commonName,
          baseDn: args.baseDn,
          issuer: subCas[spec.kind].issuer,
          ...(spec.dnsNames === undefined ? {} : { dnsNames: spec.dnsNames }),
          ...(spec.ipAddresses === undefined ? {} : { ipAddresses: spec.ipAddresses }),
          ...(spec.emailAddresses === undefined ? {} : { emailAddresses: spec.emailAddresses }),
          keyAlgorithm: spec.keyAlgorithm ?? defaultLeafKeyAlgorithm(spec.kind, keyAlgorithm),
          ...(spec.validityDays === undefined ? {} : { validityDays: spec.validityDays }),
          ...((spec.renewBeforeDays ?? args.renewBeforeDays) === undefined
            ? {}
            : { renewBeforeDays: spec.renewBeforeDays ?? args.renewBeforeDays }),
          revoked: revoked.has(spec.name),
        },
        { parent: this },
      );
    }

    for (const kind of CERTIFICATE_KINDS) {
      const revocations = (args.certificates ?? [])
        .filter((c) => c.kind === kind && revoked.has(c.name))
        .map((c) => {
          const cert = certificates[c.name] as Certificate;
          const reason = revoked.get(c.name) ?? "unspecified";
          return pulumi
            .all([cert.serialNumber, cert.notAfter])
            .apply(([serialNumber, notAfter]) => ({
              serialNumber,
              notAfter,
              reason,
              certificate: c.name,
            }));
        });
      const slug = `${args.intermediate}-${kind}`;
      crls[slug] = new RevocationList(
        `${name}-${kind}-crl`,
        { issuer: subCas[kind].issuer, revocations, ...crlArgs },
        { parent: this },
      );
    }
    for (const [slug, crl] of Object.entries(crls)) files[crlFileName(slug)] = crl.crlPem;

    this.packageSigningKey = args.packageSigningKey
      ? new PackageSigningKey(`${name}-package-signing`, args.packageSigningKey, { parent: this })
      : undefined;

    this.subCas = subCas;
    this.certificates = certificates;
    this.crls = crls;
    this.chainPems = chainPems;
    this.crlFiles = pulumi.output(files) as pulumi.Output<Record<string, string>>;
    this.registerOutputs({
      // Plain and known in a preview: what the policy pack (policy/) checks.
      intermediate: args.intermediate,
      rootMode: args.root.mode,
      subCaDns: Object.fromEntries(Object.entries(subCas).map(([k, ca]) => [k, ca.subjectDn])),
      rootCertificatePem: this.rootCertificatePem,
      crlFiles: this.crlFiles,
    });
  }
}
