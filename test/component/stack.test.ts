/**
 * The Stack component under `pulumi.runtime.setMocks`: what it registers (only itself:
 * it has no children), its outputs for every build profile, and one ResourceError for bad
 * input. Not proven here: that Portage accepts the files (see test/render/portage.test.ts),
 * and the failure of a late-bound value that resolves to garbage (a rejected Output; the
 * validator that rejects it is tested in test/unit/portage.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as hostile from "../support/hostile";
import { settled } from "../support/mocks";

interface Registered {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
}
const registered: Registered[] = [];

pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, custom: args.custom ?? false });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: (args) => args.inputs,
  },
  "gentoo-infra",
  "test",
  true,
);

// Imported after setMocks, as the mocks must be in place before the module loads.
import type * as StackModule from "../../lib/stack";
import * as fixture from "../support/stack-catalog";

const { Stack, renderBuildProfileFiles, resolveStack } =
  require("../../lib/stack") as typeof StackModule;

/** Resolves an Output (rejects if its apply threw). */
function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}

const late = {
  binhostUrl: pulumi.output(fixture.BINHOST_URL),
  gentooSyncUri: fixture.GENTOO_SYNC_URI,
  overlaySyncUri: pulumi.output(fixture.OVERLAY_SYNC_URI),
  signingKeyFingerprint: pulumi.output(fixture.FINGERPRINT),
  treeSnapshots: {
    development: pulumi.output({ gentoo: fixture.GENTOO_COMMIT, overlay: fixture.OVERLAY_COMMIT }),
    staging: {
      gentoo: pulumi.output(fixture.STAGING_GENTOO_COMMIT),
      overlay: fixture.STAGING_OVERLAY_COMMIT,
    },
  },
};

/** Registrations since `mark`, once pending registrations have reached the mocks. */
async function since(mark: number): Promise<Registered[]> {
  await settled();
  return registered.slice(mark);
}

