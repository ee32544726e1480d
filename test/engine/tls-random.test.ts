/**
 * The engine tier's round trip with the real CLI, language host and the tls and random provider
 * plugins: up, a second up that changes nothing, the certificates checked by OpenSSL, secrets
 * encrypted in the state, destroy. It does not prove anything about libvirt or our components.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { PulumiProgram, TOOLCHAIN_HINT } from "../support/pulumi";
import { requireTools } from "../support/tools";

test("tls-random fixture goes up, stays unchanged, verifies with openssl and goes down", async (t) => {
  if (!requireTools(t, ["pulumi", "openssl"], TOOLCHAIN_HINT)) return;
  const program = await PulumiProgram.create("test/engine/fixtures/tls-random");
  let destroyed = false;
  const work = await mkdtemp(path.join(tmpdir(), "gi-tls-"));
  try {
    await t.test("first up creates the stack", async () => {
      await program.up();
    });

    await t.test("a second up changes nothing", async () => {
      await program.preview({ expectNoChanges: true });
      await program.up({ expectNoChanges: true });
    });

    const outputs = await program.outputs({ showSecrets: true });
    const ca = String(outputs.caCertPem);
    const leaf = String(outputs.leafCertPem);
    const leafKey = String(outputs.leafKeyPem);
    const password = String(outputs.adminPassword);

    await t.test("openssl verifies the leaf against the CA", async () => {
      await writeFile(path.join(work, "ca.pem"), ca);
      await writeFile(path.join(work, "leaf.pem"), leaf);
      const verify = spawnSync(
        "openssl",
        ["verify", "-x509_strict", "-CAfile", "ca.pem", "leaf.pem"],
        {
          cwd: work,
          encoding: "utf8",
        },
      );
      assert.equal(verify.stdout.trim(), "leaf.pem: OK", verify.stderr);
      assert.equal(verify.status, 0);
    });

    await t.test(
      "secret outputs are secret and the state holds no plaintext key or password",
      async () => {
        const plain = await program.outputs();
        assert.equal(plain.adminPassword, "[secret]");
        assert.equal(plain.leafKeyPem, "[secret]");
        assert.match(leafKey, /-----BEGIN (EC )?PRIVATE KEY-----/);
        assert.match(password, /^[A-Za-z0-9]{24}$/);
        const state = await program.rawState();
        assert.ok(
          state.includes("tls:index/privateKey:PrivateKey"),
          "state lists the private keys",
        );
        assert.ok(!state.includes("PRIVATE KEY"), "no PEM private key in the state file");
        assert.ok(!state.includes(password), "no plaintext password in the state file");
      },
    );

    await t.test("destroy removes every resource", async () => {
      await program.destroy();
      destroyed = true;
      const state = await program.rawState();
      assert.ok(!state.includes("tls:index/"), "no tls resource left in the state");
    });
  } finally {
    await program.cleanup({ force: !destroyed });
    await rm(work, { recursive: true, force: true });
  }
});
