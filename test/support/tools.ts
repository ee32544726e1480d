import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";

/** True when running under CI, where a missing tool is a failure, never a skip. */
export const inCi = process.env.CI === "true";

/** Whether `command` is on PATH. */
export function hasTool(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/**
 * Makes a test depend on tools: when one is missing, the test is skipped with a message
 * naming it and the setup step that installs it, except under CI=true where the test fails.
 * Returns false when the caller should return early (skipped).
 */
export function requireTools(
  t: TestContext,
  commands: readonly string[],
  installHint: string,
): boolean {
  const missing = commands.filter((c) => !hasTool(c));
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(", ")}: ${installHint}`;
  if (inCi) throw new Error(`CI=true and ${message}`);
  t.skip(message);
  return false;
}

/** Like {@link requireTools}, for files a setup step builds (images, installers). */
export function requireFiles(
  t: TestContext,
  files: readonly string[],
  installHint: string,
): boolean {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(", ")}: ${installHint}`;
  if (inCi) throw new Error(`CI=true and ${message}`);
  t.skip(message);
  return false;
}

/** Like {@link requireTools}, for tests that must run as root (namespaces, libvirtd). */
export function requireRoot(t: TestContext, why: string): boolean {
  if (process.getuid?.() === 0) return true;
  const message = `needs root (${why})`;
  if (inCi) throw new Error(`CI=true and ${message}`);
  t.skip(message);
  return false;
}
