import * as pulumi from "@pulumi/pulumi";
import type { EncodedRdn } from "./dn";
import type { ExtendedKeyUsage, KeyUsage } from "./profiles";
import { type CertificateFields, type CertificateState, planCertificate } from "./signing-plan";
import { issuerIdentity, publicKeySha256, signCertificate } from "./x509-sign";

/** Inputs of {@link SignedCertificate}: an X.509 certificate signed with @peculiar/x509. */
export interface SignedCertificateArgs {
  /** Subject in X.509 order (`toX509Order`). */
  readonly subject: pulumi.Input<readonly EncodedRdn[]>;
  /** The certified public key, SPKI PEM (`tls.PrivateKey.publicKeyPem`). */
  readonly publicKeyPem: pulumi.Input<string>;
  /** The issuer's certificate, PEM. @default none: self-signed with `signingKeyPem` */
  readonly issuerCertificatePem?: pulumi.Input<string>;
  /** The issuer's private key (the subject's own for self-signed), PEM; kept secret. */
  readonly signingKeyPem: pulumi.Input<string>;
  /** Basic constraints cA. */
  readonly isCa: boolean;
  /** Path length constraint of a CA. @default none */
  readonly pathLength?: number;
  /** Key usage bits (critical). */
  readonly keyUsage: readonly KeyUsage[];
  /** Extended key usages. */
  readonly extendedKeyUsage: readonly ExtendedKeyUsage[];
  /** SAN DNS names. @default none */
  readonly dnsNames?: pulumi.Input<readonly string[]>;
  /** SAN IP addresses. @default none */
  readonly ipAddresses?: pulumi.Input<readonly string[]>;
  /** SAN email addresses. @default none */
  readonly emailAddresses?: pulumi.Input<readonly string[]>;
  /** URL of the issuer's CRL. @default none (a root) */
  readonly crlDistributionUrl?: pulumi.Input<string>;
  /** Days from signing to notAfter. */
  readonly validityDays: number;
  /** Days before notAfter at which a preview shows a replacement (renewal). */
  readonly renewBeforeDays: number;
  /** Minutes notBefore lies before the signing time. */
  readonly backdateMinutes: number;
  /** Freeze a revoked certificate: never renewed or re-signed. @default false */
  readonly revoked?: pulumi.Input<boolean>;
}

/**
 * The dynamic provider. Pulumi serializes it with what it captures; the signing code loads
 * @peculiar/x509 lazily in the provider's process (see `x509-sign.ts`). Its outputs echo
 * the inputs except the signing key, which never reaches the state outside the (secret)
 * inputs.
 */
export const signedCertificateProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: unknown, news: Record<string, unknown>) {
    const failures = ["subject", "publicKeyPem", "signingKeyPem"]
      .filter((p) => news[p] === undefined)
      .map((property) => ({ property, reason: `${property} is required` }));
    return { inputs: news, failures };
  },

  async diff(_id: string, olds: CertificateState, news: CertificateFields) {
    const plan = planCertificate(
      olds,
      withDefaults(news),
      Date.now(),
      publicKeySha256,
      issuerIdentity,
    );
    return { changes: plan.changes, replaces: [...plan.replaces], deleteBeforeReplace: false };
  },

  async create(inputs: CertificateFields & { signingKeyPem: string }) {
    const state = await sign(withDefaults(inputs), inputs.signingKeyPem);
    return { id: state.serialNumber, outs: state };
  },

  async update(
    _id: string,
    olds: CertificateState,
    news: CertificateFields & { signingKeyPem: string },
  ) {
    const fields = withDefaults(news);
    const plan = planCertificate(olds, fields, Date.now(), publicKeySha256, issuerIdentity);
    if (plan.replaces.length > 0) return { outs: await sign(fields, news.signingKeyPem) };
    const { renewBeforeDays, backdateMinutes, revoked } = fields;
    return { outs: { ...olds, renewBeforeDays, backdateMinutes, revoked } };
  },
};

function withDefaults(news: CertificateFields): CertificateFields {
  const { signingKeyPem: _secret, ...rest } = news as CertificateFields & {
    signingKeyPem?: string;
  };
  return {
    ...rest,
    dnsNames: news.dnsNames ?? [],
    ipAddresses: news.ipAddresses ?? [],
    emailAddresses: news.emailAddresses ?? [],
    revoked: news.revoked ?? false,
  };
}

async function sign(fields: CertificateFields, signingKeyPem: string): Promise<CertificateState> {
  const facts = await signCertificate({ ...fields, signingKeyPem });
  const issuer = fields.issuerCertificatePem
    ? issuerIdentity(fields.issuerCertificatePem)
    : undefined;
  // JSON drops undefined fields, which the provider protocol's Struct cannot carry.
  return JSON.parse(
    JSON.stringify({
      ...fields,
      ...facts,
      publicKeySha256: publicKeySha256(fields.publicKeyPem),
      issuerSubject: issuer?.subject,
      issuerPublicKeySha256: issuer?.publicKeySha256,
    }),
  );
}

/**
 * An X.509 certificate signed by our code (a Pulumi dynamic resource): the parts
 * `@pulumi/tls` cannot write (DC components, path length 0, CRL distribution points).
 * Re-signed only when a signed field, the subject key or the issuer's key changes, or when
 * the renewal window is reached (shown as a replacement in preview).
 */
export class SignedCertificate extends pulumi.dynamic.Resource {
  /** The certificate, PEM. */
  declare public readonly certificatePem: pulumi.Output<string>;
  /** Serial number, lower-case hex. */
  declare public readonly serialNumber: pulumi.Output<string>;
  /** notBefore, ISO 8601. */
  declare public readonly notBefore: pulumi.Output<string>;
  /** notAfter, ISO 8601. */
  declare public readonly notAfter: pulumi.Output<string>;
  /** Subject key identifier, lower-case hex. */
  declare public readonly subjectKeyId: pulumi.Output<string>;

  constructor(name: string, args: SignedCertificateArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      signedCertificateProvider,
      name,
      {
        ...args,
        signingKeyPem: pulumi.secret(args.signingKeyPem),
        certificatePem: undefined,
        serialNumber: undefined,
        notBefore: undefined,
        notAfter: undefined,
        subjectKeyId: undefined,
      },
      opts,
      "gentoo-infra",
      "SignedCertificate",
    );
  }
}
