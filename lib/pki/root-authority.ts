import * as pulumi from "@pulumi/pulumi";
import { assertValid } from "../validation/resource-error";
import type { Violation } from "../validation/violations";
import { CertificateAuthority } from "./certificate-authority";
import { organizationOf } from "./dn";
import type { KeyAlgorithm, RevocationReason } from "./profiles";
import { RevocationList } from "./revocation-list";
import {
  validateBase,
  validateCrlBaseUrl,
  validateDays,
  validateKeyAlgorithm,
  validateName,
  validateOutlives,
  validateRevocations,
  validateRootPathLength,
  validateUnique,
  validateWindow,
} from "./validate";
import { CA_RENEW_BEFORE_DAYS, CA_VALIDITY_DAYS } from "./validity";

/** Default days from thisUpdate to nextUpdate of the root's CRL (re-signed at a ceremony). */
export const ROOT_CRL_VALIDITY_DAYS = 180;

/** Default days before nextUpdate at which the root's CRL is due for re-signing. */
export const ROOT_CRL_REFRESH_BEFORE_DAYS = 60;

/** File name (under the CRL base URL) of a CA's CRL. */
export function crlFileName(slug: string): string {
  return `${slug}.crl`;
}

/** Common names of the CAs of a hierarchy below `organization`. */
export const caCommonNames = {
  /** The root. */
  root: (organization: string) => `${organization} Root CA`,
  /** A level-1 intermediate. */
  level1: (organization: string, intermediate: string) =>
    `${organization} Level 1 CA ${intermediate}`,
  /** A level-2 sub-CA. */
  level2: (organization: string, intermediate: string, kind: string) =>
    `${organization} ${kind[0]?.toUpperCase()}${kind.slice(1)} CA ${intermediate}`,
};

/** Arguments of {@link RootAuthority}. */
export interface RootAuthorityArgs {
  /** Base DN, most specific first, e.g. "dc=example,dc=ch". */
  readonly baseDn: string;
  /** Label in CA common names ("<organization> Root CA"). @default the first DC (or O) of baseDn */
  readonly organization?: string;
  /** Key algorithm of the root and level-1 keys. @default "ecdsa-p384" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** URL under which CRL files are served, e.g. "http://binhost.example.ch/crl", where BinhostMirror serves them (root.crl, level1-<name>.crl, ...). */
  readonly crlBaseUrl: string;
  /** Names of the level-1 intermediates to sign, one per environment stack, e.g. ["production", "staging"]. */
  readonly intermediates: readonly string[];
  /** Path length of the root. @default none (no limit); otherwise >= 2 */
  readonly pathLength?: number;
  /** Days of validity of the root. @default 7300 */
  readonly validityDays?: number;
  /** Days before expiry at which the root is re-issued (same key). @default 365 */
  readonly renewBeforeDays?: number;
  /** Days of validity of each level-1 certificate. @default 3650 */
  readonly intermediateValidityDays?: number;
  /** Days before expiry at which a level-1 certificate is re-issued (same key). @default 180 */
  readonly intermediateRenewBeforeDays?: number;
  /** Days from thisUpdate to nextUpdate of the root's CRL. @default 180 */
  readonly crlValidityDays?: number;
  /** Days before nextUpdate at which the root's CRL is re-signed (plan a ceremony before). @default 60 */
  readonly crlRefreshBeforeDays?: number;
  /** Revoked intermediates, by name; each stays declared in `intermediates`. @default none */
  readonly revoked?: readonly {
    readonly intermediate: string;
    readonly reason?: RevocationReason;
  }[];
}

/** Validates {@link RootAuthorityArgs}; returns every violation. */
export function validateRootAuthorityArgs(args: RootAuthorityArgs): Violation[] {
  const rootDays = args.validityDays ?? CA_VALIDITY_DAYS.root;
  const level1Days = args.intermediateValidityDays ?? CA_VALIDITY_DAYS.level1;
  const out: Violation[] = [
    ...validateBase(args.baseDn, args.organization),
    ...validateKeyAlgorithm("keyAlgorithm", args.keyAlgorithm),
    ...validateCrlBaseUrl("crlBaseUrl", args.crlBaseUrl),
    ...validateRootPathLength("pathLength", args.pathLength),
    ...validateDays("validityDays", args.validityDays),
    ...validateDays("renewBeforeDays", args.renewBeforeDays, 0),
    ...validateDays("intermediateValidityDays", args.intermediateValidityDays),
    ...validateDays("intermediateRenewBeforeDays", args.intermediateRenewBeforeDays, 0),
    ...validateDays("crlValidityDays", args.crlValidityDays),
    ...validateDays("crlRefreshBeforeDays", args.crlRefreshBeforeDays, 0),
    ...validateWindow(
      "renewBeforeDays",
      args.renewBeforeDays ?? CA_RENEW_BEFORE_DAYS.root,
      "validityDays",
      rootDays,
    ),
    ...validateWindow(
      "intermediateRenewBeforeDays",
      args.intermediateRenewBeforeDays ?? CA_RENEW_BEFORE_DAYS.level1,
      "intermediateValidityDays",
      level1Days,
    ),
    ...validateWindow(
      "crlRefreshBeforeDays",
      args.crlRefreshBeforeDays ?? ROOT_CRL_REFRESH_BEFORE_DAYS,
      "crlValidityDays",
      args.crlValidityDays ?? ROOT_CRL_VALIDITY_DAYS,
    ),
    ...validateOutlives("intermediateValidityDays", level1Days, "validityDays", rootDays),
  ];
  if (!Array.isArray(args.intermediates) || args.intermediates.length === 0) {
    out.push({
      argument: "intermediates",
      value: args.intermediates,
      problem: "is empty",
      fix: 'name at least one level-1 intermediate, e.g. ["production"]',
    });
  } else {
    for (const [i, n] of args.intermediates.entries())
      out.push(...validateName(`intermediates[${i}]`, n));
    out.push(...validateUnique("intermediates", args.intermediates, "intermediate"));
  }
  out.push(
    ...validateRevocations(
      "revoked",
      "intermediate",
      (args.revoked ?? []).map((r) => ({
        name: r.intermediate,
        ...(r.reason ? { reason: r.reason } : {}),
      })),
      Array.isArray(args.intermediates) ? args.intermediates : [],
      "intermediate",
    ),
  );
  return out;
}

