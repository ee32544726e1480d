/**
 * Render tier for an installed machine's Portage tools (lib/portage/machine-tools.ts, which
 * fills in lib/portage/machine-trust-helper.sh and machine-sync.sh), run for real on this host
 * with bash, gpg and git:
 * - both scripts pass `bash -n` and shellcheck;
 * - the trust helper (PORTAGE_TRUST_HELPER, getuto's place) makes a keyring in which the
 *   farm's key is valid (locally signed by a local trust key, as getuto does), does nothing
 *   on a second run, makes the keyring anew when the key file changes (the old key is gone)
 *   or when another key was imported by hand, and fails with a message when the key file is
 *   missing;
 * - the sync command pins two repositories to the commits of a tree snapshot file (rendered
 *   by the Stack's renderer) and follows the file to new commits, discarding local edits;
 *   with a served snapshot (a real HTTP server on loopback), it takes the two commits from
 *   there, never runs or copies anything else of it, and moves nothing when the file is not
 *   served or names no commits.
 * What it does not prove: Portage calling the helper and installing verified packages on an
 * installed machine (the PXE e2e test does).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { renderTreeSnapshotFile } from "../../lib/portage";
import { renderMachineSyncScript, renderMachineTrustHelper } from "../../lib/portage/machine-tools";
import { run } from "../../scripts/tree-standin/portage-prefix";
import { commit, git, initRepo, scratch } from "../support/git-fixture";
import { requireTools } from "../support/tools";

const execFileAsync = promisify(execFile);
const APT_HINT = "run scripts/setup (gnupg, git and shellcheck come from apt)";
const work = scratch("gi-machine-portage-");
const homes: string[] = [];
after(() => {
  for (const home of homes) run("gpgconf", ["--homedir", home, "--kill", "all"]);
  work.cleanup();
});

/** Writes an executable script. */
function script(name: string, content: string): string {
  const file = join(work.dir, name);
  writeFileSync(file, content);
  chmodSync(file, 0o755);
  return file;
}

