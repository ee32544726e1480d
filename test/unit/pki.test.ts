import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CertificateState,
  type CrlState,
  caProfile,
  containsUnknown,
  crlNeedsRefresh,
  DAY_MS,
  derInteger,
  formatDn,
  leafProfile,
  mergeRevocations,
  needsRenewal,
  nextCrlNumber,
  normalizeSerial,
  parseDn,
  planCertificate,
  planCrl,
  subjectBelow,
  toX509Order,
  UNKNOWN,
  validatePgpKeyRequest,
  validateRootAuthorityArgs,
  validateRootCaArgs,
  validityWindow,
} from "../../lib/pki";
import { formatViolations } from "../../lib/validation";

const NOW = Date.parse("2026-11-22T12:00:00Z");

describe("DN parsing", () => {
  it("parses RFC 4514 text most specific first, case-insensitive types, escapes", () => {
    assert.deepEqual(parseDn("cn=a\\,b,OU=hosts,dc=example,DC=ch"), {
      ok: true,
      rdns: [
        { type: "CN", value: "a,b" },
        { type: "OU", value: "hosts" },
        { type: "DC", value: "example" },
        { type: "DC", value: "ch" },
      ],
    });
    assert.deepEqual(parseDn("CN=Z\\C3\\BCrich,C=CH"), {
      ok: true,
      rdns: [
        { type: "CN", value: "Zürich" },
        { type: "C", value: "CH" },
      ],
    });
  });

  const bad: [string, string][] = [
    ["", "is empty"],
    ["dc=example,,dc=ch", 'has an RDN without "type=value": ""'],
    ["CN=a+UID=b,DC=ch", "has a multi-valued RDN (+)"],
    ["emailAddress=a@b.ch", 'has an unsupported attribute type "EMAILADDRESS"'],
    ["dc=exa_mple,dc=ch", 'has DC="exa_mple", which is not a DNS label'],
    ["C=ch", 'has C="ch", which is not an ISO 3166 code'],
    ["C=Switzerland", "has a C longer than 2 characters"],
    ["CN=,DC=ch", "has an empty CN value"],
    ["CN=a\\x", 'has a bad escape in "CN=a\\\\x"'],
  ];
  for (const [text, problem] of bad) {
    it(`refuses ${JSON.stringify(text)}: ${problem}`, () => {
      assert.deepEqual(parseDn(text), { ok: false, problem });
    });
  }

  it("formats back with escapes, and round-trips", () => {
    const rdns = subjectBelow("dc=example,dc=ch", "a,b", "hosts");
    assert.equal(formatDn(rdns), "CN=a\\,b,OU=hosts,DC=example,DC=ch");
    assert.deepEqual(parseDn(formatDn(rdns)), { ok: true, rdns });
  });

  it("orders RDNs for X.509 from the root of the tree, DC as IA5String and C as PrintableString", () => {
    assert.deepEqual(toX509Order(subjectBelow("dc=example,c=CH", "web1")), [
      { oid: "2.5.4.6", encoding: "printableString", value: "CH" },
      { oid: "0.9.2342.19200300.100.1.25", encoding: "ia5String", value: "example" },
      { oid: "2.5.4.3", encoding: "utf8String", value: "web1" },
    ]);
  });
});

describe("profiles", () => {
  it("fixes path lengths by CA level: root none or given, level 1 one, level 2 zero", () => {
    assert.equal(caProfile("root").pathLength, undefined);
    assert.equal(caProfile("root", 3).pathLength, 3);
    assert.equal(caProfile("level1").pathLength, 1);
    assert.equal(caProfile("level2").pathLength, 0);
    assert.deepEqual(caProfile("level2").keyUsage, ["keyCertSign", "cRLSign"]);
  });

  it("gives each kind its key usage and extended key usage", () => {
    const table = (["host", "client", "user", "puppet"] as const).map((kind) => {
      const p = leafProfile(kind, kind === "puppet" ? "rsa-4096" : "ecdsa-p384");
      return [kind, p.keyUsage.join("+"), p.extendedKeyUsage.join("+")];
    });
    assert.deepEqual(table, [
      ["host", "digitalSignature", "serverAuth"],
      ["client", "digitalSignature", "clientAuth"],
      ["user", "digitalSignature", "clientAuth+emailProtection"],
      ["puppet", "digitalSignature+keyEncipherment", "serverAuth+clientAuth"],
    ]);
    assert.deepEqual(leafProfile("host", "rsa-3072").keyUsage, [
      "digitalSignature",
      "keyEncipherment",
    ]);
  });
});

