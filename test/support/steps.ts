/**
 * Sequential steps of one scenario test: each is a subtest; after a failed step the rest are
 * reported as skipped ("an earlier step failed") instead of failing for the same cause.
 */
import type { TestContext } from "node:test";

/** Returns `step(name, fn)` bound to the scenario's test context. */
export function scenarioSteps(
  t: TestContext,
): (name: string, fn: () => Promise<void>) => Promise<void> {
  let broken = false;
  return async (name, fn) => {
    if (broken) {
      await t.test(name, (s) => s.skip("an earlier step failed"));
      return;
    }
    await t.test(name, async () => {
      try {
        await fn();
      } catch (error) {
        broken = true;
        throw error;
      }
    });
  };
}
