import * as pulumi from "@pulumi/pulumi";
import { assertValid } from "../validation/resource-error";
import { Certificate } from "./certificate";
import { CertificateAuthority, type Issuer } from "./certificate-authority";
import { organizationOf } from "./dn";
import { PackageSigningKey } from "./package-signing-key";
import { CERTIFICATE_KINDS, type CertificateKind, defaultLeafKeyAlgorithm } from "./profiles";
import { RevocationList } from "./revocation-list";
import { caCommonNames, crlFileName, RootAuthority } from "./root-authority";
import type { RootCaArgs } from "./root-ca-args";
import { validateRootCaArgs } from "./root-ca-validate";
import { CRL_REFRESH_BEFORE_DAYS, CRL_VALIDITY_DAYS } from "./validity";

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
    assertValid(this, `RootCa "${name}"`, validateRootCaArgs(name, args));

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
