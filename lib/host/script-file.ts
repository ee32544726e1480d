/**
 * Scripts the library renders that live as files of their own (lib/<module>/<name>.py or
 * .sh), checked by their interpreter and shellcheck, with `@NAME@` placeholders filled in when
 * rendered. Pure.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { shQuote } from "./shell";

/** The text of `file` beside the module in `dir` (pass `__dirname`); in dist/ as in lib/. */
export function scriptSource(dir: string, file: string): string {
  return readFileSync(join(dir, file), "utf8");
}

/**
 * `template` with each `"@NAME@"` (a string literal) replaced by `values[NAME]` as a JSON string
 * literal (which Python reads as the same string), and each other `@NAME@` (in a comment) by the
 * value itself. A placeholder without a value, or a value without a placeholder, is an error.
 */
export function fillPlaceholders(
  template: string,
  values: Readonly<Record<string, string>>,
): string {
  const unused = new Set(Object.keys(values));
  const value = (name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for the placeholder @${name}@`);
    unused.delete(name);
    return v;
  };
  const filled = template
    .replace(/"@([A-Z][A-Z0-9_]*)@"/g, (_m, name: string) => JSON.stringify(value(name)))
    .replace(/@([A-Z][A-Z0-9_]*)@/g, (_m, name: string) => {
      const v = value(name);
      if (/[\n\r]/.test(v))
        throw new Error(`@${name}@ is in a comment: its value must be one line`);
      return v;
    });
  if (unused.size > 0) throw new Error(`no placeholder for ${[...unused].join(", ")}`);
  return filled;
}

/** A line that includes a shell file: `source <relative path>.sh` (or `. <path>`). */
const INCLUDE = /^(?:source|\.) ([A-Za-z0-9_.][A-Za-z0-9._/-]*\.sh)$/;

/**
 * The text of the shell script `file` beside the module in `dir` (pass `__dirname`), whole:
 * each line `source <relative path>.sh` becomes the text of that file (relative to the file
 * that names it, its own includes resolved, its `# shellcheck shell=…` line left out). The
 * rendered script is one file; in lib/, shellcheck follows the same line (`-x` with
 * `# shellcheck source-path=SCRIPTDIR`, a line left out too). A source line with a variable or
 * an absolute path is a runtime one and stays.
 */
export function shellScriptSource(dir: string, file: string): string {
  return withIncludes(join(dir, file), []);
}

function withIncludes(path: string, including: readonly string[]): string {
  if (including.includes(path)) {
    throw new Error(`${[...including, path].join(" includes ")}: the includes form a cycle`);
  }
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "# shellcheck source-path=SCRIPTDIR")
    .map((line) => {
      const include = INCLUDE.exec(line)?.[1];
      if (include === undefined) return line;
      return withIncludes(join(dirname(path), include), [...including, path])
        .replace(/^# shellcheck shell=.*\n/, "")
        .replace(/\n$/, "");
    })
    .join("\n");
}

/** A value of a shell script's placeholder: one word, or the words of an array. */
export type ShellValue = string | readonly string[];

/**
 * `template` (a shell script) with each placeholder replaced by its value, always quoted with
 * `shQuote`: `VAR=@NAME@` gets one word (`values[NAME]` a string), `VAR=(@NAME@)` the words of
 * an array (a list; none for an empty one). A placeholder anywhere else (inside a string, in a
 * comment, even as `# VAR=@NAME@`, as a command's argument), a placeholder without a value, a value without a
 * placeholder, and a value of the other kind are errors.
 */
export function fillShellPlaceholders(
  template: string,
  values: Readonly<Record<string, ShellValue>>,
): string {
  const unused = new Set(Object.keys(values));
  const filled = template.replace(
    /@([A-Z][A-Z0-9_]*)@/g,
    (placeholder: string, name: string, offset: number) => {
      const value = values[name];
      if (value === undefined) throw new Error(`no value for the placeholder ${placeholder}`);
      unused.delete(name);
      const next = template[offset + placeholder.length];
      // A quoted value in a comment would still end the comment at its first newline.
      const line = template.slice(template.lastIndexOf("\n", offset) + 1, offset);
      const inComment = /(^|\s)#/.test(line);
      if (inComment && (template[offset - 1] === "=" || template[offset - 1] === "(")) {
        throw new Error(`${placeholder} is in a comment`);
      }
      if (template[offset - 1] === "=" && (next === undefined || /[\s;]/.test(next))) {
        if (typeof value !== "string") {
          throw new Error(`${placeholder} is one word (VAR=${placeholder}): give a string`);
        }
        return shQuote(value);
      }
      if (template.slice(offset - 2, offset) === "=(" && next === ")") {
        if (typeof value === "string") {
          throw new Error(`${placeholder} is an array (VAR=(${placeholder})): give a list`);
        }
        return value.map(shQuote).join(" ");
      }
      throw new Error(
        `${placeholder} is not the whole value of an assignment: write VAR=${placeholder} or VAR=(${placeholder})`,
      );
    },
  );
  if (unused.size > 0) throw new Error(`no placeholder for ${[...unused].join(", ")}`);
  return filled;
}
