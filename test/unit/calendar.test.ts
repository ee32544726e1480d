import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isCalendarExpression } from "../../lib/validation/calendar";
import { ACCEPTED, REFUSED } from "../support/calendar-cases";

describe("systemd calendar expressions (lib/validation/calendar.ts)", () => {
  it("accepts the forms schedules are written in", () => {
    for (const e of ACCEPTED) assert.equal(isCalendarExpression(e), true, e);
  });
  it("refuses what systemd refuses, and whatever else is hostile", () => {
    for (const e of REFUSED) assert.equal(isCalendarExpression(e), false, JSON.stringify(e));
    assert.equal(isCalendarExpression(undefined), false);
    assert.equal(isCalendarExpression(3), false);
  });
  it("refuses what systemd takes but schedules need not be written as (stricter by design)", () => {
    for (const e of ["26-1-1", "@1700000000", "Mon  03:00", "00:00 utc", "00:00:1.5/2.5"]) {
      assert.equal(isCalendarExpression(e), false, e);
    }
  });
  it("property: an accepted expression with a control or shell character inserted is refused", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ACCEPTED),
        fc.constantFrom("\n", "\r", "\t", "\0", ";", "$", "`", "'", '"', "\\", "|", "&"),
        fc.nat(),
        (e, bad, at) => {
          const i = at % (e.length + 1);
          assert.equal(isCalendarExpression(`${e.slice(0, i)}${bad}${e.slice(i)}`), false);
        },
      ),
    );
  });
});
