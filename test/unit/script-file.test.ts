/** Scripts kept as files, filled in when rendered (lib/host/script-file.ts). */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import {
  fillPlaceholders,
  fillShellPlaceholders,
  shellScriptSource,
} from "../../lib/host/script-file";
import { scratch } from "../support/git-fixture";

describe("fillPlaceholders", () => {
  it("fills a string literal with a JSON string and a comment with the value itself", () => {
    const template = '# run by @UNIT@\nROOT = "@ROOT@"\nUSER = "@USER@"\n';
    assert.equal(
      fillPlaceholders(template, { UNIT: "x.service", ROOT: 'a "b" \\ c', USER: "www-data" }),
      '# run by x.service\nROOT = "a \\"b\\" \\\\ c"\nUSER = "www-data"\n',
    );
  });

  it("rejects a placeholder without a value, a value without a placeholder, a line break in a comment", () => {
    assert.throws(
      () => fillPlaceholders('A = "@A@"\nB = "@B@"', { A: "a" }),
      /no value for the placeholder @B@/,
    );
    assert.throws(() => fillPlaceholders('A = "@A@"', { A: "a", C: "c" }), /no placeholder for C/);
    assert.throws(() => fillPlaceholders("# @A@", { A: "a\nrm -rf /" }), /@A@ is in a comment/);
  });
});

describe("fillShellPlaceholders", () => {
  it("fills a word and an array's words, each quoted", () => {
    const template = ["readonly A=@A@ B=@B@", "C=@C@; D=(@D@)", "readonly E=(@E@)", "F=@F@"].join(
      "\n",
    );
    assert.equal(
      fillShellPlaceholders(template, {
        A: "/srv/binhost",
        B: "it's $(id)",
        C: "",
        D: ["a b", "c"],
        E: [],
        F: "two\nlines",
      }),
      [
        "readonly A='/srv/binhost' B='it'\\''s $(id)'",
        "C=''; D=('a b' 'c')",
        "readonly E=()",
        "F='two\nlines'",
      ].join("\n"),
    );
  });

  it("gives bash back each value as it was, whatever it holds", () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string(), { maxLength: 3 }), (word, list) => {
        const clean = (s: string) => s.replace(/\0/g, "");
        const script = fillShellPlaceholders(`W=@W@ L=(@L@)\nprintf '%s\\0' "$W" "\${L[@]}"`, {
          W: clean(word),
          L: list.map(clean),
        });
        const out = execFileSync("bash", ["-c", script]).toString();
        assert.deepEqual(out.split("\0").slice(0, -1), [clean(word), ...list.map(clean)]);
      }),
      { numRuns: 30 },
    );
  });

  it("refuses a placeholder that is not the whole value of an assignment", () => {
    for (const template of [
      'echo "@A@"',
      "echo @A@",
      'X="$DIR/@A@"',
      "X=@A@.json",
      "# built from @A@",
      "X=(@A@ extra)",
    ]) {
      assert.throws(
        () => fillShellPlaceholders(template, { A: "a" }),
        /@A@ is not the whole value of an assignment: write VAR=@A@ or VAR=\(@A@\)/,
        template,
      );
    }
  });

  it("refuses an assignment in a comment: a value's newline would end the comment", () => {
    for (const template of ["# X=@A@", "true # X=@A@", "X=1 #X=@A@"]) {
      assert.throws(
        () => fillShellPlaceholders(template, { A: "a\nreboot" }),
        /@A@ is in a comment/,
        template,
      );
    }
    assert.equal(
      fillShellPlaceholders('[ "$#" -gt 0 ] && X=@A@', { A: "a" }),
      `[ "$#" -gt 0 ] && X='a'`,
    );
  });

  it("refuses a missing value, a value without a placeholder and a value of the other kind", () => {
    assert.throws(
      () => fillShellPlaceholders("A=@A@\nB=@B@", { A: "a" }),
      /no value for the placeholder @B@/,
    );
    assert.throws(() => fillShellPlaceholders("A=@A@", { A: "a", C: "c" }), /no placeholder for C/);
    assert.throws(
      () => fillShellPlaceholders("A=@A@", { A: ["a"] }),
      /@A@ is one word \(VAR=@A@\): give a string/,
    );
    assert.throws(
      () => fillShellPlaceholders("A=(@A@)", { A: "a" }),
      /@A@ is an array \(VAR=\(@A@\)\): give a list/,
    );
  });
});

describe("shellScriptSource", () => {
  const s = scratch("gi-script-file-");
  after(() => s.cleanup());
  const write = (path: string, text: string) => {
    mkdirSync(join(s.dir, path, ".."), { recursive: true });
    writeFileSync(join(s.dir, path), text);
  };

  it("puts each included file's text in place of its source line, relative to the file that names it, without shellcheck's file directives", () => {
    write(
      "a/main.sh",
      '#!/bin/bash\n# shellcheck source-path=SCRIPTDIR\nsource lib.sh\nsource ../b/other.sh\n. "$CONFIG"\nmain\n',
    );
    write("a/lib.sh", "# shellcheck shell=bash\n# lib\nlib() { :; }\n");
    write(
      "b/other.sh",
      "# shellcheck shell=bash source-path=SCRIPTDIR\nsource deeper.sh\nother() { :; }\n",
    );
    write("b/deeper.sh", "deeper() { :; }\n");
    assert.equal(
      shellScriptSource(join(s.dir, "a"), "main.sh"),
      '#!/bin/bash\n# lib\nlib() { :; }\ndeeper() { :; }\nother() { :; }\n. "$CONFIG"\nmain\n',
    );
  });

  it("refuses an include cycle and a missing file", () => {
    write("c/one.sh", "source two.sh\n");
    write("c/two.sh", "source one.sh\n");
    assert.throws(() => shellScriptSource(join(s.dir, "c"), "one.sh"), /the includes form a cycle/);
    write("d/main.sh", "source missing.sh\n");
    assert.throws(() => shellScriptSource(join(s.dir, "d"), "main.sh"), /ENOENT/);
  });
});
