/**
 * Render tier for the build farm: golden files reviewed as text, then
 * - `bash -n` and `shellcheck` on the build script (syntax, quoting, unset variables). They
 *   do not run it: build-script-run.test.ts runs it with fake tools.
 * - `systemd-analyze verify --root=<temp>` on the service and timer. The temp root holds a
 *   copy of the host's /usr/lib/systemd/system (for timers.target and friends) and the
 *   rendered build script at the unit's ExecStart path, so verify checks that ExecStart is
 *   an executable file, every key is known in its section (its warnings are failures here)
 *   and the timer's unit exists. `systemd-analyze calendar` checks the schedule. It does not
 *   prove the timer fires, nor that the script succeeds.
 * - The same checks on what GentooBuildFarm adds: the build script with kernel and pushed
 *   signing key, the ephemeral runner, the stage script, and the package and stage services
 *   whose ExecStart is `<runner> <script>` (verify checks the runner is executable). The
 *   runner is not run (it needs root and overlayfs over `/`); the stage script runs with fake
 *   catalyst, rsync and curl.
 * - catalyst specs: no catalyst on Debian; the keys are checked against the table derived
 *   from catalyst's source (lib/buildfarm/catalyst-keys.ts) and the text is read back with
 *   catalyst's parsing rules. That does not prove a build succeeds.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { renderBuildScript } from "../../lib/buildfarm/build-script";
import { BUILDER_PATHS, PERSISTENT_BUILDER_PATHS } from "../../lib/buildfarm/builder-layout";
import { validateCatalystSpecKeys } from "../../lib/buildfarm/catalyst-keys";
import {
  type CatalystSpec,
  parseCatalystSpec,
  renderCatalystSpec,
  stage4Spec,
  stageSpecs,
} from "../../lib/buildfarm/catalyst-spec";
import { renderEphemeralRunner } from "../../lib/buildfarm/ephemeral-run";
import { renderStageScript } from "../../lib/buildfarm/stage-script";
import { renderBuilderUnits } from "../../lib/buildfarm/systemd-units";
import { isCalendarExpression } from "../../lib/validation/calendar";
import {
  buildScriptArgs,
  farmBuildScriptArgs,
  stage4Args,
  stageArgs,
  stageScriptArgs,
} from "../support/buildfarm-fixtures";
import { ACCEPTED, REFUSED } from "../support/calendar-cases";
import { calls, fakeCommands } from "../support/fake-commands";
import { expectGolden } from "../support/golden-files";
import { requireTools } from "../support/tools";

const GOLDEN = join(__dirname, "golden", "buildfarm");
const APT_HINT = "run scripts/setup (step 30-apt installs it from scripts/apt-packages.txt)";
const SCRIPT_PATH = "/usr/local/libexec/gentoo-infra/build-production-amd64-web";
const SCHEDULE = "*-*-* 03:00:00";
const work = mkdtempSync(join(tmpdir(), "gi-render-buildfarm-"));
after(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, argv: readonly string[]) {
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

const script = renderBuildScript(buildScriptArgs);
const units = renderBuilderUnits({
  buildProfile: buildScriptArgs.buildProfile,
  scriptPath: SCRIPT_PATH,
  schedule: SCHEDULE,
});

describe("build script", () => {
  const file = join(work, "build.sh");
  writeFileSync(file, script);

  it("matches its golden file", () => {
    expectGolden(GOLDEN, "build-production-amd64-web.sh", script);
  });

  it("passes bash -n and shellcheck", (t) => {
    const syntax = run("bash", ["-n", file]);
    assert.equal(syntax.status, 0, syntax.output);
    if (!requireTools(t, ["shellcheck"], APT_HINT)) return;
    const lint = run("shellcheck", ["--shell=bash", "--severity=style", file]);
    assert.equal(lint.status, 0, lint.output);
  });

  it("shellcheck flags an unquoted expansion, so the check above can fail", (t) => {
    if (!requireTools(t, ["shellcheck"], APT_HINT)) return;
    const broken = join(work, "broken.sh");
    writeFileSync(broken, script.replace('git -C "$dir" fetch', "git -C $dir fetch"));
    assert.notEqual(run("shellcheck", ["--shell=bash", broken]).status, 0);
  });
});

/**
 * Puts the command the services' ExecStartPre runs (/bin/rm) into a root for
 * `systemd-analyze verify --root`, which checks that it is executable there: this machine's
 * own, copied.
 */