describe("Stack", () => {
  it("registers only itself: it has no child resources", async () => {
    const mark = registered.length;
    new Stack("linux", {
      catalog: fixture.catalog,
      systemProfile: "server",
      environments: ["development"],
      arches: ["amd64"],
      ...late,
    });
    assert.deepEqual(await since(mark), [
      { type: "gentoo-infra:stack:Stack", name: "linux", custom: false },
    ]);
  });

  it("exposes one build profile per environment and arch, with its binhost path and own packages", async () => {
    const linux = new Stack("linux-x", {
      stackName: "linux",
      catalog: fixture.catalog,
      systemProfile: "server",
      environments: ["development"],
      arches: ["amd64"],
      ...late,
    });
    const ruby = new Stack("ruby", {
      catalog: fixture.catalog,
      base: linux.definition,
      applicationProfiles: ["ruby-app"],
      environments: ["development", "staging"],
      arches: ["amd64", "arm64"],
      ...late,
    });
    assert.deepEqual(linux.definition, { name: "linux", systemProfile: "server" });
    assert.deepEqual(Object.keys(ruby.buildProfiles), [
      "development/amd64/ruby",
      "development/arm64/ruby",
      "staging/amd64/ruby",
      "staging/arm64/ruby",
    ]);
    const profile = ruby.buildProfiles["staging/arm64/ruby"];
    assert.ok(profile);
    assert.equal(profile.environment, "staging");
    assert.equal(profile.arch, "arm64");
    assert.equal(profile.binhostPath, "staging/arm64/ruby/");
    assert.equal(
      await outputValue(profile.binhostUrl),
      `${fixture.BINHOST_URL}/staging/arm64/ruby/`,
    );
    assert.deepEqual(profile.packages, ["dev-lang/ruby"]);
    assert.deepEqual(ruby.packages, ["app-admin/sudo", "dev-lang/ruby", "sys-apps/baselayout"]);
  });

  it("renders each build profile's files from the environment's own snapshot commits", async () => {
    const rails = new Stack("rails", {
      catalog: fixture.catalog,
      base: fixture.ruby,
      applicationProfiles: ["rails-app"],
      environments: ["development", "staging"],
      arches: ["amd64"],
      overlayName: "site",
      ...late,
    });
    const expected = renderBuildProfileFiles(resolveStack(fixture.rails, fixture.catalog), {
      environment: "staging",
      arch: "amd64",
      overlayName: "site",
      binhostUrl: fixture.BINHOST_URL,
      gentooSyncUri: fixture.GENTOO_SYNC_URI,
      overlaySyncUri: fixture.OVERLAY_SYNC_URI,
      snapshot: { gentoo: fixture.STAGING_GENTOO_COMMIT, overlay: fixture.STAGING_OVERLAY_COMMIT },
      signingKeyFingerprint: fixture.FINGERPRINT,
      gentooMirrors: ["https://distfiles.gentoo.org"],
      builderMakeJobs: 4,
    });
    const profile = rails.buildProfiles["staging/amd64/rails"];
    assert.ok(profile);
    assert.deepEqual(await outputValue(profile.builderFiles), expected.builder);
    assert.deepEqual(await outputValue(profile.machineFiles), expected.machine);
    assert.deepEqual(
      Object.keys(rails.overlayFiles).filter((p) => p.startsWith("profiles/stacks/")),
      [
        "profiles/stacks/linux/amd64/eapi",
        "profiles/stacks/linux/amd64/parent",
        "profiles/stacks/rails/amd64/eapi",
        "profiles/stacks/rails/amd64/parent",
        "profiles/stacks/ruby/amd64/eapi",
        "profiles/stacks/ruby/amd64/parent",
      ],
    );
  });

  it("throws one ResourceError naming every bad argument, and creates nothing", async () => {
    const mark = registered.length;
    assert.throws(
      () =>
        new Stack("broken", {
          catalog: fixture.catalog,
          systemProfile: "desktop",
          applicationProfiles: ["ruby-app", "php-app"],
          environments: ["development", "qa" as "staging"],
          arches: ["amd64", "sparc" as "x86", "amd64"],
          ...late,
          binhostUrl: "ftp://binhost",
          treeSnapshots: {},
        }),
      (e: unknown) => {
        assert.ok(e instanceof pulumi.ResourceError);
        assert.equal(
          e.message,
          [
            'Stack "broken": 7 problems:',
            '- systemProfile: is not a system profile in the catalog (got "desktop"); use one of base, server, or define it in catalog.systemProfiles',
            '- applicationProfiles[1]: is not an application profile in the catalog (got "php-app"); use one of django-app, python-app, rails-app, ruby-app, or define it in catalog.applicationProfiles',
            '- environments[1]: is not a known environment (got "qa"); use one of development, staging, production',
            '- arches[1]: is not a known arch (got "sparc"); use one of amd64, x86, arm64',
            '- arches[2]: repeats arch "amd64" (got "amd64"); list it once',
            "- treeSnapshots.development: is missing (got undefined); give the commits of the Gentoo tree clone and the overlay that development builds from",
            '- binhostUrl: is not an http(s) URL (got "ftp://binhost"); use the binhost base URL, e.g. "https://binhost.example.org/packages"',
          ].join("\n"),
        );
        return true;
      },
    );
    // Only the component's own registration (made by super() before validation).
    assert.deepEqual(
      (await since(mark)).filter((r) => r.name !== "broken"),
      [],
    );
  });

  it("refuses a SHA-256 (64-digit) commit, as the build farm does (one commit grammar)", () => {
    assert.throws(
      () =>
        new Stack("sha256", {
          catalog: fixture.catalog,
          systemProfile: "server",
          environments: ["development"],
          arches: ["amd64"],
          ...late,
          treeSnapshots: {
            development: { gentoo: "a".repeat(64), overlay: fixture.OVERLAY_COMMIT },
          },
        }),
      /- treeSnapshots\.development\.gentoo: is not a full commit id \(got "a{64}"\); use the 40 lower-case hex digits git prints for the branch's commit/,
    );
  });
});

