/**
 * The policy pack's checks (policy/checks.ts) on plain data: what each reports, with exact
 * messages, and what it leaves alone (unknown values, secrets, other environments). The engine
 * tier (test/engine/policy.test.ts) runs them through the real CLI.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  binhostHttps,
  builderSnapshots,
  type CheckedResource,
  noPlainSecretOutputs,
  oneRootCa,
  pxeHostCertificates,
  rootCaInStack,
  rootCaOffline,
  stackNameOf,
  TYPES,
} from "../../policy/checks";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const HOST_CA = "CN=example Host CA production,DC=example,DC=ch";

/** A resource of stack `stack` (default production); `parent` is a name in the same stack. */
function res(
  type: string,
  name: string,
  props: Record<string, unknown> = {},
  options: { parent?: string; stack?: string; secret?: string[] } = {},
): CheckedResource {
  const urnOf = (n: string) => `urn:pulumi:${options.stack ?? "production"}::site::${type}::${n}`;
  return {
    type,
    urn: urnOf(name),
    name,
    parent: options.parent,
    props,
    secretPaths: new Set(options.secret ?? []),
  };
}
const rootCa = (props: Record<string, unknown>, stack?: string) =>
  res(TYPES.rootCa, "pki", { subCaDns: { host: HOST_CA }, ...props }, { stack });
const messages = (vs: { message: string }[]) => vs.map((v) => v.message);

test("stackNameOf reads the stack of a URN", () => {
  assert.equal(
    stackNameOf("urn:pulumi:production::site::pulumi:pulumi:Stack::site-production"),
    "production",
  );
  assert.equal(stackNameOf("not a urn"), undefined);
});

test("root-ca-offline refuses an in-stack root when the stack name or the intermediate is staging or production", () => {
  const expected = (env: string) => [
    `RootCa "pki" creates its root CA in this ${env} stack (root mode "in-stack"): in staging and production the root is offline, in its own stack (examples/pki-root); give root: { mode: "offline", ... } from a StackReference to it`,
  ];
  assert.deepEqual(
    messages(rootCaOffline([rootCa({ rootMode: "in-stack", intermediate: "development" })])),
    expected("production"),
  );
  assert.deepEqual(
    messages(
      rootCaOffline([rootCa({ rootMode: "in-stack", intermediate: "staging" }, "engine-1")]),
    ),
    expected("staging"),
  );
  assert.deepEqual(
    rootCaOffline([rootCa({ rootMode: "in-stack", intermediate: "development" }, "dev-x")]),
    [],
  );
  assert.deepEqual(
    rootCaOffline([rootCa({ rootMode: "offline", intermediate: "production" })]),
    [],
  );
});

test("root-ca-offline refuses a RootAuthority beside a production RootCa, not one under an offline root's own stack", () => {
  const ca = rootCa({ rootMode: "offline", intermediate: "production" });
  assert.deepEqual(messages(rootCaOffline([ca, res(TYPES.rootAuthority, "root")])), [
    'RootAuthority "root" creates a root CA in a production stack: the offline root belongs in its own stack (examples/pki-root)',
  ]);
  // examples/pki-root: a RootAuthority and no RootCa, whatever the stack is called.
  assert.deepEqual(rootCaOffline([res(TYPES.rootAuthority, "root")]), []);
});

test("root-ca-in-stack advises on an in-stack root outside staging and production only", () => {
  assert.equal(
    rootCaInStack([rootCa({ rootMode: "in-stack", intermediate: "development" }, "dev")]).length,
    1,
  );
  assert.deepEqual(
    rootCaInStack([rootCa({ rootMode: "in-stack", intermediate: "production" }, "dev")]),
    [],
  );
  assert.deepEqual(rootCaInStack([rootCa({ rootMode: "offline" }, "dev")]), []);
});

test("pxe-host-certificates wants a host certificate of the site's host CA for every machine", () => {
  const pxe = res(TYPES.pxeInstallHost, "pxe", { machines: ["web1", "web2", "web3", "web4"] });
  const cert = (host: string, props: Record<string, unknown>) =>
    res(TYPES.certificate, `pxe-${host}-host`, props, { parent: pxe.urn });
  const resources = [
    rootCa({}),
    pxe,
    cert("web1", { kind: "host", issuerDn: HOST_CA }),
    cert("web2", { kind: "host", issuerDn: "CN=other" }),
    cert("web3", { kind: "host", issuerDn: UNKNOWN }), // not judged
  ];
  assert.deepEqual(messages(pxeHostCertificates(resources)), [
    `PxeInstallHost "pxe" machine web2 has a certificate issued by "CN=other", not by the site's host CA (${HOST_CA})`,
    'PxeInstallHost "pxe" machine web4 has no host certificate',
  ]);
  assert.deepEqual(messages(pxeHostCertificates(resources.slice(1, 3))), [
    'PxeInstallHost "pxe" machine web1 has a certificate, but this stack has no RootCa',
    'PxeInstallHost "pxe" machine web2 has no host certificate',
    'PxeInstallHost "pxe" machine web3 has no host certificate',
    'PxeInstallHost "pxe" machine web4 has no host certificate',
  ]);
  assert.deepEqual(
    pxeHostCertificates([res(TYPES.pxeInstallHost, "pxe", { machines: UNKNOWN })]),
    [],
  );
});

