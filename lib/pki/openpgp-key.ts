/**
 * OpenPGP key generation for signing binary packages (Portage gpkg), with openpgp.js.
 * Pure: no `@pulumi/pulumi`; the dynamic provider in `./package-signing-key` calls it.
 */
import type * as OpenPgp from "openpgp";
import { EMAIL, isOneLine, isWholeNumber, matches } from "../validation/patterns";
import { type Violation, violation } from "../validation/violations";

/** Key algorithms: EdDSA ed25519 with a cv25519 encryption subkey, or RSA 4096. */
const PGP_ALGORITHMS = ["ed25519", "rsa-4096"] as const;

/** One of {@link PGP_ALGORITHMS}. */
export type PgpAlgorithm = (typeof PGP_ALGORITHMS)[number];

/** What to generate. */
export interface PgpKeyRequest {
  /** Real name of the user ID, e.g. "Example binhost". */
  readonly name: string;
  /** Email of the user ID. */
  readonly email: string;
  /** Algorithm. */
  readonly algorithm: PgpAlgorithm;
  /** Days until the key expires; 0 for never. */
  readonly validityDays: number;
}

/** A generated key. */
export interface PgpKey {
  /** Private key, ASCII-armored, not passphrase-protected (kept as a Pulumi secret). */
  readonly privateKeyArmored: string;
  /** Public key, ASCII-armored. */
  readonly publicKeyArmored: string;
  /** Fingerprint, upper-case hex (40 digits for a v4 key). */
  readonly fingerprint: string;
  /** The user ID, "name <email>". */
  readonly userId: string;
}

/** Validates a key request; returns every violation (argument names as in the component). */
export function validatePgpKeyRequest(request: Partial<PgpKeyRequest>): Violation[] {
  const out: Violation[] = [];
  if (!isOneLine(request.name) || request.name.trim() === "" || /[<>]/.test(request.name)) {
    out.push(
      violation(
        "name",
        request.name,
        "is not a user ID name",
        'use a plain name on one line without <>, e.g. "Example binhost"',
      ),
    );
  }
  if (!matches(EMAIL, request.email)) {
    out.push(
      violation("email", request.email, "is not an email address", "use e.g. binhost@example.ch"),
    );
  }
  if (
    request.algorithm !== undefined &&
    !(PGP_ALGORITHMS as readonly string[]).includes(request.algorithm)
  ) {
    out.push(
      violation(
        "algorithm",
        request.algorithm,
        "is not a supported OpenPGP algorithm",
        `use one of ${PGP_ALGORITHMS.join(", ")}`,
      ),
    );
  }
  const days = request.validityDays;
  if (days !== undefined && !isWholeNumber(days, 0, 36500)) {
    out.push(
      violation(
        "validityDays",
        days,
        "is not a whole number of days from 0 to 36500",
        "use 0 (never expires) or up to 36500",
      ),
    );
  }
  return out;
}

/** Generates a v4 OpenPGP key that GnuPG 2.2 and Portage accept. */
export async function generatePgpKey(request: PgpKeyRequest): Promise<PgpKey> {
  const openpgp = require("openpgp") as typeof OpenPgp;
  const algorithm =
    request.algorithm === "ed25519"
      ? { type: "ecc" as const, curve: "ed25519Legacy" as const }
      : { type: "rsa" as const, rsaBits: 4096 };
  const generated = await openpgp.generateKey({
    ...algorithm,
    userIDs: [{ name: request.name, email: request.email }],
    keyExpirationTime: request.validityDays * 86_400,
    format: "armored",
    config: { v6Keys: false },
  });
  const key = await openpgp.readKey({ armoredKey: generated.publicKey });
  return {
    privateKeyArmored: generated.privateKey,
    publicKeyArmored: generated.publicKey,
    fingerprint: key.getFingerprint().toUpperCase(),
    userId: `${request.name} <${request.email}>`,
  };
}
