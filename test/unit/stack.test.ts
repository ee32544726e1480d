import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  mergeUse,
  type ProfileCatalog,
  resolveStack,
  type StackDefinition,
  validateCatalog,
  validateStackDefinition,
} from "../../lib/stack";
import { formatViolations, ValidationError } from "../../lib/validation";
import { catalog, linux, rails, ruby } from "../support/stack-catalog";

const lines = (subject: string, violations: Parameters<typeof formatViolations>[1]) =>
  formatViolations(subject, violations).split("\n").slice(1);

describe("resolveStack", () => {
  it("resolves rails → ruby → linux: one system profile, inherited application profiles", () => {
    const r = resolveStack(rails, catalog);
    assert.deepEqual(r.stackChain, ["linux", "ruby", "rails"]);
    assert.equal(r.systemProfile, "server");
    assert.deepEqual(r.systemProfiles, ["base", "server"]);
    assert.deepEqual(r.applicationProfiles, ["ruby-app", "rails-app"]);
    assert.deepEqual(r.ownApplicationProfiles, ["rails-app"]);
    assert.deepEqual(r.applicationProfileLeaves, ["rails-app"]);
    assert.deepEqual(r.systemPackages, ["app-admin/sudo", "sys-apps/baselayout"]);
    assert.deepEqual(r.applicationPackages, ["dev-lang/ruby", "dev-ruby/rails"]);
    assert.deepEqual(r.use, ["ipv6", "-X"]);
    assert.equal(r.base?.name, "ruby");
    assert.equal(r.base?.base?.name, "linux");
  });

  it("gives an application build profile only the packages its base lacks", () => {
    assert.deepEqual(resolveStack(linux, catalog).ownPackages, [
      "app-admin/sudo",
      "sys-apps/baselayout",
    ]);
    assert.deepEqual(resolveStack(ruby, catalog).ownPackages, ["dev-lang/ruby"]);
    assert.deepEqual(resolveStack(rails, catalog).ownPackages, ["dev-ruby/rails"]);
  });

  it("expands an application profile with its parents and lists only the leaf in the Stack profile", () => {
    const r = resolveStack(
      { name: "web", systemProfile: "server", applicationProfiles: ["django-app", "python-app"] },
      catalog,
    );
    assert.deepEqual(r.applicationProfiles, ["python-app", "django-app"]);
    assert.deepEqual(r.applicationProfileLeaves, ["django-app"]);
    assert.deepEqual(r.applicationPackages, ["dev-lang/python", "dev-python/django"]);
  });

  it("does not add again an application profile its base already has", () => {
    const r = resolveStack(
      { name: "more-ruby", base: ruby, applicationProfiles: ["ruby-app", "rails-app"] },
      catalog,
    );
    assert.deepEqual(r.ownApplicationProfiles, ["rails-app"]);
    assert.deepEqual(r.applicationProfileLeaves, ["rails-app"]);
  });

  it("throws one ValidationError naming every problem", () => {
    const bad: StackDefinition = {
      name: "Web",
      systemProfile: "desktop",
      applicationProfiles: ["php-app", "ruby-app"],
    };
    assert.throws(
      () => resolveStack(bad, catalog),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.equal(
          e.message,
          [
            'Stack "Web": 3 problems:',
            '- name: is not a valid Stack name (got "Web"); use lower case letters, digits and "-", starting with a letter, e.g. "django-app"',
            '- systemProfile: is not a system profile in the catalog (got "desktop"); use one of base, server, or define it in catalog.systemProfiles',
            '- applicationProfiles[0]: is not an application profile in the catalog (got "php-app"); use one of django-app, python-app, rails-app, ruby-app, or define it in catalog.applicationProfiles',
          ].join("\n"),
        );
        return true;
      },
    );
  });
});

