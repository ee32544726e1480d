/**
 * Engine tier for the policy pack (policy/, docs/pull-requests.md "Policies"): the real CLI runs
 * `pulumi preview --policy-pack <the pack's directory>`, which the engine starts through the
 * Node.js language host's RunPlugin (toolchain/language-nodejs/runplugin, docs/toolchain.md).
 * test/engine/fixtures/policy keeps every mandatory policy (the preview passes and prints the
 * advisory one), breaks each at once (the preview fails with each policy's message, marked
 * mandatory), or breaks only the offline-root policy (a staging stack).
 *
 * Not proven here: that the libvirt-backed PxeInstallHost, BinhostMirror and GentooBuildFarm
 * register the outputs the policies read (the fixture stands in for them with components of the
 * same type, since their preview needs a libvirtd); that an output's secretness is judged when it
 * is unknown in a preview (the SDK does not send it); the checks' corner cases, which
 * test/unit/policy-checks.test.ts covers on plain data.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { POLICY_PACK, policyViolations as reported } from "../support/policy";
import {
  type CliResult,
  PulumiCommandError,
  PulumiProgram,
  REPO_ROOT,
  TOOLCHAIN_HINT,
} from "../support/pulumi";
import { requireFiles, requireTools } from "../support/tools";

const FIXTURE = "test/engine/fixtures/policy";
/** The pack's directory as a user types it, relative to the program's directory. */
const PACK = path.relative(path.join(REPO_ROOT, FIXTURE), POLICY_PACK);
const PACK_HINT =
  "run 'npm run setup' (scripts/setup.d/47-policy.sh installs and compiles policy/)";

/** Whether the pack and the toolchain are there (else skipped, or failed under CI). */
function ready(t: import("node:test").TestContext): boolean {
  return (
    requireTools(t, ["pulumi"], TOOLCHAIN_HINT) &&
    requireFiles(
      t,
      [
        path.join(REPO_ROOT, "policy/node_modules/@pulumi/policy"),
        path.join(REPO_ROOT, "policy/bin/index.js"),
      ],
      PACK_HINT,
    )
  );
}

/** A preview of the fixture with `config` and the pack; the CLI's output whether it passed or not. */
async function previewWithPack(
  config: Record<string, string>,
): Promise<{ ok: boolean; output: string; seconds: number }> {
  const program = await PulumiProgram.create(FIXTURE);
  try {
    for (const [key, value] of Object.entries(config)) await program.setConfig(key, value);
    const start = performance.now();
    let result: CliResult;
    let ok = true;
    try {
      result = await program.run([
        "preview",
        "--non-interactive",
        "--policy-pack",
        PACK,
        "--stack",
        program.stack,
      ]);
    } catch (error) {
      if (!(error instanceof PulumiCommandError)) throw error;
      ok = false;
      result = error;
    }
    const seconds = (performance.now() - start) / 1000;
    console.log(`preview with the pack (${JSON.stringify(config)}): ${seconds.toFixed(1)} s`);
    return { ok, output: `${result.stdout}\n${result.stderr}`, seconds };
  } finally {
    await program.cleanup({ force: true });
  }
}

test("a program that keeps every mandatory policy previews with the pack, printing the advisory one", async (t) => {
  if (!ready(t)) return;
  const { ok, output } = await previewWithPack({});
  assert.ok(ok, output);
  assert.deepEqual(reported(output), ["advisory root-ca-in-stack"], output);
  assert.match(
    output,
    /RootCa "pki" creates its root CA in this stack: its private key is in this stack's state/,
  );
});

test("a program that breaks every mandatory policy fails its preview with each policy's message", async (t) => {
  if (!ready(t)) return;
  const { ok, output } = await previewWithPack({ environment: "production", violate: "true" });
  assert.equal(ok, false, output);
  assert.deepEqual(
    reported(output),
    [
      "mandatory binhost-https",
      "mandatory binhost-https",
      "mandatory binhost-https",
      "mandatory builder-snapshots",
      "mandatory no-plain-secret-outputs",
      "mandatory no-plain-secret-outputs",
      "mandatory pxe-host-certificates",
      "mandatory pxe-host-certificates",
      "mandatory root-ca-offline",
    ],
    output,
  );
  for (const message of [
    'RootCa "pki" creates its root CA in this production stack (root mode "in-stack")',
    'PxeInstallHost "pxe" machine web1 has a puppet certificate, not kind host',
    'PxeInstallHost "pxe" machine web2 has no host certificate',
    "stack output adminPassphrase is named like a key or passphrase and is not a secret",
    "stack output notes.signingKey holds a private key and is not a secret",
    'BinhostMirror "binhost" serves http://binhost.production.example.ch/, not https://',
    'BinhostMirror "binhost" answers plain HTTP (http: "serve")',
    'BinhostMirror "binhost" has a certificate issued by "CN=example Client CA production,DC=example,DC=ch", not by the site\'s host CA (CN=example Host CA production,DC=example,DC=ch)',
    'GentooBuildFarm "farm" builder production/amd64/linux builds gentoo 3333333333333333333333333333333333333333, but Stack "linux" has 1111111111111111111111111111111111111111 for production',
  ]) {
    assert.ok(output.includes(message), `missing: ${message}\n${output}`);
  }
  // The secret outputs of the same program passed: only the plain ones are reported.
  assert.doesNotMatch(output, /stack output web1PrivateKeyPem/);
});

test("a staging stack whose RootCa creates its root fails on root-ca-offline alone", async (t) => {
  if (!ready(t)) return;
  const { ok, output } = await previewWithPack({ environment: "staging" });
  assert.equal(ok, false, output);
  assert.deepEqual(reported(output), ["mandatory root-ca-offline"], output);
  assert.match(output, /RootCa "pki" creates its root CA in this staging stack/);
});

// The language host's RunPlugin (request decoding, the command it runs): part of `npm test`.
test("the language host's Go tests pass (go test ./... in toolchain/language-nodejs)", (t) => {
  if (!requireTools(t, ["go"], "put Go >= 1.26 on PATH (docs/toolchain.md)")) return;
  const r = spawnSync("go", ["test", "-count=1", "./..."], {
    cwd: path.join(REPO_ROOT, "toolchain/language-nodejs"),
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^ok\s+\S+\/runplugin\s/m, r.stdout);
});
