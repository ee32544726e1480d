/**
 * What a compromised binhost does to a gpkg binary package, for the tests that prove an
 * installed machine refuses it: one byte altered inside the package, or every signature
 * replaced by one of another key; and the index entry updated to match, so that the refusal
 * comes from the signature check and not from the index digests. Host tools: GNU tar, gpg.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

function ok(file: string, args: readonly string[], cwd?: string): string {
  const r = spawnSync(file, args, { encoding: "utf8", cwd, timeout: 120_000 });
  if (r.status !== 0)
    throw new Error(`${file} ${args.join(" ")} failed: ${r.stderr}${r.error ?? ""}`);
  return r.stdout;
}

/**
 * Unpacks `gpkg`, lets `change` edit the members (`<dir>/<PF>-<BUILD_ID>/...`, `dir`
 * given), and packs them again in the same member order.
 */
function repack(gpkg: Buffer, change: (dir: string, base: string) => void): Buffer {
  const work = mkdtempSync(path.join(tmpdir(), "gi-tamper-"));
  try {
    const file = path.join(work, "in.gpkg.tar");
    writeFileSync(file, gpkg);
    const members = ok("tar", ["-tf", file]).trim().split("\n");
    const dir = path.join(work, "x");
    mkdirSync(dir);
    ok("tar", ["-xf", file, "-C", dir]);
    const [base] = readdirSync(dir);
    if (!base) throw new Error("empty gpkg");
    change(dir, path.join(dir, base));
    const out = path.join(work, "out.gpkg.tar");
    ok("tar", ["-cf", out, "-C", dir, ...members]);
    return readFileSync(out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The package with every bit of the middle byte of its image.tar.zst flipped. */
export function alterOneByte(gpkg: Buffer): Buffer {
  return repack(gpkg, (_dir, base) => {
    const image = readdirSync(base).find((m) => m.startsWith("image.tar"));
    if (!image) throw new Error("no image.tar.* in the gpkg");
    const bytes = readFileSync(path.join(base, image));
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0xff;
    writeFileSync(path.join(base, image), bytes);
  });
}

/**
 * The package re-signed by a fresh key (in a throwaway GnuPG home), as Portage signs: every
 * `.sig` an armored detached signature, the Manifest clear-signed. Returns the package and
 * the key's fingerprint and public key.
 */
export function resignWithNewKey(gpkg: Buffer): {
  gpkg: Buffer;
  fingerprint: string;
  publicKeyArmored: string;
} {
  const home = mkdtempSync(path.join(tmpdir(), "gi-foreign-gnupg-"));
  const gpg = (...args: string[]) => ok("gpg", ["--batch", "--quiet", "--homedir", home, ...args]);
  try {
    gpg(
      ...["--pinentry-mode", "loopback", "--passphrase", ""],
      ...["--quick-generate-key", "foreign signer <foreign@example.invalid>", "ed25519", "sign"],
    );
    const fingerprint = /^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/m.exec(
      gpg("--with-colons", "--list-secret-keys"),
    )?.[1];
    if (!fingerprint) throw new Error("no fingerprint for the foreign key");
    const out = repack(gpkg, (_dir, base) => {
      for (const sig of readdirSync(base).filter((m) => m.endsWith(".sig"))) {
        const member = path.join(base, sig.slice(0, -".sig".length));
        gpg("--yes", "--armor", "--detach-sign", "--output", path.join(base, sig), member);
      }
      const manifest = path.join(base, "Manifest");
      const signed = readFileSync(manifest, "utf8");
      // The cleartext between the armor header's blank line and the signature (RFC 4880
      // 7.1: lines starting with "-" are dash-escaped).
      const body = signed
        .split(/\r?\n-----BEGIN PGP SIGNATURE-----/)[0]
        ?.split(/\r?\n\r?\n/)
        .slice(1)
        .join("\n\n")
        .replace(/^- /gm, "");
      if (!body) throw new Error("the Manifest is not clear-signed");
      writeFileSync(manifest, `${body}\n`);
      gpg(
        "--yes",
        "--clear-sign",
        "--digest-algo",
        "SHA512",
        "--output",
        `${manifest}.new`,
        manifest,
      );
      rmSync(manifest);
      writeFileSync(manifest, readFileSync(`${manifest}.new`));
      rmSync(`${manifest}.new`);
    });
    return { gpkg: out, fingerprint, publicKeyArmored: gpg("--armor", "--export", fingerprint) };
  } finally {
    spawnSync("gpgconf", ["--homedir", home, "--kill", "all"]);
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The `Packages` index with the entry whose PATH is `pkgPath` describing `gpkg` (SIZE, MD5,
 * SHA1: the digests Portage's index carries). Throws when no entry has that PATH.
 */
export function withIndexEntryFor(index: string, pkgPath: string, gpkg: Buffer): string {
  const blocks = index.split(/\n\n/);
  let found = false;
  const digest = (algorithm: string) => createHash(algorithm).update(gpkg).digest("hex");
  const updated = blocks.map((block) => {
    if (!block.split("\n").includes(`PATH: ${pkgPath}`)) return block;
    found = true;
    return block
      .replace(/^SIZE: .*$/m, `SIZE: ${gpkg.length}`)
      .replace(/^MD5: .*$/m, `MD5: ${digest("md5")}`)
      .replace(/^SHA1: .*$/m, `SHA1: ${digest("sha1")}`);
  });
  if (!found) throw new Error(`no index entry with PATH ${pkgPath}`);
  return updated.join("\n\n");
}
