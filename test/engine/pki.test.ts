/**
 * Engine tier for the PKI: examples/pki-root (the offline root) and examples/pki (an
 * environment referencing it) go up with the real CLI, the tls provider and our dynamic
 * providers; a second up changes nothing; revoking one certificate changes only its CRL,
 * which OpenSSL then honours; the state holds no plaintext private key; destroy.
 *
 * Both stacks share one temporary backend, so the environment's StackReference resolves.
 * Not proven here: renewal (needs time to pass; unit-tested in the signing plan) or
 * publishing the CRLs (BinhostMirror).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { previewReport } from "../../lib/cli/preview-report";
import { PulumiProgram, REPO_ROOT, runPulumi, TOOLCHAIN_HINT } from "../support/pulumi";
import { scenarioSteps } from "../support/steps";
import { requireTools } from "../support/tools";

const ENV_DIR = path.join(REPO_ROOT, "examples/pki");

interface PreviewStep {
  readonly op: string;
  readonly urn: string;
}

test("the offline root and an environment PKI go up, stay unchanged, revoke through the CRL only and go down", async (t) => {
  if (!requireTools(t, ["pulumi", "openssl"], TOOLCHAIN_HINT)) return;
  const root = await PulumiProgram.create("examples/pki-root");
  const envStack = `${root.stack}-env`;
  const env = (args: string[]) => runPulumi([...args, "--stack", envStack], ENV_DIR, root.env);
  const work = await mkdtemp(path.join(tmpdir(), "gi-pki-engine-"));
  let envCreated = false;
  let destroyed = false;
  // Each step needs the ones before it: after a failure the rest are skipped, not failed.
  const step = scenarioSteps(t);
  try {
    await runPulumi(["stack", "init", envStack, "--non-interactive"], ENV_DIR, root.env);
    envCreated = true;

    await step("the root stack and the environment stack go up", async () => {
      await root.up();
      await env(["config", "set", "rootStack", `organization/pki-root/${root.stack}`]);
      await env(["config", "set", "intermediate", "production"]);
      await env(["up", "--yes", "--skip-preview", "--non-interactive"]);
    });

    await step("a second up of either stack changes nothing", async () => {
      await root.preview({ expectNoChanges: true });
      await env(["preview", "--non-interactive", "--expect-no-changes"]);
      // The pull request's report of it (gentoo-infra preview-report) says so.
      const unchanged = (await env(["preview", "--non-interactive", "--json"])).stdout;
      assert.equal(
        previewReport([{ environment: "production", preview: JSON.parse(unchanged) }]).markdown,
        "## production: no change\n",
      );
      await env(["up", "--yes", "--skip-preview", "--non-interactive", "--expect-no-changes"]);
    });

    await step(
      "a root stack made when its class was OfflineRoot keeps every resource (the alias)",
      async () => {
        // The state as the library wrote it before the rename: the old type in every URN.
        const exported = (await root.run(["stack", "export", "--stack", root.stack])).stdout;
        assert.match(exported, /gentoo-infra:pki:RootAuthority/);
        const old = path.join(work, "old-root-state.json");
        await writeFile(
          old,
          exported.replaceAll("gentoo-infra:pki:RootAuthority", "gentoo-infra:pki:OfflineRoot"),
        );
        await root.run(["stack", "import", "--file", old, "--stack", root.stack]);
        await root.preview({ expectNoChanges: true });
        await root.up({ expectNoChanges: true });
        const after = (await root.run(["stack", "export", "--stack", root.stack])).stdout;
        assert.doesNotMatch(after, /gentoo-infra:pki:OfflineRoot/, "the up moved the URNs");
      },
    );

    const outputs = async () =>
      JSON.parse((await env(["stack", "output", "--json", "--show-secrets"])).stdout) as {
        rootCertificatePem: string;
        hostChainPem: string;
        crlFiles: Record<string, string>;
        certificatePems: Record<string, string>;
        packageSigningPublicKey: string;
        binpkgSigningKey: string;
      };
    const verifyWeb1 = async () => {
      const o = await outputs();
      await writeFile(path.join(work, "root.pem"), o.rootCertificatePem);
      await writeFile(path.join(work, "chain.pem"), o.hostChainPem);
      await writeFile(path.join(work, "crls.pem"), Object.values(o.crlFiles).join(""));
      await writeFile(path.join(work, "web1.pem"), o.certificatePems.web1 as string);
      return spawnSync(
        "openssl",
        [
          "verify",
          "-x509_strict",
          "-crl_check_all",
          "-purpose",
          "sslserver",
          "-CAfile",
          "root.pem",
          "-untrusted",
          "chain.pem",
          "-CRLfile",
          "crls.pem",
          "web1.pem",
        ],
        { cwd: work, encoding: "utf8" },
      );
    };

    await step(
      "openssl verifies a host certificate through root, level 1 and sub-CA with every CRL",
      async () => {
        const o = await outputs();
        assert.deepEqual(Object.keys(o.crlFiles).sort(), [
          "level1-production.crl",
          "production-client.crl",
          "production-host.crl",
          "production-puppet.crl",
          "production-user.crl",
          "root.crl",
        ]);
        assert.match(o.binpkgSigningKey, /^0x[0-9A-F]{40}!$/);
        const r = await verifyWeb1();
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      },
    );

    await step(
      "revoking web1 changes only the host CRL, and openssl then rejects web1",
      async () => {
        await env([
          "config",
          "set",
          "revoked",
          '[{"certificate":"web1","reason":"keyCompromise"}]',
        ]);
        const preview = JSON.parse(
          (await env(["preview", "--non-interactive", "--json"])).stdout,
        ) as {
          steps: PreviewStep[];
        };
        // A StackReference is read on every run; that is not a change.
        const isRead = (s: PreviewStep) =>
          s.op === "read" && s.urn.includes("pulumi:pulumi:StackReference");
        const changed = preview.steps
          .filter((s) => s.op !== "same" && !isRead(s))
          .map((s) => `${s.op} ${s.urn.split("::").pop()}`);
        assert.deepEqual(changed, ["update pki-host-crl-crl"]);
        // The report names the certificate, the reason and the CRL; nothing stateful.
        const report = previewReport([{ environment: "production", preview }]);
        assert.deepEqual(
          report.markdown.split("\n").filter((l) => /^(## |### |- )/.test(l)),
          [
            "## production: 1 resource changes",
            "### PKI",
            "- certificate web1 revoked (keyCompromise); host CRL re-signed",
          ],
        );
        assert.deepEqual(report.stateful, []);
        await env(["up", "--yes", "--skip-preview", "--non-interactive"]);
        const r = await verifyWeb1();
        assert.notEqual(r.status, 0);
        assert.match(`${r.stdout}${r.stderr}`, /certificate revoked/);
      },
    );

    await step("the state of both stacks holds no plaintext private key", async () => {
      const state = await root.rawState();
      assert.ok(state.includes("SignedCertificate"), "the state lists our certificates");
      assert.ok(!state.includes("PRIVATE KEY"), "no PEM or OpenPGP private key in the state");
    });

    await step("destroy removes every resource of both stacks", async () => {
      await env(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
      await root.destroy();
      destroyed = true;
      const state = await root.rawState();
      assert.ok(!state.includes("SignedCertificate"), "no certificate left in the state");
    });
  } finally {
    if (envCreated) {
      await runPulumi(
        ["stack", "rm", "--yes", ...(destroyed ? [] : ["--force"]), "--stack", envStack],
        ENV_DIR,
        root.env,
      ).catch(() => undefined);
    }
    await root.cleanup({ force: !destroyed });
    await rm(work, { recursive: true, force: true });
  }
});
