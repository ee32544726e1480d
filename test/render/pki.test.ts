/**
 * Render tier for the PKI: real certificates and CRLs made by the dynamic providers' own
 * code paths (SignedCertificate / SignedCrl create), judged by OpenSSL, zlint and pkilint;
 * the OpenPGP key judged by GnuPG.
 *
 * Not proven here: that Pulumi serializes and runs the providers (engine tier), and that
 * `tls.PrivateKey` produces the keys (we make equivalent keys with node:crypto).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type CaLevel,
  type CertificateKind,
  type CertificateState,
  type CrlState,
  caProfile,
  generatePgpKey,
  type KeyAlgorithm,
  KIND_UNITS,
  leafProfile,
  signedCertificateProvider,
  signedCrlProvider,
  subjectBelow,
  toX509Order,
} from "../../lib/pki";
import { requireTools } from "../support/tools";

const BASE = "dc=example,dc=ch";
const CRL_BASE = "http://binhost.example.ch/pki";
const HINT =
  "run scripts/setup (openssl and gpg from apt, zlint from 50-zlint, pkilint from 20-python)";
// RFC sources only: the CA/Browser Forum, Mozilla, Apple, Chrome and ETSI lints judge the
// Web PKI, whose rules (e.g. 398-day maximum, OCSP in AIA) do not apply to a private PKI.
const ZLINT_SOURCES = "RFC5280,RFC5480,RFC5891,RFC3279,RFC8813";

interface Issued {
  readonly keyPem: string;
  readonly state: CertificateState;
}

function newKey(algorithm: KeyAlgorithm): { privatePem: string; publicPem: string } {
  const pair =
    algorithm === "ecdsa-p384"
      ? crypto.generateKeyPairSync("ec", { namedCurve: "P-384" })
      : crypto.generateKeyPairSync("rsa", {
          modulusLength: algorithm === "rsa-3072" ? 3072 : 4096,
        });
  return {
    privatePem: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

async function issueCa(
  level: CaLevel,
  cn: string,
  parent: Issued | undefined,
  crlSlug: string | undefined,
): Promise<Issued> {
  const key = newKey("ecdsa-p384");
  const profile = caProfile(level);
  const created = await signedCertificateProvider.create({
    subject: toX509Order(subjectBelow(BASE, cn)),
    publicKeyPem: key.publicPem,
    issuerCertificatePem: parent?.state.certificatePem,
    signingKeyPem: parent ? parent.keyPem : key.privatePem,
    isCa: true,
    pathLength: profile.pathLength,
    keyUsage: profile.keyUsage,
    extendedKeyUsage: profile.extendedKeyUsage,
    crlDistributionUrl: crlSlug ? `${CRL_BASE}/${crlSlug}.crl` : undefined,
    validityDays: level === "root" ? 7300 : level === "level1" ? 3650 : 1825,
    renewBeforeDays: 90,
    backdateMinutes: 5,
  });
  return { keyPem: key.privatePem, state: created.outs as CertificateState };
}

async function issueLeaf(
  kind: CertificateKind,
  cn: string,
  issuer: Issued,
  crlSlug: string,
  extra: { dnsNames?: string[]; emailAddresses?: string[]; ipAddresses?: string[] },
): Promise<Issued> {
  const algorithm: KeyAlgorithm = kind === "puppet" ? "rsa-4096" : "ecdsa-p384";
  const key = newKey(algorithm);
  const profile = leafProfile(kind, algorithm);
  const created = await signedCertificateProvider.create({
    subject: toX509Order(subjectBelow(BASE, cn, KIND_UNITS[kind])),
    publicKeyPem: key.publicPem,
    issuerCertificatePem: issuer.state.certificatePem,
    signingKeyPem: issuer.keyPem,
    isCa: false,
    keyUsage: profile.keyUsage,
    extendedKeyUsage: profile.extendedKeyUsage,
    dnsNames: extra.dnsNames ?? [],
    ipAddresses: extra.ipAddresses ?? [],
    emailAddresses: extra.emailAddresses ?? [],
    crlDistributionUrl: `${CRL_BASE}/${crlSlug}.crl`,
    validityDays: 365,
    renewBeforeDays: 30,
    backdateMinutes: 5,
  });
  return { keyPem: key.privatePem, state: created.outs as CertificateState };
}

async function crlOf(ca: Issued, revoked: Issued[]): Promise<CrlState> {
  const created = await signedCrlProvider.create({
    issuerCertificatePem: ca.state.certificatePem,
    signingKeyPem: ca.keyPem,
    revocations: revoked.map((r) => ({
      serialNumber: r.state.serialNumber,
      notAfter: r.state.notAfter,
      reason: "keyCompromise",
    })),
    validityDays: 7,
    refreshBeforeDays: 3,
  });
  return created.outs as CrlState;
}

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("PKI rendered by our signing code", () => {
  let dir = "";
  const files: Record<string, string> = {};
  const crlFiles: Record<string, string> = {};
  const leaves: Record<string, Issued> = {};
  let crlBundle = "";
  let subCas: Record<CertificateKind, Issued>;
  let level1: Issued;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gi-pki-render-"));
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const root = await issueCa("root", "example Root CA", undefined, undefined);
    level1 = await issueCa("level1", "example Level 1 CA production", root, "root");
    subCas = {} as Record<CertificateKind, Issued>;
    for (const kind of ["host", "client", "user", "puppet"] as const) {
      subCas[kind] = await issueCa(
        "level2",
        `example ${kind} CA production`,
        level1,
        "level1-production",
      );
    }
    const slug = (k: CertificateKind) => `production-${k}`;
    leaves.host = await issueLeaf("host", "web1.example.ch", subCas.host, slug("host"), {
      dnsNames: ["web1.example.ch"],
      ipAddresses: ["192.0.2.10"],
    });
    leaves.revokedHost = await issueLeaf("host", "old.example.ch", subCas.host, slug("host"), {
      dnsNames: ["old.example.ch"],
    });
    leaves.client = await issueLeaf("client", "backup-agent", subCas.client, slug("client"), {});
    leaves.user = await issueLeaf("user", "Alice Example", subCas.user, slug("user"), {
      emailAddresses: ["alice@example.ch"],
    });
    leaves.puppet = await issueLeaf("puppet", "web1.example.ch", subCas.puppet, slug("puppet"), {
      dnsNames: ["web1.example.ch", "puppet.example.ch"],
    });

    files.root = write("root.pem", root.state.certificatePem);
    files.level1 = write("level1.pem", level1.state.certificatePem);
    for (const [kind, ca] of Object.entries(subCas))
      files[`${kind}-ca`] = write(`${kind}-ca.pem`, ca.state.certificatePem);
    for (const [name, leaf] of Object.entries(leaves))
      files[name] = write(`${name}.pem`, leaf.state.certificatePem);

    const crls: Record<string, CrlState> = {
      root: await crlOf(root, []),
      level1: await crlOf(level1, []),
      host: await crlOf(subCas.host, [leaves.revokedHost as Issued]),
      client: await crlOf(subCas.client, []),
      user: await crlOf(subCas.user, []),
      puppet: await crlOf(subCas.puppet, []),
    };
    for (const [name, crl] of Object.entries(crls))
      crlFiles[name] = write(`${name}.crl`, crl.crlPem);
    crlBundle = write(
      "crls.pem",
      Object.values(crls)
        .map((c) => c.crlPem)
        .join(""),
    );
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function verify(leaf: string, kind: CertificateKind, purpose: string) {
    const chain = join(dir, `chain-${kind}.pem`);
    writeFileSync(chain, `${subCas[kind].state.certificatePem}${level1.state.certificatePem}`);
    return run("openssl", [
      "verify",
      "-x509_strict",
      "-crl_check_all",
      "-purpose",
      purpose,
      "-CAfile",
      files.root as string,
      "-untrusted",
      chain,
      "-CRLfile",
      crlBundle,
      files[leaf] as string,
    ]);
  }

  const cases: [string, CertificateKind, string][] = [
    ["host", "host", "sslserver"],
    ["client", "client", "sslclient"],
    ["user", "user", "sslclient"],
    ["user", "user", "smimesign"],
    ["puppet", "puppet", "sslserver"],
    ["puppet", "puppet", "sslclient"],
  ];
  for (const [leaf, kind, purpose] of cases) {
    it(`openssl verifies the ${leaf} certificate for -purpose ${purpose} with every CRL checked`, (t) => {
      if (!requireTools(t, ["openssl"], HINT)) return;
      const r = verify(leaf, kind, purpose);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /: OK\n/);
    });
  }

  it("openssl rejects a host certificate for the client purpose", (t) => {
    if (!requireTools(t, ["openssl"], HINT)) return;
    const r = verify("host", "host", "sslclient");
    assert.notEqual(r.status, 0);
    assert.match(r.out, /unsuitable certificate purpose/);
  });

  it("openssl rejects the revoked host certificate as revoked", (t) => {
    if (!requireTools(t, ["openssl"], HINT)) return;
    const r = verify("revokedHost", "host", "sslserver");
    assert.notEqual(r.status, 0);
    assert.match(r.out, /certificate revoked/);
  });

  it("writes subjects below the base DN in X.509 order with DC as IA5String", (t) => {
    if (!requireTools(t, ["openssl"], HINT)) return;
    const r = run("openssl", [
      "x509",
      "-in",
      files.host as string,
      "-noout",
      "-subject",
      "-nameopt",
      "RFC2253",
    ]);
    assert.equal(r.out.trim(), "subject=CN=web1.example.ch,OU=hosts,DC=example,DC=ch");
    const asn = run("openssl", ["asn1parse", "-in", files.host as string]).out;
    assert.match(asn, /domainComponent\n.*IA5STRING\s+:ch/);
  });

  it("gives each CA level its path length and each certificate key identifiers and a CRL distribution point", (t) => {
    if (!requireTools(t, ["openssl"], HINT)) return;
    const text = (f: string) =>
      run("openssl", ["x509", "-in", files[f] as string, "-noout", "-text"]).out;
    assert.match(text("root"), /CA:TRUE\n/);
    assert.doesNotMatch(text("root"), /pathlen/);
    assert.match(text("level1"), /CA:TRUE, pathlen:1/);
    assert.match(text("host-ca"), /CA:TRUE, pathlen:0/);
    assert.match(text("level1"), /URI:http:\/\/binhost\.example\.ch\/pki\/root\.crl/);
    assert.match(text("host"), /URI:http:\/\/binhost\.example\.ch\/pki\/production-host\.crl/);
    assert.doesNotMatch(text("root"), /CRL Distribution/);
    for (const f of ["root", "level1", "host-ca", "host", "puppet"]) {
      assert.match(text(f), /Subject Key Identifier/, f);
      assert.match(text(f), /Authority Key Identifier/, f);
    }
    assert.match(text("puppet"), /Digital Signature, Key Encipherment/);
    assert.match(text("puppet"), /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text("user"), /TLS Web Client Authentication, E-mail Protection/);
    assert.match(text("host"), /ASN1 OID: secp384r1/);
  });

  it("backdates notBefore by the configured minutes", (t) => {
    if (!requireTools(t, ["openssl"], HINT)) return;
    const out = run("openssl", ["x509", "-in", files.host as string, "-noout", "-startdate"]).out;
    const notBefore = new Date(out.replace("notBefore=", "").trim()).getTime();
    const ageMinutes = (Date.now() - notBefore) / 60_000;
    assert.ok(ageMinutes >= 5 && ageMinutes < 15, `notBefore is ${ageMinutes} minutes ago`);
  });

  it("signs CRLs with CRL Number, AKI and the OpenSSL PEM label", (t) => {
    if (!requireTools(t, ["openssl"], HINT)) return;
    const r = run("openssl", ["crl", "-in", crlFiles.host as string, "-noout", "-text"]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /X509v3 CRL Number: \n\s+\d+/);
    assert.match(r.out, /X509v3 Authority Key Identifier/);
    assert.match(r.out, /Key Compromise/);
    const check = run("openssl", [
      "crl",
      "-in",
      crlFiles.host as string,
      "-CAfile",
      files["host-ca"] as string,
      "-noout",
    ]);
    assert.match(check.out, /verify OK/);
  });

  it("zlint (RFC sources) reports no error or warning on any certificate or CRL", (t) => {
    if (!requireTools(t, ["zlint"], HINT)) return;
    const findings: string[] = [];
    for (const path of [...Object.values(files), ...Object.values(crlFiles)]) {
      const r = run("zlint", ["-includeSources", ZLINT_SOURCES, path]);
      assert.equal(r.status, 0, r.out);
      const results = JSON.parse(r.out) as Record<string, { result: string }>;
      const minimum = path.endsWith(".crl") ? 5 : 20;
      assert.ok(
        Object.keys(results).length >= minimum,
        `zlint ran only ${Object.keys(results).length} lints on ${path}`,
      );
      for (const [lint, { result }] of Object.entries(results)) {
        if (!["pass", "NA", "NE", "info"].includes(result))
          findings.push(`${path}: ${lint}: ${result}`);
      }
    }
    assert.deepEqual(findings, []);
  });

  it("pkilint (RFC 5280 certificate, CRL and chain linters) reports no error or warning", (t) => {
    if (
      !requireTools(t, ["lint_pkix_cert", "lint_crl", "lint_pkix_signer_signee_cert_chain"], HINT)
    )
      return;
    const findings: string[] = [];
    const check = (label: string, r: { status: number | null; out: string }) => {
      if (r.out.trim() !== "") findings.push(`${label}: ${r.out.trim()}`);
    };
    for (const [name, path] of Object.entries(files)) {
      check(name, run("lint_pkix_cert", ["lint", "-s", "WARNING", path]));
    }
    for (const [name, path] of Object.entries(crlFiles)) {
      check(
        `${name}.crl`,
        run("lint_crl", ["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING", path]),
      );
    }
    const pairs: [string, string][] = [
      ["root", "level1"],
      ["level1", "host-ca"],
      ["host-ca", "host"],
      ["user-ca", "user"],
      ["puppet-ca", "puppet"],
      ["client-ca", "client"],
    ];
    for (const [issuer, subject] of pairs) {
      check(
        `${issuer}->${subject}`,
        run("lint_pkix_signer_signee_cert_chain", [
          "lint",
          "-s",
          "WARNING",
          files[issuer] as string,
          files[subject] as string,
        ]),
      );
    }
    assert.deepEqual(findings, []);
  });
});

describe("OpenPGP package signing key", () => {
  it("gpg imports the public key and reports the fingerprint we export", async (t) => {
    if (!requireTools(t, ["gpg"], HINT)) return;
    const key = await generatePgpKey({
      name: "Example binhost",
      email: "binhost@example.ch",
      algorithm: "ed25519",
      validityDays: 0,
    });
    assert.match(key.fingerprint, /^[0-9A-F]{40}$/);
    assert.match(key.privateKeyArmored, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    const home = mkdtempSync(join(tmpdir(), "gi-gpg-"));
    try {
      const file = join(home, "pub.asc");
      writeFileSync(file, key.publicKeyArmored);
      const imported = run("gpg", ["--homedir", home, "--batch", "--import", file]);
      assert.equal(imported.status, 0, imported.out);
      const listed = run("gpg", [
        "--homedir",
        home,
        "--batch",
        "--with-colons",
        "--fingerprint",
        "binhost@example.ch",
      ]);
      const fprs = listed.out
        .split("\n")
        .filter((l) => l.startsWith("fpr:"))
        .map((l) => l.split(":")[9]);
      assert.equal(fprs[0], key.fingerprint);
      assert.match(listed.out, /^pub:[^:]*:255:22:/m);
      assert.match(listed.out, /^uid:.*Example binhost <binhost@example\.ch>/m);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
