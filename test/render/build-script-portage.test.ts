/**
 * Render tier for the Portage pieces of the builder's build script (lib/buildfarm/build.sh:
 * its functions in build-functions.sh, its prune in prune-packages.py), run for real on this
 * host with the venv's Portage
 * (3.0.83) in a throwaway prefix over a copy of the STAND-IN tree (standin/gentoo), the way
 * scripts/check-tree-standin builds it:
 * - with the keyring trust_signing_key makes as BINPKG_GPG_VERIFY_GPG_HOME and a fresh ed25519
 *   key, Portage (FEATURES="buildpkg binpkg-signing", gpkg) builds, signs and accepts
 *   sys-libs/zlib (twice: two instances of one version) and sys-apps/baselayout, which is then
 *   unmerged;
 * - verify_package accepts those packages and refuses a flipped byte in
 *   image.tar.zst and a package re-signed by another key, even a key the keyring trusts;
 * - prune-packages.py, run as the build script runs it (Portage's Python, `-c` the text), keeps
 *   what is installed and what is younger than the retention, and removes the rest.
 * The same file found three gaps, fixed in lib since: the prune kept older builds of an
 * installed version and crashed on an index that still named a file it pruned before;
 * verify_package accepted a member whose detached signature was removed.
 *
 * What this tier does not prove: the rest of the build script (sync, emerge of @world,
 * upload, publish, outcome record), that it runs in a builder VM's throwaway root, or
 * anything about real Gentoo packages (the build-farm e2e test does).
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { scriptSource, shellScriptSource } from "../../lib/host/script-file";
import { makePrefix, type Run, run, VENV } from "../../scripts/tree-standin/portage-prefix";
import { alterOneByte, resignWithNewKey, withIndexEntryFor } from "../support/binpkg-tamper";
import { verifyGpkg } from "../support/build-site";
import { requireFiles, requireTools } from "../support/tools";
import { GENTOO_STANDIN } from "./portage-harness";

const BUILDFARM = join(__dirname, "..", "..", "lib", "buildfarm");
/** The build script's functions, as the rendered script holds them (with trust_keyring). */
const BUILD_FUNCTIONS = shellScriptSource(BUILDFARM, "build-functions.sh");
const PRUNE_PROGRAM = scriptSource(BUILDFARM, "prune-packages.py");
const SETUP_HINT =
  "run scripts/setup (20-python installs Portage into .cache/venv; gnupg, zstd from apt)";
const BUILD_PROFILE = "development/amd64/tools";
/**
 * Bash as the build script runs (set -euo pipefail). --norc: Debian's bash reads
 * /etc/bash.bashrc when stdin is a socket, and Node's child stdin is one.
 */
const BASH = ["--norc", "-euo", "pipefail"];

/** What the fixture builds, relative to PKGDIR (versions of standin/gentoo). */
const BASELAYOUT = "sys-apps/baselayout/baselayout-2.17-1.gpkg.tar";
const ZLIB_1 = "sys-libs/zlib/zlib-1.3.1-1.gpkg.tar";
const ZLIB_2 = "sys-libs/zlib/zlib-1.3.1-2.gpkg.tar";

/** A signing key in its own GnuPG home. */
interface Key {
  readonly home: string;
  readonly fpr: string;
}

/** The prefix after the builds: Portage's environment, the keys, the keyring, PKGDIR. */
interface Fixture {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly pkgdir: string;
  readonly signer: Key;
  /** The keyring trust_signing_key made for `signer` (make.conf's BINPKG_GPG_VERIFY_GPG_HOME). */
  readonly keyring: string;
}

