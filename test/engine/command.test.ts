/**
 * The engine tier's round trip for the command provider plugin (our STAND-IN built from
 * toolchain/command, docs/toolchain.md): the real CLI runs remote.CopyToRemote and
 * remote.Command of @pulumi/command 1.2.1 against an OpenSSH server this test starts on
 * 127.0.0.1 (a temporary host key, an authorized key made here, stopped by its pid).
 * Up (files arrive, stdout as outputs), a second up that changes nothing, a content change that
 * updates only the copy and replaces only the command that depends on it (its delete command
 * runs), an `update` command, a state without any plaintext private key, and destroy.
 * local.Command runs on this machine (no sshd, no root): create, a trigger change that
 * replaces (the new create runs, then the old delete), an environment change that runs create
 * again as the update, a failing command whose error shows no secret, no secret in any CLI
 * output or in the state, and destroy. Also runs the provider's Go tests (`go test ./...` in
 * toolchain/command).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type TestContext, test } from "node:test";
import { PulumiCommandError, PulumiProgram, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { SSHD, startSshd } from "../support/sshd";
import { inCi, requireTools } from "../support/tools";

const COMMAND_VERSION = "1.2.1";

/** The command plugin in the project's PULUMI_HOME (scripts/setup.d/40-toolchain.sh). */
function commandPluginInstalled(): boolean {
  const home =
    process.env.PULUMI_HOME ??
    path.join(process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache"), "pulumi-home");
  return existsSync(
    path.join(home, "plugins", `resource-command-v${COMMAND_VERSION}`, "pulumi-resource-command"),
  );
}

/** Skips (or, under CI=true, fails) unless the CLI and the command plugin are there. */
function requireCommandPlugin(t: TestContext): boolean {
  if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return false;
  if (commandPluginInstalled()) return true;
  const message = `missing the command plugin ${COMMAND_VERSION}: ${TOOLCHAIN_HINT}`;
  if (inCi) throw new Error(`CI=true and ${message}`);
  t.skip(message);
  return false;
}

/** Skips (or, under CI=true, fails) unless root, sshd and the command plugin are there. */
function requireSetup(t: TestContext): boolean {
  if (!requireTools(t, ["pulumi", SSHD, "ssh-keygen"], TOOLCHAIN_HINT)) return false;
  const missing = [
    ...(process.getuid?.() === 0 ? [] : ["root (sshd must run as root to log in as root)"]),
    ...(commandPluginInstalled() ? [] : [`the command plugin ${COMMAND_VERSION}`]),
  ];
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(", ")}: ${TOOLCHAIN_HINT}`;
  if (inCi) throw new Error(`CI=true and ${message}`);
  t.skip(message);
  return false;
}

/** The operations a `pulumi preview --json` plans, by resource name (unchanged ones left out). */
async function plannedOps(program: PulumiProgram): Promise<Record<string, string[]>> {
  const { stdout } = await program.run(["preview", "--json", "--stack", program.stack]);
  const plan = JSON.parse(stdout) as { steps?: { op: string; urn: string }[] };
  const ops: Record<string, string[]> = {};
  for (const step of plan.steps ?? []) {
    if (step.op === "same") continue;
    const name = step.urn.split("::").pop() ?? step.urn;
    ops[name] = [...(ops[name] ?? []), step.op];
  }
  return ops;
}

const sha16 = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

/**
 * `pulumi config set [--secret] --stack S -- KEY VALUE` for `program`: the `--` lets a value
 * start with "-" (PulumiProgram.setConfig has no `--`).
 */
function configSetter(program: PulumiProgram) {
  return (key: string, value: string, secret = false) =>
    program.run([
      "config",
      "set",
      ...(secret ? ["--secret"] : []),
      "--stack",
      program.stack,
      "--",
      key,
      value,
    ]);
}

test("command fixture copies files and runs commands over SSH, changes roll out, destroy runs delete", async (t) => {
  if (!requireSetup(t)) return;
  const work = await mkdtemp(path.join(tmpdir(), "gi-command-"));
  const remote = path.join(work, "remote");
  const localDir = path.join(work, "local-tree");
  const localFile = path.join(work, "local-file.txt");
  await mkdir(remote);
  await mkdir(path.join(localDir, "nested"), { recursive: true });
  await writeFile(path.join(localDir, "one.txt"), "one\n");
  await writeFile(path.join(localDir, "nested", "two.txt"), "two\n");
  await writeFile(localFile, "a file asset\n");

  const sshd = await startSshd(work);
  const { port, privateKey } = sshd;

  let program: PulumiProgram | undefined;
  let destroyed = false;
  try {
    program = await PulumiProgram.create("test/engine/fixtures/command");
    const p = program;
    const set = configSetter(p);
    await set("host", "127.0.0.1");
    await set("port", String(port));
    await set("privateKey", privateKey, true);
    await set("dir", remote);
    await set("content", "first content\n", true);
    await set("localFile", localFile);
    await set("localDir", localDir);
    await set("generation", "1");

    await t.test("first up copies every source and runs the commands", async () => {
      await p.up();
      assert.equal(
        await readFile(path.join(remote, "staged/config.txt"), "utf8"),
        "first content\n",
      );
      assert.equal(await readFile(path.join(remote, "config.txt"), "utf8"), "first content\n");
      assert.equal(await readFile(path.join(remote, "file.txt"), "utf8"), "a file asset\n");
      assert.equal(await readFile(path.join(remote, "tree/local-tree/one.txt"), "utf8"), "one\n");
      assert.equal(
        await readFile(path.join(remote, "tree/local-tree/nested/two.txt"), "utf8"),
        "two\n",
      );
      assert.equal(await readFile(path.join(remote, "assets/a.txt"), "utf8"), "alpha\n");
      assert.equal(await readFile(path.join(remote, "assets/sub/b.txt"), "utf8"), "beta\n");
      const outputs = await p.outputs({ showSecrets: true });
      assert.equal(outputs.installStdout, sha16("first content\n"));
      assert.equal(
        outputs.probeStdout,
        ["env=from-environment", "from-stdin", "a file asset", "one", "beta"].join("\n"),
      );
      assert.equal(outputs.probeStderr, "oops");
      assert.equal(outputs.versionedStdout, "generation-1");
    });

    await t.test("a second up changes nothing", async () => {
      await p.preview({ expectNoChanges: true });
      await p.up({ expectNoChanges: true });
    });

    await t.test(
      "new content updates only its copy and replaces only the install command",
      async () => {
        await set("content", "second content\n", true);
        assert.deepEqual(await plannedOps(p), {
          text: ["update"],
          install: ["replace"],
        });
        await p.up();
        assert.equal(await readFile(path.join(remote, "config.txt"), "utf8"), "second content\n");
        const outputs = await p.outputs({ showSecrets: true });
        assert.equal(outputs.installStdout, sha16("second content\n"));
        // The replaced command's delete ran, with its own last stdout.
        assert.equal(
          await readFile(path.join(remote, "deleted.txt"), "utf8"),
          `deleted after: ${sha16("first content\n")}\n`,
        );
        await rm(path.join(remote, "deleted.txt"));
        await p.up({ expectNoChanges: true });
      },
    );

    await t.test("a changed create runs the update command with the previous stdout", async () => {
      await set("generation", "2");
      assert.deepEqual(await plannedOps(p), { versioned: ["update"] });
      await p.up();
      const outputs = await p.outputs({ showSecrets: true });
      assert.equal(outputs.versionedStdout, "updated from generation-1");
    });

    await t.test("the connection is secret and no private key is in the state", async () => {
      const { stdout } = await p.run(["stack", "export", "--stack", p.stack]);
      const state = JSON.parse(stdout) as {
        deployment: {
          resources?: { type: string; urn: string; outputs?: Record<string, unknown> }[];
        };
      };
      const ours = (state.deployment.resources ?? []).filter((r) =>
        r.type.startsWith("command:remote:"),
      );
      assert.equal(ours.length, 7, "4 copies and 3 commands in the state");
      for (const r of ours) {
        const connection = r.outputs?.connection as Record<string, unknown> | undefined;
        assert.equal(
          connection?.["4dabf18193072939515e22adb298388d"],
          "1b47061264138c4ac30d75fd1eb44270",
          `${r.urn}: the connection is stored as a secret`,
        );
      }
      const keyBody = privateKey.split("\n")[1] ?? "";
      for (const text of [stdout, await p.rawState()]) {
        assert.ok(!text.includes("PRIVATE KEY"), "no PEM private key in the state");
        assert.ok(
          keyBody.length > 20 && !text.includes(keyBody),
          "no private key body in the state",
        );
        assert.ok(!text.includes("second content"), "the secret content stays encrypted");
      }
    });

    await t.test("destroy runs the delete command and removes every resource", async () => {
      await p.destroy();
      destroyed = true;
      assert.equal(
        await readFile(path.join(remote, "deleted.txt"), "utf8"),
        `deleted after: ${sha16("second content\n")}\n`,
      );
      const state = await p.rawState();
      assert.ok(!state.includes("command:remote:"), "no command resource left in the state");
    });
  } finally {
    await program?.cleanup({ force: !destroyed });
    sshd.stop();
    await rm(work, { recursive: true, force: true });
  }
});

test("local.Command runs create, replaces on a trigger change, keeps its secret environment out of every output, destroy runs delete", async (t) => {
  if (!requireCommandPlugin(t)) return;
  const work = await mkdtemp(path.join(tmpdir(), "gi-command-local-"));
  // A secret shaped like the private key BinhostMirror's pushes get.
  const token = `-----BEGIN OPENSSH PRIVATE KEY-----\ngi-secret-${randomBytes(12).toString("hex")}\n-----END OPENSSH PRIVATE KEY-----\n`;
  const tokenBody = token.split("\n")[1] as string;
  const log = () => readFile(path.join(work, "log.txt"), "utf8");
  // Every CLI output of this test, checked for the secret at the end.
  const cliOutput: string[] = [];
  const keep = <T extends { stdout: string; stderr: string }>(r: T): T => {
    cliOutput.push(r.stdout, r.stderr);
    return r;
  };

  let program: PulumiProgram | undefined;
  let destroyed = false;
  try {
    program = await PulumiProgram.create("test/engine/fixtures/command-local");
    const p = program;
    const set = configSetter(p);
    await set("dir", work);
    await set("token", token, true);
    await set("generation", "1");
    await set("note", "first");

    await t.test("up runs create in dir with the secret environment", async () => {
      keep(await p.preview());
      keep(await p.up());
      assert.equal(await log(), "create (previous: )\n");
      assert.equal(await readFile(path.join(work, "token.sha"), "utf8"), `${sha16(token)}\n`);
      const outputs = await p.outputs();
      assert.equal(outputs.pushStdout, "run 1");
      // No `dir`: the provider's working directory, which the engine sets to the program's.
      assert.equal(outputs.whereStdout, p.dir);
      keep(await p.up({ expectNoChanges: true }));
    });

    await t.test(
      "a changed trigger replaces: the new create runs, then the old delete",
      async () => {
        await set("generation", "2");
        assert.deepEqual(await plannedOps(p), { push: ["replace"] });
        keep(await p.up());
        assert.equal(await log(), "create (previous: )\ncreate (previous: )\ndelete after run 1\n");
        assert.equal((await p.outputs()).pushStdout, "run 2");
      },
    );

    await t.test(
      "another input change runs create again as the update, with the previous stdout",
      async () => {
        await set("note", "second");
        assert.deepEqual(await plannedOps(p), { push: ["update"] });
        keep(await p.up());
        assert.equal(
          await log(),
          "create (previous: )\ncreate (previous: )\ndelete after run 1\ncreate (previous: run 2)\n",
        );
        assert.equal((await p.outputs()).pushStdout, "run 4");
      },
    );

    await t.test(
      "a failing command fails the up with its output, the secret redacted",
      async () => {
        await set("fail", "true");
        const error = await p.up().then(
          () => assert.fail("the up succeeded"),
          (e: unknown) => e as PulumiCommandError,
        );
        assert.ok(error instanceof PulumiCommandError, String(error));
        const text = `${error.stdout}\n${error.stderr}`;
        cliOutput.push(text);
        assert.match(text, /exit status 7/);
        assert.match(text, /the token is \[environment GI_TOKEN\]/);
        await set("fail", "false");
        keep(await p.up({ expectNoChanges: true }));
      },
    );

    await t.test("the secret is in no CLI output and only encrypted in the state", async () => {
      const { stdout } = keep(await p.run(["stack", "export", "--stack", p.stack]));
      const state = JSON.parse(stdout) as {
        deployment: { resources?: { urn: string; outputs?: Record<string, unknown> }[] };
      };
      const push = (state.deployment.resources ?? []).find((r) =>
        r.urn.endsWith("::command:local:Command::push"),
      );
      const environment = push?.outputs?.environment as Record<string, unknown> | undefined;
      assert.equal(environment?.GI_NOTE, "second");
      assert.equal(
        (environment?.GI_TOKEN as Record<string, unknown> | undefined)?.[
          "4dabf18193072939515e22adb298388d"
        ],
        "1b47061264138c4ac30d75fd1eb44270",
        "GI_TOKEN is stored as a secret",
      );
      for (const text of [...cliOutput, await p.rawState()]) {
        assert.ok(!text.includes(tokenBody), "the secret appears in plain text");
      }
    });

    await t.test("destroy runs delete with the last stdout", async () => {
      keep(await p.destroy());
      destroyed = true;
      assert.match(await log(), /delete after run 4\n$/);
      assert.ok(!(await p.rawState()).includes("command:local:"), "no command resource left");
    });
  } finally {
    await program?.cleanup({ force: !destroyed });
    await rm(work, { recursive: true, force: true });
  }
});

// The provider's own Go tests (dial error limit, per-dial timeout, against loopback ports):
// part of `npm test`, so that a change to toolchain/command cannot pass without them.
test("the provider's Go tests pass (go test ./... in toolchain/command)", (t) => {
  if (!requireTools(t, ["go"], "put Go >= 1.26 on PATH (docs/toolchain.md)")) return;
  const r = spawnSync("go", ["test", "-count=1", "./..."], {
    cwd: path.join(REPO_ROOT, "toolchain/command"),
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^ok\s+\S+\/local\s/m, r.stdout);
  assert.match(r.stdout, /^ok\s+\S+\/remote\s/m, r.stdout);
});
