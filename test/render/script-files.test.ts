/**
 * Render tier for the scripts the library keeps as files (lib/**\/*.sh and *.py, rendered by
 * lib/host/script-file.ts), each judged as it is in lib/, placeholders unfilled, so that a new
 * script file is covered without a test of its own:
 * - a shell file runs under the shell its first line names (`#!/bin/sh`, `#!/bin/bash`, or
 *   `# shellcheck shell=bash` for a file of functions that others include): `sh -n` or
 *   `bash -n`, then shellcheck at style severity, following the files it includes (`-x`);
 * - a Python file compiles (`python3 -m py_compile`).
 * Broken copies show that each check can fail.
 *
 * What this tier does not prove: that a rendered script works with its values filled in (the
 * render tests of each renderer check the rendered text and, where they can, run it), nor
 * what a script does on a server (the libvirt and e2e tiers).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { requireTools } from "../support/tools";

const LIB = join(__dirname, "..", "..", "lib");
const APT_HINT = "run scripts/setup (step 30-apt installs it from scripts/apt-packages.txt)";
const work = mkdtempSync(join(tmpdir(), "gi-script-files-"));
after(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", env });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** The files below lib/ with the extension `ext`, relative to lib/, sorted. */
function scriptFiles(ext: string): string[] {
  return readdirSync(LIB, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(ext))
    .sort();
}

/** The shell a file is written for, from its first line. */
function shellOf(text: string): "sh" | "bash" | undefined {
  const first = text.split("\n", 1)[0];
  if (first === "#!/bin/sh") return "sh";
  if (first === "#!/bin/bash" || first?.startsWith("# shellcheck shell=bash")) return "bash";
  return undefined;
}

/** `sh -n` or `bash -n`, then shellcheck; the failures' output, empty when none. */
function checkShell(file: string): string {
  const shell = shellOf(readFileSync(file, "utf8"));
  if (shell === undefined) return `${file}: its first line names no shell`;
  const syntax = run(shell, ["-n", file]);
  if (syntax.status !== 0) return syntax.output;
  const lint = run("shellcheck", ["-x", "--severity=style", file]);
  return lint.status === 0 ? "" : lint.output;
}

/** `python3 -m py_compile`, its cache out of lib/; the output when it fails. */
function checkPython(file: string): string {
  const r = run("python3", ["-m", "py_compile", file], {
    ...process.env,
    PYTHONPYCACHEPREFIX: join(work, "pycache"),
  });
  return r.status === 0 ? "" : r.output;
}

describe("shell scripts kept as files (lib/**/*.sh)", () => {
  const files = scriptFiles(".sh");

  it("are there to check", () => {
    assert.ok(files.length > 0, "no .sh file under lib/");
  });

  for (const file of files) {
    it(`${file} passes its shell's -n and shellcheck`, (t) => {
      if (!requireTools(t, ["sh", "bash", "shellcheck"], APT_HINT)) return;
      assert.equal(checkShell(join(LIB, file)), "");
    });
  }

  it("a copy with an unquoted expansion, or with a syntax error, or without a shell, is refused", (t) => {
    if (!requireTools(t, ["sh", "bash", "shellcheck"], APT_HINT)) return;
    const copy = (name: string, text: string) => {
      const path = join(work, name);
      writeFileSync(path, text);
      return path;
    };
    assert.match(checkShell(copy("unquoted.sh", "#!/bin/sh\nrm -f $1\n")), /SC2086/);
    assert.match(checkShell(copy("syntax.sh", "#!/bin/bash\nif true; then\n")), /syntax error/);
    assert.match(checkShell(copy("array.sh", "#!/bin/sh\nA=(a b)\n")), /[Ss]yntax error/);
    assert.match(checkShell(copy("none.sh", "echo hi\n")), /names no shell/);
  });
});

describe("Python scripts kept as files (lib/**/*.py)", () => {
  const files = scriptFiles(".py");

  it("are there to check", () => {
    assert.ok(files.length > 0, "no .py file under lib/");
  });

  for (const file of files) {
    it(`${file} compiles`, (t) => {
      if (!requireTools(t, ["python3"], APT_HINT)) return;
      assert.equal(checkPython(join(LIB, file)), "");
    });
  }

  it("a copy with a syntax error is refused", (t) => {
    if (!requireTools(t, ["python3"], APT_HINT)) return;
    const broken = join(work, "broken.py");
    writeFileSync(broken, "def f(:\n    pass\n");
    assert.match(checkPython(broken), /SyntaxError/);
  });
});