/** Every GnuPG home a test made: their agents are stopped after the file. */
const gnupgHomes: string[] = [];
const scratch: string[] = [];
after(() => {
  for (const home of gnupgHomes) run("gpgconf", ["--homedir", home, "--kill", "all"]);
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function commandPath(command: string): string {
  const r = run("sh", ["-c", `command -v ${command}`]);
  assert.equal(r.status, 0, `${command} is not on PATH`);
  return r.stdout.trim();
}

function ok(r: Run, what: string): Run {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return r;
}

/** A fresh ed25519 signing key without passphrase in `home`. */
function generateKey(home: string, uid: string): Key {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  gnupgHomes.push(home);
  ok(
    run("gpg", [
      ...["--batch", "--quiet", "--homedir", home, "--pinentry-mode", "loopback"],
      ...["--passphrase", "", "--quick-generate-key", uid, "ed25519", "sign", "never"],
    ]),
    "gpg --quick-generate-key",
  );
  const listing = ok(
    run("gpg", ["--batch", "--with-colons", "--homedir", home, "--list-secret-keys"]),
    "gpg --list-secret-keys",
  ).stdout;
  const fpr = /^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/m.exec(listing)?.[1];
  assert.ok(fpr, `no fingerprint in:\n${listing}`);
  return { home, fpr };
}

/** Runs trust_signing_key with bash (as the build script: set -euo pipefail) for `key`. */
function trustKeyring(keyring: string, key: Key): void {
  gnupgHomes.push(keyring);
  ok(
    run("bash", [...BASH, "-c", `${BUILD_FUNCTIONS}\ntrust_signing_key`], {
      env: {
        PATH: process.env.PATH,
        HOME: dirname(keyring),
        VERIFY_GPG_HOME: keyring,
        SIGNING_GPG_HOME: key.home,
        SIGNING_FPR: key.fpr,
        BUILD_PROFILE,
      },
    }),
    "trust_signing_key",
  );
}

/** The gpkg files below `pkgdir`, relative to it, sorted. */
function binaryPackages(pkgdir: string): string[] {
  return readdirSync(pkgdir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".gpkg.tar"))
    .map((e) => relative(pkgdir, join(e.parentPath, e.name)))
    .sort();
}

/** The packages in the prefix's vdb: `<category>/<PF>`, sorted. */
function installed(f: Fixture): string[] {
  const vdb = join(f.dir, "var", "db", "pkg");
  return readdirSync(vdb)
    .flatMap((category) => readdirSync(join(vdb, category)).map((pf) => `${category}/${pf}`))
    .sort();
}

/**
 * Builds the prefix once per file: a copy of the stand-in tree, a make.conf with the builder's
 * signing settings, the keyring of trust_signing_key; then `emerge --oneshot sys-libs/zlib
 * sys-apps/baselayout`, `emerge --oneshot sys-libs/zlib` (a second instance, the installed one)
 * and `emerge --unmerge sys-apps/baselayout` (a package in PKGDIR that is not installed).
 */
let built: { fixture?: Fixture; error?: unknown } | undefined;
function fixture(t: TestContext): Fixture | undefined {
  if (!requireTools(t, ["bash", "gpg", "gpgconf", "tar", "zstd", "flock"], SETUP_HINT)) return;
  if (!requireFiles(t, [join(VENV, "bin", "emerge")], SETUP_HINT)) return;
  if (!built) {
    try {
      built = { fixture: build() };
    } catch (error) {
      built = { error };
    }
  }
  if (built.error) throw built.error;
  return built.fixture;
}

function build(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "gi-build-script-"));
  scratch.push(dir);
  // Running as root, Portage verifies signatures as nobody: the prefix must be readable.
  chmodSync(dir, 0o755);
  const gentoo = join(dir, "repos", "gentoo");
  cpSync(GENTOO_STANDIN, gentoo, { recursive: true });
  const prefix = makePrefix(dir, {
    repositories: [{ name: "gentoo", location: gentoo }],
    profile: join(gentoo, "profiles", "default", "linux", "amd64", "23.0"),
  });
  const env: NodeJS.ProcessEnv = { ...prefix.env, TMPDIR: join(dir, "tmp") };
  mkdirSync(join(dir, "tmp"));
  // Portage's unpack runs `gtar` (GNU tar's Gentoo name); Debian has only `tar`.
  if (run("sh", ["-c", "command -v gtar"], { env }).status !== 0) {
    mkdirSync(join(dir, "host-tools"));
    symlinkSync(commandPath("tar"), join(dir, "host-tools", "gtar"));
    env.PATH = `${join(dir, "host-tools")}:${env.PATH}`;
  }

  const signer = generateKey(join(dir, "signing-gnupg"), "gentoo-infra test package signer");
  const keyring = join(dir, "etc", "portage", "gnupg");
  trustKeyring(keyring, signer);

  const pkgdir = join(dir, "var", "cache", "binpkgs");
  const gpg = commandPath("gpg");
  // The builder's signing settings (lib/portage/make-conf.ts); FEATURES the host lacks
  // (sandbox, portage user) come from the prefix's environment.
  writeFileSync(
    join(dir, "etc", "portage", "make.conf"),
    [
      'FEATURES="buildpkg binpkg-signing"',
      'BINPKG_FORMAT="gpkg"',
      `BINPKG_GPG_SIGNING_GPG_HOME="${signer.home}"`,
      `BINPKG_GPG_SIGNING_KEY="0x${signer.fpr}!"`,
      'BINPKG_GPG_SIGNING_DIGEST="SHA512"',
      `BINPKG_GPG_VERIFY_GPG_HOME="${keyring}"`,
      // The signing lock inside the prefix, gpg wherever this host has it.
      `BINPKG_GPG_SIGNING_BASE_COMMAND="${commandPath("flock")} ${join(dir, "binpkg-gpg.lock")} ${gpg} --sign --armor [PORTAGE_CONFIG]"`,
      `BINPKG_GPG_VERIFY_BASE_COMMAND="${gpg} --verify --batch --no-tty --no-auto-check-trustdb --status-fd 2 [PORTAGE_CONFIG] [SIGNATURE]"`,
      'PORTAGE_TRUST_HELPER=""',
      `PKGDIR="${pkgdir}"`,
      `DISTDIR="${join(dir, "var", "cache", "distfiles")}"`,
      `PORTAGE_TMPDIR="${join(dir, "var", "tmp")}"`,
      "",
    ].join("\n"),
  );
  mkdirSync(join(dir, "var", "tmp"), { recursive: true });

  const emerge = join(VENV, "bin", "emerge");
  const base = ["--color=n", "--getbinpkg=n", "--usepkg=n"];
  const both = ["sys-libs/zlib", "sys-apps/baselayout"];
  ok(run(emerge, ["--oneshot", ...base, ...both], { env }), `emerge ${both.join(" ")}`);
  ok(run(emerge, ["--oneshot", ...base, "sys-libs/zlib"], { env }), "emerge sys-libs/zlib");
  ok(
    run(emerge, ["--unmerge", "--color=n", "sys-apps/baselayout"], { env }),
    "emerge --unmerge sys-apps/baselayout",
  );
  return { dir, env, pkgdir, signer, keyring };
}

