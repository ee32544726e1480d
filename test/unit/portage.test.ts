import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { binhostRepositoryUrl } from "../../lib/binhost/paths";
import {
  ARCHES,
  iniValue,
  isArchName,
  isPackageAtom,
  isUseToken,
  renderBinreposConf,
  renderProfileDirectory,
  renderWorldFile,
  shellAssignment,
} from "../../lib/portage";
import { renderBuildProfileFiles, resolveStack } from "../../lib/stack";
import { ValidationError } from "../../lib/validation";
import * as fixture from "../support/stack-catalog";

describe("arch table", () => {
  it("maps each arch to its CHOST, catalyst subarch and official 23.0 profile", () => {
    assert.deepEqual(
      Object.values(ARCHES).map((a) => [a.name, a.chost, a.catalystSubarch, a.gentooProfile]),
      [
        ["amd64", "x86_64-pc-linux-gnu", "amd64", "default/linux/amd64/23.0"],
        ["x86", "i686-pc-linux-gnu", "i686", "default/linux/x86/23.0/i686"],
        ["arm64", "aarch64-unknown-linux-gnu", "arm64", "default/linux/arm64/23.0"],
      ],
    );
  });

  it("knows only the arches of the table", () => {
    assert.equal(isArchName("amd64"), true);
    assert.equal(isArchName("sparc"), false);
    assert.equal(isArchName("toString"), false);
  });
});

describe("isPackageAtom", () => {
  const table: [string, boolean][] = [
    ["dev-lang/ruby", true],
    [">=dev-lang/ruby-3.3", true],
    ["=dev-lang/ruby-3.3.1-r2", true],
    ["=dev-lang/ruby-3.3*", true],
    ["dev-lang/ruby:3.3", true],
    ["dev-lang/ruby::gentoo", true],
    ["~dev-lang/ruby-3.3.1", true],
    ["ruby", false],
    [">=dev-lang/ruby", false],
    ["dev-lang/ruby-3.3", false], // a version needs an operator; a name cannot end in one
    ["dev-lang/ruby[jit]", false],
    ["dev lang/ruby", false],
  ];
  for (const [atom, ok] of table) {
    it(`${ok ? "accepts" : "rejects"} ${JSON.stringify(atom)}`, () => {
      assert.equal(isPackageAtom(atom), ok);
    });
  }
});

describe("syntax helpers", () => {
  it("accepts USE tokens with or without a leading minus only", () => {
    assert.deepEqual(["X", "-X", "python_targets_python3_13", "--X", "a b", ""].map(isUseToken), [
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it("refuses to render a shell value that would need escaping", () => {
    assert.equal(shellAssignment("USE", "ipv6 -X"), 'USE="ipv6 -X"');
    assert.throws(() => shellAssignment("USE", "$(reboot)"), /without escaping/);
  });

  it("doubles % for ConfigParser interpolation and refuses line breaks", () => {
    assert.equal(iniValue("https://h/%7Eteam"), "https://h/%%7Eteam");
    assert.throws(() => iniValue("a\nb"), /line break/);
  });
});

describe("renderProfileDirectory", () => {
  it("writes only eapi for an empty profile", () => {
    assert.deepEqual(renderProfileDirectory("profiles/x", { comment: "c" }), {
      "profiles/x/eapi": "8\n",
    });
  });

  it("sorts packages and package.use and marks packages as @system", () => {
    assert.deepEqual(
      renderProfileDirectory("p", {
        comment: "c",
        parents: ["../b", "gentoo:default/linux/amd64/23.0"],
        systemPackages: ["sys-apps/b", "sys-apps/a"],
        packageUse: { "z/z": ["x"], "a/a": ["-y"], "e/empty": [] },
      }),
      {
        "p/eapi": "8\n",
        "p/parent": "# c\n../b\ngentoo:default/linux/amd64/23.0\n",
        "p/packages": "# c\n*sys-apps/a\n*sys-apps/b\n",
        "p/package.use": "# c\na/a -y\nz/z x\n",
      },
    );
  });
});

describe("renderBinreposConf and renderWorldFile", () => {
  it("writes one section per repository with signature verification on", () => {
    assert.equal(
      renderBinreposConf("head", [
        { name: "r", priority: 10, syncUri: "https://h/p%/", comment: "one" },
      ]),
      "# head\n\n# one\n[r]\npriority = 10\nsync-uri = https://h/p%%/\nverify-signature = true\n",
    );
  });

  it("writes the world file sorted, each atom once, and empty for no atoms", () => {
    assert.equal(renderWorldFile(["b/b", "a/a", "b/b"]), "a/a\nb/b\n");
    assert.equal(renderWorldFile([]), "");
  });
});

describe("binhostRepositoryUrl", () => {
  it("joins the base URL and <env>/<arch>/<stack>/ with exactly one slash", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), (slashes) => {
        assert.equal(
          binhostRepositoryUrl(`https://h/pkgs${"/".repeat(slashes)}`, {
            environment: "staging",
            arch: "x86",
            stack: "ruby",
          }),
          "https://h/pkgs/staging/x86/ruby/",
        );
      }),
    );
  });
});

