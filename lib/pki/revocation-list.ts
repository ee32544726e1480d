import * as pulumi from "@pulumi/pulumi";
import { assertValid } from "../validation/resource-error";
import type { Violation } from "../validation/violations";
import type { Issuer } from "./certificate-authority";
import { SignedCrl } from "./signed-crl";
import type { DeclaredRevocation } from "./signing-plan";
import { validateDays, validateWindow } from "./validate";
import { CRL_REFRESH_BEFORE_DAYS, CRL_VALIDITY_DAYS, hoursUntil } from "./validity";

/** Arguments of {@link RevocationList}. */
export interface RevocationListArgs {
  /** The CA whose CRL this is. */
  readonly issuer: Issuer;
  /** Revoked certificates (serial, reason, notAfter). An entry stays listed until its certificate expires, even once removed here. @default none */
  readonly revocations?: pulumi.Input<readonly pulumi.Input<DeclaredRevocation>[]>;
  /** Days from thisUpdate to nextUpdate. @default 7 */
  readonly validityDays?: number;
  /** Days before nextUpdate at which the next `pulumi up` re-signs it. @default 3 */
  readonly refreshBeforeDays?: number;
}

/** Validates {@link RevocationListArgs}; returns every violation. */
export function validateRevocationListArgs(args: RevocationListArgs): Violation[] {
  return [
    ...validateDays("validityDays", args.validityDays),
    ...validateDays("refreshBeforeDays", args.refreshBeforeDays, 0),
    ...validateWindow(
      "refreshBeforeDays",
      args.refreshBeforeDays ?? CRL_REFRESH_BEFORE_DAYS,
      "validityDays",
      args.validityDays ?? CRL_VALIDITY_DAYS,
    ),
  ];
}

/**
 * The CRL of one CA: CRL Number, authority key identifier, nextUpdate. A `pulumi up` within
 * `refreshBeforeDays` of nextUpdate, or after the revocations change, re-signs it; nothing
 * else does. Child: `${name}-crl` (SignedCrl).
 */
export class RevocationList extends pulumi.ComponentResource {
  /** The CRL resource. */
  public readonly crl: SignedCrl;
  /** The CRL, PEM (`X509 CRL`). */
  public readonly crlPem: pulumi.Output<string>;
  /** CRL Number. */
  public readonly crlNumber: pulumi.Output<number>;
  /** nextUpdate, ISO 8601: after it every client that checks the CRL rejects the CA's certificates. */
  public readonly nextUpdate: pulumi.Output<string>;
  /**
   * Whole hours the CRL is still valid, computed when the program runs (not stored in the
   * CRL resource, so it never causes a diff); negative once expired.
   */
  public readonly validForHours: pulumi.Output<number>;

  constructor(name: string, args: RevocationListArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:pki:RevocationList", name, {}, opts);
    assertValid(this, `RevocationList "${name}"`, validateRevocationListArgs(args));
    this.crl = new SignedCrl(
      `${name}-crl`,
      {
        issuerCertificatePem: args.issuer.certificatePem,
        signingKeyPem: args.issuer.privateKeyPem,
        revocations: args.revocations ?? [],
        validityDays: args.validityDays ?? CRL_VALIDITY_DAYS,
        refreshBeforeDays: args.refreshBeforeDays ?? CRL_REFRESH_BEFORE_DAYS,
      },
      { parent: this },
    );
    this.crlPem = this.crl.crlPem;
    this.crlNumber = this.crl.crlNumber;
    this.nextUpdate = this.crl.nextUpdate;
    this.validForHours = this.nextUpdate.apply((n) => hoursUntil(n, Date.now()));
    this.registerOutputs({
      crlPem: this.crlPem,
      crlNumber: this.crlNumber,
      nextUpdate: this.nextUpdate,
    });
  }
}
