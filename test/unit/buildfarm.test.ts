import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { renderBuildScript } from "../../lib/buildfarm/build-script";
import { isPackageName, validateBuildScriptArgs } from "../../lib/buildfarm/build-script-args";
import {
  builderAfterChange,
  builderName,
  buildScriptPath,
  PERSISTENT_BUILDER_PATHS,
} from "../../lib/buildfarm/builder-layout";
import { catalystRequiredKeys, validateCatalystSpecKeys } from "../../lib/buildfarm/catalyst-keys";
import {
  parseCatalystSpec,
  pinSpec,
  renderCatalystSpec,
  stage4Spec,
  stageSpecs,
  validateCatalystSpecValues,
} from "../../lib/buildfarm/catalyst-spec";
import {
  renderEphemeralRunner,
  validateEphemeralRunnerArgs,
} from "../../lib/buildfarm/ephemeral-run";
import { renderStageScript, validateStageScriptArgs } from "../../lib/buildfarm/stage-script";
import { builderUnitStem, renderBuilderUnits } from "../../lib/buildfarm/systemd-units";
import { shQuote } from "../../lib/host/shell";
import { ValidationError } from "../../lib/validation";
import {
  buildScriptArgs,
  farmBuildScriptArgs,
  OVERLAY_COMMIT,
  stage4Args,
  stageArgs,
  stageScriptArgs,
  TREE_COMMIT,
} from "../support/buildfarm-fixtures";
import { assertRefused, hostileTexts } from "../support/refused";

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

  it("plans unpinned specs that pinSpec pins to exactly what a pinned plan renders", () => {
    const { treeCommit, ...unpinnedArgs } = stageArgs;
    const unpinned = stageSpecs(unpinnedArgs);
    const pinned = stageSpecs(stageArgs);
    for (const target of ["stage1", "stage2", "stage3"] as const) {
      assert.equal("snapshot_treeish" in unpinned[target], false);
      const text = renderCatalystSpec(pinSpec(unpinned[target], treeCommit as string));
      assert.equal(text, renderCatalystSpec(pinned[target]));
    }
    const { treeCommit: _c, ...stage4Unpinned } = stage4Args;
    assert.equal(
      renderCatalystSpec(pinSpec(stage4Spec(stage4Unpinned), stage4Args.treeCommit as string)),
      renderCatalystSpec(stage4Spec(stage4Args)),
    );
    assert.throws(() => renderCatalystSpec(unpinned.stage3), /snapshot_treeish: is required/);
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
        "retentionDays: is not a whole number of days from 1 to 3650; use e.g. 30",
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
    // The request file: the path unit starts the service while it exists, the service removes it.
    const request = "/var/lib/gentoo-infra/gentoo-infra-build-production-amd64-web.requested";
    assert.equal(units.requestPathName, "gentoo-infra-build-production-amd64-web.path");
    assert.ok(units.requestPath.includes(`\nPathExists=${request}\n`));
    assert.ok(
      units.requestPath.includes("\nUnit=gentoo-infra-build-production-amd64-web.service\n"),
    );
    assert.ok(units.service.includes(`\nExecStartPre=/bin/rm -f ${request}\n`));
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
          'schedule: is not a systemd calendar expression; use a systemd calendar expression such as "daily", "*-*-* 03:00:00", "Mon..Fri 22:30" or "Sun *-*-* 04:00 UTC"',
          "timeoutHours: is not a whole number in range; use 1 or more",
        ]);
        return true;
      },
    );
  });
});