/** A fresh ed25519 key in its own home; returns its fingerprint and armored public key. */
function newKey(name: string): { fpr: string; armored: string } {
  const home = join(work.dir, `${name}-gnupg`);
  mkdirSync(home, { mode: 0o700 });
  homes.push(home);
  const gpg = (...args: string[]) => {
    const r = run("gpg", ["--batch", "--quiet", "--homedir", home, ...args]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  gpg(
    ...["--pinentry-mode", "loopback", "--passphrase", ""],
    ...["--quick-generate-key", `${name} <${name}@example.invalid>`, "ed25519", "sign", "never"],
  );
  const fpr = /^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/m.exec(gpg("--with-colons", "--list-keys"))?.[1];
  assert.ok(fpr);
  return { fpr, armored: gpg("--armor", "--export", fpr) };
}

/** `pub` fingerprint → validity (gpg --with-colons field 2) in `home`. */
function keyValidity(home: string): Record<string, string> {
  const r = run("gpg", ["--batch", "--with-colons", "--homedir", home, "--list-keys"]);
  assert.equal(r.status, 0, r.stderr);
  const out: Record<string, string> = {};
  let validity: string | undefined;
  for (const line of r.stdout.split("\n")) {
    const f = line.split(":");
    if (f[0] === "pub") validity = f[1];
    else if (f[0] === "fpr" && validity !== undefined) {
      out[f[9] as string] = validity;
      validity = undefined;
    }
  }
  return out;
}

describe("the machine's trust helper", () => {
  const home = join(work.dir, "etc-portage-gnupg");
  const keyFile = join(work.dir, "package-signing.asc");
  homes.push(home);
  const helper = script(
    "gentoo-infra-getuto",
    renderMachineTrustHelper({ gnupgHome: home, signingKey: keyFile }),
  );

  it("passes bash -n and shellcheck", (t) => {
    assert.equal(run("bash", ["-n", helper]).status, 0);
    if (!requireTools(t, ["shellcheck"], APT_HINT)) return;
    const lint = run("shellcheck", ["--shell=bash", "--severity=style", helper]);
    assert.equal(lint.status, 0, lint.stdout);
  });

  it("keeps a keyring that holds the farm's key, valid, and nothing else", (t) => {
    if (!requireTools(t, ["gpg", "gpgconf", "bash"], APT_HINT)) return;
    const farm = newKey("farm");
    const missing = run("bash", [helper]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /package-signing\.asc is missing/);

    writeFileSync(keyFile, farm.armored);
    let r = run("bash", [helper]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`making .* for the package-signing key\\(s\\) ${farm.fpr}`));
    let keys = keyValidity(home);
    assert.equal(keys[farm.fpr], "f", "the farm's key is valid (full), locally signed");
    assert.equal(Object.keys(keys).length, 2, "the farm's key and the local trust key");
    assert.equal(Object.values(keys).filter((v) => v === "u").length, 1, "one ultimate key");
    const mode = Number.parseInt(
      run("stat", ["-c", "%a", join(home, "pubring.kbx")]).stdout.trim(),
      8,
    );
    assert.equal(mode & 0o004, 0o004, "world-readable: Portage verifies as nobody");

    const pubring = readFileSync(join(home, "pubring.kbx"));
    r = run("bash", [helper]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "", "an up-to-date keyring is left alone");
    assert.deepEqual(readFileSync(join(home, "pubring.kbx")), pubring);

    // A rotated key: the keyring is made anew and the old key is gone.
    const rotated = newKey("rotated");
    writeFileSync(keyFile, rotated.armored);
    r = run("bash", [helper]);
    assert.equal(r.status, 0, r.stderr);
    keys = keyValidity(home);
    assert.equal(keys[rotated.fpr], "f");
    assert.equal(keys[farm.fpr], undefined, "the old key left the keyring");

    // A key imported by hand (even unsigned) is not kept.
    const stray = newKey("stray");
    const imported = run("gpg", ["--batch", "--quiet", "--homedir", home, "--import"], {
      input: stray.armored,
    });
    assert.equal(imported.status, 0, imported.stderr);
    r = run("bash", [helper]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /making/);
    keys = keyValidity(home);
    assert.equal(keys[stray.fpr], undefined, "the stray key is gone");
    assert.equal(keys[rotated.fpr], "f");
  });
});

describe("the machine's sync command", () => {
  const snapshotFile = join(work.dir, "tree-snapshot");
  const sync = script("gentoo-infra-sync", renderMachineSyncScript(snapshotFile));

  it("passes bash -n and shellcheck", (t) => {
    assert.equal(run("bash", ["-n", sync]).status, 0);
    if (!requireTools(t, ["shellcheck"], APT_HINT)) return;
    const lint = run("shellcheck", ["--shell=bash", "--severity=style", sync]);
    assert.equal(lint.status, 0, lint.stdout);
  });

  it("pins both repositories to the snapshot's commits and follows the file", (t) => {
    if (!requireTools(t, ["git", "bash"], APT_HINT)) return;
    // Two upstream repositories that carry a metadata cache (no egencache needed).
    const upstream = (name: string) => {
      const dir = initRepo(join(work.dir, "upstream", name));
      mkdirSync(join(dir, "metadata", "md5-cache"), { recursive: true });
      const first = commit(dir, "first", {
        "metadata/md5-cache/.keep": "",
        VERSION: "1\n",
      });
      const second = commit(dir, "second", { VERSION: "2\n" });
      return { dir, first, second };
    };
    const gentoo = upstream("gentoo");
    const overlay = upstream("overlay");
    const location = (name: string) => join(work.dir, "var-db-repos", name);
    const pin = (gentooCommit: string, overlayCommit: string) =>
      writeFileSync(
        snapshotFile,
        renderTreeSnapshotFile({
          environment: "development",
          gentoo: {
            name: "gentoo",
            location: location("gentoo"),
            syncUri: gentoo.dir,
            commit: gentooCommit,
          },
          overlay: {
            name: "site",
            location: location("site"),
            syncUri: overlay.dir,
            commit: overlayCommit,
          },
        }),
      );
    const version = (name: string) => readFileSync(join(location(name), "VERSION"), "utf8");

    pin(gentoo.first, overlay.second);
    let r = run("bash", [sync]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`gentoo at ${gentoo.first}, site at ${overlay.second}`));
    assert.equal(git(location("gentoo"), "rev-parse", "HEAD"), gentoo.first);
    assert.equal(version("gentoo"), "1\n");
    assert.equal(version("site"), "2\n");

    // A promotion: the file names new commits; local edits and stray files are discarded.
    writeFileSync(join(location("gentoo"), "VERSION"), "edited\n");
    writeFileSync(join(location("gentoo"), "stray"), "x");
    pin(gentoo.second, overlay.second);
    r = run("bash", [sync]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(version("gentoo"), "2\n");
    assert.equal(existsSync(join(location("gentoo"), "stray")), false);

    // A commit the clone URL does not have fails, naming the repository.
    pin("0".repeat(40), overlay.second);
    r = run("bash", [sync]);
    assert.notEqual(r.status, 0);
    assert.equal(version("gentoo"), "2\n", "nothing moved");
    rmSync(snapshotFile);
  });

  it("takes the two commits the binhost serves (a promotion), nothing else, and moves nothing when it cannot", async (t) => {
    if (!requireTools(t, ["git", "bash", "wget"], APT_HINT)) return;
    const repo = initRepo(join(work.dir, "served", "gentoo"));
    mkdirSync(join(repo, "metadata", "md5-cache"), { recursive: true });
    const first = commit(repo, "first", { "metadata/md5-cache/.keep": "", VERSION: "1\n" });
    const second = commit(repo, "second", { VERSION: "2\n" });
    const location = join(work.dir, "served-repos", "gentoo");
    const overlayLocation = join(work.dir, "served-repos", "site");
    let served = "";
    const server = createServer((_req, res) => {
      if (served === "") res.writeHead(404).end();
      else res.writeHead(200, { "Content-Type": "text/plain" }).end(served);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const snapshot = (gentooCommit: string, extra = "") =>
      renderTreeSnapshotFile({
        environment: "development",
        gentoo: { name: "gentoo", location, syncUri: repo, commit: gentooCommit },
        overlay: { name: "site", location: overlayLocation, syncUri: repo, commit: first },
        publishedUrl: `http://127.0.0.1:${port}/client/development/amd64/linux/tree-snapshot`,
      }) + extra;
    const sync = async () => {
      const r = await execFileAsync("bash", [syncScript]).then(
        (o) => ({ status: 0, stdout: o.stdout, stderr: o.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({
          status: e.code,
          stdout: e.stdout,
          stderr: e.stderr,
        }),
      );
      return r;
    };
    const syncScript = script("gentoo-infra-sync-served", renderMachineSyncScript(snapshotFile));
    try {
      writeFileSync(snapshotFile, snapshot(first));
      // Not served (404): nothing moves, the error names the URL.
      let r = await sync();
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /could not fetch http:\/\/127\.0\.0\.1:\d+\/client\/.*; nothing moved/,
      );
      assert.equal(existsSync(location), false);

      // Served: the promoted commit; the local locations and URLs stay; injected lines are
      // never run and never copied.
      served = snapshot(
        second,
        `GI_GENTOO_LOCATION="/tmp/elsewhere"\n$(touch ${join(work.dir, "pwned")})\n`,
      );
      r = await sync();
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /new tree snapshot from http:/);
      assert.equal(git(location, "rev-parse", "HEAD"), second);
      const written = readFileSync(snapshotFile, "utf8");
      assert.match(written, new RegExp(`^GI_GENTOO_COMMIT="${second}"$`, "m"));
      assert.match(written, new RegExp(`^GI_GENTOO_LOCATION="${location}"$`, "m"));
      assert.doesNotMatch(written, /elsewhere|touch/);
      assert.equal(existsSync(join(work.dir, "pwned")), false);

      // A served file without commits: refused, nothing moves.
      served = "GI_GENTOO_COMMIT=main\n";
      r = await sync();
      assert.equal(r.status, 1);
      assert.match(r.stderr, /names no commits/);
      assert.equal(git(location, "rev-parse", "HEAD"), second);
    } finally {
      server.close();
    }
  });
});
