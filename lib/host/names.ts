/**
 * Pure naming helpers for hosts and pushed files.
 */
import { createHash } from "node:crypto";

/**
 * A stable, locally administered MAC for a VM of ours, derived from its libvirt name
 * (QEMU's 52:54:00 prefix, then three bytes of SHA-256), so that cloud-init can match the
 * interface by MAC before the domain exists, and the MAC never changes between runs.
 */
export function derivedMac(seed: string): string {
  const hash = createHash("sha256").update(seed).digest();
  const tail = [hash[0], hash[1], hash[2]].map((b) => (b ?? 0).toString(16).padStart(2, "0"));
  return ["52", "54", "00", ...tail].join(":");
}

/** A resource-name-safe slug of a file path: `/etc/nginx/nginx.conf` → `etc-nginx-nginx.conf`. */
export function pathSlug(path: string): string {
  return path
    .replace(/^\/+/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/-+/g, "-");
}

/** SHA-256 of a list of strings (length-prefixed, so that boundaries count), hex. */
export function contentHash(parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const p of parts) hash.update(`${Buffer.byteLength(p)}:`).update(p);
  return hash.digest("hex");
}

/** Quotes a string for POSIX sh. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A staged file and where it goes. */
export interface PushedFileSpec {
  /** Where the file was staged on the host. */
  readonly staged: string;
  /** Absolute destination path. */
  readonly path: string;
  /** Octal mode. */
  readonly mode: string;
  /** `user:group`. */
  readonly owner: string;
}

/** Where the file for `path` of pushed-files set `set` is staged under `stagingDir`. */
export function stagedPath(stagingDir: string, set: string, path: string): string {
  return `${stagingDir}/${set}--${pathSlug(path)}`;
}

/**
 * The shell script that installs staged files into place (creating parent directories) and
 * then runs `afterChange` as root; it stops at the first failure.
 */
export function installScript(
  files: readonly PushedFileSpec[],
  afterChange: string | undefined,
): string {
  const lines = ["set -eu"];
  for (const f of files) {
    const [user, group] = f.owner.split(":");
    lines.push(
      `sudo install -D -m ${f.mode} -o ${shQuote(user ?? "root")} -g ${shQuote(group ?? "root")} ${shQuote(f.staged)} ${shQuote(f.path)}`,
    );
  }
  if (afterChange) lines.push(`sudo sh -c ${shQuote(afterChange)}`);
  return `${lines.join("\n")}\n`;
}
