/**
 * `pulumi preview` with the real CLI and plugins of every program: examples/<name>/ (each with a
 * Pulumi.yaml) and the repository's root Pulumi.yaml, discovered when the tier runs. A preview
 * proves the program type-checks under the language host, registers resources the providers
 * accept and computes a plan (exactly the resources of test/engine/golden/<program>.urns); it
 * creates nothing, so it proves nothing about `up`.
 *
 * Each program previews on a fresh stack of a temporary backend: configuration must come from
 * defaults in its Pulumi.yaml (`config: {key: {default: …}}`), not from a Pulumi.<stack>.yaml.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { expectGolden } from "../support/golden-files";
import { useLibvirtHarness } from "../support/harness";
import { PulumiCommandError, PulumiProgram, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { inCi, requireTools } from "../support/tools";

const GOLDEN = path.join(__dirname, "golden");

// The libvirt provider connects to libvirtd even to preview: programs on libvirt
// preview against the harness's libvirtd (no guest is created by a preview).
useLibvirtHarness(() => process.getuid?.() === 0);

/** Program directories, relative to the repository root. */
function discoverPrograms(): string[] {
  const programs: string[] = [];
  if (existsSync(path.join(REPO_ROOT, "Pulumi.yaml"))) programs.push(".");
  const examples = path.join(REPO_ROOT, "examples");
  if (existsSync(examples)) {
    for (const entry of readdirSync(examples, { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(path.join(examples, entry.name, "Pulumi.yaml"))) {
        programs.push(path.join("examples", entry.name));
      }
    }
  }
  return programs.sort();
}

const MISSING_PLUGIN =
  /no resource plugin '([^']+)' found|could not find plugin for provider '([^']+)'/;

for (const dir of discoverPrograms()) {
  const label = dir === "." ? "the root Pulumi.yaml" : dir;
  test(`${label} previews with the real engine`, async (t) => {
    if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return;
    const program = await PulumiProgram.create(dir);
    try {
      const { stdout } = await program.run([
        ...["preview", "--non-interactive", "--json", "--stack", program.stack],
      ]);
      // The program itself ran (a Pulumi.yaml whose `main` missed it would preview an empty
      // stack): it plans resources of its own.
      // Exactly the resources its golden file lists (test/engine/golden/<program>.urns: each
      // URN without its stack and project, sorted): a resource added, renamed, reparented or
      // gone shows as a diff to review (UPDATE_GOLDEN=1 rewrites the file).
      const steps = (JSON.parse(stdout) as { steps?: { op: string; urn: string }[] }).steps ?? [];
      const prefix = `urn:pulumi:${program.stack}::`;
      const resources = steps.map((s) => {
        assert.equal(s.op, "create", `a fresh stack only creates (${s.op} ${s.urn})`);
        assert.ok(s.urn.startsWith(prefix), `${s.urn} is of stack ${program.stack}`);
        // The project name follows the stack's; what follows it is type chain and name.
        return s.urn
          .slice(prefix.length)
          .replace(/^[^:]+::/, "")
          .replaceAll(program.stack, "<stack>");
      });
      assert.equal(new Set(resources).size, resources.length, "no URN twice");
      expectGolden(
        GOLDEN,
        `${dir === "." ? "root" : path.basename(dir)}.urns`,
        `${resources.sort().join("\n")}\n`,
      );
    } catch (error) {
      // A provider plugin this machine cannot build yet (docs/toolchain.md) is a missing tool:
      // skipped locally, a failure under CI.
      const missing =
        error instanceof PulumiCommandError && MISSING_PLUGIN.exec(error.stdout + error.stderr);
      if (missing && !inCi) {
        t.skip(`provider plugin ${missing[1] ?? missing[2]} is not installed: ${TOOLCHAIN_HINT}`);
        return;
      }
      throw error;
    } finally {
      await program.cleanup({ force: true });
    }
  });
}
