/**
 * A push's command and plan (lib/host/push-plan.ts), archive (lib/host/push-archive.ts) and
 * installer (lib/host/push-install.py) run by the real sh and python3, as root, into a temporary
 * directory: what arrives is byte for byte what was sent, with its mode and owner; a failure
 * changes no destination and leaves nothing behind; the whole push is one installer process.
 * The SSH transport is tested in the engine tier (test/engine/push.test.ts).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tarArchive } from "../../lib/host/push-archive";
import {
  type ArchivedFile,
  contentFingerprint,
  inspectCommand,
  inspectRequest,
  type ObservedFile,
  PUSH_PLAN_MEMBER,
  pushCommand,
  pushPlanDocument,
  secretFingerprint,
} from "../../lib/host/push-plan";

const root = mkdtempSync(join(tmpdir(), "gi-push-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs one push of `files` (path → bytes, mode, owner) as the SSH command would. */
async function run(
  files: readonly (ArchivedFile & { data: Buffer })[],
  remove: readonly string[] = [],
  afterChange?: string,
) {
  const archive = await tarArchive([
    { name: PUSH_PLAN_MEMBER, data: Buffer.from(pushPlanDocument(files, remove, afterChange)) },
    ...files.map((f) => ({ name: `files/${f.member}`, data: f.data })),
  ]);
  return spawnSync("sh", ["-c", pushCommand("root")], { input: archive });
}

describe("a push run by sh and python3, as root (lib/host/push-install.py)", () => {
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
    for (const d of ["d0", "d1", "d2"]) {
      assert.equal(
        readdirSync(join(root, "etc", d)).some((n) => n.endsWith(".gi-push")),
        false,
        "no .gi-push file is left",
      );
    }
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

  it("needs nothing on the server but python3: no install, mv or tar per file", async () => {
    const bin = join(root, "bin");
    mkdirSync(bin);
    for (const tool of ["sh", "python3"]) {
      const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
      symlinkSync(found.stdout.trim(), join(bin, tool));
    }
    const files = [...Array(50).keys()].map((i) => ({
      member: String(i),
      path: join(root, "alone", `f${i}`),
      mode: "0640",
      owner: "root:root",
      data: Buffer.from(`file ${i}\n`),
    }));
    const archive = await tarArchive([
      { name: PUSH_PLAN_MEMBER, data: Buffer.from(pushPlanDocument(files, [], undefined)) },
      ...files.map((f) => ({ name: `files/${f.member}`, data: f.data })),
    ]);
    const r = spawnSync(join(bin, "sh"), ["-c", pushCommand("root")], {
      input: archive,
      env: { PATH: bin },
    });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(readdirSync(join(root, "alone")).length, 50);
    assert.equal(readFileSync(join(root, "alone", "f49"), "utf8"), "file 49\n");
  });

  it("does not follow a symbolic link planted at a .gi-push name", async () => {
    const dir = join(root, "planted");
    mkdirSync(dir);
    const target = join(root, "planted-target");
    writeFileSync(target, "untouched");
    symlinkSync(target, join(dir, "conf.gi-push"));
    const r = await run([
      {
        member: "0",
        path: join(dir, "conf"),
        mode: "0644",
        owner: "root:root",
        data: Buffer.from("new"),
      },
    ]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(readFileSync(target, "utf8"), "untouched");
    assert.equal(readFileSync(join(dir, "conf"), "utf8"), "new");
    assert.equal(lstatSync(join(dir, "conf")).isSymbolicLink(), false);
  });

  it("rejects an archive that does not match its plan, changing nothing", async () => {
    const dir = join(root, "mismatch");
    mkdirSync(dir);
    const path = join(dir, "a");
    const plan = pushPlanDocument(
      [
        { member: "0", path, mode: "0644", owner: "root:root" },
        { member: "1", path: join(dir, "b"), mode: "0644", owner: "root:root" },
      ],
      [],
      "touch hook-ran",
    );
    const cases: [string, { name: string; data: Buffer }[], RegExp][] = [
      ["a member missing", [{ name: "files/0", data: Buffer.from("x") }], /lacks files\/1/],
      [
        "a member not planned",
        [{ name: "files/7", data: Buffer.from("x") }],
        /files\/7: not in the plan/,
      ],
      ["no plan first", [], /starts with files\/0/],
    ];
    for (const [what, members, message] of cases) {
      const archive = await tarArchive(
        what === "no plan first"
          ? [
              { name: "files/0", data: Buffer.from("x") },
              { name: PUSH_PLAN_MEMBER, data: Buffer.from(plan) },
            ]
          : [{ name: PUSH_PLAN_MEMBER, data: Buffer.from(plan) }, ...members],
      );
      const r = spawnSync("sh", ["-c", pushCommand("root")], { input: archive, cwd: dir });
      assert.equal(r.status, 1, what);
      assert.match(r.stderr.toString(), message, what);
      assert.deepEqual(readdirSync(dir), [], `${what}: nothing written, no hook run`);
    }
  });

  it("a refresh's inspector reports content, mode and owner; a secret's content; a link or a gap as missing", () => {
    const dir = join(root, "inspect");
    mkdirSync(dir);
    const plain = join(dir, "plain.conf");
    const secret = join(dir, "secret.key");
    const link = join(dir, "link");
    writeFileSync(plain, "plain\n", { mode: 0o640 });
    spawnSync("chown", ["nobody:nogroup", plain]);
    writeFileSync(secret, "s3cret", { mode: 0o600 });
    symlinkSync(plain, link);
    const entry = { mode: "0644", owner: "root:root" };
    const request = inspectRequest({
      [plain]: { hash: contentFingerprint("x"), ...entry },
      [secret]: { hash: secretFingerprint("k", "x"), ...entry },
      [link]: { hash: contentFingerprint("x"), ...entry },
      [join(dir, "gone")]: { hash: contentFingerprint("x"), ...entry },
    });
    const r = spawnSync("sh", ["-c", inspectCommand("root")], { input: request, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as Record<string, ObservedFile>;
    assert.deepEqual(seen[plain], {
      sha256: contentFingerprint("plain\n").slice("sha256:".length),
      mode: "0640",
      owner: "nobody:nogroup",
    });
    assert.deepEqual(seen[secret], {
      sha256: contentFingerprint("s3cret").slice("sha256:".length),
      mode: "0600",
      owner: "root:root",
      content: Buffer.from("s3cret").toString("base64"),
    });
    assert.deepEqual(seen[link], { missing: true }, "a link is not followed");
    assert.deepEqual(seen[join(dir, "gone")], { missing: true });
  });
});
