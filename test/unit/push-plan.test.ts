/**
 * The plan of a push (lib/host/push-plan.ts): which files an `up` sends and removes, when
 * `afterChange` runs, and fingerprints that tell a change without telling a secret. The
 * render tier runs the rendered command with the real sh, tar and install; the engine tier
 * runs a push through the engine and a real sshd.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  contentFingerprint,
  inspectCommand,
  inspectRequest,
  MISSING,
  observedManifest,
  type PushState,
  planPush,
  pushCommand,
  pushPlanDocument,
  secretFingerprint,
} from "../../lib/host/push-plan";

const entry = (hash: string, mode = "0644", owner = "root:root") => ({ hash, mode, owner });
const state = (files: PushState["files"], extra: Partial<PushState> = {}): PushState => ({
  files,
  vmId: "vm-1",
  host: "10.0.0.5",
  ...extra,
});

describe("push plan (lib/host/push-plan.ts)", () => {
  it("a first push sends every file, in path order, and runs afterChange", () => {
    const plan = planPush(
      undefined,
      state({ "/etc/b": entry("sha256:2"), "/etc/a": entry("sha256:1") }, { afterChange: "x" }),
    );
    assert.deepEqual(plan, { send: ["/etc/a", "/etc/b"], remove: [], runAfterChange: true });
  });

  it("sends only what changed: content, mode or owner; removes what is no longer pushed", () => {
    const before = state({
      "/etc/same": entry("sha256:1"),
      "/etc/content": entry("sha256:2"),
      "/etc/mode": entry("sha256:3"),
      "/etc/owner": entry("sha256:4"),
      "/etc/gone": entry("sha256:5"),
    });
    const after = state(
      {
        "/etc/same": entry("sha256:1"),
        "/etc/content": entry("sha256:2b"),
        "/etc/mode": entry("sha256:3", "0600"),
        "/etc/owner": entry("sha256:4", "0644", "nginx:nginx"),
        "/etc/new": entry("sha256:6"),
      },
      { afterChange: "reload" },
    );
    assert.deepEqual(planPush({ ...before, afterChange: "reload" }, after), {
      send: ["/etc/content", "/etc/mode", "/etc/new", "/etc/owner"],
      remove: ["/etc/gone"],
      runAfterChange: true,
    });
  });

  it("sends nothing and runs nothing when nothing changed", () => {
    const s = state({ "/etc/a": entry("sha256:1") }, { afterChange: "reload" });
    assert.deepEqual(planPush(s, s), { send: [], remove: [], runAfterChange: false });
  });

  it("a new VM or a new address gets every file again, and nothing is removed", () => {
    const before = state({ "/etc/a": entry("sha256:1"), "/etc/gone": entry("sha256:2") });
    for (const changed of [{ vmId: "vm-2" }, { host: "10.0.0.6" }]) {
      const after = state({ "/etc/a": entry("sha256:1") }, changed);
      assert.deepEqual(planPush(before, after), {
        send: ["/etc/a"],
        remove: [],
        runAfterChange: false,
      });
    }
  });

  it("a changed afterChange runs alone; a removed one does not run", () => {
    const files = { "/etc/a": entry("sha256:1") };
    assert.equal(
      planPush(state(files, { afterChange: "a" }), state(files, { afterChange: "b" }))
        .runAfterChange,
      true,
    );
    assert.equal(planPush(state(files, { afterChange: "a" }), state(files)).runAfterChange, false);
  });

  it("the plan is exactly the difference, for any two manifests", () => {
    const manifest = fc.dictionary(
      fc.constantFrom("/a", "/b", "/c", "/d", "/e"),
      fc.record({
        hash: fc.constantFrom("sha256:1", "sha256:2"),
        mode: fc.constantFrom("0644", "0600"),
        owner: fc.constantFrom("root:root", "nginx:nginx"),
      }),
    );
    fc.assert(
      fc.property(manifest, manifest, (a, b) => {
        const plan = planPush(state(a), state(b));
        for (const path of Object.keys(b)) {
          const changed = JSON.stringify(a[path]) !== JSON.stringify(b[path]);
          assert.equal(plan.send.includes(path), changed, path);
        }
        for (const path of Object.keys(a)) {
          assert.equal(plan.remove.includes(path), !(path in b), path);
        }
      }),
    );
  });

  it("fingerprints: SHA-256 for text and bytes alike; a secret's HMAC depends on the key", () => {
    assert.equal(
      contentFingerprint("abc"),
      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    assert.equal(contentFingerprint(Buffer.from("abc")), contentFingerprint("abc"));
    const secret = secretFingerprint("key-1", "password");
    assert.match(secret, /^hmac-sha256:[0-9a-f]{64}$/);
    assert.equal(secretFingerprint("key-1", "password"), secret);
    assert.notEqual(secretFingerprint("key-2", "password"), secret);
    assert.notEqual(secret.slice("hmac-".length), contentFingerprint("password"));
  });

  it("the plan names each file's member, destination, mode and owner, what goes and the hook", () => {
    const files = [
      { member: "0", path: "/etc/a b", mode: "0644", owner: "root:root" },
      { member: "1", path: "/etc/it's", mode: "0600", owner: "nginx:www" },
    ];
    assert.deepEqual(JSON.parse(pushPlanDocument(files, ["/etc/old"], "systemctl reload nginx")), {
      files,
      remove: ["/etc/old"],
      afterChange: "systemctl reload nginx",
    });
    assert.equal(JSON.parse(pushPlanDocument([], [], undefined)).afterChange, "");
  });

  it("the command runs as root through sudo, unless the user is root", () => {
    assert.match(pushCommand("gi-admin"), /^sudo python3 -c '/);
    assert.match(pushCommand("root"), /^python3 -c '/);
    // The installer's whole source is the argument, quoted once.
    assert.ok(pushCommand("root").includes("def write_incoming(path, data, mode, owner):"));
  });

  it("a refresh asks for every recorded file, secret ones by name, and records what it finds", () => {
    const recorded = {
      "/etc/b.conf": { hash: contentFingerprint("b"), mode: "0644", owner: "root:root" },
      "/etc/a.key": { hash: secretFingerprint("k", "s"), mode: "0600", owner: "root:root" },
      "/etc/gone": { hash: contentFingerprint("g"), mode: "0644", owner: "root:root" },
    };
    assert.deepEqual(JSON.parse(inspectRequest(recorded)), {
      files: ["/etc/a.key", "/etc/b.conf", "/etc/gone"],
      secret: ["/etc/a.key"],
    });
    /** What the inspector reports of a file holding `text` (with its content when secret). */
    const found = (text: string, mode = "0644", owner = "root:root", secret = false) => ({
      sha256: contentFingerprint(text).slice("sha256:".length),
      mode,
      owner,
      ...(secret ? { content: Buffer.from(text).toString("base64") } : {}),
    });
    const key = (content: string) => secretFingerprint("k", content);
    const observed = observedManifest(
      recorded,
      {
        "/etc/b.conf": found("edited", "0666", "nobody:nogroup"),
        "/etc/a.key": found("tampered", "0600", "root:root", true),
        "/etc/gone": { missing: true },
      },
      key,
    );
    assert.deepEqual(observed, {
      "/etc/b.conf": { hash: contentFingerprint("edited"), mode: "0666", owner: "nobody:nogroup" },
      "/etc/a.key": { hash: secretFingerprint("k", "tampered"), mode: "0600", owner: "root:root" },
      "/etc/gone": { hash: MISSING, mode: "0644", owner: "root:root" },
    });
    // What drifted is what the next up sends; a file as the program wants it is not sent.
    const same = observedManifest(
      recorded,
      {
        "/etc/b.conf": found("b"),
        "/etc/a.key": found("s", "0600", "root:root", true),
        "/etc/gone": found("g"),
      },
      key,
    );
    assert.deepEqual(same, recorded);
    const state = { files: observed, vmId: "v", host: "h" };
    assert.deepEqual(
      planPush(state, { ...state, files: recorded }).send,
      Object.keys(recorded).sort(),
    );
    assert.match(inspectCommand("gi-admin"), /^sudo python3 -c '/);
  });
});
