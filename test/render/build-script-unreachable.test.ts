/**
 * Render tier: the builder's build script (lib/buildfarm/build.sh) when the binhost or the
 * notification listener cannot be reached, with the real network tools: git, curl, rsync and
 * ssh. Each build runs in a network namespace of its own (`unshare --net`), where nothing
 * answers on 127.0.0.1 but what the case starts there: the binhost's sshd on port 22, with the
 * upload key confined by rrsync as BinhostMirror confines it (uploadAuthorizedKeysLine), and a
 * listener on port 8080 that keeps each POST. The binhost's HTTPS (its git and its index) is
 * never up: a refused connection. What the build drives besides (emerge, Portage's Python,
 * emaint, gpgconf) is faked as in build-script-run.test.ts, and so is git where the case is
 * not about it; `sleep` returns at once and is logged, so the retries' back-off is seen, not
 * waited for.
 * - the binhost unreachable at the start: the fetch of the tree is tried 3 times, then the
 *   build fails at sync-tree with one line naming the URL; nothing reaches the binhost;
 * - its SSH refused at upload: the upload is tried 3 times, the build fails at upload and the
 *   served repository is unchanged;
 * - its SSH gone between the packages and the index: the build fails at publish; the served
 *   index is the old one and names only files that are there; the next build publishes;
 * - the listener down: the build's outcome and exit status stand, the log says so.
 *
 * What it does not prove: a binhost that drops packets instead of refusing (each attempt
 * then waits for ssh's ConnectTimeout, or under git for the kernel to give up the connection:
 * docs/reliability.md, "Unreachable parts", has the times seen once by hand), nor anything
 * on a builder VM (the e2e tier).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { knownHostsLine, uploadAuthorizedKeysLine } from "../../lib/binhost/upload";
import type { BuildScriptArgs } from "../../lib/buildfarm/build-script-args";
import { shQuote } from "../../lib/host/shell";
import { type Builder, type BuildRun, builder } from "../support/build-script-run";
import { buildScriptArgs } from "../support/buildfarm-fixtures";
import { scratch } from "../support/git-fixture";
import { keygen, SSHD, sshdConfig } from "../support/sshd";
import { requireRoot, requireTools } from "../support/tools";

const APT_HINT = "run scripts/setup (step 30-apt installs them from scripts/apt-packages.txt)";
const TOOLS = ["bash", "unshare", "ip", "git", "curl", "rsync", "rrsync", "ssh", "python3"];
const work = scratch("gi-build-unreachable-");
after(() => work.cleanup());

const ZLIB_OLD = "sys-libs/zlib/zlib-1.3.0-1.gpkg.tar";
const ZLIB = "sys-libs/zlib/zlib-1.3.1-1.gpkg.tar";
const TREE_URL = "https://127.0.0.1/git/gentoo.git";
const NOTIFY_URL = "http://127.0.0.1:8080/builds";
const TARGET = "root@127.0.0.1:/production/amd64/web/";

/** An index naming one package, as `emaint binhost --fix` writes it (the fields read here). */
function index(pkg: string): string {
  const cpv = pkg.replace(/^([^/]+)\/[^/]+\/(.+)-\d+\.gpkg\.tar$/, "$1/$2");
  return `VERSION: 0\nPACKAGES: 1\n\nCPV: ${cpv}\nPATH: ${pkg}\n\n`;
}

/**
 * Runs the build script ($1) in this network namespace: lo up, then, when asked, sshd on
 * 127.0.0.1:22 (SSHD_CONFIG, its log SSHD_LOG) and the listener on 127.0.0.1:8080 (LISTENER,
 * appending each POST's body to LISTENER_BODY). The build gets the PATH this starts with (the
 * fakes first); the rest runs with HOST_PATH. Stops what it started.
 */
const DRIVER = `set -euo pipefail
build_path=$PATH
PATH=$HOST_PATH
ip link set lo up
servers=()
stop() {
  if [ "\${#servers[@]}" -gt 0 ]; then kill "\${servers[@]}" 2>/dev/null || true; fi
  wait
}
trap stop EXIT
trap 'exit 143' TERM
await() {
  local _
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}
if [ -n "\${SSHD_CONFIG:-}" ]; then
  "$SSHD" -D -e -f "$SSHD_CONFIG" 2>>"$SSHD_LOG" &
  servers+=($!)
  await 22
fi
if [ -n "\${LISTENER_BODY:-}" ]; then
  python3 -c "$LISTENER" "$LISTENER_BODY" &
  servers+=($!)
  await 8080
fi
PATH=$build_path bash "$1"
`;

