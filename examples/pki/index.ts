// One environment's PKI (docs/rootca.md). With config `rootStack` set (e.g.
// organization/pki-root/production), root and level 1 come from the offline root stack and
// this stack never sees the root key. Without it, the root is created in this stack: a
// development shortcut, never for production.
import * as pulumi from "@pulumi/pulumi";
import { type RevocationReason, RootCa, type RootCaRoot } from "../../lib";

const config = new pulumi.Config();
const intermediate = config.get("intermediate") ?? "development";
const rootStack = config.get("rootStack");

let root: RootCaRoot;
if (rootStack) {
  const ref = new pulumi.StackReference("root", { name: rootStack });
  const level1 = (output: string) =>
    ref.requireOutput(output).apply((byName: Record<string, string>) => {
      const value = byName[intermediate];
      if (value === undefined)
        throw new Error(`${rootStack} has no level-1 intermediate "${intermediate}"`);
      return value;
    });
  root = {
    mode: "offline",
    rootCertificatePem: ref.requireOutput("rootCertificatePem") as pulumi.Output<string>,
    rootCrlPem: ref.requireOutput("rootCrlPem") as pulumi.Output<string>,
    level1CertificatePem: level1("level1CertificatePems"),
    level1PrivateKeyPem: pulumi.secret(level1("level1PrivateKeyPems")),
  };
} else {
  pulumi.log.warn(
    "config rootStack is not set: creating the root in this stack (development only)",
  );
  root = { mode: "in-stack" };
}

const pki = new RootCa("pki", {
  baseDn: config.get("baseDn") ?? "dc=example,dc=ch",
  crlBaseUrl: config.get("crlBaseUrl") ?? "http://binhost.example.ch/pki",
  intermediate,
  root,
  certificates: [
    { name: "binhost", kind: "host", commonName: "binhost.example.ch" },
    { name: "web1", kind: "host", commonName: "web1.example.ch" },
    { name: "web1-agent", kind: "puppet", commonName: "web1.example.ch" },
    {
      name: "backup",
      kind: "client",
      commonName: "backup.example.ch",
      dnsNames: ["backup.example.ch"],
    },
    {
      name: "alice",
      kind: "user",
      commonName: "Alice Example",
      emailAddresses: ["alice@example.ch"],
    },
  ],
  revoked: config.getObject<{ certificate: string; reason?: RevocationReason }[]>("revoked") ?? [],
  packageSigningKey: { name: "Example binhost", email: "binhost@example.ch" },
});

/** The trust anchor. */
export const rootCertificatePem = pki.rootCertificatePem;
/** CRL files to publish under crlBaseUrl (BinhostMirror serves them). */
export const crlFiles = pki.crlFiles;
/** nextUpdate of each CRL this stack signs: a `pulumi up` must run before it. */
export const crlNextUpdates = Object.fromEntries(
  Object.entries(pki.crls).map(([slug, crl]) => [slug, crl.nextUpdate]),
);
/** The chain a host certificate's server sends: host sub-CA then level 1. */
export const hostChainPem = pki.chainPems.host;
/** Certificates by name. */
export const certificatePems = Object.fromEntries(
  Object.entries(pki.certificates).map(([name, c]) => [name, c.certificatePem]),
);
/** Private keys by name (secret). */
export const privateKeyPems = pulumi.secret(
  Object.fromEntries(Object.entries(pki.certificates).map(([name, c]) => [name, c.privateKeyPem])),
);
/** The package signing key for clients' keyrings, and Portage's BINPKG_GPG_SIGNING_KEY. */
export const packageSigningPublicKey = pki.packageSigningKey?.publicKeyArmored;
export const binpkgSigningKey = pki.packageSigningKey?.binpkgSigningKey;
