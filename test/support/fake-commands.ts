/**
 * Fake commands for running a rendered script on this host without the tools it drives
 * (catalyst, emerge, rsync, curl…): each fake logs how it was called and runs a snippet.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A directory of fake commands, first on the returned PATH before the host's: each appends
 * its name and arguments to `log` (one line, a line break in an argument written `\n`), then
 * runs its bash snippet (its exit status is the fake's).
 */
export function fakeCommands(
  dir: string,
  log: string,
  fakes: Readonly<Record<string, string>>,
): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(fakes)) {
    const file = join(dir, name);
    writeFileSync(
      file,
      `#!/bin/bash\nargs="$*"\necho "${name} \${args//$'\\n'/\\\\n}" >>'${log}'\n${body}\n`,
    );
    chmodSync(file, 0o755);
  }
  return `${dir}:${process.env.PATH}`;
}

/** The lines a {@link fakeCommands} log holds. */
export function calls(log: string): string[] {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}
