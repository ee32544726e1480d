/**
 * The docs name files that exist: every repository path in backticks (`lib/pki/root-ca.ts`,
 * `test/e2e/site.test.ts`) and every relative Markdown link of README.md and docs/ resolves.
 * Placeholders (`<env>`, `*`) and paths on guests (`/var/lib/...`) are not repository paths.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";

const ROOT = path.resolve(__dirname, "../..");
const TOP = "(?:lib|test|scripts|bench|examples|toolchain|docs|\\.ci)";

function markdownFiles(): string[] {
  const docs = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? docs(path.join(dir, e.name))
        : e.name.endsWith(".md")
          ? [path.join(dir, e.name)]
          : [],
    );
  return ["README.md", ...docs("docs")];
}

it("every repository path and relative link in README.md and docs/ exists", () => {
  const missing: string[] = [];
  for (const file of markdownFiles()) {
    const text = readFileSync(path.join(ROOT, file), "utf8");
    for (const m of text.matchAll(new RegExp(`\`(${TOP}/[^\`\\s]*)\``, "g"))) {
      const p = (m[1] ?? "").replace(/[.,:;]+$/, "");
      if (/[<>*{}$]/.test(p)) continue;
      if (!existsSync(path.join(ROOT, p))) missing.push(`${file}: \`${p}\``);
    }
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = (m[1] ?? "").split("#")[0] ?? "";
      if (target === "" || /^[a-z]+:/.test(target)) continue;
      if (!existsSync(path.join(ROOT, path.dirname(file), target))) {
        missing.push(`${file}: link ${target}`);
      }
    }
  }
  assert.deepEqual(missing, [], "name files that exist (or mark a placeholder with <...>)");
});
