/**
 * Render tier for the Stack's Portage configuration: golden files reviewed as text, then
 * Portage 3.0.83 itself (the venv's `portage` package) loads the rendered configuration
 * against a stand-in for the official Gentoo tree (standin/gentoo, not the real
 * tree). Regenerate golden files with UPDATE_GOLDEN=1 and review the diff.
 *
 * What this tier does not prove: that the profiles resolve against the REAL Gentoo tree
 * (package names and USE flags of real ebuilds), that a build succeeds, that signing or
 * signature verification works (no GnuPG keys here), or that a binhost serves the paths.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import type { ArchName } from "../../lib/portage";
import type { Environment } from "../../lib/snapshot/environments";
import {
  type BuildProfileFiles,
  type ResolvedStack,
  renderBuildProfileFiles,
  renderOverlayFiles,
  resolveStack,
} from "../../lib/stack";
import * as fixture from "../support/stack-catalog";
import { requireTools } from "../support/tools";
import {
  createPrefix,
  emerge,
  mergeList,
  type PortagePrefix,
  portageCheck,
  portageProblems,
  writeFiles,
} from "./portage-harness";

const OVERLAY = "site";
const GOLDEN = join(__dirname, "golden", "stack");
const SETUP_HINT = "run scripts/setup (step 20-python installs Portage into .cache/venv)";

const rails = resolveStack(fixture.rails, fixture.catalog);
const linux = resolveStack(fixture.linux, fixture.catalog);

function render(
  stack: ResolvedStack,
  environment: Environment,
  arch: ArchName,
  locations: { gentooLocation?: string; overlayLocation?: string } = {},
  overlaySyncUri = fixture.OVERLAY_SYNC_URI,
): BuildProfileFiles {
  const staging = environment === "staging";
  return renderBuildProfileFiles(stack, {
    environment,
    arch,
    overlayName: OVERLAY,
    binhostUrl: fixture.BINHOST_URL,
    gentooSyncUri: fixture.GENTOO_SYNC_URI,
    overlaySyncUri,
    snapshot: {
      gentoo: staging ? fixture.STAGING_GENTOO_COMMIT : fixture.GENTOO_COMMIT,
      overlay: staging ? fixture.STAGING_OVERLAY_COMMIT : fixture.OVERLAY_COMMIT,
    },
    signingKeyFingerprint: fixture.FINGERPRINT,
    gentooMirrors: ["https://distfiles.example.org/gentoo"],
    builderMakeJobs: 4,
    ...locations,
  });
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Compares a file map with a golden directory (exact set of files, exact content). */
function assertGolden(name: string, files: Readonly<Record<string, string>>): void {
  const dir = join(GOLDEN, name);
  const expected = Object.fromEntries(
    Object.entries(files).map(([path, content]) => [path.replace(/^\/+/, ""), content]),
  );
  if (process.env.UPDATE_GOLDEN === "1") {
    rmSync(dir, { recursive: true, force: true });
    for (const [path, content] of Object.entries(expected)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  }
  assert.deepEqual(
    listFiles(dir),
    Object.keys(expected).sort(),
    `files under golden/stack/${name}`,
  );
  for (const [path, content] of Object.entries(expected)) {
    assert.equal(content, readFileSync(join(dir, path), "utf8"), `golden/stack/${name}/${path}`);
  }
}

describe("golden files of the rails Stack (rails → ruby → linux)", () => {
  it("renders the overlay's profile directories for amd64 and x86", () => {
    assertGolden("overlay", renderOverlayFiles(rails, fixture.catalog, ["amd64", "x86"], OVERLAY));
  });

  it("renders the builder files of build profile development/amd64/rails/", () => {
    assertGolden("development-amd64-rails/builder", render(rails, "development", "amd64").builder);
  });

  it("renders the machine files of build profile development/amd64/rails/", () => {
    assertGolden("development-amd64-rails/machine", render(rails, "development", "amd64").machine);
  });

  it("renders the builder files of build profile staging/arm64/linux/ (a Stack without base)", () => {
    assertGolden("staging-arm64-linux/builder", render(linux, "staging", "arm64").builder);
  });
});

interface Facts {
  profiles: string[];
  variables: Record<string, string | null>;
  use: string[];
  features: string[];
  mainRepo: string | null;
  repos: Record<string, Record<string, unknown>>;
  binrepos: Record<string, Record<string, unknown>>;
  sets: Record<"system" | "selected", string[]>;
  packages: Record<string, { bestVisible: string | null; use?: string[] }>;
}

/** A prefix holding one side (builder or machine) of a rendered build profile. */
function loadIntoPortage(
  t: TestContext,
  stack: ResolvedStack,
  environment: Environment,
  arch: ArchName,
  side: "builder" | "machine",
  options: { overlaySyncUri?: string; keep?: (prefix: PortagePrefix) => void } = {},
): { prefix: PortagePrefix; facts: Facts; stderr: string } | undefined {
  if (!requireTools(t, ["emerge"], SETUP_HINT)) return undefined;
  const prefix = createPrefix(OVERLAY);
  if (options.keep) options.keep(prefix);
  else t.after(prefix.remove);
  writeFiles(prefix.overlayLocation, renderOverlayFiles(stack, fixture.catalog, [arch], OVERLAY));
  const files = render(
    stack,
    environment,
    arch,
    { gentooLocation: prefix.gentooLocation, overlayLocation: prefix.overlayLocation },
    options.overlaySyncUri,
  );
  writeFiles(prefix.dir, files[side]);
  const run = portageCheck(prefix, [
    "sys-apps/baselayout",
    "app-admin/sudo",
    "dev-lang/ruby",
    "dev-ruby/rails",
  ]);
  assert.equal(run.status, 0, `portage-check.py failed:\n${run.stderr}`);
  return { prefix, facts: JSON.parse(run.stdout) as Facts, stderr: run.stderr };
}

/** Profile paths relative to the prefix, `repos/gentoo/profiles/...` etc. */
function profileLabels(prefix: PortagePrefix, facts: Facts): string[] {
  return facts.profiles.map((p) => relative(prefix.dir, p));
}

describe("Portage loads the builder configuration of development/amd64/rails/", () => {
  // The first test loads Portage once; the others read what it saw.
  let loaded: ReturnType<typeof loadIntoPortage>;
  let prefixes: PortagePrefix[] = [];
  after(() => {
    for (const p of prefixes) p.remove();
    prefixes = [];
  });

  it("resolves the profile chain down to the stand-in's official default/linux/amd64/23.0", (t) => {
    loaded = loadIntoPortage(t, rails, "development", "amd64", "builder", {
      keep: (p) => prefixes.push(p),
    });
    if (!loaded) return;
    assert.deepEqual(profileLabels(loaded.prefix, loaded.facts), [
      "repos/gentoo/profiles/base",
      "repos/gentoo/profiles/arch/amd64",
      "repos/gentoo/profiles/default/linux/amd64/23.0",
      "repos/site/profiles/system/base",
      "repos/site/profiles/system/server",
      "repos/site/profiles/system/server/amd64",
      "repos/site/profiles/stacks/linux/amd64",
      "repos/site/profiles/application/ruby-app",
      "repos/site/profiles/stacks/ruby/amd64",
      "repos/site/profiles/application/ruby-app",
      "repos/site/profiles/application/rails-app",
      "repos/site/profiles/stacks/rails/amd64",
      "etc/portage/make.profile",
    ]);
    assert.deepEqual(portageProblems(loaded.stderr), []);
  });

  it("reads CHOST, flags, MAKEOPTS and the gpkg signing variables exactly as rendered", (t) => {
    if (!loaded) return t.skip("profile chain test did not load Portage");
    assert.deepEqual(loaded.facts.variables, {
      ARCH: "amd64",
      BINPKG_COMPRESS: "zstd",
      BINPKG_FORMAT: "gpkg",
      BINPKG_GPG_SIGNING_DIGEST: "SHA512",
      BINPKG_GPG_SIGNING_GPG_HOME: "/root/.gnupg",
      BINPKG_GPG_SIGNING_KEY: `0x${fixture.FINGERPRINT}!`,
      BINPKG_GPG_VERIFY_GPG_HOME: "/etc/portage/gnupg",
      CFLAGS: "-O2 -pipe",
      CHOST: "x86_64-pc-linux-gnu",
      COMMON_FLAGS: "-O2 -pipe",
      CXXFLAGS: "-O2 -pipe",
      GENTOO_MIRRORS: "https://distfiles.example.org/gentoo",
      MAKEOPTS: "-j4 -l4",
      PKGDIR: "/var/cache/binpkgs",
    });
  });

  it("enables the building and signing FEATURES", (t) => {
    if (!loaded) return t.skip("profile chain test did not load Portage");
    for (const feature of ["buildpkg", "binpkg-signing", "binpkg-request-signature", "getbinpkg"]) {
      assert.ok(loaded.facts.features.includes(feature), `FEATURES has ${feature}`);
    }
  });

  it("stacks USE from the stand-in's base profile and ours: ipv6 on, X never on", (t) => {
    if (!loaded) return t.skip("profile chain test did not load Portage");
    assert.ok(loaded.facts.use.includes("ipv6"));
    assert.ok(loaded.facts.use.includes("amd64"));
    assert.ok(!loaded.facts.use.includes("X"));
  });

  it("names both repositories from repos.conf, git-synced, pinned, gentoo as main repository", (t) => {
    if (!loaded) return t.skip("profile chain test did not load Portage");
    const { prefix, facts } = loaded;
    assert.equal(facts.mainRepo, "gentoo");
    assert.deepEqual(facts.repos, {
      gentoo: {
        autoSync: "no",
        location: prefix.gentooLocation,
        masters: [],
        priority: -1000,
        syncType: "git",
        syncUri: fixture.GENTOO_SYNC_URI,
      },
      site: {
        autoSync: "no",
        location: prefix.overlayLocation,
        masters: ["gentoo"],
        priority: 0,
        syncType: "git",
        syncUri: fixture.OVERLAY_SYNC_URI,
      },
    });
  });

  it("parses binrepos.conf: the build profile's binhost path and its bases', signature verification on", (t) => {
    if (!loaded) return t.skip("profile chain test did not load Portage");
    const cache = join(loaded.prefix.dir, "var/cache/binhost");
    const base = `${fixture.BINHOST_URL}/development/amd64`;
    assert.deepEqual(loaded.facts.binrepos, {
      "development-amd64-linux": {
        location: `${cache}/development-amd64-linux`,
        priority: 10,
        syncUri: `${base}/linux`,
        verifySignature: true,
      },
      "development-amd64-ruby": {
        location: `${cache}/development-amd64-ruby`,
        priority: 20,
        syncUri: `${base}/ruby`,
        verifySignature: true,
      },
      "development-amd64-rails": {
        location: `${cache}/development-amd64-rails`,
        priority: 30,
        syncUri: `${base}/rails`,
        verifySignature: true,
      },
    });
  });

  it("puts system profile packages in @system and the application packages in @selected", (t) => {
    if (!loaded) return t.skip("profile chain test did not load Portage");
    assert.deepEqual(loaded.facts.sets, {
      selected: ["dev-lang/ruby", "dev-ruby/rails"],
      system: ["app-admin/sudo", "sys-apps/baselayout"],
    });
  });

  it("applies package.use and package.accept_keywords from the profiles", (t) => {
    if (!loaded) return t.skip("profile chain test did not load Portage");
    assert.deepEqual(loaded.facts.packages, {
      "app-admin/sudo": { bestVisible: "app-admin/sudo-1.9.17", use: [] },
      "dev-lang/ruby": { bestVisible: "dev-lang/ruby-3.4.1", use: ["jit"] },
      // Only ~amd64 in the stand-in: visible because rails-app accepts its testing keyword.
      "dev-ruby/rails": { bestVisible: "dev-ruby/rails-8.0.2", use: [] },
      "sys-apps/baselayout": { bestVisible: "sys-apps/baselayout-2.17", use: [] },
    });
  });

  it("resolves `emerge --pretend @world` against the stand-in tree", (t) => {
    if (!loaded) return t.skip("profile chain test did not load Portage");
    const run = emerge(loaded.prefix, ["--pretend", "--getbinpkg=n", "--usepkg=n", "@world"]);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.deepEqual(mergeList(run.stdout).sort(), [
      "app-admin/sudo-1.9.17",
      "dev-lang/ruby-3.4.1",
      "dev-ruby/rails-8.0.2",
      "sys-apps/baselayout-2.17",
    ]);
  });

  it("writes a tree snapshot file that bash sources to the environment's commits", (t) => {
    if (!loaded) return t.skip("profile chain test did not load Portage");
    const file = join(loaded.prefix.dir, "etc/gentoo-infra/tree-snapshot");
    const run = spawnSync(
      "bash",
      [
        "-c",
        'source "$1" && echo "$GI_GENTOO_COMMIT $GI_OVERLAY_COMMIT $GI_OVERLAY_LOCATION"',
        "_",
        file,
      ],
      { encoding: "utf8" },
    );
    assert.equal(
      run.stdout.trim(),
      `${fixture.GENTOO_COMMIT} ${fixture.OVERLAY_COMMIT} ${loaded.prefix.overlayLocation}`,
    );
  });
});

describe("Portage loads the machine configuration", () => {
  it("installs signed binary packages only and reads a `%` in a sync-uri back unchanged", (t) => {
    const uri = "https://git.example.org/%7Eteam/overlay.git";
    const loaded = loadIntoPortage(t, rails, "production", "amd64", "machine", {
      overlaySyncUri: uri,
    });
    if (!loaded) return;
    const { facts } = loaded;
    assert.ok(facts.features.includes("getbinpkg"));
    assert.ok(facts.features.includes("binpkg-request-signature"));
    assert.ok(!facts.features.includes("buildpkg"));
    assert.ok(!facts.features.includes("binpkg-signing"));
    assert.equal(facts.variables.BINPKG_GPG_VERIFY_GPG_HOME, "/etc/portage/gnupg");
    assert.equal(facts.variables.BINPKG_GPG_SIGNING_KEY, null);
    assert.equal(facts.repos.site?.syncUri, uri);
    assert.deepEqual(Object.keys(facts.binrepos), [
      "production-amd64-linux",
      "production-amd64-ruby",
      "production-amd64-rails",
    ]);
    assert.deepEqual(portageProblems(loaded.stderr), []);
    const run = emerge(loaded.prefix, ["--pretend", "--getbinpkg=n", "--usepkg=n", "@world"]);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(mergeList(run.stdout).length, 4);
  });
});

describe("Portage resolves every arch's chain to the stand-in's official profile", () => {
  const cases: [ArchName, string, string][] = [
    ["x86", "default/linux/x86/23.0/i686", "i686-pc-linux-gnu"],
    ["arm64", "default/linux/arm64/23.0", "aarch64-unknown-linux-gnu"],
  ];
  for (const [arch, official, chost] of cases) {
    it(`loads the ${arch} builder of the linux Stack on gentoo:${official}`, (t) => {
      const loaded = loadIntoPortage(t, linux, "staging", arch, "builder");
      if (!loaded) return;
      const labels = profileLabels(loaded.prefix, loaded.facts);
      assert.ok(labels.includes(`repos/gentoo/profiles/${official}`), labels.join("\n"));
      assert.equal(loaded.facts.variables.ARCH, arch);
      assert.equal(loaded.facts.variables.CHOST, chost);
      assert.deepEqual(portageProblems(loaded.stderr), []);
    });
  }
});

describe("the harness has teeth", () => {
  it("fails when the official profile a system profile names does not exist", (t) => {
    if (!requireTools(t, ["emerge"], SETUP_HINT)) return;
    const prefix = createPrefix(OVERLAY);
    t.after(prefix.remove);
    rmSync(join(prefix.gentooLocation, "profiles/default/linux/amd64/23.0"), { recursive: true });
    writeFiles(
      prefix.overlayLocation,
      renderOverlayFiles(linux, fixture.catalog, ["amd64"], OVERLAY),
    );
    const files = render(linux, "development", "amd64", {
      gentooLocation: prefix.gentooLocation,
      overlayLocation: prefix.overlayLocation,
    });
    writeFiles(prefix.dir, files.builder);
    const run = portageCheck(prefix, []);
    const problems = portageProblems(run.stderr);
    assert.ok(
      problems.some((line) => /Parent '.*default\/linux\/amd64\/23\.0' not found/.test(line)),
      problems.join("\n"),
    );
  });
});
