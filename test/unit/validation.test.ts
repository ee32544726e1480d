import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatViolations,
  throwIfViolations,
  ValidationError,
  violation,
} from "../../lib/validation";

describe("validation", () => {
  it("formats one line per violation naming argument, value and fix", () => {
    const text = formatViolations('Stack "web"', [
      violation("arch", "sparc", "is not a known arch", "use one of amd64, arm64"),
      violation("profiles[1]", undefined, "is missing", "name a profile"),
    ]);
    assert.equal(
      text,
      [
        'Stack "web": 2 problems:',
        '- arch: is not a known arch (got "sparc"); use one of amd64, arm64',
        "- profiles[1]: is missing (got undefined); name a profile",
      ].join("\n"),
    );
  });

  it("throws a ValidationError only when there are violations", () => {
    assert.doesNotThrow(() => throwIfViolations("x", []));
    assert.throws(
      () => throwIfViolations("x", [violation("a", 1, "is bad", "fix it")]),
      (e: unknown) => e instanceof ValidationError && e.violations.length === 1,
    );
  });
});
