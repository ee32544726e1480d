/**
 * Pure logic of a push (PushedFiles, FilePush): how a file's content is fingerprinted, which
 * files a push sends and removes, and the script the server runs on the archive it receives.
 * No Pulumi, no SSH.
 */
import { createHash, createHmac } from "node:crypto";
import { shQuote } from "./shell";

/** What a push records of one file: a fingerprint of its content, its mode and its owner. */
export interface PushedFileEntry {
  /**
   * `sha256:<hex>` of the content, or `hmac-sha256:<hex>` (keyed with the server's SSH private
   * key) when the content is a secret: it tells a change without telling the content.
   */
  readonly hash: string;
  /** Octal mode, e.g. `0644`. */
  readonly mode: string;
  /** `user:group`. */
  readonly owner: string;
}

/** Destination path → entry. */
export type PushManifest = Readonly<Record<string, PushedFileEntry>>;

/** What a push knows of the server and of its files, before or after a change. */
export interface PushState {
  /** The files. */
  readonly files: PushManifest;
  /** The server's VM (a new VM has none of the files). */
  readonly vmId: string;
  /** The address the push reaches. */
  readonly host: string;
  /** The command run as root after a change. */
  readonly afterChange?: string;
}

/** What one push does. */
export interface PushPlan {
  /** Destinations whose content, mode or owner is new to the server, in path order. */
  readonly send: readonly string[];
  /** Destinations no longer pushed, removed from the server, in path order. */
  readonly remove: readonly string[];
  /** Whether `afterChange` runs: something was sent or removed, or the command itself changed. */
  readonly runAfterChange: boolean;
}

/** The fingerprint of a content that is not secret. */
export function contentFingerprint(content: string | Buffer): string {
  return `sha256:${createHash("sha256").update(content).digest("hex")}`;
}

/** The fingerprint of a secret content: an HMAC under a key that is itself a secret. */
export function secretFingerprint(key: string, content: string): string {
  return `hmac-sha256:${createHmac("sha256", key).update(content).digest("hex")}`;
}

/** SHA-256 of a list of strings (length-prefixed, so that boundaries count), hex. */
export function contentHash(parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const p of parts) hash.update(`${Buffer.byteLength(p)}:`).update(p);
  return hash.digest("hex");
}

const sameEntry = (a: PushedFileEntry | undefined, b: PushedFileEntry) =>
  a !== undefined && a.hash === b.hash && a.mode === b.mode && a.owner === b.owner;

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The files to send and to remove to go from `before` (undefined: nothing pushed yet) to
 * `after`. A new VM or a new address gets every file again.
 */
export function planPush(before: PushState | undefined, after: PushState): PushPlan {
  const fresh = before === undefined || before.vmId !== after.vmId || before.host !== after.host;
  const send = Object.keys(after.files)
    .filter((path) => {
      const entry = after.files[path];
      return entry !== undefined && (fresh || !sameEntry(before?.files[path], entry));
    })
    .sort(byPath);
  const remove =
    before === undefined || fresh
      ? []
      : Object.keys(before.files)
          .filter((path) => !Object.hasOwn(after.files, path))
          .sort(byPath);
  const commandChanged = (before?.afterChange ?? "") !== (after.afterChange ?? "");
  return {
    send,
    remove,
    runAfterChange:
      after.afterChange !== undefined &&
      after.afterChange !== "" &&
      (send.length > 0 || remove.length > 0 || commandChanged),
  };
}

/** A file in the archive: its member name and where it goes. */
export interface ArchivedFile {
  /** The member's name in the archive (under `files/`). */
  readonly member: string;
  /** Absolute destination path. */
  readonly path: string;
  /** Octal mode. */
  readonly mode: string;
  /** `user:group`. */
  readonly owner: string;
}

/** The archive member holding {@link pushScript}. */
export const PUSH_SCRIPT_MEMBER = "push.sh";

/** Suffix of a file installed beside its destination before it is renamed into place. */
export const INCOMING_SUFFIX = ".gi-push";

/**
 * The script the server runs as root (`sh push.sh <dir>`, `<dir>` holding the extracted
 * archive). Every file is first installed beside its destination (`<path>.gi-push`, parent
 * directories created); only when all are there is each renamed into place (a rename is
 * atomic), then removed files go and `afterChange` runs. A failure before the renames leaves
 * every destination as it was and no `.gi-push` file behind.
 */
export function pushScript(
  files: readonly ArchivedFile[],
  remove: readonly string[],
  afterChange: string | undefined,
): string {
  const incoming = (path: string) => shQuote(`${path}${INCOMING_SUFFIX}`);
  const lines = ["set -eu", 'dir="$1"'];
  if (files.length > 0) {
    lines.push(
      `cleanup() { rm -f -- ${files.map((f) => incoming(f.path)).join(" ")}; }`,
      "trap cleanup EXIT",
    );
    for (const f of files) {
      const [user, group] = f.owner.split(":");
      lines.push(
        `install -D -m ${f.mode} -o ${shQuote(user ?? "root")} -g ${shQuote(group ?? "root")} "$dir"/${shQuote(`files/${f.member}`)} ${incoming(f.path)}`,
      );
    }
    for (const f of files) lines.push(`mv -f -- ${incoming(f.path)} ${shQuote(f.path)}`);
    lines.push("trap - EXIT");
  }
  for (const path of remove) lines.push(`rm -f -- ${shQuote(path)}`);
  if (afterChange) lines.push(`sh -c ${shQuote(afterChange)}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The command the push runs over SSH: extracts the archive read from standard input into a
 * fresh directory under `stagingDir` and runs its {@link pushScript}, as root (through
 * `sudo` unless the SSH user is root). The directory goes whatever happens.
 */
export function pushCommand(stagingDir: string, user: string): string {
  const inner = [
    `dir=$(mktemp -d ${shQuote(`${stagingDir}/push.XXXXXXXX`)})`,
    `trap 'rm -rf "$dir"' EXIT`,
    'tar -x -C "$dir" -f -',
    `sh "$dir"/${PUSH_SCRIPT_MEMBER} "$dir"`,
  ].join("; ");
  return `${user === "root" ? "" : "sudo "}sh -eu -c ${shQuote(inner)}`;
}
