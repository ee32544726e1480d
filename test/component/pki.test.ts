/**
 * Component tier for the PKI under `pulumi.runtime.setMocks`: which children RootCa,
 * RootAuthority and the building blocks create, with which names and inputs.
 *
 * Not proven here: that the dynamic providers sign anything (render tier) or that the
 * engine runs them (engine tier). The providers are serialized, though, as under the engine.
 */
import assert from "node:assert/strict";
import { before, beforeEach, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as hostile from "../support/hostile";
import { settled } from "../support/mocks";

interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

let registered: Registered[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "tls:index/privateKey:PrivateKey") {
        state.publicKeyPem = `PUBLIC(${args.name})`;
        state.privateKeyPemPkcs8 = `PRIVATE(${args.name})`;
      }
      if (args.type.endsWith(":SignedCertificate")) {
        state.certificatePem = `CERT(${args.name})\n`;
        state.serialNumber = `serial-${args.name}`;
        state.notAfter = "2027-11-22T12:00:00.000Z";
        delete state.signingKeyPem;
      }
      if (args.type.endsWith(":SignedCrl")) {
        state.crlPem = `CRL(${args.name})\n`;
        state.nextUpdate = "2026-11-29T12:00:00.000Z";
        delete state.signingKeyPem;
      }
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  },
  "gentoo-infra",
  "test",
  false,
);

// Imported after setMocks, as the mocks must be in place when resources register.
let pki: typeof import("../../lib/pki");
before(async () => {
  pki = await import("../../lib/pki");
});
beforeEach(() => {
  registered = [];
});

function value<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

async function settle(outputs: pulumi.Output<unknown>[]): Promise<void> {
  await Promise.all(outputs.map(value));
  await settled();
}

const byName = (name: string) => {
  const found = registered.filter((r) => r.name === name);
  assert.equal(found.length, 1, `expected one resource named ${name}, got ${found.length}`);
  return found[0] as Registered;
};

const DYN = "pulumi-nodejs:dynamic/gentoo-infra";
/** How a secret input reaches the mocks: wrapped with Pulumi's secret signature. */
const secret = (value: string) => ({
  "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  value,
});
const base = {
  baseDn: "dc=example,dc=ch",
  crlBaseUrl: "http://binhost.example.ch/pki",
  intermediate: "production",
};

