import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { contentHash } from "../../lib/host/push-plan";
import { shQuote } from "../../lib/host/shell";
import { validatePushedFiles, validateServerArgs } from "../../lib/host/validate";
import { derivedMac } from "../../lib/network/mac";
import { formatViolations } from "../../lib/validation";

describe("host names", () => {
  it("derives a stable, locally administered QEMU MAC from a name", () => {
    const mac = derivedMac("gi-development-binhost");
    assert.match(mac, /^52:54:00(:[0-9a-f]{2}){3}$/);
    assert.equal(derivedMac("gi-development-binhost"), mac);
    assert.notEqual(derivedMac("gi-staging-binhost"), mac);
  });

  it("hashes content with boundaries, so moving text between files changes the hash", () => {
    assert.notEqual(contentHash(["ab", "c"]), contentHash(["a", "bc"]));
    assert.equal(contentHash(["ab", "c"]), contentHash(["ab", "c"]));
  });

  it("quotes any string so that sh reads it back unchanged", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const { execFileSync } =
          require("node:child_process") as typeof import("node:child_process");
        return (
          execFileSync("sh", ["-c", `printf %s ${shQuote(s.replace(/\0/g, ""))}`]).toString() ===
          s.replace(/\0/g, "")
        );
      }),
      { numRuns: 50 },
    );
  });

  it("names every problem of a set of pushed files", () => {
    assert.equal(
      formatViolations(
        "PushedFiles",
        validatePushedFiles([
          { path: "etc/a" },
          { path: "/etc/b", mode: "644x", owner: "root" },
          { path: "/etc/c" },
          { path: "/etc//c" },
          { path: "/etc/c" },
        ]),
      ),
      [
        "PushedFiles: 5 problems:",
        '- files[0].path: is not an absolute file path (got "etc/a"); use e.g. /etc/nginx/nginx.conf',
        '- files[1].mode: is not an octal mode (got "644x"); use e.g. "0644" or "0600"',
        '- files[1].owner: is not user:group (got "root"); use e.g. "root:root"',
        '- files[3].path: is not an absolute file path (got "/etc//c"); use e.g. /etc/nginx/nginx.conf',
        '- files[4].path: is pushed twice (got "/etc/c"); push each file once',
      ].join("\n"),
    );
  });
});

describe("server arguments", () => {
  it("accepts both host key modes and names a bad one with every other problem", () => {
    for (const hostKey of [undefined, "image", "pinned"] as const) {
      assert.deepEqual(validateServerArgs({ address: "10.0.0.5", hostKey }, "10.0.0.0/24"), []);
    }
    assert.equal(
      formatViolations(
        "Server",
        validateServerArgs({ address: "10.1.0.5", hostKey: "generated" as "image" }, "10.0.0.0/24"),
      ),
      [
        "Server: 2 problems:",
        '- hostKey: is not a host key mode (got "generated"); use image or pinned',
        '- address: is outside the network\'s subnet 10.0.0.0/24 (got "10.1.0.5"); pick an address inside the subnet',
      ].join("\n"),
    );
  });
});
