import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  DNS_LABEL,
  DNS_NAME,
  FQDN,
  GIT_COMMIT,
  HTTP_URL,
  isPlainAbsolutePath,
  isPlainRelativePath,
  matches,
  plainAbsolutePathViolations,
  USER_NAME,
} from "../../lib/validation/patterns";

const LIB = path.resolve(__dirname, "../../lib");

/** Every .ts file under lib/, as [relative path, text]. */
function libFiles(dir = LIB): [string, string][] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return libFiles(full);
    return e.name.endsWith(".ts") ? [[path.relative(LIB, full), readFileSync(full, "utf8")]] : [];
  });
}

/** Characters that mean something to a shell, a unit file, nginx or dnsmasq. */
const HOSTILE = [" ", "\t", "\n", "\r", "\0", "'", '"', "`", "$", ";", "&", "|", "\\", "/"];
const PATTERNS = { DNS_LABEL, DNS_NAME, FQDN, GIT_COMMIT, HTTP_URL };

describe("the shared value patterns (lib/validation/patterns.ts)", () => {
  it("accept and refuse the examples", () => {
    const table: [RegExp, string, boolean][] = [
      [DNS_LABEL, "web1", true],
      [DNS_LABEL, "a", true],
      [DNS_LABEL, "a".repeat(63), true],
      [DNS_LABEL, "a".repeat(64), false],
      [DNS_LABEL, "-web", false],
      [DNS_LABEL, "web-", false],
      [DNS_LABEL, "Web1", false],
      [DNS_LABEL, "web1.example", false],
      [DNS_NAME, "web1", true],
      [DNS_NAME, "dev.gentoo-infra.test", true],
      [DNS_NAME, `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, true],
      [DNS_NAME, `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`, false],
      [DNS_NAME, "dev..test", false],
      [DNS_NAME, ".dev.test", false],
      [DNS_NAME, "dev.test.", false],
      [DNS_NAME, "", false],
      [FQDN, "web1.dev.test", true],
      [FQDN, "web1", false],
      [GIT_COMMIT, "0123456789abcdef0123456789abcdef01234567", true],
      [GIT_COMMIT, "0123456789ABCDEF0123456789ABCDEF01234567", false],
      [GIT_COMMIT, "a".repeat(64), false],
      [GIT_COMMIT, "a".repeat(39), false],
      [GIT_COMMIT, "HEAD", false],
      [HTTP_URL, "https://binhost.example.ch", true],
      [HTTP_URL, "http://10.0.0.1:8080/builds", true],
      [HTTP_URL, "https://hooks.example.ch/builds?a=1&b=2", true],
      [HTTP_URL, "https://B.example.ch", false],
      [HTTP_URL, "ftp://binhost.example.ch", false],
      [HTTP_URL, "https://binhost.example.ch/a b", false],
      [HTTP_URL, "https://binhost.example.ch/#x", false],
      [HTTP_URL, "https://binhost.example.ch/bu&ilds", false],
      [HTTP_URL, "https://binhost.example.ch/$(id)", false],
    ];
    for (const [pattern, value, ok] of table) {
      assert.equal(matches(pattern, value), ok, `${pattern} on ${JSON.stringify(value)}`);
    }
    assert.equal(matches(DNS_NAME, 42), false);
    assert.equal(matches(DNS_NAME, undefined), false);
  });

  it("property: a value with a shell or configuration metacharacter never passes", () => {
    const valid = {
      DNS_LABEL: "web1",
      DNS_NAME: "web1.dev.test",
      FQDN: "web1.dev.test",
      GIT_COMMIT: "0123456789abcdef0123456789abcdef01234567",
      HTTP_URL: "https://binhost.example.ch/packages",
    };
    for (const [name, pattern] of Object.entries(PATTERNS)) {
      const base = valid[name as keyof typeof valid];
      assert.ok(pattern.test(base), `${name} accepts ${base}`);
      fc.assert(
        fc.property(
          // A slash is part of a URL.
          fc.constantFrom(...HOSTILE.filter((c) => name !== "HTTP_URL" || c !== "/")),
          fc.nat(base.length),
          fc.boolean(),
          (bad, at, replace) => {
            const value = `${base.slice(0, at)}${bad}${base.slice(replace ? at + 1 : at)}`;
            assert.equal(pattern.test(value), false, `${name} on ${JSON.stringify(value)}`);
          },
        ),
      );
    }
  });

  it("property: any lower-case DNS name of valid labels within 253 characters passes", () => {
    const label = fc
      .stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)
      .filter((l) => l.length <= 63);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 6 }), (labels) => {
        const name = labels.join(".");
        assert.equal(DNS_NAME.test(name), name.length <= 253, name);
        assert.equal(FQDN.test(name), name.length <= 253 && labels.length > 1, name);
      }),
    );
  });

  it("user names and plain paths accept and refuse the examples", () => {
    const table: [(value: unknown) => boolean, unknown, boolean][] = [
      [(v) => matches(USER_NAME, v), "gi-admin", true],
      [(v) => matches(USER_NAME, v), "_apt", true],
      [(v) => matches(USER_NAME, v), "-oProxyCommand=x", false],
      [(v) => matches(USER_NAME, v), "Www Data", false],
      [(v) => matches(USER_NAME, v), "1user", false],
      [isPlainAbsolutePath, "/srv/binhost", true],
      [isPlainAbsolutePath, "/srv/binhost/", true],
      [isPlainAbsolutePath, "/", false],
      [isPlainAbsolutePath, "srv/binhost", false],
      [isPlainAbsolutePath, "/srv/../etc", false],
      [isPlainAbsolutePath, "/srv//binhost", false],
      [isPlainAbsolutePath, "/srv/bin host", false],
      [isPlainRelativePath, "undionly.kpxe", true],
      [isPlainRelativePath, "arm64/snponly.efi", true],
      [isPlainRelativePath, "/undionly.kpxe", false],
      [isPlainRelativePath, "-undionly.kpxe", false],
      [isPlainRelativePath, "../undionly.kpxe", false],
      [isPlainRelativePath, "arm64/", false],
      [isPlainRelativePath, "", false],
      [isPlainRelativePath, 42, false],
    ];
    for (const [accepts, value, ok] of table) {
      assert.equal(
        accepts(value),
        ok,
        `${accepts.name || "USER_NAME"} on ${JSON.stringify(value)}`,
      );
    }
    assert.deepEqual(plainAbsolutePathViolations("root", "/srv/binhost", "/srv/binhost"), []);
    assert.deepEqual(plainAbsolutePathViolations("root", "srv", "/srv/binhost"), [
      {
        argument: "root",
        value: "srv",
        problem: "is not an absolute path of plain segments",
        fix: "use e.g. /srv/binhost: letters, digits and . _ + - between slashes, no . or .. segment",
      },
    ]);
  });

  it("are the only DNS-name and commit patterns in lib/ (each written once)", () => {
    // The label pattern and the 40-digit commit, as a regular expression literal would spell
    // them; patterns.ts builds its own from the same text.
    const copies = [/\[a-z0-9\]\(\[a-z0-9-\]/, /\[a-z0-9\]\(\?:\[a-z0-9-\]/, /\[0-9a-f\]\{40\}/];
    const found = libFiles()
      .filter(([file]) => file !== path.join("validation", "patterns.ts"))
      .flatMap(([file, text]) =>
        copies.filter((re) => re.test(text)).map((re) => `${file}: ${re.source}`),
      );
    assert.deepEqual(found, [], "use lib/validation/patterns.ts instead");
  });
});