/** The notification listener: answers each POST with 204 and appends its body to argv[1]. */
const LISTENER = `import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Listener(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[1], "ab") as f:
            f.write(body + b"\\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", 8080), Listener).serve_forever()
`;

/**
 * emaint: writes PKGDIR's index; with FAKE_BINHOST_GOES, then stops the binhost's sshd and
 * waits until its port refuses (between the upload of the packages and the publish).
 */
const EMAINT = `printf '%s' ${shQuote(index(ZLIB))} >"$FAKE_PKGDIR/Packages"
[ -n "\${FAKE_BINHOST_GOES:-}" ] || exit 0
kill "$(cat "$SSHD_PIDFILE")"
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/22) 2>/dev/null || exit 0
  command -p sleep 0.05
done
exit 1`;

/** The binhost: its document root with one published repository, sshd's files, the upload key. */
interface Binhost {
  readonly dir: string;
  /** The document root (rrsync's directory). */
  readonly root: string;
  /** The build profile's repository below it. */
  readonly repository: string;
  readonly upload: BuildScriptArgs["upload"];
  /** The environment that starts its sshd in the namespace. */
  readonly sshd: Record<string, string>;
  /** What sshd logged. */
  log(): string;
}

/** A binhost in `dir` that serves ZLIB_OLD and an index naming it. */
function binhost(dir: string): Binhost {
  mkdirSync(dir, { recursive: true });
  keygen(join(dir, "host_key"), "gi-test-binhost");
  keygen(join(dir, "upload_key"), "gi-test-builder");
  const root = join(dir, "srv");
  const repository = join(root, "production", "amd64", "web");
  mkdirSync(join(repository, "sys-libs", "zlib"), { recursive: true });
  writeFileSync(join(repository, ZLIB_OLD), "old package\n");
  writeFileSync(join(repository, "Packages"), index(ZLIB_OLD));
  const publicKey = (name: string) => readFileSync(join(dir, `${name}.pub`), "utf8");
  writeFileSync(
    join(dir, "authorized_keys"),
    uploadAuthorizedKeysLine(publicKey("upload_key"), root),
  );
  writeFileSync(join(dir, "known_hosts"), knownHostsLine(["127.0.0.1"], publicKey("host_key")));
  writeFileSync(join(dir, "sshd_config"), sshdConfig(dir, 22));
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const log = join(dir, "sshd.log");
  writeFileSync(log, "");
  return {
    dir,
    root,
    repository,
    upload: {
      host: "127.0.0.1",
      user: "root",
      rootDir: "/",
      sshKeyPath: join(dir, "upload_key"),
      knownHostsPath: join(dir, "known_hosts"),
    },
    sshd: {
      SSHD,
      SSHD_CONFIG: join(dir, "sshd_config"),
      SSHD_LOG: log,
      SSHD_PIDFILE: join(dir, "sshd.pid"),
    },
    log: () => readFileSync(log, "utf8"),
  };
}

/** Every file below `dir` with its content, by relative path. */
function files(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [
        relative(dir, join(e.parentPath, e.name)),
        readFileSync(join(e.parentPath, e.name), "utf8"),
      ])
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

/** What a build in the namespace left: its run, and the POSTs the listener kept. */
interface NamespaceRun extends BuildRun {
  readonly posted: readonly unknown[];
}

/** Runs `b`'s build in a network namespace, with the binhost's sshd and the listener if given. */
function inNamespace(
  b: Builder,
  env: Readonly<Record<string, string>>,
  up: { readonly sshd?: Binhost; readonly listener?: boolean },
): NamespaceRun {
  const driver = join(b.dir, "driver");
  writeFileSync(driver, DRIVER);
  const body = join(b.dir, `posted-${Date.now()}`);
  const run = b.build(
    {
      HOST_PATH: process.env.PATH ?? "/usr/bin:/bin",
      // The host's git configuration stays out (url rewrites, credentials).
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      ...(up.sshd ? up.sshd.sshd : {}),
      ...(up.listener ? { LISTENER, LISTENER_BODY: body } : {}),
      ...env,
    },
    (script) => ["unshare", "--net", "bash", driver, script],
  );
  const posted = existsSync(body)
    ? readFileSync(body, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l))
    : [];
  return { ...run, posted };
}