function withUnitCommands(root: string): void {
  mkdirSync(join(root, "bin"), { recursive: true });
  for (const command of ["rm"]) {
    copyFileSync(realpathSync(`/bin/${command}`), join(root, "bin", command));
    chmodSync(join(root, "bin", command), 0o755);
  }
}

describe("builder systemd units", () => {
  const root = join(work, "root");
  const unitDir = join(root, "etc/systemd/system");

  function verify(service: string, timer: string) {
    mkdirSync(unitDir, { recursive: true });
    writeFileSync(join(unitDir, units.serviceName), service);
    writeFileSync(join(unitDir, units.timerName), timer);
    writeFileSync(join(unitDir, units.requestPathName), units.requestPath);
    return run("systemd-analyze", [
      "verify",
      `--root=${root}`,
      `/etc/systemd/system/${units.serviceName}`,
      `/etc/systemd/system/${units.timerName}`,
      `/etc/systemd/system/${units.requestPathName}`,
    ]);
  }

  it("match their golden files", () => {
    expectGolden(GOLDEN, units.serviceName, units.service);
    expectGolden(GOLDEN, units.timerName, units.timer);
    expectGolden(GOLDEN, units.requestPathName, units.requestPath);
  });

  it("pass systemd-analyze verify with the rendered script at ExecStart, without warnings", (t) => {
    if (!requireTools(t, ["systemd-analyze"], APT_HINT)) return;
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
    withUnitCommands(root);
    const exec = join(root, SCRIPT_PATH);
    mkdirSync(dirname(exec), { recursive: true });
    writeFileSync(exec, script);
    chmodSync(exec, 0o755);
    const r = verify(units.service, units.timer);
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output, "");
    const calendar = run("systemd-analyze", ["calendar", SCHEDULE]);
    assert.equal(calendar.status, 0, calendar.output);
  });

  it("systemd-analyze reports an unknown key and a missing ExecStart, so the check above can fail", (t) => {
    if (!requireTools(t, ["systemd-analyze"], APT_HINT)) return;
    const r = verify(
      units.service.replace("Nice=10", "Nise=10").replace(SCRIPT_PATH, "/usr/local/bin/missing"),
      units.timer,
    );
    assert.match(r.output, /Unknown key 'Nise'/);
    assert.match(r.output, /missing is not executable/);
    assert.notEqual(run("systemd-analyze", ["calendar", "every day at 3"]).status, 0);
  });
});

describe("the pure calendar check agrees with systemd-analyze calendar", () => {
  const systemdAccepts = (e: string) => run("systemd-analyze", ["calendar", e]).status === 0;

  it("accepts what systemd accepts of the written forms, refuses what it refuses", (t) => {
    if (!requireTools(t, ["systemd-analyze"], APT_HINT)) return;
    for (const e of ACCEPTED) {
      assert.equal(isCalendarExpression(e), true, e);
      assert.equal(systemdAccepts(e), true, `systemd-analyze calendar ${JSON.stringify(e)}`);
    }
    for (const e of REFUSED) {
      assert.equal(isCalendarExpression(e), false, e);
      assert.equal(systemdAccepts(e), false, `systemd-analyze calendar ${JSON.stringify(e)}`);
    }
  });

  it("property: every generated expression the check accepts, systemd-analyze accepts", (t) => {
    if (!requireTools(t, ["systemd-analyze"], APT_HINT)) return;
    // Components near and past their bounds, ranges either way round, repetitions of 0..3.
    // Mostly within bounds, sometimes just past them.
    const value = (max: number) =>
      fc
        .oneof(
          { weight: 6, arbitrary: fc.integer({ min: 0, max }) },
          { weight: 1, arbitrary: fc.integer({ min: max + 1, max: max + 2 }) },
        )
        .map(String);
    const item = (max: number) =>
      fc
        .tuple(
          value(max),
          fc.option(value(max), { freq: 3 }),
          fc.option(fc.integer({ min: 0, max: 3 }), { freq: 3 }),
        )
        .map(([a, b, r]) => `${a}${b === null ? "" : `..${b}`}${r === null ? "" : `/${r}`}`);
    const component = (max: number) =>
      fc.oneof(
        fc.constant("*"),
        fc.array(item(max), { minLength: 1, maxLength: 2 }).map((l) => l.join(",")),
      );
    const day = fc.constantFrom("Mon", "tue", "Wednesday", "Fri", "Sun", "Thurs");
    const weekdays = fc
      .array(fc.tuple(day, fc.option(day)), { minLength: 1, maxLength: 2 })
      .map((l) => l.map(([a, b]) => (b === null ? a : `${a}..${b}`)).join(","));
    const year = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom("1970", "2026", "2199", "*") },
      { weight: 1, arbitrary: fc.constantFrom("1969", "2200", "26") },
    );
    const date = fc
      .tuple(fc.option(year), component(12), fc.constantFrom("-", "~"), component(31))
      .map(([y, m, sep, d]) => `${y === null ? "" : `${y}-`}${m}${sep}${d}`);
    const time = fc
      .tuple(component(23), component(59), fc.option(component(59)))
      .map(([h, m, s]) => `${h}:${m}${s === null ? "" : `:${s}`}`);
    const expression = fc
      .tuple(
        fc.option(weekdays),
        fc.option(date),
        fc.option(time),
        fc.option(fc.constantFrom("UTC", "Europe/Zurich", "America/New_York")),
      )
      .map((parts) => parts.filter((p) => p !== null).join(" "));
    let accepted = 0;
    fc.assert(
      fc.property(expression, (e) => {
        if (!isCalendarExpression(e)) return;
        accepted++;
        assert.equal(
          systemdAccepts(e),
          true,
          `the check accepts ${JSON.stringify(e)}, systemd does not`,
        );
      }),
      { numRuns: 1000 },
    );
    t.diagnostic(`${accepted} of 1000 generated expressions accepted, each by systemd-analyze too`);
    // The generator must reach the accepted side often enough for the property to mean much.
    assert.ok(accepted >= 30, `only ${accepted} of 1000 generated expressions were accepted`);
  });
});

