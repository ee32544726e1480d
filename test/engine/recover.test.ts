/**
 * The engine tier's killed runs: `pulumi up` and `pulumi destroy` of the fixture
 * test/engine/fixtures/interrupted (three local commands in a row, the middle one `slow`) are
 * killed with SIGKILL while `slow` is created, and while it is deleted. What the kill leaves
 * is shown to be there (the stack's lock, which makes the next up refuse; plugin processes that
 * outlive the CLI; a pending operation), and `gentoo-infra recover` (lib/cli/recover.ts) to
 * clear it: no process of the killed run is left, the state has no pending operation, the next
 * up converges without the CLI's warning about pending operations, runs each command once
 * more only where its run was cut short, and a second up changes nothing. After the killed
 * destroy, recover refreshes `slow` and the next destroy deletes everything; the checkpoint's
 * sidecar, emptied as a kill in the middle of its write leaves it (the state cannot be read),
 * is removed first.
 * The libvirt tier kills examples/minimal's up and destroy at five more points
 * (test/libvirt/minimal.test.ts).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { isRunning } from "../../lib/cli/recover";
import {
  type PulumiCommandError,
  PulumiProgram,
  processesWorkingIn,
  TOOLCHAIN_HINT,
} from "../support/pulumi";
import { requireTools } from "../support/tools";

test("a killed up and a killed destroy: recover, then the next run converges", async (t) => {
  if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return;
  const dir = await mkdtemp(path.join(tmpdir(), "gi-interrupted-"));
  const program = await PulumiProgram.create("test/engine/fixtures/interrupted");
  const log = async () => (await readFile(path.join(dir, "log.txt"), "utf8")).trim().split("\n");
  const delay = (seconds: number) => writeFile(path.join(dir, "delay"), `${seconds}\n`);
  const slow = (step: { op: string; urn: string }, op: string) =>
    step.op === op && step.urn.endsWith("::slow");
  try {
    await program.setConfig("dir", dir);
    await delay(600);

    const killed = await program.killedAt("up", (s) => slow(s, "create"));
    const [cli, ...plugins] = killed.processes;
    assert.ok(cli !== undefined && !isRunning(cli), "the CLI was killed");
    const leftovers = plugins.filter(isRunning);
    t.diagnostic(`left running by the kill: ${leftovers.length} of ${plugins.length} processes`);
    assert.ok(leftovers.length > 0, "the plugins outlive the killed CLI");
    assert.equal((await program.exported()).pending_operations?.length, 1);
    await assert.rejects(program.up(), (e: PulumiCommandError) =>
      /the stack is currently locked/.test(e.stderr + e.stdout),
    );

    const dry = program.recover({ dryRun: true });
    assert.match(dry, /dry run: nothing done/);
    assert.equal(
      (await program.exported()).pending_operations?.length,
      1,
      "a dry run changes nothing",
    );

    const said = program.recover();
    t.diagnostic(said);
    assert.match(said, new RegExp(`^recover: release: the lock of pid ${cli} `, "m"));
    assert.match(said, /^recover: stop: pid \d+ pulumi-resource-command /m);
    assert.match(said, /^recover: drop: urn:pulumi:[^ ]+::slow \(create interrupted/m);
    assert.deepEqual(plugins.filter(isRunning), [], "no process of the killed run is left");
    assert.deepEqual(processesWorkingIn(dir), [], "nor the command it was running");
    assert.equal((await program.exported()).pending_operations, undefined);

    await delay(0);
    const up = await program.up();
    assert.doesNotMatch(up.stdout + up.stderr, /pending operations/);
    // `first` was made before the kill; `slow` is made again, from the start; `last` once.
    assert.deepEqual(await log(), ["first", "slow-create", "slow-create", "slow-created", "last"]);
    await program.up({ expectNoChanges: true });
    assert.match(program.recover(), /^recover: nothing to recover; /m);

    await delay(600);
    await program.killedAt("destroy", (s) => slow(s, "delete"));
    // A kill between the truncation and the write of the checkpoint's sidecar (the file backend
    // writes `<stack>.json.attrs` so), made here by truncating it: the state cannot be read.
    const sidecar = path.join(
      program.backendDir,
      ".pulumi/stacks/interrupted",
      `${program.stack}.json.attrs`,
    );
    await writeFile(sidecar, "");
    await assert.rejects(program.exported(), /failed to load checkpoint: EOF/);
    assert.ok(processesWorkingIn(dir).length > 0, "the killed delete's command still runs");
    const afterDestroy = program.recover();
    assert.deepEqual(processesWorkingIn(dir), [], "recover stopped it");
    assert.match(afterDestroy, /^recover: refresh: urn:pulumi:[^ ]+::slow \(update or delete/m);
    assert.match(afterDestroy, new RegExp(`^recover: repair: remove ${sidecar} `, "m"));
    await delay(0);
    await program.destroy();
    assert.deepEqual((await log()).slice(-3), ["slow-delete", "slow-delete", "slow-deleted"]);
    assert.deepEqual((await program.exported()).resources ?? [], []);
  } finally {
    await program.cleanup({ force: true });
    await rm(dir, { recursive: true, force: true });
  }
});
