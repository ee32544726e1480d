/**
 * The injection audit (docs/reliability.md, "Every rendered script and command, audited")
 * keeps up with lib/: its tables name every script kept as a file (each `.sh` and `.py` under
 * lib/) and every module of lib/ that quotes, fills a script, runs a command or builds one
 * for a shell or a push, and every path they name exists.
 *
 * What this does not prove: that a row is right (which values reach a script and what makes
 * them inert); the tests each row names check that for their part.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const ROOT = path.resolve(__dirname, "../..");
const LIB = path.join(ROOT, "lib");
const DOC = "docs/reliability.md";
const HEADING = "## Every rendered script and command, audited";

/**
 * What puts a module in the audit: the quoting helper and the script-file fillers, a process
 * started from Node, a Pulumi command resource, git through simple-git, a command over SSH,
 * and the shell commands a push or a first boot runs.
 */
const RUNS_OR_RENDERS_COMMANDS = new RegExp(
  [
    String.raw`\b(?:shQuote|scriptSource|shellScriptSource|fillShellPlaceholders|fillPlaceholders)\b`,
    '"node:child_process"',
    String.raw`\bcommand\.(?:local|remote)\.Command\b`,
    'from "simple-git"',
    String.raw`\b(?:sshRun|sshExec)\(`,
    String.raw`\b(?:afterChange|firstBootCommands|runcmd): `,
  ].join("|"),
);

/** The table lines of the audit section (every line starting with `|`), joined. */
function auditTables(): string {
  const text = readFileSync(path.join(ROOT, DOC), "utf8");
  const start = text.indexOf(`\n${HEADING}\n`);
  assert.notEqual(start, -1, `${DOC} has no section "${HEADING}"`);
  const rest = text.slice(start + HEADING.length + 2);
  const end = rest.search(/^## /m);
  const section = end === -1 ? rest : rest.slice(0, end);
  return section
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .join("\n");
}

/** The repository paths the tables name in backticks, without trailing punctuation. */
function namedPaths(tables: string): Set<string> {
  const found = new Set<string>();
  for (const m of tables.matchAll(/`((?:lib|test|installer|scripts|docs)\/[^`\s]*)`/g)) {
    const p = (m[1] ?? "").replace(/[.,:;]+$/, "");
    if (!/[<>*{}$]/.test(p)) found.add(p);
  }
  return found;
}

/** The files under lib/ (paths from the repository root) whose names end in one of `exts`. */
function libFiles(...exts: string[]): string[] {
  return readdirSync(LIB, { recursive: true, encoding: "utf8" })
    .filter((f) => exts.some((ext) => f.endsWith(ext)))
    .map((f) => `lib/${f.split(path.sep).join("/")}`)
    .sort();
}

describe("the injection audit in docs/reliability.md", () => {
  const tables = auditTables();
  const named = namedPaths(tables);

  it("names every shell and Python script kept as a file under lib/", () => {
    const scripts = libFiles(".sh", ".py");
    assert.ok(scripts.length > 0, "no script files found under lib/");
    assert.deepEqual(
      scripts.filter((f) => !named.has(f)),
      [],
      `add a row for each to the tables of "${HEADING}"`,
    );
  });

  it("names every module of lib/ that quotes, fills a script, or builds or runs a command", () => {
    const modules = libFiles(".ts").filter((f) =>
      RUNS_OR_RENDERS_COMMANDS.test(readFileSync(path.join(ROOT, f), "utf8")),
    );
    assert.ok(modules.includes("lib/host/shell.ts"), "the pattern finds the quoting helper");
    assert.deepEqual(
      modules.filter((f) => !named.has(f)),
      [],
      `add each to a row of "${HEADING}" (what it runs, where, and what keeps its values inert)`,
    );
  });

  it("names only paths that exist", () => {
    assert.ok(named.size > 0, "the tables name no path");
    assert.deepEqual(
      [...named].filter((p) => !existsSync(path.join(ROOT, p))).sort(),
      [],
      "name files that exist (or mark a placeholder with <...>)",
    );
  });
});