describe("catalyst specs", () => {
  const specs: Record<string, CatalystSpec> = {
    ...Object.fromEntries(
      Object.entries(stageSpecs(stageArgs)).map(([target, spec]) => [
        `${target}-amd64-production-server.spec`,
        spec,
      ]),
    ),
    "stage4-amd64-production-web.spec": stage4Spec(stage4Args),
  };
  for (const [name, spec] of Object.entries(specs)) {
    it(`${name} matches its golden file, uses only keys catalyst knows, and reads back`, () => {
      const text = renderCatalystSpec(
        spec,
        `gentoo-infra: ${name}. Rendered file: edits are overwritten.`,
      );
      expectGolden(GOLDEN, name, text);
      const parsed = parseCatalystSpec(text);
      assert.deepEqual(validateCatalystSpecKeys(parsed), []);
      assert.deepEqual(Object.keys(parsed), Object.keys(spec));
    });
  }
});

/** Bash checks shared by every script GentooBuildFarm adds. */
function checkScript(t: import("node:test").TestContext, name: string, text: string) {
  const file = join(work, name);
  writeFileSync(file, text);
  const syntax = run("bash", ["-n", file]);
  assert.equal(syntax.status, 0, syntax.output);
  if (!requireTools(t, ["shellcheck"], APT_HINT)) return;
  const lint = run("shellcheck", ["--shell=bash", "--severity=style", file]);
  assert.equal(lint.status, 0, lint.output);
}