describe("validity and CRL timing", () => {
  it("backdates notBefore, truncates to seconds and never outlives the issuer", () => {
    const w = validityWindow(NOW + 123, 10, 5);
    assert.equal(w.notBefore.toISOString(), "2026-11-22T11:55:00.000Z");
    assert.equal(w.notAfter.toISOString(), "2026-12-02T12:00:00.000Z");
    const clamped = validityWindow(NOW, 10, 5, new Date("2026-11-25T00:00:00Z"));
    assert.equal(clamped.notAfter.toISOString(), "2026-11-25T00:00:00.000Z");
  });

  it("renews exactly from renewBeforeDays before notAfter", () => {
    const notAfter = new Date(NOW + 30 * DAY_MS).toISOString();
    assert.equal(needsRenewal(notAfter, 30, NOW - 1), false);
    assert.equal(needsRenewal(notAfter, 30, NOW), true);
    assert.equal(needsRenewal("garbage", 30, NOW), true);
    assert.equal(crlNeedsRefresh(new Date(NOW + 4 * DAY_MS).toISOString(), 3, NOW), false);
    assert.equal(crlNeedsRefresh(new Date(NOW + 3 * DAY_MS).toISOString(), 3, NOW), true);
  });

  it("grows the CRL Number monotonically, time-based", () => {
    assert.equal(nextCrlNumber(undefined, NOW), NOW / 1000);
    assert.equal(nextCrlNumber(NOW / 1000 + 5, NOW), NOW / 1000 + 6);
    assert.equal(nextCrlNumber(7, NOW), NOW / 1000);
  });

  it("encodes DER integers with a leading zero for the high bit", () => {
    assert.deepEqual([...derInteger(0)], [2, 1, 0]);
    assert.deepEqual([...derInteger(128)], [2, 2, 0, 128]);
    assert.deepEqual([...derInteger(65535)], [2, 3, 0, 255, 255]);
  });
});