describe("validateStackDefinition", () => {
  const conflicting: ProfileCatalog = {
    systemProfiles: { base: { use: ["-X"] }, desktop: { parent: "base", use: ["X"] } },
    applicationProfiles: {
      "gui-app": { use: ["-X"], packageUse: { "media-libs/gd": ["png"] } },
      "web-app": {
        use: ["curl"],
        packageUse: { "media-libs/gd": ["-png"] },
        makeDefaults: { PHP_TARGETS: "php8-3" },
      },
      "cli-app": { use: ["-curl"], makeDefaults: { PHP_TARGETS: "php8-4" } },
    },
  };

  it("lets a child profile override its parent's USE flag (inheritance is not a conflict)", () => {
    assert.deepEqual(
      validateStackDefinition({ name: "desk", systemProfile: "desktop" }, conflicting),
      [],
    );
  });

  it("rejects USE flags, package USE and variables set both ways by unrelated profiles", () => {
    const violations = validateStackDefinition(
      {
        name: "mixed",
        systemProfile: "desktop",
        applicationProfiles: ["gui-app", "web-app", "cli-app"],
      },
      conflicting,
    );
    const fix =
      "set it in only one of the two profiles, or make one profile inherit from the other";
    assert.deepEqual(lines("x", violations), [
      `- catalog.applicationProfiles.gui-app.use: conflicts with "X" of system profile "desktop" in Stack "mixed" (got "-X"); ${fix}`,
      `- catalog.applicationProfiles.web-app.packageUse["media-libs/gd"]: conflicts with "png" of application profile "gui-app" in Stack "mixed" (got "-png"); ${fix}`,
      `- catalog.applicationProfiles.cli-app.use: conflicts with "curl" of application profile "web-app" in Stack "mixed" (got "-curl"); ${fix}`,
      `- catalog.applicationProfiles.cli-app.makeDefaults.PHP_TARGETS: conflicts with "php8-3" of application profile "web-app" in Stack "mixed" (got "php8-4"); ${fix}`,
    ]);
  });

  it("rejects a Stack without a system profile and without a base", () => {
    assert.deepEqual(lines("x", validateStackDefinition({ name: "bare" }, catalog)), [
      '- systemProfile: is required for Stack "bare", which has no base (got undefined); use one of base, server, or define it in catalog.systemProfiles',
    ]);
  });

  it("rejects a second system profile in a Stack chain, naming the nested base", () => {
    const desktopRuby: StackDefinition = { name: "ruby", base: linux, systemProfile: "base" };
    assert.deepEqual(
      lines("x", validateStackDefinition({ name: "rails", base: desktopRuby }, catalog)),
      [
        '- base.systemProfile: gives Stack "ruby" a second system profile: its base "linux" has "server" (got "base"); omit systemProfile to inherit "server", or drop the base',
      ],
    );
  });

  it("accepts a Stack that repeats its base's system profile", () => {
    assert.deepEqual(
      validateStackDefinition({ name: "again", base: linux, systemProfile: "server" }, catalog),
      [],
    );
  });

  it("rejects circular Stack inheritance", () => {
    const a: { name: string; systemProfile: string; base?: StackDefinition } = {
      name: "a",
      systemProfile: "server",
    };
    a.base = { name: "b", base: a };
    assert.deepEqual(lines("x", validateStackDefinition(a, catalog)), [
      '- base.base: makes Stack inheritance circular: a → b → a (got "a"); remove the base of one Stack in the cycle',
    ]);
    assert.deepEqual(
      lines(
        "x",
        validateStackDefinition(
          {
            name: "rails",
            base: { name: "ruby", base: { name: "rails", systemProfile: "server" } },
          },
          catalog,
        ),
      ),
      [
        '- base.base: makes Stack inheritance circular: rails → ruby → rails (got "rails"); remove the base of one Stack in the cycle',
      ],
    );
  });
});

