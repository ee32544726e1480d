import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { assertValid } from "../validation/resource-error";
import type { Issuer } from "./certificate-authority";
import { validateCertificateArgs } from "./certificate-validate";
import { formatDn, subjectBelow, toX509Order } from "./dn";
import {
  type CertificateKind,
  defaultLeafKeyAlgorithm,
  type KeyAlgorithm,
  KIND_UNITS,
  leafProfile,
  tlsKeyArgs,
} from "./profiles";
import { SignedCertificate } from "./signed-certificate";
import { DEFAULT_BACKDATE_MINUTES, LEAF_RENEW_BEFORE_DAYS, LEAF_VALIDITY_DAYS } from "./validity";

/** Arguments of {@link Certificate}. */
export interface CertificateArgs {
  /** host (serverAuth), client (clientAuth), user (clientAuth, emailProtection) or puppet (serverAuth, clientAuth). */
  readonly kind: CertificateKind;
  /** Subject common name, e.g. the host's FQDN or the user's name. */
  readonly commonName: string;
  /** Base DN; the subject is `CN=<commonName>,OU=<hosts|clients|users|puppet>,<baseDn>`. */
  readonly baseDn: string;
  /** The CA that signs it (normally the level-2 sub-CA of the same kind). */
  readonly issuer: Issuer;
  /** SAN DNS names. @default [commonName] for host and puppet, none otherwise */
  readonly dnsNames?: readonly string[];
  /** SAN IP addresses. @default none */
  readonly ipAddresses?: readonly string[];
  /** SAN email addresses; required for kind user. @default none */
  readonly emailAddresses?: readonly string[];
  /** Key algorithm. @default "rsa-4096" for puppet (Puppet needs keyEncipherment), "ecdsa-p384" otherwise */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Days of validity. @default 365 */
  readonly validityDays?: number;
  /** Days before expiry at which a preview shows a replacement (new serial, same key). @default 30 */
  readonly renewBeforeDays?: number;
  /** Minutes notBefore lies in the past. @default 5 */
  readonly backdateMinutes?: number;
  /** Revoked: never renewed or re-signed again; list its serial on the issuer's CRL. @default false */
  readonly revoked?: boolean;
}

/**
 * An end-entity certificate: a key (`tls.PrivateKey`) and a certificate signed by `issuer`
 * with the key usages of its kind. Children: `${name}-key` (tls:PrivateKey),
 * `${name}-cert` (SignedCertificate).
 */
export class Certificate extends pulumi.ComponentResource {
  /** The key. */
  public readonly key: tls.PrivateKey;
  /** The certificate resource. */
  public readonly certificate: SignedCertificate;
  /** The certificate, PEM. */
  public readonly certificatePem: pulumi.Output<string>;
  /** The private key, PKCS#8 PEM (secret). */
  public readonly privateKeyPem: pulumi.Output<string>;
  /** Serial number, hex. */
  public readonly serialNumber: pulumi.Output<string>;
  /** notAfter, ISO 8601. */
  public readonly notAfter: pulumi.Output<string>;
  /** Subject DN, RFC 4514. */
  public readonly subjectDn: string;

  constructor(name: string, args: CertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:pki:Certificate", name, {}, opts);
    assertValid(this, `Certificate "${name}"`, validateCertificateArgs(args));

    const algorithm = args.keyAlgorithm ?? defaultLeafKeyAlgorithm(args.kind, "ecdsa-p384");
    const profile = leafProfile(args.kind, algorithm);
    const subject = subjectBelow(args.baseDn, args.commonName, KIND_UNITS[args.kind]);
    const dnsNames =
      args.dnsNames ?? (args.kind === "host" || args.kind === "puppet" ? [args.commonName] : []);
    this.subjectDn = formatDn(subject);

    this.key = new tls.PrivateKey(`${name}-key`, tlsKeyArgs(algorithm), { parent: this });
    this.certificate = new SignedCertificate(
      `${name}-cert`,
      {
        subject: toX509Order(subject),
        publicKeyPem: this.key.publicKeyPem,
        issuerCertificatePem: args.issuer.certificatePem,
        signingKeyPem: args.issuer.privateKeyPem,
        isCa: false,
        keyUsage: profile.keyUsage,
        extendedKeyUsage: profile.extendedKeyUsage,
        dnsNames,
        ipAddresses: args.ipAddresses ?? [],
        emailAddresses: args.emailAddresses ?? [],
        ...(args.issuer.crlUrl === undefined ? {} : { crlDistributionUrl: args.issuer.crlUrl }),
        validityDays: args.validityDays ?? LEAF_VALIDITY_DAYS,
        renewBeforeDays: args.renewBeforeDays ?? LEAF_RENEW_BEFORE_DAYS,
        backdateMinutes: args.backdateMinutes ?? DEFAULT_BACKDATE_MINUTES,
        revoked: args.revoked ?? false,
      },
      { parent: this },
    );

    this.certificatePem = this.certificate.certificatePem;
    this.privateKeyPem = pulumi.secret(this.key.privateKeyPemPkcs8);
    this.serialNumber = this.certificate.serialNumber;
    this.notAfter = this.certificate.notAfter;
    // Plain and known in a preview: what the policy pack (policy/) checks. The PEMs stay
    // properties only: the key and the certificate resources hold them already, and a machine has
    // two of these (docs/adr/0012-state-per-machine.md).
    this.registerOutputs({
      kind: args.kind,
      subjectDn: this.subjectDn,
      issuerDn: args.issuer.subjectDn,
      serialNumber: this.serialNumber,
      notAfter: this.notAfter,
    });
  }
}