describe("signing plan (provider diff)", () => {
  const key = (pem: string) => `sha(${pem})`;
  const issuerOf = (pem: string) => ({
    subject: `subj(${pem})`,
    publicKeySha256: `sha(${pem})`,
    notAfter: "",
  });
  const fields = {
    subject: [{ oid: "2.5.4.3", encoding: "utf8String" as const, value: "web1" }],
    publicKeyPem: "K",
    issuerCertificatePem: "I",
    isCa: false,
    keyUsage: ["digitalSignature" as const],
    extendedKeyUsage: ["serverAuth" as const],
    dnsNames: ["web1.example.ch"],
    ipAddresses: [],
    emailAddresses: [],
    crlDistributionUrl: "http://x/y.crl",
    validityDays: 365,
    renewBeforeDays: 30,
    backdateMinutes: 5,
    revoked: false,
  };
  const state: CertificateState = {
    ...fields,
    certificatePem: "C",
    serialNumber: "01",
    notBefore: "2026-01-01T00:00:00.000Z",
    notAfter: new Date(NOW + 100 * DAY_MS).toISOString(),
    subjectKeyId: "aa",
    publicKeySha256: "sha(K)",
    issuerSubject: "subj(I)",
    issuerPublicKeySha256: "sha(I)",
  };

  it("never re-signs unchanged inputs", () => {
    assert.deepEqual(planCertificate(state, fields, NOW, key, issuerOf), {
      changes: false,
      replaces: [],
    });
  });

  it("replaces on a changed signed field, subject key or issuer key, naming each", () => {
    const plan = planCertificate(
      state,
      { ...fields, dnsNames: ["web2.example.ch"], publicKeyPem: "K2", issuerCertificatePem: "I2" },
      NOW,
      key,
      issuerOf,
    );
    assert.deepEqual(plan, {
      changes: true,
      replaces: ["dnsNames", "publicKeyPem", "issuerCertificatePem"],
    });
  });

  it("keeps the signature when the issuer is re-issued with the same key and name", () => {
    const sameIssuer = () => ({ subject: "subj(I)", publicKeySha256: "sha(I)", notAfter: "later" });
    assert.deepEqual(
      planCertificate(
        state,
        { ...fields, issuerCertificatePem: "I-renewed" },
        NOW,
        key,
        sameIssuer,
      ),
      {
        changes: false,
        replaces: [],
      },
    );
  });

  it("replaces for renewal inside the window, updates in place for settings only", () => {
    assert.deepEqual(
      planCertificate(state, { ...fields, renewBeforeDays: 100 }, NOW, key, issuerOf),
      {
        changes: true,
        replaces: ["notAfter"],
      },
    );
    assert.deepEqual(
      planCertificate(state, { ...fields, backdateMinutes: 10 }, NOW, key, issuerOf),
      {
        changes: true,
        replaces: [],
      },
    );
  });

  it("freezes a revoked certificate even inside its renewal window", () => {
    assert.deepEqual(
      planCertificate(
        state,
        { ...fields, revoked: true, renewBeforeDays: 100 },
        NOW,
        key,
        issuerOf,
      ),
      {
        changes: false,
        replaces: [],
      },
    );
  });

  it("updates (may re-sign) when the issuer is unknown during preview, replaces on an unknown key", () => {
    assert.equal(containsUnknown({ a: [1, UNKNOWN] }), true);
    assert.deepEqual(
      planCertificate(state, { ...fields, issuerCertificatePem: UNKNOWN }, NOW, key, issuerOf),
      {
        changes: true,
        replaces: [],
      },
    );
    assert.deepEqual(
      planCertificate(state, { ...fields, publicKeyPem: UNKNOWN }, NOW, key, issuerOf).replaces,
      ["publicKeyPem"],
    );
  });

  const crl: CrlState = {
    issuerCertificatePem: "I",
    validityDays: 7,
    refreshBeforeDays: 3,
    revocations: [
      {
        serialNumber: "0a",
        reason: "keyCompromise",
        notAfter: "2027-01-01T00:00:00.000Z",
        revokedAt: "2026-11-01T00:00:00.000Z",
      },
    ],
    crlPem: "P",
    crlNumber: 5,
    thisUpdate: new Date(NOW - DAY_MS).toISOString(),
    nextUpdate: new Date(NOW + 6 * DAY_MS).toISOString(),
    issuerSubject: "subj(I)",
    issuerPublicKeySha256: "sha(I)",
  };
  const declared = [
    { serialNumber: "0A", reason: "keyCompromise" as const, notAfter: "2027-01-01T00:00:00.000Z" },
  ];

  it("keeps a CRL while nothing changes and nextUpdate is far", () => {
    const plan = planCrl(
      crl,
      { issuerCertificatePem: "I", revocations: declared, validityDays: 7, refreshBeforeDays: 3 },
      NOW,
      issuerOf,
    );
    assert.deepEqual(plan, { changes: false, replaces: [], reasons: [] });
  });

  it("re-signs a CRL in place when a revocation is added or nextUpdate is near", () => {
    const more = [
      ...declared,
      { serialNumber: "0b", reason: "superseded" as const, notAfter: "2027-01-01T00:00:00.000Z" },
    ];
    assert.deepEqual(
      planCrl(
        crl,
        { issuerCertificatePem: "I", revocations: more, validityDays: 7, refreshBeforeDays: 3 },
        NOW,
        issuerOf,
      ),
      { changes: true, replaces: [], reasons: ["revocations"] },
    );
    assert.deepEqual(
      planCrl(
        crl,
        { issuerCertificatePem: "I", revocations: declared, validityDays: 7, refreshBeforeDays: 6 },
        NOW,
        issuerOf,
      ),
      { changes: true, replaces: [], reasons: ["nextUpdate"] },
    );
  });

  it("keeps revocations sticky until the certificate expires, with their first date", () => {
    assert.deepEqual(mergeRevocations(crl.revocations, [], NOW), crl.revocations);
    assert.deepEqual(mergeRevocations(crl.revocations, [], Date.parse("2027-02-01T00:00:00Z")), []);
    const merged = mergeRevocations(
      crl.revocations,
      [
        ...declared,
        { serialNumber: "00ff", reason: "unspecified", notAfter: "2027-01-01T00:00:00.000Z" },
      ],
      NOW,
    );
    assert.deepEqual(
      merged.map((r) => [r.serialNumber, r.revokedAt]),
      [
        ["0a", "2026-11-01T00:00:00.000Z"],
        ["ff", "2026-11-22T12:00:00.000Z"],
      ],
    );
    assert.equal(normalizeSerial("00:0A:FF"), "0aff");
  });
});

