// The offline root stack (docs/pki-ceremony.md): the root key never leaves this stack's state.
// Environment stacks (examples/pki) read the level-1 certificates and keys through a
// StackReference.
import * as pulumi from "@pulumi/pulumi";
import { type RevocationReason, RootAuthority } from "../../lib";

const config = new pulumi.Config();
const intermediates = config.getObject<string[]>("intermediates") ?? [
  "development",
  "staging",
  "production",
];

const root = new RootAuthority("pki", {
  baseDn: config.get("baseDn") ?? "dc=example,dc=ch",
  crlBaseUrl: config.get("crlBaseUrl") ?? "http://binhost.example.ch/pki",
  intermediates,
  revoked:
    config.getObject<{ intermediate: string; reason?: RevocationReason }[]>(
      "revokedIntermediates",
    ) ?? [],
});

/** The trust anchor every client installs. */
export const rootCertificatePem = root.rootCertificatePem;
/** The root's CRL, published as root.crl under crlBaseUrl. */
export const rootCrlPem = root.crl.crlPem;
/** When the root's CRL expires: re-sign it (a ceremony) before this date. */
export const rootCrlNextUpdate = root.crl.nextUpdate;
/** Level-1 certificates by intermediate name. */
export const level1CertificatePems = Object.fromEntries(
  Object.entries(root.intermediates).map(([name, ca]) => [name, ca.certificatePem]),
);
/** Level-1 private keys by intermediate name (secret): what environment stacks sign with. */
export const level1PrivateKeyPems = pulumi.secret(
  Object.fromEntries(
    Object.entries(root.intermediates).map(([name, ca]) => [name, ca.privateKeyPem]),
  ),
);
