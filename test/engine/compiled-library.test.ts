/**
 * Engine tier: the library as a user's program consumes it, compiled (package.json's main,
 * types and exports point at dist/, built by `npm run build` / setup step 48-library). A
 * temporary site outside the repository depends on "gentoo-infra" through its node_modules,
 * holds examples/pki-root's program importing "gentoo-infra" instead of "../../lib", and:
 * - type-checks against the package's declarations with the user's own tsc (and a wrong
 *   argument type fails, naming the argument: the declarations are real types, not `any`);
 * - compiles to JavaScript, which the real engine previews with `typescript: false` (nothing
 *   type-checks or transpiles at preview): exactly examples/pki-root's resources
 *   (test/engine/golden/pki-root.urns), dynamic providers included.
 * bench/compiled-preview.ts prints what this saves per preview.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { PulumiProgram, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { requireFiles, requireTools } from "../support/tools";
import { userSite } from "../support/user-site";

const DIST = path.join(REPO_ROOT, "dist/index.js");
const TSC = path.join(REPO_ROOT, "node_modules/.bin/tsc");

const tsc = (dir: string, ...args: string[]) =>
  spawnSync(TSC, ["-p", dir, ...args], { encoding: "utf8", timeout: 180_000 });

test("a program outside the repository imports the compiled library, type-checks against its declarations and previews as JavaScript", async (t) => {
  if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return;
  if (!requireFiles(t, [DIST], "run npm run build (setup step 48-library)")) return;
  const dir = await userSite();
  let program: PulumiProgram | undefined;
  try {
    const resolved = spawnSync(
      process.execPath,
      ["-e", 'process.stdout.write(require.resolve("gentoo-infra"))'],
      { cwd: dir, encoding: "utf8" },
    );
    // Through node_modules/gentoo-infra (a link here), to the compiled entry point.
    assert.equal(resolved.stdout, DIST);

    // A wrong argument type is refused by the declarations, at the argument.
    const source = await readFile(path.join(dir, "index.ts"), "utf8");
    const broken = source.replace(/intermediates,\n/, "intermediates: 42,\n");
    assert.notEqual(broken, source, "the program passes `intermediates`");
    await writeFile(path.join(dir, "index.ts"), broken);
    const refused = tsc(dir, "--noEmit");
    assert.notEqual(refused.status, 0, "tsc accepts intermediates: 42");
    // At the argument: tsc's line and column are those of `intermediates: 42`.
    const line = broken.split("\n").findIndex((l) => l.includes("intermediates: 42")) + 1;
    assert.match(
      refused.stdout,
      new RegExp(
        `index\\.ts\\(${line},3\\): error TS2322: Type 'number' is not assignable to type 'readonly string\\[\\]'`,
      ),
    );
    await writeFile(path.join(dir, "index.ts"), source);

    const compiled = tsc(dir);
    assert.equal(compiled.status, 0, `${compiled.stdout}${compiled.stderr}`);

    program = await PulumiProgram.create(dir);
    const { stdout } = await program.run([
      ...["preview", "--non-interactive", "--json", "--stack", program.stack],
    ]);
    const steps = (JSON.parse(stdout) as { steps?: { op: string; urn: string }[] }).steps ?? [];
    const stack = program.stack;
    const urns = steps
      .map((s) => {
        assert.equal(s.op, "create", s.urn);
        // As test/engine/examples.test.ts writes them: no stack, no project.
        return s.urn
          .slice(`urn:pulumi:${stack}::`.length)
          .replace(/^[^:]+::/, "")
          .replaceAll(stack, "<stack>");
      })
      .sort();
    const golden = (await readFile(path.join(__dirname, "golden/pki-root.urns"), "utf8"))
      .trim()
      .split("\n");
    assert.deepEqual(urns, golden);
  } finally {
    await program?.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
});