describe("Stack refuses hostile values in its plain arguments (property)", () => {
  type Args = StackModule.StackArgs;
  /** The arguments every case starts from: rails-like, every plain value given as text. */
  const plainArgs = (): Args => ({
    catalog: fixture.catalog,
    base: fixture.linux,
    applicationProfiles: ["ruby-app"],
    environments: ["development"],
    arches: ["amd64"],
    binhostUrl: fixture.BINHOST_URL,
    gentooSyncUri: fixture.GENTOO_SYNC_URI,
    overlaySyncUri: fixture.OVERLAY_SYNC_URI,
    treeSnapshots: {
      development: { gentoo: fixture.GENTOO_COMMIT, overlay: fixture.OVERLAY_COMMIT },
    },
    signingKeyFingerprint: fixture.FINGERPRINT,
  });
  const server = ["catalog", "systemProfiles", "server"] as const;
  const serverPath = "catalog.systemProfiles.server";
  type Place = hostile.HostilePlace<Args, InstanceType<typeof Stack>>;
  const place = hostile.placesOver<Args, InstanceType<typeof Stack>>(plainArgs);
  /** The lines of the rendered overlay files that hold `text`. */
  const linesWith = (stack: InstanceType<typeof Stack>, text: string) =>
    Object.values(stack.overlayFiles).flatMap((f) => f.split("\n").filter((l) => l.includes(text)));

  const places: Place[] = [
    place("stackName", "web", ["stackName"], { optional: true }),
    place("systemProfile", "server", ["systemProfile"], { optional: true }),
    place("applicationProfiles[0]", "ruby-app", ["applicationProfiles", 0]),
    place("applicationProfiles", "ruby-app", ["applicationProfiles"], {
      optional: true,
      accepts: hostile.isList,
    }),
    place("base.name", "linux", ["base", "name"]),
    place("base.systemProfile", "server", ["base", "systemProfile"]),
    place("environments[0]", "development", ["environments", 0]),
    place("environments", "development", ["environments"], {
      accepts: (v) => hostile.isList(v) && (v as unknown[]).length > 0,
    }),
    place("arches[0]", "amd64", ["arches", 0]),
    place("arches", "amd64", ["arches"], {
      accepts: (v) => hostile.isList(v) && (v as unknown[]).length > 0,
    }),
    place("binhostUrl", fixture.BINHOST_URL, ["binhostUrl"]),
    place("gentooSyncUri", fixture.GENTOO_SYNC_URI, ["gentooSyncUri"]),
    place("overlaySyncUri", fixture.OVERLAY_SYNC_URI, ["overlaySyncUri"]),
    place("signingKeyFingerprint", fixture.FINGERPRINT, ["signingKeyFingerprint"]),
    ...(["gentoo", "overlay"] as const).map((repo) =>
      place(`treeSnapshots.development.${repo}`, fixture.GENTOO_COMMIT, [
        "treeSnapshots",
        "development",
        repo,
      ]),
    ),
    place("treeSnapshots.development", fixture.GENTOO_COMMIT, ["treeSnapshots", "development"], {
      accepts: hostile.isTable,
    }),
    place("overlayName", "gentoo-infra", ["overlayName"], { optional: true }),
    place("gentooMirrors[0]", "https://distfiles.gentoo.org", ["gentooMirrors", 0], {
      set: (v) => ({ ...plainArgs(), gentooMirrors: [v as string] }),
    }),
    place("gentooMirrors", "https://distfiles.gentoo.org", ["gentooMirrors"], {
      optional: true,
      accepts: hostile.isList,
    }),
    place("builderMakeJobs", "4", ["builderMakeJobs"], {
      optional: true,
      accepts: (v) => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 256,
    }),
    place("catalog.systemProfiles", "server", ["catalog", "systemProfiles"], {
      accepts: hostile.isTable,
    }),
    place("catalog.applicationProfiles", "ruby-app", ["catalog", "applicationProfiles"], {
      optional: true,
      accepts: hostile.isTable,
    }),
    place(serverPath, "server", [...server], { accepts: hostile.isTable }),
    place(`${serverPath}.packages[0]`, "app-admin/sudo", [...server, "packages", 0]),
    place(`${serverPath}.packages`, "app-admin/sudo", [...server, "packages"], {
      optional: true,
      accepts: hostile.isList,
    }),
    place("catalog.systemProfiles.base.use[0]", "-X", [
      "catalog",
      "systemProfiles",
      "base",
      "use",
      0,
    ]),
    place("catalog.systemProfiles.base.use", "-X", ["catalog", "systemProfiles", "base", "use"], {
      optional: true,
      accepts: hostile.isList,
    }),
    place(`${serverPath}.packageUse["app-admin/sudo"][0]`, "-sendmail", [
      ...server,
      "packageUse",
      "app-admin/sudo",
      0,
    ]),
    place(
      `${serverPath}.packageUse["app-admin/sudo"]`,
      "-sendmail",
      [...server, "packageUse", "app-admin/sudo"],
      { accepts: hostile.isList },
    ),
    place(`${serverPath}.packageUse`, "app-admin/sudo", [...server, "packageUse"], {
      optional: true,
      accepts: hostile.isTable,
    }),
    place(`${serverPath}.packageUse`, "app-admin/sudo", [...server, "packageUse"], {
      textOnly: true,
      set: (v) =>
        hostile.withValue(plainArgs(), [...server, "packageUse"], { [v as string]: ["-sendmail"] }),
    }),
    place(`${serverPath}.acceptKeywords[0]`, "app-admin/sudo", [...server, "acceptKeywords", 0]),
    place(`${serverPath}.acceptKeywords`, "app-admin/sudo", [...server, "acceptKeywords"], {
      optional: true,
      accepts: hostile.isList,
    }),
    place(`${serverPath}.parent`, "base", [...server, "parent"], { optional: true }),
    place(`${serverPath}.makeDefaults`, "VIDEO_CARDS", [...server, "makeDefaults"], {
      optional: true,
      accepts: hostile.isTable,
    }),
    {
      at: (v) => `${serverPath}.makeDefaults.${v}`,
      valid: "VIDEO_CARDS",
      textOnly: true,
      set: (v) =>
        hostile.withValue(plainArgs(), [...server, "makeDefaults"], { [v as string]: "intel" }),
    },
    // Free text in double quotes: refused where it would need escaping, else written as is.
    place(
      `${serverPath}.makeDefaults.VIDEO_CARDS`,
      "intel i965",
      [...server, "makeDefaults", "VIDEO_CARDS"],
      {
        inert: (stack, value) => {
          assert.doesNotMatch(value, /["\\$`]/);
          assert.doesNotMatch(value, hostile.CONTROL);
          assert.deepEqual(linesWith(stack, value), [`VIDEO_CARDS="${value}"`]);
        },
      },
    ),
    // Free text in a comment: accepted on one line, only ever after a "#".
    place(`${serverPath}.description`, "headless servers", [...server, "description"], {
      optional: true,
      inert: (stack, value) => {
        assert.doesNotMatch(value, hostile.CONTROL);
        const found = linesWith(stack, value);
        assert.ok(found.length > 0 && found.every((l) => l.startsWith("# ")), found.join("\n"));
      },
    }),
    {
      at: (v) => `catalog.applicationProfiles.${v}`,
      valid: "perl-app",
      textOnly: true,
      set: (v) =>
        hostile.withValue(plainArgs(), ["catalog", "applicationProfiles", v as string], {
          packages: ["dev-lang/perl"],
        }),
    },
    place(
      "catalog.applicationProfiles.rails-app.parent",
      "ruby-app",
      ["catalog", "applicationProfiles", "rails-app", "parent"],
      { optional: true },
    ),
  ];

  it("each is refused with one error naming that argument, and nothing is registered", async () => {
    const made = hostile.assertHostileValuesRefused(places, (name, a) => new Stack(name, a));
    const children = (await since(0)).filter((r) =>
      made.some((name) => r.name.startsWith(`${name}-`)),
    );
    assert.deepEqual(children, [], "no child of a refused Stack");
  });
});