/** Runs verify_package (in bash, as the build script: set -euo pipefail). */
function verifyPackage(f: Fixture, pkgdir: string, pkg: string, keyring: string, fpr: string): Run {
  return run("bash", [...BASH, "-c", `${BUILD_FUNCTIONS}\nverify_package "$1"`, "-", pkg], {
    env: {
      PATH: process.env.PATH,
      HOME: f.dir,
      TMPDIR: join(f.dir, "tmp"),
      PKGDIR_PATH: pkgdir,
      VERIFY_GPG_HOME: keyring,
      SIGNING_FPR: fpr,
    },
  });
}

/** Portage's own check of a gpkg (what a client with binpkg-request-signature runs). */
const PORTAGE_VERIFY = `import sys, portage
from portage import gpkg
settings = portage.config(clone=portage.settings)
settings.features.add("binpkg-request-signature")
for path in sys.argv[1:]:
    try:
        gpkg.gpkg(settings=settings, gpkg_file=path)._verify_binpkg()
        print("accepted")
    except Exception as error:
        print("refused", type(error).__name__)
`;
function portageVerdicts(f: Fixture, paths: readonly string[]): string[] {
  const r = ok(
    run(join(VENV, "bin", "python"), ["-", ...paths], { env: f.env, input: PORTAGE_VERIFY }),
    "Portage's gpkg verification",
  );
  return r.stdout.trim().split("\n");
}

