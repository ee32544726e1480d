/** Scripts kept as files, filled in when rendered (lib/host/script-file.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fillPlaceholders } from "../../lib/host/script-file";

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