describe("validateCatalog", () => {
  it("accepts the shared test catalog", () => {
    assert.deepEqual(validateCatalog(catalog), []);
  });

  it("names every problem: names, parents, cycles, atoms, USE tokens, variables", () => {
    const bad = {
      systemProfiles: {
        base: { use: ["X", "-X", "bad flag"] },
        Server: { parent: "nope" },
        a: { parent: "b" },
        b: { parent: "a" },
      },
      applicationProfiles: {
        "php-app": {
          packages: ["php"],
          acceptKeywords: ["dev-lang/php-8"],
          packageUse: { "dev-lang/php": ["gd", "-gd"] },
          makeDefaults: { CHOST: "x", "PHP TARGETS": 'a"b' },
        },
      },
    } as unknown as ProfileCatalog;
    assert.deepEqual(lines("x", validateCatalog(bad)), [
      '- catalog.systemProfiles.base.use: both enables and disables "X" (got ["X","-X","bad flag"]); keep either "X" or "-X"',
      '- catalog.systemProfiles.base.use[2]: is not a USE token (got "bad flag"); use a flag name of letters, digits and + _ @ . -, prefixed with "-" to disable it, e.g. "ipv6" or "-X"',
      '- catalog.systemProfiles.Server: is not a valid system profile name (got "Server"); use lower case letters, digits and "-", starting with a letter, e.g. "django-app"',
      '- catalog.systemProfiles.Server.parent: is not a system profile in the catalog (got "nope"); use one of Server, a, b, base, or define it in catalog.systemProfiles',
      '- catalog.systemProfiles.a.parent: makes system profile inheritance circular: a → b → a (got "b"); remove the parent of one profile in the cycle',
      '- catalog.applicationProfiles.php-app.packages[0]: is not a package atom (got "php"); use category/package, optionally with an operator and version, slot or repository, e.g. "dev-lang/ruby" or ">=dev-lang/ruby-3.3:3.3"',
      '- catalog.applicationProfiles.php-app.packageUse["dev-lang/php"]: both enables and disables "gd" (got ["gd","-gd"]); keep either "gd" or "-gd"',
      '- catalog.applicationProfiles.php-app.acceptKeywords[0]: is not a package atom (got "dev-lang/php-8"); use category/package, optionally with an operator and version, slot or repository, e.g. "dev-lang/ruby" or ">=dev-lang/ruby-3.3:3.3"',
      '- catalog.applicationProfiles.php-app.makeDefaults.CHOST: sets CHOST, which gentoo-infra decides (got "x"); remove it: the arch table decides it',
      '- catalog.applicationProfiles.php-app.makeDefaults.PHP TARGETS: is not a variable name (got "PHP TARGETS"); use letters, digits and _',
      '- catalog.applicationProfiles.php-app.makeDefaults.PHP TARGETS: cannot be written without escaping (got "a\\"b"); remove double quotes, backslashes, "$", backticks, line breaks and other control characters from the value',
    ]);
  });
});

describe("mergeUse", () => {
  it("stacks USE incrementally: the last sign of a flag wins", () => {
    assert.deepEqual(mergeUse([["X", "ipv6"], ["-X"], ["acl"]]), ["acl", "ipv6", "-X"]);
  });

  it("is idempotent: merging a merged list with itself changes nothing", () => {
    const token = fc
      .tuple(fc.boolean(), fc.constantFrom("X", "acl", "ipv6", "ssl", "gd"))
      .map(([off, f]) => (off ? `-${f}` : f));
    fc.assert(
      fc.property(fc.array(fc.array(token)), (lists) => {
        const merged = mergeUse(lists);
        assert.deepEqual(mergeUse([merged, merged]), merged);
        assert.deepEqual(mergeUse([...lists, merged]), merged);
      }),
    );
  });
});

describe("package sets along a Stack chain", () => {
  it("splits every Stack's packages into its base's and its own, with no overlap", () => {
    const names = ["a-app", "b-app", "c-app", "d-app"];
    const atom = fc.constantFrom(
      "dev-lang/ruby",
      "dev-lang/python",
      "app-misc/hello",
      "sys-apps/x",
    );
    const appCatalog = fc.tuple(...names.map(() => fc.array(atom, { maxLength: 3 })));
    fc.assert(
      fc.property(
        appCatalog,
        fc.array(fc.subarray(names), { minLength: 1, maxLength: 4 }),
        (pkgs, levels) => {
          const cat: ProfileCatalog = {
            systemProfiles: { base: { packages: ["sys-apps/baselayout"] } },
            applicationProfiles: Object.fromEntries(
              names.map((n, i) => [n, { packages: pkgs[i] }]),
            ),
          };
          let definition: StackDefinition = { name: "s0", systemProfile: "base" };
          for (const [i, apps] of levels.entries()) {
            definition = { name: `s${i + 1}`, base: definition, applicationProfiles: apps };
          }
          const r = resolveStack(definition, cat);
          const base = new Set(r.base?.packages ?? []);
          assert.deepEqual(
            r.ownPackages.filter((p) => base.has(p)),
            [],
          );
          assert.deepEqual([...new Set([...base, ...r.ownPackages])].sort(), r.packages);
        },
      ),
    );
  });
});