/** The Pulumi type of {@link RootAuthority}. */
const ROOT_AUTHORITY_TYPE = "gentoo-infra:pki:RootAuthority";

/**
 * The root of the PKI: the root CA, one level-1 intermediate per name in `intermediates`
 * (path length 1, CRL distribution point → the root's CRL) and the root's CRL. In
 * production it runs in a stack of its own on an offline machine (examples/pki-root,
 * docs/pki-ceremony.md): environment stacks take a level-1 certificate and key through a
 * StackReference and never see the root key. A `RootCa` with `root.mode: "in-stack"`
 * creates one inside the environment's stack instead (development only).
 * Children: `${name}-ca` (root), `${name}-level1-<intermediate>`, `${name}-crl`.
 */
export class RootAuthority extends pulumi.ComponentResource {
  /** The root CA. */
  public readonly root: CertificateAuthority;
  /** The level-1 intermediates by name. */
  public readonly intermediates: Readonly<Record<string, CertificateAuthority>>;
  /** The root's CRL. */
  public readonly crl: RevocationList;
  /** The root certificate, PEM: the trust anchor every client installs. */
  public readonly rootCertificatePem: pulumi.Output<string>;
  /** URL of the root's CRL. */
  public readonly crlUrl: string;

  constructor(name: string, args: RootAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
    // It was called OfflineRoot: the alias keeps the URNs of existing roots, and with them
    // their keys, when a stack moves to the new name.
    super(
      ROOT_AUTHORITY_TYPE,
      name,
      {},
      pulumi.mergeOptions(opts, { aliases: [{ type: "gentoo-infra:pki:OfflineRoot" }] }),
    );
    assertValid(this, `RootAuthority "${name}"`, validateRootAuthorityArgs(args));

    const organization = args.organization ?? organizationOf(args.baseDn);
    const keyAlgorithm = args.keyAlgorithm ?? "ecdsa-p384";
    this.crlUrl = `${args.crlBaseUrl}/${crlFileName("root")}`;
    const revoked = new Map(
      (args.revoked ?? []).map((r) => [r.intermediate, r.reason ?? "unspecified"]),
    );

    this.root = new CertificateAuthority(
      `${name}-ca`,
      {
        commonName: caCommonNames.root(organization),
        baseDn: args.baseDn,
        level: "root",
        ...(args.pathLength === undefined ? {} : { pathLength: args.pathLength }),
        keyAlgorithm,
        ...(args.validityDays === undefined ? {} : { validityDays: args.validityDays }),
        ...(args.renewBeforeDays === undefined ? {} : { renewBeforeDays: args.renewBeforeDays }),
        crlUrl: this.crlUrl,
      },
      { parent: this },
    );

    const intermediates: Record<string, CertificateAuthority> = {};
    for (const intermediate of args.intermediates) {
      intermediates[intermediate] = new CertificateAuthority(
        `${name}-level1-${intermediate}`,
        {
          commonName: caCommonNames.level1(organization, intermediate),
          baseDn: args.baseDn,
          level: "level1",
          issuer: this.root.issuer,
          keyAlgorithm,
          ...(args.intermediateValidityDays === undefined
            ? {}
            : { validityDays: args.intermediateValidityDays }),
          ...(args.intermediateRenewBeforeDays === undefined
            ? {}
            : { renewBeforeDays: args.intermediateRenewBeforeDays }),
          crlUrl: `${args.crlBaseUrl}/${crlFileName(`level1-${intermediate}`)}`,
          revoked: revoked.has(intermediate),
        },
        { parent: this },
      );
    }
    this.intermediates = intermediates;

    const revocations = [...revoked].map(([intermediate, reason]) => {
      const ca = intermediates[intermediate] as CertificateAuthority;
      return pulumi.all([ca.serialNumber, ca.notAfter]).apply(([serialNumber, notAfter]) => ({
        serialNumber,
        notAfter,
        reason,
      }));
    });
    this.crl = new RevocationList(
      `${name}-crl`,
      {
        issuer: this.root.issuer,
        revocations,
        validityDays: args.crlValidityDays ?? ROOT_CRL_VALIDITY_DAYS,
        refreshBeforeDays: args.crlRefreshBeforeDays ?? ROOT_CRL_REFRESH_BEFORE_DAYS,
      },
      { parent: this },
    );
    this.rootCertificatePem = this.root.certificatePem;
    this.registerOutputs({ rootCertificatePem: this.rootCertificatePem, crlPem: this.crl.crlPem });
  }
}

/** @deprecated Renamed {@link RootAuthority}: the root runs offline or, in development, in-stack. */
export const OfflineRoot = RootAuthority;
/** @deprecated Renamed {@link RootAuthority}. */
export type OfflineRoot = RootAuthority;
/** @deprecated Renamed {@link RootAuthorityArgs}. */
export type OfflineRootArgs = RootAuthorityArgs;
