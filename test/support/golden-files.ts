/**
 * Golden files for the render tier: `expectGolden(dir, name, text)` compares `text` with
 * `<dir>/<name>`, or writes it when UPDATE_GOLDEN=1 (then review the diff as text).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Asserts that `text` equals the golden file `<dir>/<name>` (rewrites it under UPDATE_GOLDEN=1). */
export function expectGolden(dir: string, name: string, text: string): void {
  const path = join(dir, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return;
  }
  assert.ok(
    existsSync(path),
    `golden file ${name} is missing: run with UPDATE_GOLDEN=1 and review it`,
  );
  assert.equal(text, readFileSync(path, "utf8"), `golden file ${name} differs`);
}
