import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { assertValid } from "../validation/resource-error";
import { type Violation, violation } from "../validation/violations";
import { formatDn, subjectBelow, toX509Order } from "./dn";
import { type CaLevel, caProfile, type KeyAlgorithm, tlsKeyArgs } from "./profiles";
import { SignedCertificate } from "./signed-certificate";
import {
  validateBase,
  validateCommonName,
  validateDays,
  validateKeyAlgorithm,
  validateRootPathLength,
  validateWindow,
} from "./validate";
import { CA_RENEW_BEFORE_DAYS, CA_VALIDITY_DAYS, DEFAULT_BACKDATE_MINUTES } from "./validity";

/** What a certificate needs from the CA that signs it. */
export interface Issuer {
  /** The issuer's certificate, PEM. */
  readonly certificatePem: pulumi.Input<string>;
  /** The issuer's private key, PEM (secret). */
  readonly privateKeyPem: pulumi.Input<string>;
  /** URL of the issuer's CRL, written into what it signs. @default none (no CRL distribution point) */
  readonly crlUrl?: pulumi.Input<string>;
  /**
   * The issuer's subject DN (RFC 4514), registered as `issuerDn` of what it signs so that policies
   * (policy/, docs/pull-requests.md) see in a preview which CA signs a certificate.
   * @default none: the certificate registers no `issuerDn`
   */
  readonly subjectDn?: string;
}

/** Arguments of {@link CertificateAuthority}. */
export interface CertificateAuthorityArgs {
  /** Common name of the CA, e.g. "Example Host CA production". */
  readonly commonName: string;
  /** Base DN the subject ends with, most specific first, e.g. "dc=example,dc=ch". */
  readonly baseDn: string;
  /** root (self-signed), level1 (path length 1) or level2 (path length 0). */
  readonly level: CaLevel;
  /** Path length of a root: none or >= 2. Only for level root. @default none (no limit) */
  readonly pathLength?: number;
  /** The CA that signs this one. Required for level1 and level2; absent for a root. @default none */
  readonly issuer?: Issuer;
  /** Key algorithm of the CA key. @default "ecdsa-p384" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Days of validity. @default 7300 (root), 3650 (level1), 1825 (level2) */
  readonly validityDays?: number;
  /** Days before expiry at which a preview shows the certificate replaced (same key). @default 365 (root), 180 (level1), 90 (level2) */
  readonly renewBeforeDays?: number;
  /** Minutes notBefore lies in the past, for clients with slow clocks. @default 5 */
  readonly backdateMinutes?: number;
  /** URL where this CA's CRL is published (written into what it signs). @default none */
  readonly crlUrl?: string;
  /** Freeze a revoked CA certificate: never renewed or re-signed. @default false */
  readonly revoked?: boolean;
}

/** Validates {@link CertificateAuthorityArgs}; returns every violation. */
export function validateCertificateAuthorityArgs(args: CertificateAuthorityArgs): Violation[] {
  const out: Violation[] = [
    ...validateBase(args.baseDn, undefined),
    ...validateCommonName("commonName", args.commonName),
    ...validateKeyAlgorithm("keyAlgorithm", args.keyAlgorithm),
    ...validateDays("validityDays", args.validityDays),
    ...validateDays("renewBeforeDays", args.renewBeforeDays, 0),
    ...validateDays("backdateMinutes", args.backdateMinutes, 0),
  ];
  if (!["root", "level1", "level2"].includes(args.level)) {
    out.push(violation("level", args.level, "is not a CA level", "use root, level1 or level2"));
  } else {
    out.push(
      ...validateWindow(
        "renewBeforeDays",
        args.renewBeforeDays ?? CA_RENEW_BEFORE_DAYS[args.level],
        "validityDays",
        args.validityDays ?? CA_VALIDITY_DAYS[args.level],
      ),
    );
    if (args.level === "root" && args.issuer !== undefined) {
      out.push(
        violation(
          "issuer",
          "(set)",
          "is set for a root",
          "leave issuer unset: a root signs itself",
        ),
      );
    }
    if (args.level !== "root" && args.issuer === undefined) {
      out.push(
        violation(
          "issuer",
          undefined,
          `is missing for a ${args.level} CA`,
          "pass the parent CA's issuer",
        ),
      );
    }
    if (args.level !== "root" && args.pathLength !== undefined) {
      out.push(
        violation(
          "pathLength",
          args.pathLength,
          `is set for a ${args.level} CA`,
          "leave it unset: the level fixes it",
        ),
      );
    }
  }
  if (args.level === "root") out.push(...validateRootPathLength("pathLength", args.pathLength));
  if (args.crlUrl !== undefined && !/^https?:\/\/[^/\s]+\/\S+$/.test(args.crlUrl)) {
    out.push(
      violation(
        "crlUrl",
        args.crlUrl,
        "is not an http(s) URL of a file",
        "use e.g. http://binhost.example.ch/crl/host.crl",
      ),
    );
  }
  return out;
}