describe("build script additions of the build farm", () => {
  it("accepts category/package names only as kernel packages", () => {
    assert.equal(isPackageName("sys-kernel/gentoo-kernel"), true);
    assert.equal(isPackageName("sys-kernel/gentoo-kernel-bin"), true);
    for (const bad of [
      "gentoo-kernel",
      ">=sys-kernel/gentoo-kernel-6.12",
      "sys-kernel/gentoo-kernel:6.12",
      "",
    ]) {
      assert.equal(isPackageName(bad), false, bad);
    }
  });

  it("names a bad kernel package and signing key path, and accepts an rrsync-confined root", () => {
    assert.deepEqual(
      messages(
        validateBuildScriptArgs({
          ...farmBuildScriptArgs,
          kernelPackages: ["gentoo-kernel"],
          signingKey: { keyPath: "key.asc", gpgHome: "~/.gnupg" },
        }),
      ),
      [
        "kernelPackages[0]: is not a category/package name; use e.g. sys-kernel/gentoo-kernel",
        "signingKey.keyPath: is not an absolute path; use e.g. /etc/gentoo-infra/package-signing-key.asc",
        "signingKey.gpgHome: is not an absolute path; use e.g. /etc/gentoo-infra/package-signing-key.asc",
      ],
    );
    assert.deepEqual(validateBuildScriptArgs(farmBuildScriptArgs), []);
  });

  it("uploads relative to the account's root when rootDir is /", () => {
    assert.match(
      renderBuildScript(farmBuildScriptArgs),
      /\nreadonly UPLOAD_TARGET='gi-upload@192\.168\.150\.10:\/production\/amd64\/web\/'\n/,
    );
  });

  it("names bad trust, base and status arguments", () => {
    assert.deepEqual(
      messages(
        validateBuildScriptArgs({
          ...farmBuildScriptArgs,
          rootCertificatePath: "root-ca.pem",
          hosts: [{ address: "192.168.150.300", hostname: "Bin Host" }],
          baseRepositories: ["https://binhost.example.ch/production/amd64/linux"],
          baseWaitMinutes: 0,
          statusDir: "status",
          serviceName: "build; reboot",
        }),
      ),
      [
        "rootCertificatePath: is not an absolute path; use e.g. /etc/gentoo-infra/root-ca.pem",
        "hosts[0].address: is not an IPv4 address; use e.g. 192.168.150.10",
        "hosts[0].hostname: is not a host name; use e.g. binhost.example.ch",
        "baseRepositories[0]: is not an http(s) URL ending in /; use e.g. https://binhost.example.ch/production/amd64/linux/",
        "baseWaitMinutes: is not a positive whole number of minutes; use e.g. 60",
        "statusDir: is not an absolute path; use e.g. /var/lib/gentoo-infra/builds",
        "serviceName: is not a systemd service name; use e.g. gentoo-infra-build-production-amd64-web.service",
      ],
    );
  });

  it("runs the steps in order: trust, fetch, wait for bases, emerge, verify, prune, upload, index, publish", () => {
    const text = renderBuildScript({
      ...farmBuildScriptArgs,
      rootCertificatePath: "/etc/gentoo-infra/root-ca.pem",
      hosts: [{ address: "192.168.150.10", hostname: "binhost.example.ch" }],
      baseRepositories: ["https://binhost.example.ch/production/amd64/linux/"],
    });
    const steps = text
      .split("\n")
      .filter((l) => /^\s*step=/.test(l))
      .map((l) => l.trim().slice(5));
    assert.deepEqual(steps, [
      "start",
      "site-trust",
      "import-signing-key",
      "trust-keyring",
      "sync-tree",
      "sync-overlay",
      "wait-base",
      "check-config",
      "update-world",
      "kernel",
      "preserved-rebuild",
      "perl-cleaner",
      "verify-signatures",
      "prune",
      "upload",
      "index",
      "publish",
      "finished",
    ]);
    assert.ok(text.includes("readonly HOSTS_LINES=('192.168.150.10 binhost.example.ch')\n"));
    assert.ok(
      text.includes(
        "readonly BASE_REPOSITORIES=('https://binhost.example.ch/production/amd64/linux/') BASE_WAIT_SECONDS='3600'\n",
      ),
    );
    // The index goes up only after the packages, and only when something changed.
    const packages = text.indexOf("rsync --archive --exclude=/Packages");
    const index = text.indexOf("rsync --archive --delete-after --delay-updates");
    assert.ok(packages > 0 && index > packages);
    // "Nothing new" compares PKGDIR with the served index, or without its URL with the list of
    // the last publish (render tier: the script run with both).
    assert.ok(text.indexOf("REPOSITORY_URL}Packages") < packages);
    assert.ok(text.indexOf('served=$(cat "$PUBLISHED_LIST")') < packages);
  });

  it("gives the script every value, empty where an argument is not given", () => {
    const values = (text: string) =>
      text
        .split("\n")
        .filter((l) => /^readonly [A-Z_]+=('|\('|\(\))/.test(l) && !l.includes("PRUNE_PROGRAM"))
        .join("\n");
    assert.equal(
      values(renderBuildScript(buildScriptArgs)),
      `readonly BUILD_PROFILE='production/amd64/web'
readonly TREE_NAME='gentoo' TREE_URL='https://git.example.ch/gentoo.git' TREE_COMMIT='${TREE_COMMIT}' TREE_DIR='/var/db/repos/gentoo'
readonly OVERLAY_NAME='infra' OVERLAY_URL='https://git.example.ch/infra-overlay.git' OVERLAY_COMMIT='${OVERLAY_COMMIT}' OVERLAY_DIR='/var/db/repos/infra'
readonly PKGDIR_PATH='/var/cache/binpkgs'
readonly UPLOAD_TARGET='binhost@binhost.example.ch:/srv/binhost/production/amd64/web/'
readonly UPLOAD_KEY='/etc/gentoo-infra/upload_ed25519' UPLOAD_KNOWN_HOSTS='/etc/gentoo-infra/known_hosts'
readonly NOTIFY_URL='https://hooks.example.ch/builds'
readonly RETENTION_DAYS='30'
readonly STATUS_DIR='/var/lib/gentoo-infra/builds' STATUS_NAME='production-amd64-web'
readonly SERVICE_NAME=''
readonly BUILD_PHASES=('prepare' 'fetch' 'emerge' 'sign' 'prune' 'upload' 'publish')
readonly VERIFY_GPG_HOME='/etc/portage/gnupg'
readonly KERNEL_PACKAGES=()
readonly SIGNING_KEY='' SIGNING_GPG_HOME=''
readonly ROOT_CERTIFICATE=''
readonly HOSTS_LINES=()
readonly REPOSITORY_URL=''
readonly BASE_REPOSITORIES=() BASE_WAIT_SECONDS='3600'`,
    );
    const farm = values(renderBuildScript(farmBuildScriptArgs));
    for (const line of [
      "readonly KERNEL_PACKAGES=('sys-kernel/gentoo-kernel')",
      "readonly SIGNING_KEY='/etc/gentoo-infra/package-signing-key.asc' SIGNING_GPG_HOME='/root/.gnupg'",
      "readonly REPOSITORY_URL='https://binhost.example.ch/production/amd64/web/'",
    ]) {
      assert.ok(farm.split("\n").includes(line), line);
    }
  });

  it("runs the retention prune's program from prune-packages.py, quoted", () => {
    const text = renderBuildScript(buildScriptArgs);
    const program = readFileSync(join(__dirname, "../../lib/buildfarm/prune-packages.py"), "utf8");
    assert.ok(text.includes(`\nreadonly PRUNE_PROGRAM=${shQuote(program)}\n`));
  });
});

