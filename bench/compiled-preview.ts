/**
 * What a program pays at every `pulumi preview` for how it loads the library (issue 17 item 3):
 * the same program (examples/pki-root: the whole library is imported, 16 resources, no
 * libvirt) previewed on a fresh stack in four ways, each twice, the median printed beside the
 * baseline of the same run (the in-repository program, type-checked by ts-node as Pulumi does
 * by default):
 * - source, type-checked: examples/pki-root importing ../../lib, ts-node type-checking the
 *   library's source on every run (PULUMI_NODEJS_TRANSPILE_ONLY=false);
 * - source, transpile-only: the same with PULUMI_NODEJS_TRANSPILE_ONLY=true (what the tests
 *   and `npm run up` use: `npm test` type-checks every program once with tsc);
 * - user's TypeScript against the declarations: a site outside the repository importing
 *   "gentoo-infra" (dist/index.d.ts), type-checked by ts-node;
 * - compiled: the same site compiled with tsc first, previewed as JavaScript.
 *
 *   npm run bench compiled-preview
 *
 * Needs the toolchain and `npm run build` (setup step 48-library). Prints a Markdown table.
 */

import { spawnSync } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { PulumiProgram, REPO_ROOT } from "../test/support/pulumi";
import { userSite } from "../test/support/user-site";
import { median } from "./site";

const RUNS = 2;

/** Seconds of one `pulumi preview` of `dir` on a fresh stack, with `env` added. */
async function previewSeconds(dir: string, env: Record<string, string>): Promise<number> {
  const program = await PulumiProgram.create(dir);
  try {
    Object.assign(program.env, env);
    const start = process.hrtime.bigint();
    await program.run(["preview", "--non-interactive", "--stack", program.stack]);
    return Number(process.hrtime.bigint() - start) / 1e9;
  } finally {
    await program.cleanup({ force: true });
  }
}

async function previews(dir: string, env: Record<string, string>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await previewSeconds(dir, env));
  return median(times);
}

async function main(): Promise<void> {
  const site = await userSite();
  try {
    const compiled = spawnSync(path.join(REPO_ROOT, "node_modules/.bin/tsc"), ["-p", site], {
      encoding: "utf8",
    });
    if (compiled.status !== 0) throw new Error(`tsc -p ${site}: ${compiled.stdout}`);
    const rows: [string, number][] = [];
    const inRepo = path.join(REPO_ROOT, "examples/pki-root");
    rows.push([
      "source, type-checked (baseline)",
      await previews(inRepo, { PULUMI_NODEJS_TRANSPILE_ONLY: "false" }),
    ]);
    rows.push([
      "source, transpile-only",
      await previews(inRepo, { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }),
    ]);
    rows.push(["compiled: JavaScript importing dist/", await previews(site, {})]);
    // The same site as TypeScript, checked against the declarations (no library source).
    await writeFile(
      path.join(site, "Pulumi.yaml"),
      "name: pki-root\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n",
    );
    rows.push([
      "user's TypeScript against dist/*.d.ts, type-checked",
      await previews(site, {
        PULUMI_NODEJS_TRANSPILE_ONLY: "false",
        PULUMI_NODEJS_TSCONFIG_PATH: path.join(site, "tsconfig.json"),
      }),
    ]);
    const base = rows[0]?.[1] as number;
    console.log(
      `| how the program loads the library | preview (median of ${RUNS}) | vs baseline |`,
    );
    console.log("|---|---|---|");
    for (const [label, s] of rows) {
      console.log(`| ${label} | ${s.toFixed(1)} s | ${(s / base).toFixed(2)}x |`);
    }
  } finally {
    await rm(site, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
