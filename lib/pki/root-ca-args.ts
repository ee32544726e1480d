/**
 * Arguments of {@link RootCa} (./root-ca), with TSDoc on every field. The defaults of its
 * lifetimes and renewal windows are named constants in ./validity. Validation is in
 * ./root-ca-validate.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { PackageSigningKeyArgs } from "./package-signing-key";
import type { KeyAlgorithm, RevocationReason } from "./profiles";
import type { CertificateSpec } from "./validate";

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
