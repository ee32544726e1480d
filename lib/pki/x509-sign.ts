/**
 * X.509 signing with @peculiar/x509 on Node's WebCrypto: certificates with the extensions
 * `@pulumi/tls` cannot write (DC components, path length 0, CRL distribution points) and
 * CRLs (which `@pulumi/tls` cannot make at all). Pure: no `@pulumi/pulumi`; the dynamic
 * providers in `./signed-certificate` and `./signed-crl` call it.
 */
import * as nodeCrypto from "node:crypto";
import type * as X509 from "@peculiar/x509";
import type { EncodedRdn } from "./dn";
import {
  EXTENDED_KEY_USAGE_OIDS,
  type ExtendedKeyUsage,
  type KeyUsage,
  REVOCATION_REASON_CODES,
  type RevocationReason,
} from "./profiles";
import { crlWindow, validityWindow } from "./validity";

/** What to sign into a certificate. */
export interface CertificateRequest {
  /** Subject in X.509 order (see `toX509Order`). */
  readonly subject: readonly EncodedRdn[];
  /** The certified public key, SPKI PEM. */
  readonly publicKeyPem: string;
  /** The issuer's certificate, PEM; absent for a self-signed root. */
  readonly issuerCertificatePem?: string | undefined;
  /** The issuer's private key (the subject's own for a self-signed root), PEM. */
  readonly signingKeyPem: string;
  /** Basic constraints cA. */
  readonly isCa: boolean;
  /** Path length constraint of a CA; absent means none. */
  readonly pathLength?: number | undefined;
  /** Key usage bits (critical). */
  readonly keyUsage: readonly KeyUsage[];
  /** Extended key usages; empty for none. */
  readonly extendedKeyUsage: readonly ExtendedKeyUsage[];
  /** DNS names for the subject alternative name. */
  readonly dnsNames: readonly string[];
  /** IP addresses for the subject alternative name. */
  readonly ipAddresses: readonly string[];
  /** Email addresses (rfc822Name) for the subject alternative name. */
  readonly emailAddresses: readonly string[];
  /** URL of the issuer's CRL; absent for a root. */
  readonly crlDistributionUrl?: string | undefined;
  /** Days from signing to notAfter. */
  readonly validityDays: number;
  /** Minutes notBefore lies before the signing time. */
  readonly backdateMinutes: number;
}

/** A signed certificate and the facts a caller stores. */
export interface SignedCertificateFacts {
  /** The certificate, PEM. */
  readonly certificatePem: string;
  /** Serial number, lower-case hex. */
  readonly serialNumber: string;
  /** notBefore, ISO 8601. */
  readonly notBefore: string;
  /** notAfter, ISO 8601. */
  readonly notAfter: string;
  /** Subject key identifier, lower-case hex. */
  readonly subjectKeyId: string;
}

/** What to sign into a CRL. */
export interface CrlRequest {
  /** The CA's certificate, PEM. */
  readonly issuerCertificatePem: string;
  /** The CA's private key, PEM. */
  readonly signingKeyPem: string;
  /** Revoked certificates. */
  readonly entries: readonly CrlEntry[];
  /** CRL Number (monotonic per CA). */
  readonly crlNumber: number;
  /** Days from thisUpdate to nextUpdate. */
  readonly validityDays: number;
}

/** One revoked certificate in a CRL. */
export interface CrlEntry {
  /** Serial number, hex. */
  readonly serialNumber: string;
  /** Revocation date, ISO 8601. */
  readonly revokedAt: string;
  /** Reason; `unspecified` writes no reasonCode extension (RFC 5280 5.3.1). */
  readonly reason: RevocationReason;
}

/** A signed CRL. */
export interface SignedCrlFacts {
  /** The CRL, PEM with the label `X509 CRL` that OpenSSL expects. */
  readonly crlPem: string;
  /** thisUpdate, ISO 8601. */
  readonly thisUpdate: string;
  /** nextUpdate, ISO 8601. */
  readonly nextUpdate: string;
}

/** Facts about an issuer certificate that decide whether what it signed must be re-signed. */
export interface IssuerIdentity {
  /** Subject DN as OpenSSL prints it (one attribute per line). */
  readonly subject: string;
  /** SHA-256 of the issuer's SubjectPublicKeyInfo, hex. */
  readonly publicKeySha256: string;
  /** notAfter, ISO 8601. */
  readonly notAfter: string;
}

