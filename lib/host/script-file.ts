/**
 * Scripts the library renders that live as files of their own (lib/<module>/<name>.py), checked
 * by their interpreter, with `@NAME@` placeholders filled in when rendered. Pure.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

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