describe("RootCa", () => {
  it("in-stack: creates root, level 1, four sub-CAs, the leaves and one CRL per CA, exactly", async () => {
    const ca = new pki.RootCa("pki", {
      ...base,
      root: { mode: "in-stack" },
      certificates: [
        { name: "web1", kind: "host", commonName: "web1.example.ch" },
        { name: "alice", kind: "user", commonName: "Alice", emailAddresses: ["alice@example.ch"] },
      ],
      packageSigningKey: { name: "Example binhost", email: "binhost@example.ch" },
    });
    await settle([ca.crlFiles, ca.rootCertificatePem]);
    const custom = registered
      .filter((r) => !r.type.startsWith("gentoo-infra:"))
      .map((r) => `${r.type.replace(DYN, "dyn")} ${r.name}`)
      .sort();
    const keyAndCert = (n: string) => [
      `dyn:SignedCertificate ${n}-cert`,
      `tls:index/privateKey:PrivateKey ${n}-key`,
    ];
    assert.deepEqual(
      custom,
      [
        ...keyAndCert("pki-root-ca"),
        ...keyAndCert("pki-root-level1-production"),
        "dyn:SignedCrl pki-root-crl-crl",
        "dyn:SignedCrl pki-level1-crl-crl",
        ...["host", "client", "user", "puppet"].flatMap((k) => [
          ...keyAndCert(`pki-${k}-ca`),
          `dyn:SignedCrl pki-${k}-crl-crl`,
        ]),
        ...keyAndCert("pki-cert-web1"),
        ...keyAndCert("pki-cert-alice"),
        "dyn:PackageSigningKey pki-package-signing",
      ].sort(),
    );
    const components = registered
      .filter((r) => r.type.startsWith("gentoo-infra:"))
      .map((r) => r.type);
    assert.equal(components.filter((t) => t === "gentoo-infra:pki:CertificateAuthority").length, 6);
    assert.equal(components.filter((t) => t === "gentoo-infra:pki:RevocationList").length, 6);
    assert.deepEqual(Object.keys(await value(ca.crlFiles)).sort(), [
      "level1-production.crl",
      "production-client.crl",
      "production-host.crl",
      "production-puppet.crl",
      "production-user.crl",
      "root.crl",
    ]);
  });

  it("signs each level with its path length, subject and CRL distribution point", async () => {
    const ca = new pki.RootCa("pki", { ...base, root: { mode: "in-stack" } });
    await settle([ca.crlFiles]);
    const root = byName("pki-root-ca-cert").inputs;
    assert.equal(root.pathLength, undefined);
    assert.equal(root.issuerCertificatePem, undefined);
    assert.equal(root.crlDistributionUrl, undefined);
    assert.deepEqual(root.signingKeyPem, secret("PRIVATE(pki-root-ca-key)"));
    const level1 = byName("pki-root-level1-production-cert").inputs;
    assert.equal(level1.pathLength, 1);
    assert.equal(level1.crlDistributionUrl, "http://binhost.example.ch/pki/root.crl");
    assert.equal(level1.issuerCertificatePem, "CERT(pki-root-ca-cert)\n");
    const host = byName("pki-host-ca-cert").inputs;
    assert.equal(host.pathLength, 0);
    assert.deepEqual(host.keyUsage, ["keyCertSign", "cRLSign"]);
    assert.equal(host.crlDistributionUrl, "http://binhost.example.ch/pki/level1-production.crl");
    assert.deepEqual(host.signingKeyPem, secret("PRIVATE(pki-root-level1-production-key)"));
    assert.deepEqual(
      (host.subject as { value: string }[]).map((r) => r.value),
      ["ch", "example", "example Host CA production"],
    );
    for (const k of ["pki-root-ca-key", "pki-host-ca-key"]) {
      assert.deepEqual(byName(k).inputs, { algorithm: "ECDSA", ecdsaCurve: "P384" });
    }
  });

  it("gives leaves their kind's usages, puppet an RSA 4096 key, hosts their FQDN as SAN", async () => {
    const ca = new pki.RootCa("pki", {
      ...base,
      root: { mode: "in-stack" },
      certificates: [
        { name: "web1", kind: "host", commonName: "web1.example.ch", ipAddresses: ["192.0.2.10"] },
        { name: "agent", kind: "puppet", commonName: "agent.example.ch" },
        {
          name: "backup",
          kind: "client",
          commonName: "backup",
          validityDays: 90,
          renewBeforeDays: 10,
        },
      ],
    });
    await settle([ca.crlFiles]);
    const web1 = byName("pki-cert-web1-cert").inputs;
    assert.deepEqual(
      [
        web1.keyUsage,
        web1.extendedKeyUsage,
        web1.dnsNames,
        web1.ipAddresses,
        web1.crlDistributionUrl,
      ],
      [
        ["digitalSignature"],
        ["serverAuth"],
        ["web1.example.ch"],
        ["192.0.2.10"],
        "http://binhost.example.ch/pki/production-host.crl",
      ],
    );
    assert.deepEqual(web1.signingKeyPem, secret("PRIVATE(pki-host-ca-key)"));
    assert.deepEqual(byName("pki-cert-agent-key").inputs, { algorithm: "RSA", rsaBits: 4096 });
    const agent = byName("pki-cert-agent-cert").inputs;
    assert.deepEqual(agent.keyUsage, ["digitalSignature", "keyEncipherment"]);
    assert.deepEqual(agent.extendedKeyUsage, ["serverAuth", "clientAuth"]);
    const backup = byName("pki-cert-backup-cert").inputs;
    assert.deepEqual([backup.validityDays, backup.renewBeforeDays, backup.dnsNames], [90, 10, []]);
    assert.deepEqual(
      (backup.subject as { value: string }[]).map((r) => r.value),
      ["ch", "example", "clients", "backup"],
    );
  });

  it("offline: creates no root and no level-1 key; signs sub-CAs with the level-1 key it is given", async () => {
    const ca = new pki.RootCa("env", {
      ...base,
      root: {
        mode: "offline",
        rootCertificatePem: "ROOT",
        rootCrlPem: "ROOTCRL",
        level1CertificatePem: "L1",
        level1PrivateKeyPem: pulumi.secret("L1KEY"),
      },
    });
    await settle([ca.crlFiles]);
    assert.deepEqual(
      registered.filter(
        (r) => /root|level1-production/.test(r.name) || r.type.includes("RootAuthority"),
      ),
      [],
    );
    assert.equal(registered.filter((r) => r.type === "tls:index/privateKey:PrivateKey").length, 4);
    assert.equal(byName("env-user-ca-cert").inputs.issuerCertificatePem, "L1");
    assert.deepEqual(byName("env-user-ca-cert").inputs.signingKeyPem, secret("L1KEY"));
    assert.equal(byName("env-level1-crl-crl").inputs.issuerCertificatePem, "L1");
    assert.equal((await value(ca.crlFiles))["root.crl"], "ROOTCRL");
    assert.equal(await value(ca.rootCertificatePem), "ROOT");
    assert.equal(await value(ca.chainPems.host), "CERT(env-host-ca-cert)\nL1");
  });

  it("revokes a declared certificate: freezes it and lists its serial on its sub-CA's CRL only", async () => {
    const ca = new pki.RootCa("pki", {
      ...base,
      root: { mode: "in-stack" },
      certificates: [
        { name: "web1", kind: "host", commonName: "web1.example.ch" },
        { name: "web2", kind: "host", commonName: "web2.example.ch" },
      ],
      revoked: [{ certificate: "web1", reason: "keyCompromise" }],
    });
    await settle([ca.crlFiles]);
    assert.equal(byName("pki-cert-web1-cert").inputs.revoked, true);
    assert.equal(byName("pki-cert-web2-cert").inputs.revoked, false);
    assert.deepEqual(byName("pki-host-crl-crl").inputs.revocations, [
      {
        serialNumber: "serial-pki-cert-web1-cert",
        certificate: "web1",
        notAfter: "2027-11-22T12:00:00.000Z",
        reason: "keyCompromise",
      },
    ]);
    for (const kind of ["client", "user", "puppet"]) {
      assert.deepEqual(byName(`pki-${kind}-crl-crl`).inputs.revocations, []);
    }
    assert.deepEqual(byName("pki-level1-crl-crl").inputs.revocations, []);
  });

  it("throws one error naming every problem and creates nothing", () => {
    assert.throws(
      () =>
        new pki.RootCa("bad", {
          ...base,
          intermediate: "Prod",
          root: { mode: "in-stack" },
          certificates: [{ name: "x", kind: "host", commonName: "x.example.ch" }],
          revoked: [{ certificate: "y" }],
        }),
      (e: unknown) =>
        e instanceof pulumi.ResourceError &&
        e.message ===
          [
            'RootCa "bad": 2 problems:',
            '- intermediate: is not a valid name (got "Prod"); use lower-case letters, digits and inner hyphens (e.g. production, web1)',
            '- revoked[0].certificate: is not a declared certificate (got "y"); name one of x',
          ].join("\n"),
    );
    assert.deepEqual(
      registered.filter((r) => r.type !== "gentoo-infra:pki:RootCa"),
      [],
    );
  });

  it("never puts a private key into a serialized provider", async () => {
    const ca = new pki.RootCa("pki", { ...base, root: { mode: "in-stack" } });
    await settle([ca.crlFiles]);
    const providers = registered
      .filter((r) => r.type.startsWith(DYN))
      .map((r) => String(r.inputs.__provider));
    assert.ok(providers.length > 0);
    for (const text of providers) {
      assert.doesNotMatch(text, /PRIVATE/);
      assert.match(text, /require\("@peculiar\/x509"\)|@peculiar\/x509/);
    }
  });
});

