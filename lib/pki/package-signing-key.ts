import * as pulumi from "@pulumi/pulumi";
import { formatViolations } from "../validation/violations";
import {
  generatePgpKey,
  type PgpAlgorithm,
  type PgpKeyRequest,
  validatePgpKeyRequest,
} from "./openpgp-key";

/** Arguments of {@link PackageSigningKey}. */
export interface PackageSigningKeyArgs {
  /** Real name of the user ID, e.g. "Example binhost". */
  readonly name: string;
  /** Email of the user ID, e.g. "binhost@example.ch". */
  readonly email: string;
  /** ed25519 (EdDSA, cv25519 subkey) or rsa-4096. @default "ed25519" */
  readonly algorithm?: PgpAlgorithm;
  /** Days until the key expires. @default 0 (never expires: an expired key breaks every client's signature check) */
  readonly validityDays?: number;
}

const FIELDS = ["name", "email", "algorithm", "validityDays"] as const;

/** The dynamic provider: generates once; a changed field replaces the key. */
const packageSigningKeyProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: PgpKeyRequest, news: PgpKeyRequest) {
    const replaces = FIELDS.filter((f) => JSON.stringify(olds[f]) !== JSON.stringify(news[f]));
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
  async create(inputs: PgpKeyRequest) {
    const key = await generatePgpKey(inputs);
    return {
      id: key.fingerprint,
      outs: { ...inputs, ...key, binpkgSigningKey: `0x${key.fingerprint}!` },
    };
  },
};

/**
 * An OpenPGP key that signs binary packages (a Pulumi dynamic resource on openpgp.js).
 * The armored private key is a secret output (encrypted in the state); the public key and
 * fingerprint are plain, for clients' keyrings and Portage's BINPKG_GPG_SIGNING_KEY.
 */
export class PackageSigningKey extends pulumi.dynamic.Resource {
  /** The private key, ASCII-armored, no passphrase (secret). */
  declare public readonly privateKeyArmored: pulumi.Output<string>;
  /** The public key, ASCII-armored: import it on every client. */
  declare public readonly publicKeyArmored: pulumi.Output<string>;
  /** Fingerprint, 40 upper-case hex digits. */
  declare public readonly fingerprint: pulumi.Output<string>;
  /** The user ID, "name <email>". */
  declare public readonly userId: pulumi.Output<string>;
  /** Value for Portage's BINPKG_GPG_SIGNING_KEY: "0x<fingerprint>!". */
  declare public readonly binpkgSigningKey: pulumi.Output<string>;

  constructor(name: string, args: PackageSigningKeyArgs, opts?: pulumi.CustomResourceOptions) {
    const request: PgpKeyRequest = {
      name: args.name,
      email: args.email,
      algorithm: args.algorithm ?? "ed25519",
      validityDays: args.validityDays ?? 0,
    };
    // A custom resource cannot run code on `this` before super(): validate first, and attach
    // the error to the parent (when there is one) so that nothing is registered.
    const violations = validatePgpKeyRequest(request);
    if (violations.length > 0) {
      throw new pulumi.ResourceError(
        formatViolations(`PackageSigningKey "${name}"`, violations),
        opts?.parent,
        true,
      );
    }
    super(
      packageSigningKeyProvider,
      name,
      {
        ...request,
        privateKeyArmored: undefined,
        publicKeyArmored: undefined,
        fingerprint: undefined,
        userId: undefined,
        binpkgSigningKey: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["privateKeyArmored"] }),
      "gentoo-infra",
      "PackageSigningKey",
    );
  }
}
