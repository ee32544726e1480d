/**
 * A user's site outside the repository that depends on the compiled library (package.json's
 * main, types and exports: dist/), for test/engine/compiled-library.test.ts and
 * bench/compiled-preview.ts.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./pulumi";

/**
 * A user's site in a temporary directory: examples/pki-root's program importing
 * "gentoo-infra", a tsconfig of its own, and node_modules holding the package (a link to this
 * repository, as `npm install <path>` makes) beside the packages it shares with it.
 */
export async function userSite(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "gi-compiled-"));
  await mkdir(path.join(dir, "node_modules"));
  for (const entry of await readdir(path.join(REPO_ROOT, "node_modules"))) {
    if (entry.startsWith(".")) continue;
    await symlink(
      path.join(REPO_ROOT, "node_modules", entry),
      path.join(dir, "node_modules", entry),
    );
  }
  await symlink(REPO_ROOT, path.join(dir, "node_modules/gentoo-infra"));
  const program = await readFile(path.join(REPO_ROOT, "examples/pki-root/index.ts"), "utf8");
  assert.match(program, /from "\.\.\/\.\.\/lib"/);
  await writeFile(
    path.join(dir, "index.ts"),
    program.replace(/from "\.\.\/\.\.\/lib"/, 'from "gentoo-infra"'),
  );
  await writeFile(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "commonjs",
        strict: true,
        esModuleInterop: true,
        types: ["node"],
        outDir: "bin",
      },
      files: ["index.ts"],
    }),
  );
  await writeFile(
    path.join(dir, "Pulumi.yaml"),
    [
      "name: pki-root",
      "runtime:",
      "  name: nodejs",
      "  options:",
      "    typescript: false",
      "main: bin/index.js",
      "",
    ].join("\n"),
  );
  return dir;
}
