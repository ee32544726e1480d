/**
 * Hostile values for the exported helpers that build a command, a unit or a configuration
 * file (docs/reliability.md, finding 5), and the assertion that a helper refuses one by
 * itself: one ValidationError whose every line names the parameter. Pure: no Pulumi.
 */
import assert from "node:assert/strict";
import { ValidationError } from "../../lib/validation/violations";

/**
 * `valid` spoiled each way a shell, a unit or a configuration file would read as more than a
 * value: a quote, `;`, `$()`, a line break, NUL, a leading `-`, and the other kind of path (a
 * relative one for an absolute path, an absolute one for a name or a relative path) and `..`.
 */
export function hostileTexts(valid: string): string[] {
  const absolute = valid.startsWith("/");
  return [
    `${valid}'`,
    `${valid};id`,
    `${valid}$(id)`,
    `${valid}\nid`,
    `${valid}\0`,
    `-${valid}`,
    absolute ? valid.slice(1) : `/${valid}`,
    absolute ? `${valid}/../etc` : `../${valid}`,
  ];
}

/** Asserts that `call` throws one ValidationError naming `argument`, and nothing else. */
export function assertRefused(call: () => unknown, argument: string, value: unknown): void {
  const what = `${JSON.stringify(value)} as ${argument}`;
  assert.throws(
    call,
    (e: unknown) => {
      assert.ok(e instanceof ValidationError, `${what}: threw ${String(e)}, not a ValidationError`);
      assert.deepEqual(
        e.violations.map((v) => v.argument),
        [argument],
        `${what}: ${e.message}`,
      );
      assert.ok(e.message.includes(`\n- ${argument}: `), e.message);
      return true;
    },
    `${what} was accepted`,
  );
}