/** A directory below the prefix, readable by nobody (Portage's verifier when root). */
function scratchDir(f: Fixture, name: string): string {
  const dir = mkdtempSync(join(f.dir, `${name}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Copies PKGDIR's `pkg` to `<into>/<pkg>` through an unpack and a repack in the same member
 * order (GNU tar), after `change` edited the unpacked members (`<work>/<PF>-<BUILD_ID>/...`).
 */
function repack(f: Fixture, pkg: string, into: string, change: (work: string) => void): void {
  const source = join(f.pkgdir, pkg);
  const members = ok(run("tar", ["-tf", source]), "tar -tf")
    .stdout.trim()
    .split("\n");
  const work = mkdtempSync(join(f.dir, "repack-"));
  ok(run("tar", ["-xf", source, "-C", work]), "tar -xf");
  change(work);
  const target = join(into, pkg);
  mkdirSync(dirname(target), { recursive: true });
  const kept = members.filter((m) => existsSync(join(work, m)));
  ok(run("tar", ["-cf", target, "-C", work, ...kept]), "tar -cf");
  chmodSync(target, 0o644);
}

/** Flips every bit of the byte in the middle of a file. */
function flipMiddleByte(path: string): void {
  const bytes = readFileSync(path);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = (bytes[middle] as number) ^ 0xff;
  writeFileSync(path, bytes);
}

/**
 * A copy of PKGDIR for one prune (the prune deletes files); `without` are removed first and
 * the index rebuilt with `emaint binhost --fix`, as the build script's index step does.
 */
function pkgdirCopy(f: Fixture, without: readonly string[] = []): string {
  const copy = scratchDir(f, "pkgdir");
  cpSync(f.pkgdir, copy, { recursive: true });
  for (const pkg of without) rmSync(join(copy, pkg));
  if (without.length > 0) {
    ok(
      run(join(VENV, "bin", "emaint"), ["binhost", "--fix"], { env: { ...f.env, PKGDIR: copy } }),
      "emaint binhost --fix",
    );
  }
  return copy;
}

/**
 * Runs prune-packages.py as the build script runs it: Portage's Python, `-c` the text, the
 * retention in days as its argument, PORTAGE_OVERRIDE_EPREFIX = the root whose vdb counts.
 * PKGDIR (make.conf's) is overridden from the environment so that each prune gets a copy.
 */
function prune(f: Fixture, pkgdir: string, days: number): Run {
  return run(join(VENV, "bin", "python"), ["-c", PRUNE_PROGRAM, String(days)], {
    env: { ...f.env, PKGDIR: pkgdir },
  });
}

describe("build script: Portage builds and signs with the keyring trust_signing_key makes", () => {
  it("builds sys-libs/zlib twice and sys-apps/baselayout into PKGDIR as signed gpkg files, verified against that keyring", (t) => {
    const f = fixture(t);
    if (!f) return;
    assert.deepEqual(binaryPackages(f.pkgdir), [BASELAYOUT, ZLIB_1, ZLIB_2]);
    for (const pkg of [BASELAYOUT, ZLIB_1, ZLIB_2]) {
      const pf = pkg.split("/")[2]?.replace(/\.gpkg\.tar$/, "");
      const members: string = ok(run("tar", ["-tf", join(f.pkgdir, pkg)]), "tar -tf").stdout;
      assert.deepEqual(
        members.trim().split("\n").sort(),
        [
          "Manifest",
          "gpkg-1",
          "image.tar.zst",
          "image.tar.zst.sig",
          "metadata.tar.zst",
          "metadata.tar.zst.sig",
        ].map((m) => `${pf}/${m}`),
        `${pkg} is not a signed gpkg`,
      );
    }
    // The vdb: zlib's second instance installed, baselayout unmerged.
    assert.deepEqual(installed(f), ["sys-libs/zlib-1.3.1"]);
    const vdbZlib = join(f.dir, "var", "db", "pkg", "sys-libs", "zlib-1.3.1");
    assert.equal(readFileSync(join(vdbZlib, "BUILD_ID"), "utf8").trim(), "2");
    // What a client with binpkg-request-signature and this keyring does with them.
    assert.deepEqual(
      portageVerdicts(
        f,
        [BASELAYOUT, ZLIB_1, ZLIB_2].map((p) => join(f.pkgdir, p)),
      ),
      ["accepted", "accepted", "accepted"],
    );
  });
});

describe("build script: verify_package", () => {
  it("returns 0 for every package Portage built and signed with the signing key", (t) => {
    const f = fixture(t);
    if (!f) return;
    for (const pkg of [BASELAYOUT, ZLIB_1, ZLIB_2]) {
      const r = verifyPackage(f, f.pkgdir, pkg, f.keyring, f.signer.fpr);
      assert.deepEqual([r.status, r.stderr], [0, ""], `${pkg}: ${r.stdout}${r.stderr}`);
    }
  });

  it("refuses a copy with one byte of image.tar.zst flipped: its detached signature does not verify", (t) => {
    const f = fixture(t);
    if (!f) return;
    const pf = "zlib-1.3.1-2";
    // Control: the unpack and repack alone leave a package that verifies.
    const same = scratchDir(f, "same");
    repack(f, ZLIB_2, same, () => {});
    const control = verifyPackage(f, same, ZLIB_2, f.keyring, f.signer.fpr);
    assert.equal(control.status, 0, `the repacked copy: ${control.stderr}`);

    const flipped = scratchDir(f, "flipped");
    repack(f, ZLIB_2, flipped, (work) => flipMiddleByte(join(work, pf, "image.tar.zst")));
    const r = verifyPackage(f, flipped, ZLIB_2, f.keyring, f.signer.fpr);
    assert.deepEqual(
      [r.status, r.stderr],
      [1, `gentoo-infra: ${ZLIB_2}: image.tar.zst.sig is missing or does not verify\n`],
    );
  });

  it("refuses a package re-signed by another key, also when the keyring trusts that key", (t) => {
    const f = fixture(t);
    if (!f) return;
    const other = generateKey(join(f.dir, "other-gnupg"), "gentoo-infra test other signer");
    const resigned = scratchDir(f, "resigned");
    mkdirSync(join(resigned, dirname(ZLIB_2)), { recursive: true });
    cpSync(join(f.pkgdir, ZLIB_2), join(resigned, ZLIB_2));
    // Portage's own re-signing tool replaces every signature with one by the other key.
    ok(
      run(join(VENV, "bin", "gpkg-sign"), [join(resigned, ZLIB_2)], {
        env: {
          ...f.env,
          BINPKG_GPG_SIGNING_GPG_HOME: other.home,
          BINPKG_GPG_SIGNING_KEY: `0x${other.fpr}!`,
        },
      }),
      "gpkg-sign with the other key",
    );
    const notSigned = `gentoo-infra: ${ZLIB_2}: its Manifest is not signed by ${f.signer.fpr}\n`;

    const unknown = verifyPackage(f, resigned, ZLIB_2, f.keyring, f.signer.fpr);
    assert.deepEqual([unknown.status, unknown.stderr], [1, notSigned], "keyring without the key");

    // A keyring that trusts both keys (trust_signing_key run once per key).
    const both = join(f.dir, "keyring-both");
    trustKeyring(both, f.signer);
    trustKeyring(both, other);
    const pinned = verifyPackage(f, resigned, ZLIB_2, both, f.signer.fpr);
    assert.deepEqual([pinned.status, pinned.stderr], [1, notSigned], "keyring with both keys");
    // Control: the re-signed package itself is sound.
    const control = verifyPackage(f, resigned, ZLIB_2, both, other.fpr);
    assert.equal(control.status, 0, `verified with the other key's fingerprint: ${control.stderr}`);
  });

  it("refuses a package whose image.tar.zst was altered and its detached signature removed, as Portage does", (t) => {
    const f = fixture(t);
    if (!f) return;
    const pf = "zlib-1.3.1-2";
    const stripped = scratchDir(f, "stripped");
    repack(f, ZLIB_2, stripped, (work) => {
      flipMiddleByte(join(work, pf, "image.tar.zst"));
      rmSync(join(work, pf, "image.tar.zst.sig"));
    });
    // A client refuses it (the Manifest names image.tar.zst.sig; no signature, wrong digest).
    assert.deepEqual(portageVerdicts(f, [join(stripped, ZLIB_2)]), ["refused MissingSignature"]);
    const r = verifyPackage(f, stripped, ZLIB_2, f.keyring, f.signer.fpr);
    assert.notEqual(r.status, 0, "verify_package accepted a package every client refuses");
  });
});

