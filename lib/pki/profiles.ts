/**
 * Certificate profiles: which key usages, extended key usages and basic constraints each
 * kind of certificate gets, and the key algorithms we allow. Pure: no `@pulumi/pulumi`.
 */

/** Kinds of end-entity certificate, each issued by the level-2 sub-CA of the same name. */
export const CERTIFICATE_KINDS = ["host", "client", "user", "puppet"] as const;

/** One of {@link CERTIFICATE_KINDS}. */
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];

/**
 * Key algorithms: ECDSA on P-384 or RSA with 3072 or 4096 bits. Never a library default
 * (`@pulumi/tls` would pick P-224 for ECDSA).
 */
export const KEY_ALGORITHMS = ["ecdsa-p384", "rsa-3072", "rsa-4096"] as const;

/** One of {@link KEY_ALGORITHMS}. */
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** The `tls.PrivateKey` arguments for a key algorithm. */
export function tlsKeyArgs(
  algorithm: KeyAlgorithm,
): { algorithm: "ECDSA"; ecdsaCurve: "P384" } | { algorithm: "RSA"; rsaBits: number } {
  switch (algorithm) {
    case "ecdsa-p384":
      return { algorithm: "ECDSA", ecdsaCurve: "P384" };
    case "rsa-3072":
      return { algorithm: "RSA", rsaBits: 3072 };
    case "rsa-4096":
      return { algorithm: "RSA", rsaBits: 4096 };
  }
}

/** Key usage bits by their RFC 5280 names. */
export type KeyUsage =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyEncipherment"
  | "dataEncipherment"
  | "keyAgreement"
  | "keyCertSign"
  | "cRLSign";

/** Extended key usages by their RFC 5280 names. */
export type ExtendedKeyUsage = "serverAuth" | "clientAuth" | "emailProtection";

/** Object identifiers of {@link ExtendedKeyUsage}. */
export const EXTENDED_KEY_USAGE_OIDS: Readonly<Record<ExtendedKeyUsage, string>> = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  emailProtection: "1.3.6.1.5.5.7.3.4",
};

/** What a certificate may do: the extensions a profile fixes. */
export interface Profile {
  /** Basic constraints cA. */
  readonly isCa: boolean;
  /** Basic constraints pathLenConstraint; `undefined` means none. */
  readonly pathLength: number | undefined;
  /** Key usage bits (the extension is always critical). */
  readonly keyUsage: readonly KeyUsage[];
  /** Extended key usages; empty means no extension (CAs). */
  readonly extendedKeyUsage: readonly ExtendedKeyUsage[];
}

/** Levels of a CA in the hierarchy root → level 1 → level 2. */
export type CaLevel = "root" | "level1" | "level2";

/**
 * The profile of a CA. Level 1 may sign only level-2 sub-CAs (path length 1), level 2
 * only end entities (path length 0); the root takes `rootPathLength` (none, or >= 2).
 */
export function caProfile(level: CaLevel, rootPathLength?: number): Profile {
  const pathLength = level === "root" ? rootPathLength : level === "level1" ? 1 : 0;
  return { isCa: true, pathLength, keyUsage: ["keyCertSign", "cRLSign"], extendedKeyUsage: [] };
}

/**
 * The profile of an end-entity certificate of `kind` with a key of `algorithm`.
 * keyEncipherment is set only for RSA keys: RFC 5480 forbids it for EC keys, which is why
 * Puppet certificates, which Puppet requires to carry it, must have RSA keys.
 */
export function leafProfile(kind: CertificateKind, algorithm: KeyAlgorithm): Profile {
  const rsa = algorithm.startsWith("rsa-");
  const sign: KeyUsage[] = rsa ? ["digitalSignature", "keyEncipherment"] : ["digitalSignature"];
  const eku: Record<CertificateKind, ExtendedKeyUsage[]> = {
    host: ["serverAuth"],
    client: ["clientAuth"],
    user: ["clientAuth", "emailProtection"],
    puppet: ["serverAuth", "clientAuth"],
  };
  return { isCa: false, pathLength: undefined, keyUsage: sign, extendedKeyUsage: eku[kind] };
}

/** The key algorithm a kind gets when the user names none: Puppet needs RSA. */
export function defaultLeafKeyAlgorithm(
  kind: CertificateKind,
  caAlgorithm: KeyAlgorithm,
): KeyAlgorithm {
  if (kind === "puppet") return caAlgorithm.startsWith("rsa-") ? caAlgorithm : "rsa-4096";
  return caAlgorithm;
}

/** The OU under the base DN that certificates of a kind are issued in. */
export const KIND_UNITS: Readonly<Record<CertificateKind, string>> = {
  host: "hosts",
  client: "clients",
  user: "users",
  puppet: "puppet",
};

/** Reasons a certificate is revoked (RFC 5280 5.3.1), minus the unused `removeFromCRL`. */
export const REVOCATION_REASONS = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  "privilegeWithdrawn",
  "aACompromise",
] as const;

/** One of {@link REVOCATION_REASONS}. */
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** CRLReason code of each reason (RFC 5280 5.3.1; 7 is unused). */
export const REVOCATION_REASON_CODES: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};
