/**
 * Pure logic of PushedFiles: where a file is staged on the server, the hash that tells a
 * change, and the script that installs staged files into place.
 */
import { createHash } from "node:crypto";
import { shQuote } from "./shell";

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