test("no-plain-secret-outputs reports plain keys and passphrases by name or value, at any depth", () => {
  const stack = (props: Record<string, unknown>, secret: string[] = []) =>
    res(TYPES.stack, "site-production", props, { secret });
  const pem = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n";
  assert.deepEqual(
    messages(
      noPlainSecretOutputs([
        stack(
          {
            keys: [{ ssh: "-----BEGIN OPENSSH PRIVATE KEY-----" }],
            dbPassword: "x",
            hostPrivateKeyPem: pem,
            sealed: pem,
            unknownKey: UNKNOWN,
            emptyPassphrase: "",
            rootCertificatePem: "-----BEGIN CERTIFICATE-----",
          },
          ["sealed"],
        ),
      ]),
    ),
    [
      "stack output keys.0.ssh holds a private key and is not a secret: wrap it in pulumi.secret() (or export the public part only)",
      "stack output dbPassword is named like a key or passphrase and is not a secret: wrap it in pulumi.secret() (or export the public part only)",
      "stack output hostPrivateKeyPem holds a private key and is not a secret: wrap it in pulumi.secret() (or export the public part only)",
    ],
  );
  // Only the root stack's outputs count.
  assert.deepEqual(
    noPlainSecretOutputs([
      { ...stack({ password: "x" }), parent: "urn:pulumi:p::s::pulumi:pulumi:Stack::outer" },
    ]),
    [],
  );
});

test("binhost-https wants https, no plain HTTP besides CRLs, and a host certificate of the site's CA", () => {
  const tls = res(TYPES.certificate, "binhost-tls", { kind: "host", issuerDn: HOST_CA });
  const binhost = (props: Record<string, unknown>) =>
    res(TYPES.binhostMirror, "binhost", {
      url: "https://b/",
      http: "redirect",
      certificate: tls.urn,
      ...props,
    });
  assert.deepEqual(binhostHttps([rootCa({}), tls, binhost({})]), []);
  assert.deepEqual(binhostHttps([rootCa({}), tls, binhost({ http: "off" })]), []);
  assert.deepEqual(messages(binhostHttps([rootCa({}), binhost({ certificate: undefined })])), [
    'BinhostMirror "binhost" has no TLS certificate',
  ]);
  assert.deepEqual(messages(binhostHttps([tls, binhost({ url: "ftp://b/" })])), [
    'BinhostMirror "binhost" serves ftp://b/, not https://',
    'BinhostMirror "binhost" has a certificate, but this stack has no RootCa',
  ]);
});

test("builder-snapshots compares each builder's commits with its Stack's, where both are known", () => {
  const snap = { gentoo: "a".repeat(40), overlay: "b".repeat(40) };
  const linux = res(TYPES.gentooStack, "linux", { treeSnapshots: { production: snap } });
  const farm = (snapshot: Record<string, unknown>, environment = "production") =>
    res(TYPES.buildFarm, "farm", {
      builders: { "production/amd64/linux": { environment, stack: linux.urn, snapshot } },
    });
  assert.deepEqual(builderSnapshots([linux, farm(snap)]), []);
  assert.deepEqual(builderSnapshots([linux, farm({ gentoo: UNKNOWN, overlay: snap.overlay })]), []);
  assert.deepEqual(
    messages(builderSnapshots([linux, farm({ ...snap, overlay: "c".repeat(40) })])),
    [
      `GentooBuildFarm "farm" builder production/amd64/linux builds overlay ${"c".repeat(40)}, but Stack "linux" has ${"b".repeat(40)} for production: pass the same readTreeSnapshot() result to both`,
    ],
  );
  assert.deepEqual(messages(builderSnapshots([linux, farm(snap, "staging")])), [
    'GentooBuildFarm "farm" builder production/amd64/linux: Stack "linux" has no tree snapshot for staging',
  ]);
});

test("one-root-ca advises when a stack has more than one RootCa", () => {
  assert.deepEqual(oneRootCa([rootCa({})]), []);
  assert.deepEqual(messages(oneRootCa([rootCa({}), { ...rootCa({}), name: "other" }])), [
    "this stack has 2 RootCas (pki, other): a site has one; host certificates from any of them pass the certificate policies",
  ]);
});