/** The identity of an issuer certificate (synchronous; Node's X509Certificate). */
export function issuerIdentity(certificatePem: string): IssuerIdentity {
  const cert = new nodeCrypto.X509Certificate(certificatePem);
  return {
    subject: cert.subject,
    publicKeySha256: publicKeySha256(cert.publicKey),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}

/** SHA-256 of a public key's SubjectPublicKeyInfo (PEM or KeyObject), hex. */
export function publicKeySha256(key: string | nodeCrypto.KeyObject): string {
  const object = typeof key === "string" ? nodeCrypto.createPublicKey(key) : key;
  const der = object.export({ type: "spki", format: "der" });
  return nodeCrypto.createHash("sha256").update(der).digest("hex");
}

/** A fresh positive 128-bit serial number with a non-zero first octet, hex. */
function randomSerialNumber(): string {
  const bytes = nodeCrypto.randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString("hex");
}

interface SigningKey {
  readonly key: nodeCrypto.webcrypto.CryptoKey;
  readonly algorithm: nodeCrypto.webcrypto.Algorithm | nodeCrypto.webcrypto.EcdsaParams;
}

async function importSigningKey(pem: string): Promise<SigningKey> {
  const object = nodeCrypto.createPrivateKey(pem);
  const der = object.export({ type: "pkcs8", format: "der" });
  const subtle = nodeCrypto.webcrypto.subtle;
  if (object.asymmetricKeyType === "ec") {
    const curve = object.asymmetricKeyDetails?.namedCurve;
    if (curve !== "secp384r1") throw new Error(`signing key is on curve ${curve}; expected P-384`);
    const key = await subtle.importKey(
      "pkcs8",
      der,
      { name: "ECDSA", namedCurve: "P-384" },
      false,
      ["sign"],
    );
    return { key, algorithm: { name: "ECDSA", hash: "SHA-384" } };
  }
  if (object.asymmetricKeyType === "rsa") {
    const key = await subtle.importKey(
      "pkcs8",
      der,
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return { key, algorithm: { name: "RSASSA-PKCS1-v1_5" } };
  }
  throw new Error(
    `signing key type ${object.asymmetricKeyType} is not supported; use ECDSA P-384 or RSA`,
  );
}

/**
 * Loads @peculiar/x509 on first use, after the Reflect polyfill its dependency injection
 * needs, and points it at Node's WebCrypto. Loaded lazily (not imported at the top) so that
 * a dynamic provider serialized by Pulumi requires both in this order in its own process.
 */
function loadX509(): typeof X509 {
  require("reflect-metadata");
  const lib = require("@peculiar/x509") as typeof X509;
  lib.cryptoProvider.set(
    nodeCrypto.webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0],
  );
  return lib;
}

function x509Name(x509: typeof X509, rdns: readonly EncodedRdn[]): X509.Name {
  return new x509.Name(rdns.map((r) => ({ [r.oid]: [{ [r.encoding]: r.value }] })));
}

/** KeyUsage bit values (the x509 library's KeyUsageFlags, RFC 5280 bit order). */
const KEY_USAGE_FLAGS: Readonly<Record<KeyUsage, number>> = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
};

function subjectKeyIdOf(x509: typeof X509, cert: X509.X509Certificate): string {
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (!ski) throw new Error(`issuer certificate ${cert.subject} has no subject key identifier`);
  return ski.keyId;
}