/**
 * A certificate authority: its key (`tls.PrivateKey`, explicit algorithm) and its CA
 * certificate, self-signed for a root or signed by `issuer`, with basic constraints and key
 * usage (critical), subject and authority key identifiers and the issuer's CRL distribution
 * point. Children: `${name}-key` (tls:PrivateKey), `${name}-cert` (SignedCertificate).
 */
export class CertificateAuthority extends pulumi.ComponentResource {
  /** The CA's key. */
  public readonly key: tls.PrivateKey;
  /** The CA certificate resource. */
  public readonly certificate: SignedCertificate;
  /** The CA certificate, PEM. */
  public readonly certificatePem: pulumi.Output<string>;
  /** The CA's private key, PKCS#8 PEM (secret). */
  public readonly privateKeyPem: pulumi.Output<string>;
  /** Serial number of the CA certificate, hex. */
  public readonly serialNumber: pulumi.Output<string>;
  /** notAfter of the CA certificate, ISO 8601. */
  public readonly notAfter: pulumi.Output<string>;
  /** Subject DN, RFC 4514 (most specific first). */
  public readonly subjectDn: string;
  /** What children pass as their `issuer`. */
  public readonly issuer: Issuer;

  constructor(
    name: string,
    args: CertificateAuthorityArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("gentoo-infra:pki:CertificateAuthority", name, {}, opts);
    assertValid(this, `CertificateAuthority "${name}"`, validateCertificateAuthorityArgs(args));

    const algorithm = args.keyAlgorithm ?? "ecdsa-p384";
    const subject = subjectBelow(args.baseDn, args.commonName);
    const profile = caProfile(args.level, args.pathLength);
    this.subjectDn = formatDn(subject);

    this.key = new tls.PrivateKey(`${name}-key`, tlsKeyArgs(algorithm), { parent: this });
    const ownKey = pulumi.secret(this.key.privateKeyPemPkcs8);
    this.certificate = new SignedCertificate(
      `${name}-cert`,
      {
        subject: toX509Order(subject),
        publicKeyPem: this.key.publicKeyPem,
        ...(args.issuer ? { issuerCertificatePem: args.issuer.certificatePem } : {}),
        signingKeyPem: args.issuer ? args.issuer.privateKeyPem : ownKey,
        isCa: true,
        ...(profile.pathLength === undefined ? {} : { pathLength: profile.pathLength }),
        keyUsage: profile.keyUsage,
        extendedKeyUsage: profile.extendedKeyUsage,
        ...(args.issuer?.crlUrl === undefined ? {} : { crlDistributionUrl: args.issuer.crlUrl }),
        validityDays: args.validityDays ?? CA_VALIDITY_DAYS[args.level],
        renewBeforeDays: args.renewBeforeDays ?? CA_RENEW_BEFORE_DAYS[args.level],
        backdateMinutes: args.backdateMinutes ?? DEFAULT_BACKDATE_MINUTES,
        revoked: args.revoked ?? false,
      },
      { parent: this },
    );

    this.certificatePem = this.certificate.certificatePem;
    this.privateKeyPem = ownKey;
    this.serialNumber = this.certificate.serialNumber;
    this.notAfter = this.certificate.notAfter;
    this.issuer = {
      certificatePem: this.certificatePem,
      privateKeyPem: this.privateKeyPem,
      ...(args.crlUrl === undefined ? {} : { crlUrl: args.crlUrl }),
      subjectDn: this.subjectDn,
    };
    this.registerOutputs({
      subjectDn: this.subjectDn,
      certificatePem: this.certificatePem,
      privateKeyPem: this.privateKeyPem,
      serialNumber: this.serialNumber,
      notAfter: this.notAfter,
    });
  }
}
