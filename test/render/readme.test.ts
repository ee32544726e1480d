/**
 * Render tier for the README: its program sample ("The five components together", the one
 * users copy first) is TypeScript that the compiler accepts against today's library, with
 * the project's tsconfig. The sample is shortened: the names it leaves out (tree commits and
 * URLs, the stage) are declared here, each as a string; any other unknown name, a renamed
 * argument or a wrong type fails. A sample with one argument misspelled must fail too, so
 * that the check cannot pass by checking nothing.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { REPO_ROOT } from "../support/pulumi";

/** What the README's sample uses without defining it (it is "shortened"). */
const LEFT_OUT = [
  "gentooCommit",
  "overlayCommit",
  "gentooUrl",
  "overlayUrl",
  "stageUrl",
  "stageSha512",
];

/** The README's first ```ts block, importing the library and examples/minimal's catalog. */
function readmeSample(): string {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, "README.md has a ```ts block");
  return block
    .replace(/from "gentoo-infra"/g, 'from "./lib"')
    .replace(/from "\.\/stacks"/g, 'from "./examples/minimal/stacks"');
}

/** Compiles `code` as a file in the repository root; returns the compiler's messages. */
function typeCheck(code: string): string[] {
  const configPath = path.join(REPO_ROOT, "tsconfig.json");
  const config = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO_ROOT);
  // The sample does not use every import in its shortened form.
  options.noUnusedLocals = false;
  const fileName = path.join(REPO_ROOT, "readme-sample.ts");
  const text = `declare const ${LEFT_OUT.map((n) => `${n}: string`).join(", ")};\n${code}`;
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName
      ? ts.createSourceFile(name, text, language)
      : getSourceFile(name, language, ...rest);
  host.fileExists = (name) => name === fileName || fileExists(name);
  host.readFile = (name) => (name === fileName ? text : readFile(name));
  const program = ts.createProgram([fileName], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("README", () => {
  const sample = readmeSample();

  it("its program sample type-checks against the library", () => {
    assert.deepEqual(typeCheck(sample), []);
  });

  it("a misspelled argument in the sample fails the check", () => {
    const broken = sample.replace(
      'new Hypervisor("local", { uri:',
      'new Hypervisor("local", { url:',
    );
    assert.notEqual(broken, sample, "the sample creates a Hypervisor with a uri");
    const messages = typeCheck(broken);
    assert.ok(
      messages.some((m) => /'url' does not exist/.test(m)),
      messages.join("\n"),
    );
  });
});
