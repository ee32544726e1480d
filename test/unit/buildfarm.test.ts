import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import {
  builderUnitStem,
  catalystRequiredKeys,
  parseCatalystSpec,
  renderBuilderUnits,
  renderCatalystSpec,
  shellQuote,
  stage4Spec,
  stageSpecs,
  validateBuildScriptArgs,
  validateCatalystSpecKeys,
  validateCatalystSpecValues,
} from "../../lib/buildfarm";
import { ValidationError } from "../../lib/validation";
import { buildScriptArgs, stage4Args, stageArgs } from "../support/buildfarm-fixtures";

const messages = (vs: readonly { argument: string; problem: string; fix: string }[]) =>
  vs.map((v) => `${v.argument}: ${v.problem}; ${v.fix}`);

describe("catalyst spec keys", () => {
  it("requires the StageBase keys on every target and stage4/packages on stage4", () => {
    assert.deepEqual(catalystRequiredKeys("stage3"), [
      "profile",
      "rel_type",
      "snapshot_treeish",
      "source_subpath",
      "subarch",
      "target",
      "version_stamp",
    ]);
    assert.deepEqual(catalystRequiredKeys("stage4").slice(-1), ["stage4/packages"]);
  });

  it("rejects keys catalyst would not recognize and names missing required keys", () => {
    const spec = {
      ...stageSpecs(stageArgs).stage3,
      chost: "x86_64-pc-linux-gnu",
      snapshot: "latest",
    } as Record<string, string>;
    delete spec.rel_type;
    assert.deepEqual(messages(validateCatalystSpecKeys(spec)), [
      "chost: is not a catalyst stage3 spec key; remove it; catalyst aborts on unrecognized keys",
      "snapshot: is not a catalyst stage3 spec key; remove it; catalyst aborts on unrecognized keys",
      "rel_type: is required in a catalyst stage3 spec; set it",
    ]);
  });

  it("accepts boot/kernel/<label>/ keys only for listed labels", () => {
    const spec = { ...stage4Spec(stage4Args), "boot/kernel/other/sources": "gentoo-sources" };
    assert.deepEqual(messages(validateCatalystSpecKeys(spec)), [
      "boot/kernel/other/sources: is not a catalyst stage4 spec key; remove it; catalyst aborts on unrecognized keys",
    ]);
  });

  it("rejects values catalyst's parser would split, strip or misread", () => {
    assert.deepEqual(
      messages(
        validateCatalystSpecValues({
          version_stamp: "a b",
          "stage4/packages": ["dev-lang/python:3.13", "100%"],
          repos: [],
        }),
      ),
      [
        "version_stamp: has whitespace, '#' or '%' (catalyst splits, strips or formats them); give one word",
        "stage4/packages[0]: has whitespace, ':', '#' or '%' (catalyst would misparse the line); give one word without those characters",
        "stage4/packages[1]: has whitespace, ':', '#' or '%' (catalyst would misparse the line); give one word without those characters",
        "repos: is an empty list (catalyst drops it); leave the key out",
      ],
    );
  });
});

describe("catalyst stage specs", () => {
  it("chains stage1 → stage2 → stage3 through source_subpath", () => {
    const specs = stageSpecs(stageArgs);
    assert.equal(specs.stage1.source_subpath, stageArgs.seed);
    assert.equal(specs.stage2.source_subpath, "production/stage1-amd64-server-20261122T030000Z");
    assert.equal(specs.stage3.source_subpath, "production/stage2-amd64-server-20261122T030000Z");
    for (const spec of Object.values(specs))
      assert.equal(spec.snapshot_treeish, stageArgs.treeCommit);
  });

  it("reads back every rendered spec as catalyst's parser would (one-item lists become strings)", () => {
    for (const spec of [...Object.values(stageSpecs(stageArgs)), stage4Spec(stage4Args)]) {
      const expected = Object.fromEntries(
        Object.entries(spec).map(([k, v]) => [
          k,
          typeof v !== "string" && v.length === 1 ? v[0] : v,
        ]),
      );
      assert.deepEqual(parseCatalystSpec(renderCatalystSpec(spec, "comment")), expected);
    }
  });

  it("round-trips any list of simple atoms through render and parse", () => {
    const atom = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}\/[a-z][a-z0-9_+-]{0,12}$/);
    fc.assert(
      fc.property(fc.array(atom, { minLength: 2, maxLength: 10 }), (packages) => {
        const spec = stage4Spec({ ...stage4Args, packages });
        assert.deepEqual(parseCatalystSpec(renderCatalystSpec(spec))["stage4/packages"], packages);
      }),
    );
  });

  it("refuses to render a spec with an unknown key", () => {
    assert.throws(
      () => renderCatalystSpec({ ...stageSpecs(stageArgs).stage2, update_seed: "yes" }),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message ===
          'catalyst stage2 spec: 1 problem:\n- update_seed: is not a catalyst stage2 spec key (got "yes"); remove it; catalyst aborts on unrecognized keys',
    );
  });
});

describe("build script", () => {
  it("quotes any string for bash", () => {
    assert.equal(shellQuote("it's"), "'it'\\''s'");
  });

  it("names every bad argument", () => {
    assert.deepEqual(
      messages(
        validateBuildScriptArgs({
          ...buildScriptArgs,
          tree: { ...buildScriptArgs.tree, commit: "main" },
          overlay: { ...buildScriptArgs.overlay, name: "gentoo", url: "file:///srv/overlay" },
          upload: { ...buildScriptArgs.upload, host: "bin host" },
          notifyUrl: "mailto:ops@example.ch",
          retentionDays: 0,
        }),
      ),
      [
        "tree.commit: is not a full commit hash; give the 40 hex digits of the snapshot commit",
        "overlay.url: is not an https, ssh or git URL; use e.g. https://git.example.ch/gentoo.git",
        "overlay.name: is the tree's name too; give the overlay its own repository name",
        "upload.host: is not a host name; use e.g. binhost.example.ch",
        "notifyUrl: is not an http(s) URL; use e.g. https://hooks.example.ch/builds",
        "retentionDays: is not a positive whole number of days; use e.g. 30",
      ],
    );
  });
});

describe("builder units", () => {
  it("names units after the build profile and points the timer at the service", () => {
    const units = renderBuilderUnits({
      buildProfile: buildScriptArgs.buildProfile,
      scriptPath: "/usr/local/libexec/gentoo-infra/build",
      schedule: "daily",
    });
    assert.equal(
      builderUnitStem(buildScriptArgs.buildProfile),
      "gentoo-infra-build-production-amd64-web",
    );
    assert.equal(units.serviceName, "gentoo-infra-build-production-amd64-web.service");
    assert.ok(units.timer.includes("\nUnit=gentoo-infra-build-production-amd64-web.service\n"));
  });

  it("names every bad argument", () => {
    assert.throws(
      () =>
        renderBuilderUnits({
          buildProfile: buildScriptArgs.buildProfile,
          scriptPath: "build.sh",
          schedule: "daily\nExecStart=/bin/sh",
          timeoutHours: 0,
        }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.deepEqual(messages(e.violations), [
          "scriptPath: is not an absolute path; use e.g. /usr/local/libexec/gentoo-infra/build",
          "schedule: is not a systemd calendar expression; use e.g. *-*-* 03:00:00 or daily",
          "timeoutHours: is not a whole number in range; use 1 or more",
        ]);
        return true;
      },
    );
  });
});
