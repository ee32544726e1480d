/**
 * A push's command and script (lib/host/push-plan.ts) and archive (lib/host/push-archive.ts)
 * run by the real sh, tar and install, as root, into a temporary directory: what arrives is
 * byte for byte what was sent, with its mode and owner; a failure changes no destination and
 * leaves nothing behind. The SSH transport is tested in the engine tier (test/engine/push.test.ts).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tarArchive } from "../../lib/host/push-archive";
import {
  type ArchivedFile,
  PUSH_SCRIPT_MEMBER,
  pushCommand,
  pushScript,
} from "../../lib/host/push-plan";

const root = mkdtempSync(join(tmpdir(), "gi-push-"));
after(() => rmSync(root, { recursive: true, force: true }));
const staging = join(root, "staging");
mkdirSync(staging, { mode: 0o700 });

/** Runs one push of `files` (path → bytes, mode, owner) as the SSH command would. */
async function run(
  files: readonly (ArchivedFile & { data: Buffer })[],
  remove: readonly string[] = [],
  afterChange?: string,
) {
  const archive = await tarArchive([
    { name: PUSH_SCRIPT_MEMBER, data: Buffer.from(pushScript(files, remove, afterChange)) },
    ...files.map((f) => ({ name: `files/${f.member}`, data: f.data })),
  ]);
  return spawnSync("sh", ["-c", pushCommand(staging, "root")], { input: archive });
}

describe("a push run by sh, tar and install, as root (lib/host/push-plan.ts)", () => {
  it("places every file byte for byte, with its mode and owner, whatever its name", async () => {
    const names = [
      "plain.conf",
      "a b",
      "it's",
      'q"uote',
      "semi;colon",
      "$(touch pwned)",
      "`x`",
      "*",
    ];
    const files = names.map((n, i) => ({
      member: String(i),
      path: join(root, "etc", `d${i % 3}`, n),
      mode: i % 2 ? "0600" : "0644",
      owner: i % 2 ? "nobody:nogroup" : "root:root",
      data: i === 0 ? randomBytes(70_000) : Buffer.from(`content of ${n}\n`),
    }));
    const r = await run(files);
    assert.equal(r.status, 0, r.stderr.toString());
    for (const f of files) {
      assert.deepEqual(readFileSync(f.path), f.data, f.path);
      const st = statSync(f.path);
      assert.equal((st.mode & 0o7777).toString(8).padStart(4, "0"), f.mode, f.path);
      assert.equal(st.uid, f.owner.startsWith("nobody") ? 65534 : 0, f.path);
    }
    assert.equal(existsSync(join(process.cwd(), "pwned")), false);
    assert.deepEqual(readdirSync(staging), [], "the extracted archive is gone");
  });

  it("removes files no longer pushed and runs afterChange after the files are in place", async () => {
    const keep = join(root, "hook", "keep");
    const gone = join(root, "hook", "gone");
    const marker = join(root, "hook", "marker");
    mkdirSync(join(root, "hook"));
    writeFileSync(gone, "old");
    const r = await run(
      [{ member: "0", path: keep, mode: "0644", owner: "root:root", data: Buffer.from("new") }],
      [gone],
      `cat ${keep} > ${marker}`,
    );
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(existsSync(gone), false);
    assert.equal(readFileSync(marker, "utf8"), "new");
  });

  it("a failure changes no destination and leaves no staged file behind", async () => {
    const dir = join(root, "fail");
    mkdirSync(dir);
    const first = join(dir, "first");
    writeFileSync(first, "before");
    const r = await run([
      { member: "0", path: first, mode: "0644", owner: "root:root", data: Buffer.from("after") },
      {
        member: "1",
        path: join(dir, "second"),
        mode: "0644",
        owner: "no-such-user:root",
        data: Buffer.from("x"),
      },
    ]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.toString(), /no-such-user/);
    assert.equal(readFileSync(first, "utf8"), "before", "nothing was renamed into place");
    assert.deepEqual(readdirSync(dir), ["first"], "no .gi-push file is left");
    assert.deepEqual(readdirSync(staging), []);
  });

  it("a failing afterChange fails the push, after the files are in place", async () => {
    const path = join(root, "hook-fails");
    const r = await run(
      [{ member: "0", path, mode: "0644", owner: "root:root", data: Buffer.from("x") }],
      [],
      "echo reload failed >&2; exit 3",
    );
    assert.equal(r.status, 3);
    assert.match(r.stderr.toString(), /reload failed/);
    assert.equal(readFileSync(path, "utf8"), "x");
  });
});
