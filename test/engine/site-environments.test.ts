/**
 * Engine tier: examples/site is one program with one Pulumi stack per environment, and its
 * committed Pulumi.development.yaml, Pulumi.staging.yaml and Pulumi.production.yaml hold what
 * differs. In one temporary backend, examples/pki-root goes up as the stack the staging and
 * production files reference (organization/pki-root/prod); then the real engine previews
 * examples/site as stacks development, staging and production, each with its committed file
 * unchanged but for the hypervisors' URIs. Each plan has exactly the file's hypervisors and
 * machines; development creates the root CA in the stack (and warns), staging and production
 * read it from the root stack and hold no root key. Every preview runs the policy pack
 * (policy/, `--policy-pack`) on the real components, and all three keep every mandatory
 * policy; the staging file without its rootStack fails on root-ca-offline alone.
 *
 * The committed files stay untouched: each stack is initialised in a scratch directory (where
 * `pulumi stack init` writes its passphrase salt into a copy of the file) and the program runs
 * with `--config-file` on that copy; `pulumi stack rm` never runs in examples/ (it would delete
 * the committed file). A preview creates nothing, so it proves nothing about `up` against the
 * site's real hosts.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { parseDocument } from "yaml";
import { useLibvirtHarness } from "../support/harness";
import { POLICY_PACK as PACK, policyViolations } from "../support/policy";
import {
  isolatedEnv,
  PulumiCommandError,
  REPO_ROOT,
  runPulumi,
  TOOLCHAIN_HINT,
} from "../support/pulumi";
import { scenarioSteps } from "../support/steps";
import { requireFiles, requireTools } from "../support/tools";

// The libvirt provider connects to libvirtd even to preview (no guest is created).
useLibvirtHarness(() => process.getuid?.() === 0);

const SITE = path.join(REPO_ROOT, "examples/site");
const ROOT = path.join(REPO_ROOT, "examples/pki-root");
const ENVIRONMENTS = ["development", "staging", "production"] as const;
/** The harness's libvirtd, standing in for every hypervisor of the site. */
const LOCAL_LIBVIRT = "qemu:///system";

/** What the test reads of `pulumi preview --json`. */
interface Preview {
  readonly steps: { readonly op: string; readonly urn: string }[];
  readonly diagnostics?: { readonly message: string; readonly severity: string }[];
}

/** The files of a program directory with their contents, to prove a run left them as they were. */
function snapshotDir(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [e.name, readFileSync(path.join(dir, e.name), "utf8")]),
  );
}

