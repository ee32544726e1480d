/**
 * Pure logic of a push (PushedFiles, FilePush): how a file's content is fingerprinted, which
 * files a push sends and removes, the plan and the command the server runs on the archive it
 * receives, and how a refresh reads the files back. No Pulumi, no SSH.
 */
import { createHash, createHmac } from "node:crypto";
import { scriptSource } from "./script-file";
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

/** The archive member holding the plan ({@link pushPlanDocument}); the archive's first. */
export const PUSH_PLAN_MEMBER = "push.json";

/**
 * The plan the server's installer reads (lib/host/push-install.py): the files (archive member
 * `files/<member>`, destination, mode, owner), the paths to remove and the command to run after
 * the change (empty: none).
 */
export function pushPlanDocument(
  files: readonly ArchivedFile[],
  remove: readonly string[],
  afterChange: string | undefined,
): string {
  return JSON.stringify({ files, remove, afterChange: afterChange ?? "" });
}

/**
 * The installer the server runs as root on the archive read from standard input (Python 3,
 * which every server we push to has: cloud-init and Portage are written in it). Every file is
 * first written beside its destination (`<path>.gi-push`, parent directories made); only when
 * all are there is each renamed into place (a rename is atomic), then removed files go and
 * `afterChange` runs. A failure before the renames leaves every destination as it was and no
 * `.gi-push` file behind. One process for the whole push: on a TCG guest, a process per file
 * cost more than the files.
 */
export const PUSH_INSTALLER = scriptSource(__dirname, "push-install.py");

/**
 * The command the push runs over SSH: the installer, given as an argument, reading the archive
 * from standard input, as root (through `sudo` unless the SSH user is root).
 */
export function pushCommand(user: string): string {
  return pythonAsRoot(user, PUSH_INSTALLER);
}

/** `python3 -c <source>` as root: through `sudo` unless the SSH user is root. */
function pythonAsRoot(user: string, source: string): string {
  return `${user === "root" ? "" : "sudo "}python3 -c ${shQuote(source)}`;
}

/** What the server says of one pushed file ({@link INSPECTOR}). */
export type ObservedFile =
  | { readonly missing: true }
  | {
      readonly sha256: string;
      readonly mode: string;
      readonly owner: string;
      /** Base64, for the files whose fingerprint is an HMAC. */
      readonly content?: string;
    };

/** The fingerprint recorded for a file that is not on the server (or not a regular file). */
export const MISSING = "missing";

/**
 * The program a refresh runs on the server as root (lib/host/push-inspect.py): reads
 * {@link inspectRequest} from standard input and prints each file's SHA-256, mode and owner
 * (and a secret file's content, whose HMAC only the provider can compute).
 */
export const INSPECTOR = scriptSource(__dirname, "push-inspect.py");

/** The command a refresh runs over SSH ({@link INSPECTOR}, as root). */
export function inspectCommand(user: string): string {
  return pythonAsRoot(user, INSPECTOR);
}

/** What a refresh asks the server: every recorded file, and which are secret. */
export function inspectRequest(files: PushManifest): string {
  const paths = Object.keys(files).sort(byPath);
  return JSON.stringify({
    files: paths,
    secret: paths.filter((p) => files[p]?.hash.startsWith("hmac-sha256:")),
  });
}

/**
 * The manifest as the server has it: each recorded file with the fingerprint, mode and owner
 * observed (`missing` for a file that is gone). `secretFingerprintOf` fingerprints a secret
 * file's content as the program does. A file that drifted then differs from what the program
 * wants, so the next `up` sends it again.
 */
export function observedManifest(
  recorded: PushManifest,
  observed: Readonly<Record<string, ObservedFile>>,
  secretFingerprintOf: (content: string) => string,
): PushManifest {
  return Object.fromEntries(
    Object.entries(recorded).map(([path, entry]): [string, PushedFileEntry] => {
      const now = observed[path];
      if (now === undefined || "missing" in now) return [path, { ...entry, hash: MISSING }];
      const hash =
        now.content !== undefined
          ? secretFingerprintOf(Buffer.from(now.content, "base64").toString("utf8"))
          : `sha256:${now.sha256}`;
      return [path, { hash, mode: now.mode, owner: now.owner }];
    }),
  );
}