describe("RootAuthority", () => {
  it("creates the root, one level 1 per intermediate and the root CRL listing revoked ones", async () => {
    const root = new pki.RootAuthority("offline", {
      baseDn: "dc=example,dc=ch",
      crlBaseUrl: "http://binhost.example.ch/pki",
      intermediates: ["production", "staging"],
      pathLength: 2,
      revoked: [{ intermediate: "staging", reason: "superseded" }],
    });
    await settle([root.crl.crlPem]);
    assert.deepEqual(
      registered
        .filter((r) => r.type.startsWith(DYN))
        .map((r) => r.name)
        .sort(),
      [
        "offline-ca-cert",
        "offline-crl-crl",
        "offline-level1-production-cert",
        "offline-level1-staging-cert",
      ],
    );
    assert.equal(byName("offline-ca-cert").inputs.pathLength, 2);
    assert.equal(byName("offline-level1-staging-cert").inputs.revoked, true);
    assert.deepEqual(byName("offline-crl-crl").inputs.revocations, [
      {
        serialNumber: "serial-offline-level1-staging-cert",
        notAfter: "2027-11-22T12:00:00.000Z",
        reason: "superseded",
      },
    ]);
    assert.deepEqual(
      [
        byName("offline-crl-crl").inputs.validityDays,
        byName("offline-crl-crl").inputs.refreshBeforeDays,
      ],
      [180, 60],
    );
  });
});

