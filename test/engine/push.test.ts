/**
 * A push through the real engine (lib/host/file-push.ts, the fixture test/engine/fixtures/push):
 * a FilePush sends its files to an OpenSSH server this test starts on 127.0.0.1, and the
 * server's log counts the sessions. The first up sends every file in one session; an up that
 * changes nothing opens none; a change sends only the changed and added files, removes the
 * removed one, and the preview (and its report) names exactly those; a changed secret is named
 * without being shown; a failing afterChange fails the up and the next up sends again; a
 * server with another host key gets nothing; a new VM gets every file; a refresh sees files
 * edited, removed or re-moded on the server, and the next up restores them.
 */
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type TestContext, test } from "node:test";
import { type PreviewJson, previewReport } from "../../lib/cli/preview-report";
import { PulumiCommandError, PulumiProgram, TOOLCHAIN_HINT } from "../support/pulumi";
import { keygen, SSHD, startSshd } from "../support/sshd";
import { requireRoot, requireTools } from "../support/tools";

/** Skips (or, under CI=true, fails) unless the CLI, sshd and root are there. */
const requireSetup = (t: TestContext) =>
  requireTools(t, ["pulumi", SSHD, "ssh-keygen"], TOOLCHAIN_HINT) &&
  requireRoot(t, "sshd must run as root to log in as root");