describe("RootCa and RootAuthority validation", () => {
  const good = {
    baseDn: "dc=example,dc=ch",
    crlBaseUrl: "http://binhost.example.ch/pki",
    intermediate: "production",
    root: { mode: "in-stack" as const },
  };

  it("accepts a minimal in-stack RootCa", () => {
    assert.deepEqual(validateRootCaArgs("pki", good), []);
  });

  it("names every problem in one message: bad DN, unknown kind, duplicates, unknown revocation, outliving", () => {
    const violations = validateRootCaArgs("pki", {
      ...good,
      baseDn: "dc=exa mple,dc=ch",
      crlBaseUrl: "ftp://x/",
      certificates: [
        { name: "web1", kind: "host", commonName: "web1.example.ch", validityDays: 4000 },
        { name: "web1", kind: "printer" as never, commonName: "p" },
        { name: "pup", kind: "puppet", commonName: "pup.example.ch", keyAlgorithm: "ecdsa-p384" },
      ],
      revoked: [{ certificate: "ghost" }],
    });
    assert.equal(
      formatViolations('RootCa "pki"', violations),
      [
        'RootCa "pki": 7 problems:',
        '- baseDn: is not a valid DN: it has DC="exa mple", which is not a DNS label (got "dc=exa mple,dc=ch"); write it most specific first, e.g. "dc=example,dc=ch" or "O=Example,C=CH"',
        '- crlBaseUrl: is not an http(s) URL (got "ftp://x/"); use an http:// URL without a trailing slash, e.g. "http://binhost.example.ch/crl" (where BinhostMirror serves CRLs)',
        "- certificates[0].validityDays: outlives its issuer (subCaValidityDays is 1825) (got 4000); use at most 1825 days, or lengthen subCaValidityDays",
        '- certificates[1].kind: is not a certificate kind (got "printer"); use one of host, client, user, puppet',
        '- certificates[2].keyAlgorithm: cannot carry keyEncipherment, which Puppet requires (RFC 5480 forbids it for EC keys) (got "ecdsa-p384"); use rsa-3072 or rsa-4096, or leave it unset (rsa-4096)',
        '- certificates[1]: repeats the certificate name "web1" (got "web1"); give each certificate name once',
        '- revoked[0].certificate: is not a declared certificate (got "ghost"); name one of web1, web1, pup',
      ].join("\n"),
    );
  });

  it("refuses a user certificate without email, a single-label DNS name (as a Puppet common name too) and a renewal window as long as the validity", () => {
    const violations = validateRootCaArgs("pki", {
      ...good,
      certificates: [
        { name: "alice", kind: "user", commonName: "Alice" },
        {
          name: "pm",
          kind: "puppet",
          commonName: "puppet",
          dnsNames: ["puppet"],
          validityDays: 30,
          renewBeforeDays: 30,
        },
      ],
    });
    assert.deepEqual(
      violations.map((v) => `${v.argument}: ${v.problem}`),
      [
        "certificates[0].emailAddresses: is empty for a user certificate",
        "certificates[1].renewBeforeDays: is not shorter than certificates[1].validityDays (30)",
        "certificates[1].commonName: is not a fully qualified DNS name",
        "certificates[1].dnsNames[0]: is not a fully qualified DNS name",
      ],
    );
  });

  it("refuses an unknown root mode and a bad package signing key", () => {
    const violations = validateRootCaArgs("pki", {
      ...good,
      root: { mode: "usb" } as never,
      packageSigningKey: { name: "x <y>", email: "nope" },
    });
    assert.deepEqual(
      violations.map((v) => v.argument),
      ["root.mode", "packageSigningKey.name", "packageSigningKey.email"],
    );
  });

  it("RootAuthority refuses path length 1, duplicate intermediates, a level 1 outliving the root and revoking an unknown one", () => {
    const violations = validateRootAuthorityArgs({
      baseDn: "dc=example,dc=ch",
      crlBaseUrl: "http://binhost.example.ch/pki",
      intermediates: ["production", "production", "Staging"],
      pathLength: 1,
      validityDays: 1000,
      renewBeforeDays: 100,
      revoked: [{ intermediate: "qa" }],
    });
    assert.deepEqual(
      violations.map((v) => `${v.argument}: ${v.problem}`),
      [
        "pathLength: leaves no room for level 1 and level 2 CAs",
        "intermediateValidityDays: outlives its issuer (validityDays is 1000)",
        "intermediates[2]: is not a valid name",
        'intermediates[1]: repeats the intermediate "production"',
        "revoked[0].intermediate: is not a declared intermediate",
      ],
    );
  });

  it("validates OpenPGP key requests", () => {
    assert.deepEqual(
      validatePgpKeyRequest({ name: "Example binhost", email: "binhost@example.ch" }),
      [],
    );
    assert.deepEqual(
      validatePgpKeyRequest({
        name: "",
        email: "a@b.ch",
        algorithm: "dsa" as never,
        validityDays: -1,
      }).map((v) => v.argument),
      ["name", "algorithm", "validityDays"],
    );
  });
});