describe("builder layout", () => {
  const profile = { environment: "production", arch: "amd64", stack: "web" };

  it("derives child names, script path and the after-change command from the build profile", () => {
    assert.equal(builderName("farm", profile), "farm-production-amd64-web");
    assert.equal(
      buildScriptPath(profile),
      "/usr/local/libexec/gentoo-infra/build-production-amd64-web",
    );
    assert.equal(
      builderAfterChange(profile),
      "{ systemctl daemon-reload || { sleep 10; systemctl daemon-reload; }; } && systemctl enable --now gentoo-infra-build-production-amd64-web.timer gentoo-infra-build-production-amd64-web.path && install -D -m 0644 /dev/null /var/lib/gentoo-infra/gentoo-infra-build-production-amd64-web.requested",
    );
  });

  it("refuses by itself a build profile whose segments would reach the root shell unquoted", () => {
    for (const field of ["environment", "arch", "stack"] as const) {
      for (const value of [...hostileTexts(profile[field]), ".."]) {
        assertRefused(
          () => builderAfterChange({ ...profile, [field]: value }),
          `profile.${field}`,
          value,
        );
      }
    }
    assert.throws(() => builderAfterChange({ ...profile, stack: "web;id" }), {
      name: "ValidationError",
      message:
        "builderAfterChange: 1 problem:\n- profile.stack: is not a path segment (got \"web;id\"); use lower-case letters, digits, '.', '_' and '-'",
    });
  });

  it("gives distinct build profiles distinct builder names", () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9_]{0,6}$/);
    fc.assert(
      fc.property(
        fc.tuple(segment, segment, segment),
        fc.tuple(segment, segment, segment),
        ([e1, a1, s1], [e2, a2, s2]) => {
          fc.pre(e1 !== e2 || a1 !== a2 || s1 !== s2);
          assert.notEqual(
            builderName("f", { environment: e1, arch: a1, stack: s1 }),
            builderName("f", { environment: e2, arch: a2, stack: s2 }),
          );
        },
      ),
    );
  });
});