const said = (markdown: string) => markdown.split("\n").filter((l) => /^(#|- )/.test(l));

test("a push sends changed files in one SSH session, names them in the preview, keeps secrets", async (t) => {
  if (!requireSetup(t)) return;
  const work = await mkdtemp(path.join(tmpdir(), "gi-push-engine-"));
  const dir = path.join(work, "etc");
  await mkdir(dir, { recursive: true });
  const localFile = path.join(work, "local.bin");
  await writeFile(localFile, Buffer.from([0, 1, 2, 255, 10, 13]));
  const sshd = await startSshd(path.join(work));
  const secret = `gi-secret-${Date.now()}`;
  let program: PulumiProgram | undefined;
  let destroyed = false;
  try {
    program = await PulumiProgram.create("test/engine/fixtures/push");
    const p = program;
    const set = (key: string, value: string, secretValue = false) =>
      p.run([
        "config",
        "set",
        ...(secretValue ? ["--secret"] : []),
        "--stack",
        p.stack,
        "--",
        key,
        value,
      ]);
    const setFiles = (files: Record<string, { content: string; mode?: string; owner?: string }>) =>
      set("files", JSON.stringify(files));
    await set("host", "127.0.0.1");
    await set("port", String(sshd.port));
    await set("privateKey", sshd.privateKey, true);
    await set("hostPublicKey", sshd.hostPublicKey);
    await set("dir", dir);
    await set("localFile", localFile);
    await set("secret", secret, true);
    await set("afterChange", `cat ${dir}/a.conf > ${dir}/after-change.out`);
    await setFiles({
      "a.conf": { content: "a=1\n" },
      "b.conf": { content: "b=1\n", mode: "0640", owner: "root:nogroup" },
      "sub dir/it's.conf": { content: "quoted\n" },
    });
    const lastPush = async () =>
      (await p.outputs()).lastPush as { sent: string[]; removed: string[] };
    const report = async () => {
      const { stdout } = await p.run(["preview", "--json", "--stack", p.stack]);
      return said(
        previewReport([{ environment: "engine", preview: JSON.parse(stdout) as PreviewJson }])
          .markdown,
      );
    };

    await t.test("the first up sends every file in one session, with mode and owner", async () => {
      const before = sshd.accepted();
      await p.up();
      assert.equal(sshd.accepted() - before, 1, "one SSH session");
      assert.equal(await readFile(path.join(dir, "a.conf"), "utf8"), "a=1\n");
      assert.equal(await readFile(path.join(dir, "sub dir/it's.conf"), "utf8"), "quoted\n");
      assert.equal(await readFile(path.join(dir, "secret.key"), "utf8"), secret);
      assert.deepEqual(await readFile(path.join(dir, "local.bin")), await readFile(localFile));
      const b = await stat(path.join(dir, "b.conf"));
      assert.equal(b.mode & 0o777, 0o640);
      assert.equal(b.gid, 65534);
      assert.equal((await stat(path.join(dir, "secret.key"))).mode & 0o777, 0o600);
      assert.equal(await readFile(path.join(dir, "after-change.out"), "utf8"), "a=1\n");
      assert.equal((await lastPush()).sent.length, 5);
    });

    await t.test("an up that changes nothing opens no session", async () => {
      const before = sshd.accepted();
      await p.preview({ expectNoChanges: true });
      await p.up({ expectNoChanges: true });
      assert.equal(sshd.accepted() - before, 0);
    });

    await t.test(
      "a change sends only what changed, and the preview names exactly that",
      async () => {
        const untouched = (await stat(path.join(dir, "b.conf"))).mtimeMs;
        await setFiles({
          "a.conf": { content: "a=2\n" },
          "b.conf": { content: "b=1\n", mode: "0640", owner: "root:nogroup" },
          "new.conf": { content: "new\n" },
        });
        assert.deepEqual(await report(), [
          "## engine: 1 resource changes",
          "### Other resources",
          `- files: files added: \`${dir}/new.conf\``,
          `- files: files changed: \`${dir}/a.conf\``,
          `- files: files deleted: \`${dir}/sub dir/it's.conf\``,
        ]);
        const before = sshd.accepted();
        await p.up();
        assert.equal(sshd.accepted() - before, 1);
        assert.deepEqual(await lastPush(), {
          sent: [`${dir}/a.conf`, `${dir}/new.conf`],
          removed: [`${dir}/sub dir/it's.conf`],
        });
        assert.equal(await readFile(path.join(dir, "a.conf"), "utf8"), "a=2\n");
        assert.equal(await readFile(path.join(dir, "after-change.out"), "utf8"), "a=2\n");
        await assert.rejects(stat(path.join(dir, "sub dir/it's.conf")), { code: "ENOENT" });
        assert.equal((await stat(path.join(dir, "b.conf"))).mtimeMs, untouched, "b.conf not sent");
      },
    );

    await t.test("a changed secret is named, never shown, and kept out of the state", async () => {
      const next = `${secret}-rotated`;
      await set("secret", next, true);
      assert.deepEqual(await report(), [
        "## engine: 1 resource changes",
        "### Other resources",
        `- files: files changed: \`${dir}/secret.key\``,
      ]);
      const diff = await p.preview();
      assert.match(diff.stdout, /secret\.key/);
      const up = await p.up();
      assert.equal(await readFile(path.join(dir, "secret.key"), "utf8"), next);
      const state = await p.rawState();
      for (const text of [secret, next, "OPENSSH PRIVATE KEY"]) {
        assert.ok(!state.includes(text), `the state holds no ${text.slice(0, 12)}…`);
        assert.ok(!`${diff.stdout}${diff.stderr}${up.stdout}${up.stderr}`.includes(text));
      }
    });

    await t.test(
      "a failing afterChange fails the up; the next up sends the files again",
      async () => {
        await set("afterChange", "echo reload failed >&2; exit 3");
        await setFiles({
          "a.conf": { content: "a=3\n" },
          "b.conf": { content: "b=1\n", mode: "0640", owner: "root:nogroup" },
          "new.conf": { content: "new\n" },
        });
        const failed = await p.up().then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(failed instanceof PulumiCommandError, "the up fails");
        assert.match(`${failed.stdout}${failed.stderr}`, /reload failed/);
        assert.match(`${failed.stdout}${failed.stderr}`, /exit status 3/);
        await set("afterChange", `cat ${dir}/a.conf > ${dir}/after-change.out`);
        await p.up();
        assert.deepEqual((await lastPush()).sent, [`${dir}/a.conf`]);
        assert.equal(await readFile(path.join(dir, "after-change.out"), "utf8"), "a=3\n");
      },
    );

    await t.test(
      "a refresh sees files edited, removed or re-moded on the server; the next up restores them",
      async () => {
        const refresh = (...more: string[]) =>
          p.run([
            "refresh",
            "--yes",
            "--skip-preview",
            "--diff",
            "--non-interactive",
            ...more,
            "--stack",
            p.stack,
          ]);
        const tampered = `tampered-${Date.now()}`;
        await writeFile(path.join(dir, "a.conf"), "edited by hand\n");
        await chmod(path.join(dir, "b.conf"), 0o666);
        await rm(path.join(dir, "new.conf"));
        await writeFile(path.join(dir, "secret.key"), tampered);
        const before = sshd.accepted();
        const refreshed = await refresh();
        assert.equal(sshd.accepted() - before, 1, "one session reads every file");
        const shown = `${refreshed.stdout}${refreshed.stderr}`;
        for (const name of ["a.conf", "b.conf", "new.conf", "secret.key"]) {
          assert.match(shown, new RegExp(`${name.replace(".", "\\.")}`), name);
        }
        assert.match(shown, /=> "missing"/, "a removed file shows as missing");
        assert.doesNotMatch(shown, /~ [^\n]*local\.bin/, "an untouched file is not changed");
        assert.deepEqual(await report(), [
          "## engine: 1 resource changes",
          "### Other resources",
          `- files: files changed: \`${dir}/a.conf\`, \`${dir}/b.conf\`, \`${dir}/new.conf\`, \`${dir}/secret.key\``,
        ]);
        await p.up();
        assert.deepEqual((await lastPush()).sent, [
          `${dir}/a.conf`,
          `${dir}/b.conf`,
          `${dir}/new.conf`,
          `${dir}/secret.key`,
        ]);
        assert.equal(await readFile(path.join(dir, "a.conf"), "utf8"), "a=3\n");
        assert.equal((await stat(path.join(dir, "b.conf"))).mode & 0o777, 0o640);
        assert.equal(await readFile(path.join(dir, "new.conf"), "utf8"), "new\n");
        assert.notEqual(await readFile(path.join(dir, "secret.key"), "utf8"), tampered);
        await refresh("--expect-no-changes");
        await p.preview({ expectNoChanges: true });
        const state = await p.rawState();
        for (const text of [tampered, "OPENSSH PRIVATE KEY"]) {
          assert.ok(!state.includes(text), `the state holds no ${text.slice(0, 12)}…`);
          assert.ok(!shown.includes(text), `the refresh shows no ${text.slice(0, 12)}…`);
        }
      },
    );

    await t.test("a server with another host key gets nothing", async () => {
      keygen(path.join(work, "other_key"), "other");
      await set("hostPublicKey", (await readFile(path.join(work, "other_key.pub"), "utf8")).trim());
      await setFiles({ "a.conf": { content: "a=4\n" } });
      const before = sshd.accepted();
      const failed = await p.up().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(failed instanceof PulumiCommandError);
      assert.match(
        `${failed.stdout}${failed.stderr}`,
        /host key is not the pinned ssh-ed25519 key/,
      );
      assert.equal(sshd.accepted() - before, 0, "never logged in");
      assert.equal(await readFile(path.join(dir, "a.conf"), "utf8"), "a=3\n");
      await set("hostPublicKey", sshd.hostPublicKey);
    });

    await t.test("a new VM gets every file again, in one session", async () => {
      await set("vmId", "vm-2");
      const before = sshd.accepted();
      await p.up();
      assert.equal(sshd.accepted() - before, 1);
      assert.deepEqual((await lastPush()).sent, [
        `${dir}/a.conf`,
        `${dir}/local.bin`,
        `${dir}/secret.key`,
      ]);
      assert.deepEqual((await lastPush()).removed, [], "a new VM has nothing to remove");
    });

    await t.test("destroy removes the push from the state and leaves the files", async () => {
      await p.destroy();
      destroyed = true;
      assert.ok(!(await p.rawState()).includes("FilePush"));
      assert.equal(await readFile(path.join(dir, "a.conf"), "utf8"), "a=4\n");
    });
  } finally {
    await program?.cleanup({ force: !destroyed });
    sshd.stop();
    await rm(work, { recursive: true, force: true });
  }
});