describe("GentooBuildFarm scripts", () => {
  const farmScript = renderBuildScript(farmBuildScriptArgs);
  const runner = renderEphemeralRunner({ persistentPaths: PERSISTENT_BUILDER_PATHS });
  const stages = renderStageScript(stageScriptArgs);

  it("the farm's build script (kernel, pushed signing key) matches its golden file and passes bash -n and shellcheck", (t) => {
    expectGolden(GOLDEN, "farm-build-production-amd64-web.sh", farmScript);
    checkScript(t, "farm-build.sh", farmScript);
  });

  it("the ephemeral runner matches its golden file and passes bash -n and shellcheck", (t) => {
    expectGolden(GOLDEN, "ephemeral-run", runner);
    checkScript(t, "ephemeral-run", runner);
  });

  it("the stage script matches its golden file and passes bash -n and shellcheck", (t) => {
    expectGolden(GOLDEN, "stages-production-amd64-web", stages);
    checkScript(t, "stages.sh", stages);
  });

  it("the stage script snapshots the tree, builds each spec in order, uploads only the stages marked for upload and reports the step that failed (catalyst, rsync and curl faked)", (t) => {
    if (!requireTools(t, ["bash"], APT_HINT)) return;
    const dir = join(work, "stages-run");
    const storeDir = join(dir, "store");
    for (const b of stageScriptArgs.builds) {
      mkdirSync(dirname(join(storeDir, "builds", b.output)), { recursive: true });
      writeFileSync(join(storeDir, "builds", `${b.output}.tar.xz`), "");
    }
    const log = join(dir, "calls");
    // Each fake logs its name and arguments; catalyst fails for the spec in $FAIL_SPEC.
    const bin = fakeCommands(join(dir, "bin"), log, {
      catalyst: '[ "$2" != "$FAIL_SPEC" ]',
      rsync: "",
      curl: "",
    });
    const file = join(dir, "stages.sh");
    writeFileSync(file, renderStageScript({ ...stageScriptArgs, storeDir }));
    const [stage1, stage2, stage3, stage4] = stageScriptArgs.builds.map((b) => b.specPath);
    const upload = (output: string) =>
      `rsync --archive --mkpath -e ssh -i /etc/gentoo-infra/upload_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/gentoo-infra/upload_known_hosts ${storeDir}/builds/production/${output}.tar.xz gi-upload@192.168.150.10:/stages/production/amd64/`;
    const host = run("hostname", []).output.trim();
    const notify = (status: string, step: string, code: number) =>
      `curl --fail --silent --show-error --max-time 30 --retry 3 --header Content-Type: application/json --data {"stageBuild":"production/amd64/web","status":"${status}","step":"${step}","exitCode":${code},"treeCommit":"${stageScriptArgs.treeCommit}","host":"${host}"} https://hooks.example.ch/builds`;

    const ok = spawnSync("bash", [file], { encoding: "utf8", env: { ...process.env, PATH: bin } });
    assert.equal(ok.status, 0, `${ok.stdout}${ok.stderr}`);
    assert.deepEqual(calls(log), [
      `catalyst --snapshot ${stageScriptArgs.treeCommit}`,
      `catalyst --file ${stage1}`,
      `catalyst --file ${stage2}`,
      `catalyst --file ${stage3}`,
      upload("stage3-amd64-server-20261122T030000Z"),
      `catalyst --file ${stage4}`,
      upload("stage4-amd64-web-20261122T030000Z"),
      notify("success", "finished", 0),
    ]);

    rmSync(log);
    const failed = spawnSync("bash", [file], {
      encoding: "utf8",
      env: { ...process.env, PATH: bin, FAIL_SPEC: stage2 },
    });
    assert.equal(failed.status, 1);
    assert.deepEqual(calls(log), [
      `catalyst --snapshot ${stageScriptArgs.treeCommit}`,
      `catalyst --file ${stage1}`,
      `catalyst --file ${stage2}`,
      notify("failure", "stage2-amd64-server-20261122T030000Z", 1),
    ]);
  });

  it("the package and stage services that start the runner pass systemd-analyze verify without warnings", (t) => {
    if (!requireTools(t, ["systemd-analyze"], APT_HINT)) return;
    const root = join(work, "farm-root");
    const unitDir = join(root, "etc/systemd/system");
    mkdirSync(unitDir, { recursive: true });
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
    withUnitCommands(root);
    const scriptPath = "/usr/local/libexec/gentoo-infra/build-production-amd64-web";
    const stagePath = "/usr/local/libexec/gentoo-infra/stages-production-amd64-web";
    for (const [path, text] of [
      [BUILDER_PATHS.runner, runner],
      [scriptPath, farmScript],
      [stagePath, stages],
    ] as const) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
      chmodSync(join(root, path), 0o755);
    }
    const build = renderBuilderUnits({
      buildProfile: buildScriptArgs.buildProfile,
      scriptPath,
      runnerPath: BUILDER_PATHS.runner,
      schedule: SCHEDULE,
    });
    const stage = renderBuilderUnits({
      buildProfile: buildScriptArgs.buildProfile,
      kind: "stages",
      scriptPath: stagePath,
      runnerPath: BUILDER_PATHS.runner,
      schedule: SCHEDULE,
      timeoutHours: 48,
    });
    expectGolden(GOLDEN, `farm-${build.serviceName}`, build.service);
    expectGolden(GOLDEN, stage.serviceName, stage.service);
    writeFileSync(join(unitDir, build.serviceName), build.service);
    writeFileSync(join(unitDir, build.timerName), build.timer);
    writeFileSync(join(unitDir, stage.serviceName), stage.service);
    const r = run("systemd-analyze", [
      "verify",
      `--root=${root}`,
      `/etc/systemd/system/${build.serviceName}`,
      `/etc/systemd/system/${build.timerName}`,
      `/etc/systemd/system/${stage.serviceName}`,
    ]);
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output, "");
  });
});
