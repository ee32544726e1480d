// The baseline of bench/fleet-scale.ts: what any program that gives each machine of a fleet
// its own host and puppet certificates must have, written by hand with @pulumi/tls: per
// machine a key, a CSR and a certificate signed by one CA, twice (6 resources). Config:
// machineCount.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

const count = new pulumi.Config().requireNumber("machineCount");
const caKey = new tls.PrivateKey("ca-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
const ca = new tls.SelfSignedCert("ca", {
  privateKeyPem: caKey.privateKeyPem,
  isCaCertificate: true,
  validityPeriodHours: 24 * 365,
  subject: { commonName: "fleet baseline CA" },
  allowedUses: ["cert_signing", "crl_signing"],
});
for (let i = 1; i <= count; i++) {
  for (const kind of ["host", "puppet"]) {
    const name = `web${i}-${kind}`;
    // As ours: ECDSA P-384 host keys, RSA-4096 puppet keys (Puppet needs keyEncipherment).
    const key = new tls.PrivateKey(
      `${name}-key`,
      kind === "host"
        ? { algorithm: "ECDSA", ecdsaCurve: "P384" }
        : { algorithm: "RSA", rsaBits: 4096 },
    );
    const csr = new tls.CertRequest(`${name}-csr`, {
      privateKeyPem: key.privateKeyPem,
      subject: { commonName: `web${i}.fleet.test` },
      dnsNames: [`web${i}.fleet.test`],
    });
    new tls.LocallySignedCert(`${name}-cert`, {
      certRequestPem: csr.certRequestPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      caCertPem: ca.certPem,
      validityPeriodHours: 24 * 90,
      allowedUses: ["digital_signature", kind === "host" ? "server_auth" : "client_auth"],
    });
  }
}