describe("ephemeral runner", () => {
  it("names every bad argument", () => {
    assert.deepEqual(
      messages(
        validateEphemeralRunnerArgs({
          workDir: "/var/lib/gentoo-infra/eph",
          persistentPaths: [
            "var/cache",
            "/var/lib/gentoo-infra/eph/x",
            "/proc/sys",
            "/srv/a",
            "/srv/a",
          ],
        }),
      ),
      [
        "persistentPaths[0]: is not an absolute directory path; use e.g. /var/cache/binpkgs",
        "persistentPaths[1]: overlaps the work directory /var/lib/gentoo-infra/eph; keep persistent directories apart from workDir",
        "persistentPaths[2]: is under an API filesystem the runner mounts itself; persist a directory under /var or /srv instead",
        "persistentPaths[4]: is listed twice; list it once",
      ],
    );
    assert.deepEqual(messages(validateEphemeralRunnerArgs({ workDir: "/", persistentPaths: [] })), [
      "workDir: is not an absolute directory path; use e.g. /var/lib/gentoo-infra/ephemeral",
    ]);
  });

  it("overlays the root, bind-mounts every persistent directory and runs the script under chroot", () => {
    const text = renderEphemeralRunner({ persistentPaths: PERSISTENT_BUILDER_PATHS });
    assert.ok(
      text.includes(
        `readonly PERSISTENT=('/var/db/repos' '/var/cache/binpkgs' '/var/cache/distfiles' '/var/tmp/catalyst' '/var/lib/gentoo-infra/builds')\n`,
      ),
    );
    assert.ok(text.includes('-o "lowerdir=/,upperdir=$WORK/upper,workdir=$WORK/work" "$ROOT"'));
    assert.ok(text.includes('chroot "$ROOT" "$SCRIPT" || status=$?'));
  });
});

describe("stage script", () => {
  it("gives the script each build's spec, output and upload directory, in order", () => {
    const text = renderStageScript(stageScriptArgs);
    const values = text.split("\n").filter((l) => /^readonly [A-Z_]+=/.test(l));
    assert.deepEqual(values, [
      "readonly LABEL='production/amd64/web'",
      `readonly TREE_COMMIT='${stageScriptArgs.treeCommit}'`,
      "readonly STOREDIR='/var/tmp/catalyst'",
      "readonly UPLOAD_BASE='gi-upload@192.168.150.10:/stages'",
      "readonly UPLOAD_KEY='/etc/gentoo-infra/upload_ed25519' UPLOAD_KNOWN_HOSTS='/etc/gentoo-infra/upload_known_hosts'",
      "readonly NOTIFY_URL='https://hooks.example.ch/builds'",
      `readonly SPECS=(${stageScriptArgs.builds.map((b) => `'${b.specPath}'`).join(" ")})`,
      `readonly OUTPUTS=(${stageScriptArgs.builds.map((b) => `'${b.output}'`).join(" ")})`,
      "readonly UPLOAD_TO=('' '' 'production/amd64' 'production/amd64')",
      'readonly UPLOAD_SSH="ssh -i $UPLOAD_KEY -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$UPLOAD_KNOWN_HOSTS"',
    ]);
  });

  it("names every bad argument", () => {
    assert.deepEqual(
      messages(
        validateStageScriptArgs({
          ...stageScriptArgs,
          treeCommit: "HEAD",
          builds: [{ specPath: "stage1.spec", output: "../x", uploadTo: "production" }],
          notifyUrl: "ftp://x",
        }),
      ),
      [
        "treeCommit: is not a full commit hash; give 40 hex digits",
        "builds[0].specPath: is not an absolute path; use e.g. /etc/gentoo-infra/catalyst/stage1.spec",
        "builds[0].output: is not a relative path; use stageSourcePath()",
        "builds[0].uploadTo: is not <environment>/<arch>; use e.g. production/amd64",
        "notifyUrl: is not an http(s) URL; use e.g. https://hooks.example.ch/builds",
      ],
    );
  });
});

describe("builder units for the farm", () => {
  it("starts the script through the runner, and names stage units apart from package units", () => {
    const units = renderBuilderUnits({
      buildProfile: buildScriptArgs.buildProfile,
      kind: "stages",
      scriptPath: "/usr/local/libexec/gentoo-infra/stages-production-amd64-web",
      runnerPath: "/usr/local/libexec/gentoo-infra/ephemeral-run",
      schedule: "daily",
    });
    assert.equal(units.serviceName, "gentoo-infra-stages-production-amd64-web.service");
    assert.ok(
      units.service.includes(
        "\nExecStart=/usr/local/libexec/gentoo-infra/ephemeral-run /usr/local/libexec/gentoo-infra/stages-production-amd64-web\n",
      ),
    );
    assert.throws(
      () =>
        renderBuilderUnits({
          buildProfile: buildScriptArgs.buildProfile,
          scriptPath: "/usr/local/bin/x",
          runnerPath: "run me",
          schedule: "daily",
        }),
      /runnerPath: is not an absolute path/,
    );
  });
});