describe("renderBuildProfileFiles", () => {
  const rails = resolveStack(fixture.rails, fixture.catalog);
  const settings = {
    environment: "development" as const,
    arch: "amd64" as const,
    overlayName: "site",
    binhostUrl: fixture.BINHOST_URL,
    gentooSyncUri: fixture.GENTOO_SYNC_URI,
    overlaySyncUri: fixture.OVERLAY_SYNC_URI,
    snapshot: { gentoo: fixture.GENTOO_COMMIT, overlay: fixture.OVERLAY_COMMIT },
    signingKeyFingerprint: fixture.FINGERPRINT,
    gentooMirrors: ["https://distfiles.gentoo.org"],
    builderMakeJobs: 4,
  };

  it("names the environment's snapshot commits in repos.conf", () => {
    const conf = renderBuildProfileFiles(rails, settings).builder[
      "/etc/portage/repos.conf/gentoo-infra.conf"
    ] as string;
    assert.match(
      conf,
      new RegExp(
        `^# gentoo at the development tree snapshot: commit ${fixture.GENTOO_COMMIT}$`,
        "m",
      ),
    );
    assert.match(
      conf,
      new RegExp(
        `^# site at the development tree snapshot: commit ${fixture.OVERLAY_COMMIT}$`,
        "m",
      ),
    );
  });

  it("gives builder and machine the same files except make.conf", () => {
    const { builder, machine } = renderBuildProfileFiles(rails, settings);
    assert.deepEqual(Object.keys(builder), Object.keys(machine));
    const differing = Object.keys(builder).filter((k) => builder[k] !== machine[k]);
    assert.deepEqual(differing, ["/etc/portage/make.conf"]);
  });

  it("rejects every bad late-bound value in one ValidationError", () => {
    assert.throws(
      () =>
        renderBuildProfileFiles(rails, {
          ...settings,
          binhostUrl: "ftp://h",
          snapshot: { gentoo: "develop", overlay: fixture.OVERLAY_COMMIT },
          signingKeyFingerprint: "0123 4567",
          builderMakeJobs: 0,
        }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.equal(
          e.message,
          [
            'Stack "rails" build profile development/amd64/rails/: 4 problems:',
            '- binhostUrl: is not an http(s) URL (got "ftp://h"); use the binhost base URL, e.g. "https://binhost.example.org/packages"',
            '- treeSnapshots.development.gentoo: is not a full commit id (got "develop"); use the 40 lower-case hex digits git prints for the branch\'s commit',
            '- signingKeyFingerprint: is not an OpenPGP v4 fingerprint (got "0123 4567"); use the key\'s 40 hex digits without spaces (gpg --list-keys --with-colons, fpr line)',
            "- builderMakeJobs: is not a whole number from 1 to 256 (got 0); use the builder's number of vCPUs, e.g. 4",
          ].join("\n"),
        );
        return true;
      },
    );
  });
});