describe("building blocks", () => {
  it("CertificateAuthority refuses a level 2 without issuer and a root path length of 0", () => {
    assert.throws(
      () =>
        new pki.CertificateAuthority("ca", {
          commonName: "x",
          baseDn: "dc=example,dc=ch",
          level: "level2",
          pathLength: 0,
        }),
      (e: unknown) =>
        e instanceof pulumi.ResourceError &&
        e.message.includes("- issuer: is missing for a level2 CA") &&
        e.message.includes("- pathLength: is set for a level2 CA"),
    );
    assert.throws(
      () =>
        new pki.CertificateAuthority("ca", {
          commonName: "x",
          baseDn: "dc=example,dc=ch",
          level: "root",
          pathLength: 0,
        }),
      /pathLength: leaves no room for level 1 and level 2 CAs/,
    );
  });

  it("RevocationList refuses a refresh window as long as the validity", () => {
    assert.throws(
      () =>
        new pki.RevocationList("crl", {
          issuer: { certificatePem: "C", privateKeyPem: "K" },
          validityDays: 2,
          refreshBeforeDays: 2,
        }),
      /refreshBeforeDays: is not shorter than validityDays \(2\)/,
    );
  });

  it("PackageSigningKey passes the user ID fields and defaults to ed25519 with no expiry", async () => {
    const key = new pki.PackageSigningKey("sign", {
      name: "Example binhost",
      email: "binhost@example.ch",
    });
    await settle([key.userId]);
    const inputs = byName("sign").inputs;
    assert.deepEqual(
      [inputs.name, inputs.email, inputs.algorithm, inputs.validityDays],
      ["Example binhost", "binhost@example.ch", "ed25519", 0],
    );
    // additionalSecretOutputs is applied by the engine, not by mocks: the engine tier greps
    // the state for the armored private key.
  });
});