/**
 * rsync's exit status when ssh cannot connect: 255 (ssh's), or 12 (a broken protocol stream)
 * when rsync sees the pipe close first.
 */
const RSYNC_REFUSED = [12, 255];

/**
 * Asserts that `output` holds, of `what`, exactly the lines retry logs for 3 failed attempts,
 * each with exit status `status` (any status when not given).
 */
function assertRetried(output: string, what: string, status?: number): void {
  const failed = `gentoo-infra: ${what} failed`;
  const exit = status === undefined ? "N" : String(status);
  assert.deepEqual(
    lines(output, failed).map((l) =>
      status === undefined ? l.replace(/exit [0-9]+/, "exit N") : l,
    ),
    [
      `${failed} (exit ${exit}, attempt 1 of 3); trying again in 10 s`,
      `${failed} (exit ${exit}, attempt 2 of 3); trying again in 20 s`,
      `${failed} 3 times (last exit ${exit}); giving up`,
    ],
    output,
  );
}

/** The lines of `output` that start with `prefix`. */
function lines(output: string, prefix: string): string[] {
  return output.split("\n").filter((l) => l.startsWith(prefix));
}

function ready(t: TestContext): boolean {
  return requireRoot(t, "a network namespace per build") && requireTools(t, TOOLS, APT_HINT);
}

