import * as pulumi from "@pulumi/pulumi";
import {
  type CrlFields,
  type CrlState,
  type DeclaredRevocation,
  mergeRevocations,
  nextCrlNumber,
  planCrl,
} from "./signing-plan";
import { issuerIdentity, signCrl } from "./x509-sign";

/** Inputs of {@link SignedCrl}. */
export interface SignedCrlArgs {
  /** The CA's certificate, PEM. */
  readonly issuerCertificatePem: pulumi.Input<string>;
  /** The CA's private key, PEM; kept secret. */
  readonly signingKeyPem: pulumi.Input<string>;
  /** The revoked certificates. */
  readonly revocations: pulumi.Input<readonly pulumi.Input<DeclaredRevocation>[]>;
  /** Days from thisUpdate to nextUpdate. */
  readonly validityDays: number;
  /** Days before nextUpdate at which the CRL is re-signed. */
  readonly refreshBeforeDays: number;
}

type CrlInputs = CrlFields & { signingKeyPem: string };

async function signState(news: CrlInputs, previous: CrlState | undefined): Promise<CrlState> {
  const nowMs = Date.now();
  const revocations = mergeRevocations(previous?.revocations ?? [], news.revocations, nowMs);
  const crlNumber = nextCrlNumber(previous?.crlNumber, nowMs);
  const facts = await signCrl(
    {
      issuerCertificatePem: news.issuerCertificatePem,
      signingKeyPem: news.signingKeyPem,
      entries: revocations,
      crlNumber,
      validityDays: news.validityDays,
    },
    nowMs,
  );
  const issuer = issuerIdentity(news.issuerCertificatePem);
  return {
    issuerCertificatePem: news.issuerCertificatePem,
    validityDays: news.validityDays,
    refreshBeforeDays: news.refreshBeforeDays,
    revocations,
    crlNumber,
    ...facts,
    issuerSubject: issuer.subject,
    issuerPublicKeySha256: issuer.publicKeySha256,
  };
}

/**
 * The dynamic provider of {@link SignedCrl}: re-signs (as an update, so the CRL Number
 * grows) only when {@link planCrl} says so. Outputs never hold the signing key.
 */
export const signedCrlProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: CrlState, news: CrlFields) {
    const plan = planCrl(olds, news, Date.now(), issuerIdentity);
    return { changes: plan.changes, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs: CrlInputs) {
    const state = await signState(inputs, undefined);
    return { id: `crl-${state.crlNumber}`, outs: state };
  },

  async update(_id: string, olds: CrlState, news: CrlInputs) {
    const plan = planCrl(olds, news, Date.now(), issuerIdentity);
    if (plan.reasons.length > 0) return { outs: await signState(news, olds) };
    return { outs: { ...olds, refreshBeforeDays: news.refreshBeforeDays } };
  },
};

/**
 * A certificate revocation list signed by our code (a Pulumi dynamic resource;
 * `@pulumi/tls` cannot make CRLs): CRL Number, authority key identifier, a reasonCode per
 * entry, PEM label `X509 CRL`. Re-signed when the revocations or the CA change, or when
 * nextUpdate is within `refreshBeforeDays`.
 */
export class SignedCrl extends pulumi.dynamic.Resource {
  /** The CRL, PEM (`-----BEGIN X509 CRL-----`). */
  declare public readonly crlPem: pulumi.Output<string>;
  /** CRL Number. */
  declare public readonly crlNumber: pulumi.Output<number>;
  /** thisUpdate, ISO 8601. */
  declare public readonly thisUpdate: pulumi.Output<string>;
  /** nextUpdate, ISO 8601: clients reject the CRL (and every certificate it covers) after it. */
  declare public readonly nextUpdate: pulumi.Output<string>;

  constructor(name: string, args: SignedCrlArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      signedCrlProvider,
      name,
      {
        ...args,
        signingKeyPem: pulumi.secret(args.signingKeyPem),
        crlPem: undefined,
        crlNumber: undefined,
        thisUpdate: undefined,
        nextUpdate: undefined,
      },
      opts,
      "gentoo-infra",
      "SignedCrl",
    );
  }
}