/** Signs a certificate now (`nowMs`), with a fresh random serial number. */
export async function signCertificate(
  request: CertificateRequest,
  nowMs: number = Date.now(),
): Promise<SignedCertificateFacts> {
  const x509 = loadX509();
  const signing = await importSigningKey(request.signingKeyPem);
  const publicKey = new x509.PublicKey(
    nodeCrypto.createPublicKey(request.publicKeyPem).export({ type: "spki", format: "der" }),
  );
  const issuer = request.issuerCertificatePem
    ? new x509.X509Certificate(request.issuerCertificatePem)
    : undefined;
  const window = validityWindow(
    nowMs,
    request.validityDays,
    request.backdateMinutes,
    issuer ? issuer.notAfter : undefined,
  );
  const ski = await x509.SubjectKeyIdentifierExtension.create(publicKey);
  const akiKeyId = issuer ? subjectKeyIdOf(x509, issuer) : ski.keyId;
  const keyUsage = request.keyUsage.reduce((flags, u) => flags | KEY_USAGE_FLAGS[u], 0);
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(
      request.isCa,
      request.isCa ? request.pathLength : undefined,
      true,
    ),
    new x509.KeyUsagesExtension(keyUsage, true),
  ];
  if (request.extendedKeyUsage.length > 0) {
    extensions.push(
      new x509.ExtendedKeyUsageExtension(
        request.extendedKeyUsage.map((u) => EXTENDED_KEY_USAGE_OIDS[u]),
      ),
    );
  }
  extensions.push(ski, new x509.AuthorityKeyIdentifierExtension(akiKeyId));
  const altNames: X509.JsonGeneralName[] = [
    ...request.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...request.ipAddresses.map((value) => ({ type: "ip" as const, value })),
    ...request.emailAddresses.map((value) => ({ type: "email" as const, value })),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  if (request.crlDistributionUrl) {
    extensions.push(new x509.CRLDistributionPointsExtension([request.crlDistributionUrl]));
  }
  const subject = x509Name(x509, request.subject);
  const serialNumber = randomSerialNumber();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    issuer: issuer ? issuer.subjectName : subject,
    notBefore: window.notBefore,
    notAfter: window.notAfter,
    publicKey,
    signingKey: signing.key as never,
    signingAlgorithm: signing.algorithm as never,
    extensions,
  });
  return {
    certificatePem: `${cert.toString("pem").trimEnd()}\n`,
    serialNumber,
    notBefore: window.notBefore.toISOString(),
    notAfter: window.notAfter.toISOString(),
    subjectKeyId: ski.keyId,
  };
}

/** DER INTEGER of a non-negative safe integer (for the CRL Number extension). */
export function derInteger(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`not a non-negative integer: ${value}`);
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return Uint8Array.from([0x02, bytes.length, ...bytes]);
}

/** Encodes DER as PEM with `label`, 64 characters a line. */
function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Signs a CRL now (`nowMs`) with CRL Number and authority key identifier.
 *
 * @peculiar/x509's generator writes an empty crlEntryExtensions SEQUENCE for an entry with
 * no extension, which DER forbids (SIZE (1..MAX)); we let it build the structure, drop the
 * empty sequences and sign the corrected TBSCertList ourselves.
 */
export async function signCrl(
  request: CrlRequest,
  nowMs: number = Date.now(),
): Promise<SignedCrlFacts> {
  const x509 = loadX509();
  const { AsnConvert } = require("@peculiar/asn1-schema") as typeof import("@peculiar/asn1-schema");
  const { CertificateList } =
    require("@peculiar/asn1-x509") as typeof import("@peculiar/asn1-x509");
  const signing = await importSigningKey(request.signingKeyPem);
  const issuer = new x509.X509Certificate(request.issuerCertificatePem);
  const window = crlWindow(nowMs, request.validityDays);
  const draft = await x509.X509CrlGenerator.create({
    issuer: issuer.subjectName,
    thisUpdate: window.thisUpdate,
    nextUpdate: window.nextUpdate,
    signingKey: signing.key as never,
    signingAlgorithm: signing.algorithm as never,
    extensions: [
      new x509.AuthorityKeyIdentifierExtension(subjectKeyIdOf(x509, issuer)),
      new x509.Extension("2.5.29.20", false, derInteger(request.crlNumber)),
    ],
    entries: request.entries.map((e) => {
      const code = REVOCATION_REASON_CODES[e.reason];
      return {
        serialNumber: e.serialNumber,
        revocationDate: new Date(Math.floor(new Date(e.revokedAt).getTime() / 1000) * 1000),
        ...(code === 0 ? {} : { reason: code as X509.X509CrlReason }),
      };
    }),
  });
  const asn = AsnConvert.parse(draft.rawData, CertificateList);
  for (const entry of asn.tbsCertList.revokedCertificates ?? []) {
    if (entry.crlEntryExtensions?.length === 0) entry.crlEntryExtensions = undefined;
  }
  const tbs = Buffer.from(AsnConvert.serialize(asn.tbsCertList));
  const key = nodeCrypto.createPrivateKey(request.signingKeyPem);
  const signature =
    key.asymmetricKeyType === "ec"
      ? nodeCrypto.sign("sha384", tbs, { key, dsaEncoding: "der" })
      : nodeCrypto.sign("sha256", tbs, key);
  asn.signature = new Uint8Array(signature).buffer;
  return {
    crlPem: toPem(AsnConvert.serialize(asn), "X509 CRL"),
    thisUpdate: window.thisUpdate.toISOString(),
    nextUpdate: window.nextUpdate.toISOString(),
  };
}
