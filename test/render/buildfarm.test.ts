/**
 * Render tier for the build farm: golden files reviewed as text, then
 * - `bash -n` and `shellcheck` on the build script (syntax, quoting, unset variables). They
 *   do not run it: no emerge, git, eclean, rsync or curl is exercised here.
 * - `systemd-analyze verify --root=<temp>` on the service and timer. The temp root holds a
 *   copy of the host's /usr/lib/systemd/system (for timers.target and friends) and the
 *   rendered build script at the unit's ExecStart path, so verify checks that ExecStart is
 *   an executable file, every key is known in its section (its warnings are failures here)
 *   and the timer's unit exists. `systemd-analyze calendar` checks the schedule. It does not
 *   prove the timer fires, nor that the script succeeds.
 * - catalyst specs: no catalyst on Debian; the keys are checked against the table derived
 *   from catalyst's source (lib/buildfarm/catalyst-keys.ts) and the text is read back with
 *   catalyst's parsing rules. That does not prove a build succeeds.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import {
  type CatalystSpec,
  parseCatalystSpec,
  renderBuilderUnits,
  renderBuildScript,
  renderCatalystSpec,
  stage4Spec,
  stageSpecs,
  validateCatalystSpecKeys,
} from "../../lib/buildfarm";
import { buildScriptArgs, stage4Args, stageArgs } from "../support/buildfarm-fixtures";
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

describe("builder systemd units", () => {
  const root = join(work, "root");
  const unitDir = join(root, "etc/systemd/system");

  function verify(service: string, timer: string) {
    mkdirSync(unitDir, { recursive: true });
    writeFileSync(join(unitDir, units.serviceName), service);
    writeFileSync(join(unitDir, units.timerName), timer);
    return run("systemd-analyze", [
      "verify",
      `--root=${root}`,
      `/etc/systemd/system/${units.serviceName}`,
      `/etc/systemd/system/${units.timerName}`,
    ]);
  }

  it("match their golden files", () => {
    expectGolden(GOLDEN, units.serviceName, units.service);
    expectGolden(GOLDEN, units.timerName, units.timer);
  });

  it("pass systemd-analyze verify with the rendered script at ExecStart, without warnings", (t) => {
    if (!requireTools(t, ["systemd-analyze"], APT_HINT)) return;
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
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