describe("RootCa refuses hostile values in its plain arguments (property)", () => {
  type Args = import("../../lib/pki").RootCaArgs;
  type Ca = import("../../lib/pki").RootCa;
  /** Every plain argument given, as text where it is text. */
  const plainArgs = () => ({
    baseDn: "dc=example,dc=ch",
    organization: "Example",
    keyAlgorithm: "ecdsa-p384",
    crlBaseUrl: "http://binhost.example.ch/crl",
    intermediate: "development",
    root: { mode: "in-stack" },
    subCaValidityDays: 1825,
    subCaRenewBeforeDays: 90,
    renewBeforeDays: 30,
    crlValidityDays: 7,
    crlRefreshBeforeDays: 3,
    certificates: [
      {
        name: "web1",
        kind: "host",
        commonName: "web1.example.ch",
        dnsNames: ["web1.example.ch"],
        ipAddresses: ["192.0.2.10"],
        keyAlgorithm: "ecdsa-p384",
        validityDays: 365,
        renewBeforeDays: 30,
      },
      {
        name: "alice",
        kind: "user",
        commonName: "Alice Example",
        emailAddresses: ["alice@example.ch"],
      },
    ],
    revoked: [{ certificate: "alice", reason: "keyCompromise" }],
    packageSigningKey: {
      name: "Example binhost",
      email: "binhost@example.ch",
      algorithm: "ed25519",
      validityDays: 0,
    },
  });
  type Place = hostile.HostilePlace<Args, Ca>;
  const place = hostile.placesOver<Args, Ca>(plainArgs as () => Args);
  const days = (min: number) => (v: unknown) =>
    typeof v === "number" && Number.isInteger(v) && v >= min && v <= 1825;
  /** The value of the first RDN (the CN) of a DN. */
  const cnOf = (dn: string) => {
    const parsed = pki.parseDn(dn);
    assert.ok(parsed.ok, dn);
    return parsed.rdns[0]?.value;
  };

  const places: Place[] = [
    // A base DN: whitespace around "," and "=" is not part of a value, so the CAs' subjects
    // are those of the valid base.
    place("baseDn", "dc=example,dc=ch", ["baseDn"], {
      inert: (ca) =>
        assert.equal(ca.subCas.host.subjectDn, "CN=Example Host CA development,DC=example,DC=ch"),
    }),
    // Free text in the CAs' common names: one line, and it stays one DN value.
    place("organization", "Example", ["organization"], {
      optional: true,
      inert: (ca, value) => {
        assert.doesNotMatch(value, hostile.CONTROL);
        assert.equal(cnOf(ca.subCas.host.subjectDn), `${value} Host CA development`);
      },
    }),
    place("keyAlgorithm", "ecdsa-p384", ["keyAlgorithm"], { optional: true }),
    place("crlBaseUrl", "http://binhost.example.ch/crl", ["crlBaseUrl"]),
    place("intermediate", "development", ["intermediate"]),
    place("root.mode", "in-stack", ["root", "mode"]),
    ...(
      [
        ["subCaValidityDays", 1],
        ["subCaRenewBeforeDays", 0],
        ["renewBeforeDays", 0],
        ["crlValidityDays", 4],
        ["crlRefreshBeforeDays", 0],
      ] as const
    ).map(([field, min]) =>
      place(field, "30", [field], {
        optional: true,
        accepts: (v) => days(min)(v) && (field !== "crlRefreshBeforeDays" || (v as number) < 7),
      }),
    ),
    place("certificates", "web1", ["certificates"], { optional: true, accepts: hostile.isList }),
    place("certificates[0]", "web1", ["certificates", 0], { accepts: hostile.isTable }),
    place("certificates[0].name", "web1", ["certificates", 0, "name"]),
    place("certificates[0].kind", "host", ["certificates", 0, "kind"]),
    place("certificates[0].commonName", "web1.example.ch", ["certificates", 0, "commonName"]),
    place("certificates[0].dnsNames", "web1.example.ch", ["certificates", 0, "dnsNames"], {
      optional: true,
      accepts: hostile.isList,
    }),
    place("certificates[0].dnsNames[0]", "web1.example.ch", ["certificates", 0, "dnsNames", 0]),
    place("certificates[0].ipAddresses", "192.0.2.10", ["certificates", 0, "ipAddresses"], {
      optional: true,
      accepts: hostile.isList,
    }),
    place("certificates[0].ipAddresses[0]", "192.0.2.10", ["certificates", 0, "ipAddresses", 0]),
    place("certificates[0].keyAlgorithm", "ecdsa-p384", ["certificates", 0, "keyAlgorithm"], {
      optional: true,
    }),
    place("certificates[0].validityDays", "365", ["certificates", 0, "validityDays"], {
      optional: true,
      accepts: (v) => days(31)(v),
    }),
    place("certificates[0].renewBeforeDays", "30", ["certificates", 0, "renewBeforeDays"], {
      optional: true,
      accepts: (v) => days(0)(v) && (v as number) < 365,
    }),
    // Free text: a user's name in the subject of a user certificate, one line, one DN value.
    place("certificates[1].commonName", "Alice Example", ["certificates", 1, "commonName"], {
      inert: (ca, value) => {
        assert.doesNotMatch(value, hostile.CONTROL);
        assert.equal(cnOf(ca.certificates.alice?.subjectDn ?? ""), value);
      },
    }),
    place(
      "certificates[1].emailAddresses",
      "alice@example.ch",
      ["certificates", 1, "emailAddresses"],
      { accepts: (v) => hostile.isList(v) && (v as unknown[]).length > 0 },
    ),
    place("certificates[1].emailAddresses[0]", "alice@example.ch", [
      "certificates",
      1,
      "emailAddresses",
      0,
    ]),
    place("revoked", "alice", ["revoked"], { optional: true, accepts: hostile.isList }),
    place("revoked[0]", "alice", ["revoked", 0], { accepts: hostile.isTable }),
    place("revoked[0].certificate", "alice", ["revoked", 0, "certificate"]),
    place("revoked[0].reason", "keyCompromise", ["revoked", 0, "reason"], { optional: true }),
    // Free text in the signing key's user ID "name <email>": one line, without < or >.
    place("packageSigningKey.name", "Example binhost", ["packageSigningKey", "name"], {
      inert: (_ca, value) => {
        assert.doesNotMatch(value, hostile.CONTROL);
        assert.doesNotMatch(value, /[<>]/);
      },
    }),
    place("packageSigningKey.email", "binhost@example.ch", ["packageSigningKey", "email"]),
    place("packageSigningKey.algorithm", "ed25519", ["packageSigningKey", "algorithm"], {
      optional: true,
    }),
    place("packageSigningKey.validityDays", "0", ["packageSigningKey", "validityDays"], {
      optional: true,
      accepts: (v) => days(0)(v),
    }),
  ];

  it("each is refused with one error naming that argument, and nothing is registered", async () => {
    const made = hostile.assertHostileValuesRefused(places, (name, a) => new pki.RootCa(name, a));
    await settled();
    const children = registered.filter((r) => made.some((name) => r.name.startsWith(`${name}-`)));
    assert.deepEqual(
      children.map((r) => `${r.type} ${r.name}`),
      [],
      "no child of a refused RootCa",
    );
  });
});