test("examples/site previews development, staging and production from their committed Pulumi.<env>.yaml", async (t) => {
  if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return;
  if (!requireFiles(t, [path.join(PACK, "bin/index.js")], "run npm run setup (step 47-policy)")) {
    return;
  }
  const before = { site: snapshotDir(SITE), root: snapshotDir(ROOT) };
  const work = await mkdtemp(path.join(tmpdir(), "gi-site-env-"));
  const backend = path.join(work, "backend");
  const env = isolatedEnv(backend, randomBytes(24).toString("hex"));

  /**
   * `pulumi stack init` in a scratch directory holding the program's Pulumi.yaml and `config`
   * as Pulumi.<stack>.yaml; returns that file (now with the salt) for `--config-file`.
   */
  const initStack = async (program: string, stack: string, config: string): Promise<string> => {
    const scratch = await mkdtemp(path.join(work, `${path.basename(program)}-${stack}-`));
    await copyFile(path.join(program, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
    const file = path.join(scratch, `Pulumi.${stack}.yaml`);
    await writeFile(file, config);
    await runPulumi(["stack", "init", stack, "--non-interactive"], scratch, env);
    return file;
  };
  /** `pulumi preview --json` of examples/site; a failure says the program's errors only. */
  const previewSite = async (stack: string, configFile: string): Promise<Preview> => {
    const args = ["preview", "--non-interactive", "--json", "--stack", stack];
    // A mandatory policy's violation fails the preview (--json prints no advisory ones).
    args.push("--policy-pack", PACK);
    try {
      const { stdout } = await runPulumi([...args, "--config-file", configFile], SITE, env);
      return JSON.parse(stdout) as Preview;
    } catch (error) {
      // Its JSON holds every planned input; the errors are what to read.
      if (!(error instanceof PulumiCommandError)) throw error;
      let diagnostics: Preview["diagnostics"] = [];
      try {
        diagnostics = (JSON.parse(error.stdout) as Partial<Preview>).diagnostics;
      } catch {
        diagnostics = [{ severity: "error", message: error.stdout }];
      }
      diagnostics ??= [];
      const errors = diagnostics.filter((d) => d.severity === "error").map((d) => d.message);
      throw new Error(`the ${stack} preview failed:\n${errors.join("\n")}${error.stderr}`);
    }
  };
  let rootConfig = "";
  const root = (args: string[]) =>
    runPulumi([...args, "--stack", "prod", "--config-file", rootConfig], ROOT, env);
  let rootUp = false;
  /** Each environment's stack file (with its salt), for the step that changes one. */
  const files: Partial<Record<(typeof ENVIRONMENTS)[number], string>> = {};
  const step = scenarioSteps(t);
  try {
    await step("the offline root goes up as organization/pki-root/prod", async () => {
      await mkdir(backend);
      rootConfig = await initStack(ROOT, "prod", "");
      rootUp = true;
      await root(["up", "--yes", "--skip-preview", "--non-interactive"]);
    });

    for (const environment of ENVIRONMENTS) {
      await step(
        `${environment}: the preview plans what Pulumi.${environment}.yaml says`,
        async () => {
          const committed = before.site[`Pulumi.${environment}.yaml`];
          assert.ok(committed, `examples/site/Pulumi.${environment}.yaml is committed`);
          const doc = parseDocument(committed);
          const config = doc.toJS().config as Record<string, unknown>;
          const hypervisors = Object.keys(config["site:hypervisors"] as object);
          const machines = Object.keys(config["site:machines"] as object);
          const rootStack = config["site:rootStack"];
          // The harness's libvirtd stands in for the site's hosts: the only change to the file.
          for (const name of hypervisors)
            doc.setIn(["config", "site:hypervisors", name], LOCAL_LIBVIRT);
          const file = await initStack(SITE, environment, doc.toString());
          files[environment] = file;

          const started = Date.now();
          const preview = await previewSite(environment, file);
          t.diagnostic(`${environment} preview: ${((Date.now() - started) / 1000).toFixed(1)} s`);
          const urns = preview.steps.map((s) => s.urn);
          // A URN's type is the last of its parent chain (`Parent$Child::name`).
          const named = (type: string) =>
            urns
              .filter((u) => u.includes(`::${type}::`) || u.includes(`$${type}::`))
              .map((u) => u.split("::").pop() as string)
              .sort();

          assert.deepEqual(named("gentoo-infra:libvirt:Hypervisor"), [...hypervisors].sort());
          assert.deepEqual(
            named("gentoo-infra:pki:Certificate").flatMap(
              (n) => /^pxe-(.+)-host$/.exec(n)?.[1] ?? [],
            ),
            [...machines].sort(),
            "one host certificate per machine of the file, and no other machine",
          );
          assert.ok(
            named("gentoo-infra:host:Server").includes(`farm-${environment}-arm64-linux`),
            `the builders build ${environment}`,
          );
          const rootKeys = named("tls:index/privateKey:PrivateKey").filter((n) =>
            n.startsWith("pki-root-"),
          );
          const warned = (preview.diagnostics ?? []).some((d) =>
            d.message.includes("config rootStack is not set"),
          );
          const references = preview.steps.filter((s) =>
            s.urn.includes("pulumi:pulumi:StackReference"),
          );
          if (environment === "development") {
            assert.deepEqual(rootKeys, ["pki-root-ca-key", "pki-root-level1-development-key"]);
            assert.ok(warned, "the program warns that the root is created in the stack");
            assert.deepEqual(references, []);
            assert.equal(rootStack, undefined, "development names no root stack");
          } else {
            assert.deepEqual(rootKeys, [], "no root or level-1 key is created in the stack");
            assert.ok(!warned, "no warning about an in-stack root");
            assert.deepEqual(
              references.map((s) => `${s.op} ${s.urn.split("::").pop()}`),
              ["read pki-root"],
            );
            assert.equal(rootStack, "organization/pki-root/prod");
          }
        },
      );
    }

    await step(
      "staging without its rootStack fails the policy pack on root-ca-offline alone",
      async () => {
        const file = files.staging as string;
        const doc = parseDocument(readFileSync(file, "utf8"));
        doc.deleteIn(["config", "site:rootStack"]);
        await writeFile(file, doc.toString());
        const args = ["preview", "--non-interactive", "--stack", "staging"];
        const failed = await runPulumi(
          [...args, "--config-file", file, "--policy-pack", PACK],
          SITE,
          env,
        ).then(
          () => undefined,
          (error: unknown) => {
            if (error instanceof PulumiCommandError) return `${error.stdout}\n${error.stderr}`;
            throw error;
          },
        );
        assert.ok(failed !== undefined, "the preview passed the pack");
        assert.deepEqual(policyViolations(failed), ["mandatory root-ca-offline"], failed);
        assert.match(failed, /RootCa "pki" creates its root CA in this staging stack/);
      },
    );

    await step("the root stack is destroyed", async () => {
      await root(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
      rootUp = false;
    });
  } finally {
    if (rootUp) {
      await root(["destroy", "--yes", "--skip-preview", "--non-interactive"]).catch(
        () => undefined,
      );
    }
    await rm(work, { recursive: true, force: true });
  }
  // No stack file was written or rewritten in the programs' directories.
  assert.deepEqual(snapshotDir(SITE), before.site);
  assert.deepEqual(snapshotDir(ROOT), before.root);
});