describe("the build script with the binhost or the listener unreachable (real git, curl, rsync, ssh)", () => {
  it("the binhost unreachable at the start: the tree's fetch is tried 3 times, the build fails at sync-tree naming the URL, nothing is uploaded", (t) => {
    if (!ready(t)) return;
    const dir = join(work.dir, "start");
    const bh = binhost(join(dir, "binhost"));
    const served = files(bh.root);
    const b = builder(
      dir,
      {
        tree: { ...buildScriptArgs.tree, url: TREE_URL, location: join(dir, "repos", "gentoo") },
        upload: bh.upload,
        notifyUrl: NOTIFY_URL,
      },
      { real: ["git", "curl", "rsync"] },
    );
    // Its SSH answers: nothing is sent to it all the same.
    const r = inNamespace(b, { FAKE_NEW: ZLIB }, { sshd: bh, listener: true });

    assert.equal(r.status, 128, r.output);
    assert.equal(
      lines(
        r.output,
        `fatal: unable to access '${TREE_URL}/': Failed to connect to 127.0.0.1 port 443`,
      ).length,
      3,
      r.output,
    );
    assertRetried(r.output, `fetch of gentoo from ${TREE_URL}`, 128);
    assert.deepEqual(r.calls, ["sleep 10", "sleep 20"], "nothing built");
    assert.deepEqual(
      [r.outcome.status, r.outcome.step, r.outcome.exitCode, r.outcome.published],
      ["failure", "sync-tree", 128, false],
    );
    assert.deepEqual(Object.keys(r.outcome.phases), ["prepare", "fetch"]);
    assert.deepEqual(r.posted, [r.outcome], "the listener got the outcome");
    assert.deepEqual(files(bh.root), served, "the binhost's files are unchanged");
    assert.doesNotMatch(bh.log(), /Accepted publickey/);
  });

  it("the binhost's SSH refused at upload: the upload is tried 3 times, the build fails at upload, the served repository is unchanged", (t) => {
    if (!ready(t)) return;
    const dir = join(work.dir, "upload");
    const bh = binhost(join(dir, "binhost"));
    const served = files(bh.root);
    const b = builder(
      dir,
      {
        upload: bh.upload,
        notifyUrl: NOTIFY_URL,
        // Its HTTPS is down too: the served index cannot be read, so the packages go up.
        repositoryUrl: "https://127.0.0.1/production/amd64/web/",
      },
      { real: ["curl", "rsync"] },
    );
    const r = inNamespace(b, { FAKE_NEW: ZLIB }, { listener: true });

    assert.ok(RSYNC_REFUSED.includes(r.status ?? 0), r.output);
    assert.match(r.output, /curl: \(7\) Failed to connect to 127\.0\.0\.1 port 443/);
    assert.equal(
      lines(r.output, "ssh: connect to host 127.0.0.1 port 22: Connection refused").length,
      3,
      r.output,
    );
    assertRetried(r.output, `upload of the packages to ${TARGET}`);
    assert.deepEqual(
      r.calls.filter((c) => /^(emaint|sleep) /.test(c)),
      ["sleep 10", "sleep 20"],
      "no index made",
    );
    assert.deepEqual(
      [r.outcome.status, r.outcome.step, r.outcome.exitCode, r.outcome.published],
      ["failure", "upload", r.status, false],
    );
    assert.deepEqual(r.outcome.packages, [ZLIB]);
    assert.deepEqual(r.posted, [r.outcome], "the listener got the outcome");
    assert.deepEqual(files(bh.root), served, "the binhost's files are unchanged");
  });

  it("the binhost's SSH gone between the packages and the index: the build fails at publish, the served index is the old one and names only files that are there; the next build publishes", (t) => {
    if (!ready(t)) return;
    const dir = join(work.dir, "publish");
    const bh = binhost(join(dir, "binhost"));
    const oldIndex = readFileSync(join(bh.repository, "Packages"), "utf8");
    const b = builder(
      dir,
      { upload: bh.upload, notifyUrl: NOTIFY_URL },
      { real: ["curl", "rsync"], fakes: { emaint: EMAINT } },
    );

    const r = inNamespace(
      b,
      { FAKE_NEW: ZLIB, FAKE_BINHOST_GOES: "1" },
      { sshd: bh, listener: true },
    );
    assert.ok(RSYNC_REFUSED.includes(r.status ?? 0), r.output);
    assertRetried(r.output, `publish of the index to ${TARGET}`);
    assert.deepEqual(
      [r.outcome.status, r.outcome.step, r.outcome.exitCode, r.outcome.published],
      ["failure", "publish", r.status, false],
    );
    assert.deepEqual(r.posted, [r.outcome], "the listener got the outcome");
    assert.equal((bh.log().match(/^Accepted publickey /gm) ?? []).length, 1, bh.log());
    // The packages went up; the index, and the deletion of what it no longer names, did not.
    assert.deepEqual(Object.keys(files(bh.repository)), ["Packages", ZLIB_OLD, ZLIB]);
    const served = readFileSync(join(bh.repository, "Packages"), "utf8");
    assert.equal(served, oldIndex);
    for (const path of served.matchAll(/^PATH: (.+)$/gm)) {
      assert.ok(existsSync(join(bh.repository, path[1] as string)), `${path[1]} is not there`);
    }

    // The binhost back: the next build publishes the new index and deletes what it dropped.
    const next = inNamespace(b, {}, { sshd: bh, listener: true });
    assert.equal(next.status, 0, next.output);
    assert.deepEqual([next.outcome.status, next.outcome.published], ["success", true]);
    assert.deepEqual(files(bh.repository), { Packages: index(ZLIB), [ZLIB]: "" });
  });

  it("the listener down: the build succeeds all the same and the log says it could not notify", (t) => {
    if (!ready(t)) return;
    const dir = join(work.dir, "listener");
    const b = builder(dir, { notifyUrl: NOTIFY_URL }, { real: ["curl"] });
    // Nothing new against the list of the last publish (empty): no upload.
    mkdirSync(b.statusDir, { recursive: true });
    writeFileSync(join(b.statusDir, "production-amd64-web.published"), "\n");

    const down = inNamespace(b, {}, {});
    assert.equal(down.status, 0, down.output);
    assert.deepEqual([down.outcome.status, down.outcome.step], ["success", "finished"]);
    assert.match(down.output, /curl: \(7\) Failed to connect to 127\.0\.0\.1 port 8080/);
    assert.deepEqual(lines(down.output, "gentoo-infra: could not notify"), [
      `gentoo-infra: could not notify ${NOTIFY_URL}`,
    ]);

    // Control: with the listener up, the same build's outcome reaches it.
    const up = inNamespace(b, {}, { listener: true });
    assert.equal(up.status, 0, up.output);
    assert.deepEqual(up.posted, [up.outcome]);
    assert.doesNotMatch(up.output, /could not notify/);
  });
});