describe("the e2e tests' compromised binhost (test/support/binpkg-tamper.ts), judged by Portage", () => {
  it("one altered byte and a foreign signature are refused; the foreign one verifies with its own key", (t) => {
    const f = fixture(t);
    if (!f) return;
    const dir = scratchDir(f, "tamper");
    const original = readFileSync(join(f.pkgdir, ZLIB_2));
    const altered = join(dir, "altered.gpkg.tar");
    writeFileSync(altered, alterOneByte(original));
    const foreign = resignWithNewKey(original);
    const resigned = join(dir, "resigned.gpkg.tar");
    writeFileSync(resigned, foreign.gpkg);
    chmodSync(altered, 0o644);
    chmodSync(resigned, 0o644);
    assert.deepEqual(portageVerdicts(f, [join(f.pkgdir, ZLIB_2), altered, resigned]), [
      "accepted",
      "refused InvalidSignature",
      "refused InvalidSignature",
    ]);
    assert.deepEqual(verifyGpkg(resigned, foreign.publicKeyArmored, foreign.fingerprint), []);
    const signerKey = ok(
      run("gpg", ["--batch", "--homedir", f.signer.home, "--armor", "--export", f.signer.fpr]),
      "gpg --export",
    ).stdout;
    assert.notDeepEqual(verifyGpkg(resigned, signerKey, f.signer.fpr), []);
    const index = withIndexEntryFor(
      "VERSION: 0\n\nCPV: sys-libs/zlib-1.3.1\nMD5: x\nPATH: sys-libs/zlib/z.gpkg.tar\nSHA1: y\nSIZE: 1\n",
      "sys-libs/zlib/z.gpkg.tar",
      foreign.gpkg,
    );
    assert.match(index, new RegExp(`SIZE: ${foreign.gpkg.length}\n`));
    assert.doesNotMatch(index, /MD5: x|SHA1: y/);
  });
});

describe("build script: the retention prune (prune-packages.py)", () => {
  it("with 30 days keeps every package: the installed instance and packages built now", (t) => {
    const f = fixture(t);
    if (!f) return;
    const pkgdir = pkgdirCopy(f);
    const r = prune(f, pkgdir, 30);
    assert.deepEqual([r.status, r.stdout], [0, ""], r.stderr);
    assert.deepEqual(binaryPackages(pkgdir), [BASELAYOUT, ZLIB_1, ZLIB_2]);
  });

  it("with 0 days removes the package that is not installed and keeps the installed one", (t) => {
    const f = fixture(t);
    if (!f) return;
    // Without zlib's older instance (the next case), index rebuilt.
    const pkgdir = pkgdirCopy(f, [ZLIB_1]);
    const r = prune(f, pkgdir, 0);
    assert.deepEqual([r.status, r.stdout], [0, `${BASELAYOUT}\n`], r.stderr);
    assert.deepEqual(binaryPackages(pkgdir), [ZLIB_2]);
  });

  it("with 0 days also removes an older instance of an installed version (binpkg-multi-instance)", (t) => {
    const f = fixture(t);
    if (!f) return;
    const pkgdir = pkgdirCopy(f);
    const r = prune(f, pkgdir, 0);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").sort(), [BASELAYOUT, ZLIB_1]);
    assert.deepEqual(binaryPackages(pkgdir), [ZLIB_2]);
  });

  it("runs again after a prune that no reindex followed (a build that failed at upload)", (t) => {
    const f = fixture(t);
    if (!f) return;
    const pkgdir = pkgdirCopy(f, [ZLIB_1]);
    const first = prune(f, pkgdir, 0);
    assert.deepEqual([first.status, first.stdout], [0, `${BASELAYOUT}\n`], first.stderr);
    const again = prune(f, pkgdir, 0);
    assert.deepEqual([again.status, again.stdout], [0, ""], again.stderr);
    assert.deepEqual(binaryPackages(pkgdir), [ZLIB_2]);
  });
});
