/**
 * What a PushedFiles pushes, read from the inputs of its FilePush (one dynamic resource named
 * as the PushedFiles) as the recording mocks (test/support/mocks.ts) saw them: each destination
 * with its text or local file, mode, owner and whether it is secret. Reading the files also
 * checks the push's own consistency: the manifest, the texts and the local files name the same
 * destinations, each fingerprint is its content's (an HMAC for a secret), and the texts are a
 * secret as soon as one of them is.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { contentFingerprint, secretFingerprint } from "../../lib/host/push-plan";
import type { Registered } from "./mocks";

/** The type token of a FilePush. */
export const FILE_PUSH = "pulumi-nodejs:dynamic/gentoo-infra:FilePush";

/** Pulumi's signature on a secret value as it reaches the mocks: `{ [SIG_KEY]: SECRET_SIG, value }`. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a recorded input is a secret. */
export const isSecretInput = (value: unknown): boolean =>
  typeof value === "object" &&
  value !== null &&
  (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;

/** A recorded input without its secret wrapper, if any. */
const unwrap = (value: unknown): unknown =>
  isSecretInput(value) ? (value as { value: unknown }).value : value;

/** One pushed file. */
export interface PushedFileView {
  /** The text pushed; undefined for a local file. */
  readonly content?: string;
  /** The absolute local path of a file pushed byte for byte; undefined for a text. */
  readonly localPath?: string;
  /** Octal mode. */
  readonly mode: string;
  /** `user:group`. */
  readonly owner: string;
  /** Whether the text is a secret (its fingerprint is an HMAC, not the text's SHA-256). */
  readonly secret: boolean;
}

/** The inputs of the one FilePush named `name` in `list`. */
export function filePushInputs(list: readonly Registered[], name: string): Record<string, unknown> {
  const found = list.filter((r) => r.type === FILE_PUSH && r.name === name);
  assert.equal(found.length, 1, `${FILE_PUSH} ${name} registered ${found.length} times`);
  return (found[0] as Registered).inputs;
}

/**
 * The files the FilePush named `name` pushes, destination → file (in no particular order: the
 * mocks see the inputs with their keys sorted). With `hmacKey` (the server's SSH private key), each secret's fingerprint must be
 * the HMAC under that key; without it, an HMAC of the right form.
 */
export function pushedFiles(
  list: readonly Registered[],
  name: string,
  options: { hmacKey?: string } = {},
): Record<string, PushedFileView> {
  const inputs = filePushInputs(list, name);
  const manifest = inputs.files as Record<string, { hash: string; mode: string; owner: string }>;
  assert.ok(!isSecretInput(inputs.files), `${name}: the manifest is shown in previews`);
  const contents = (unwrap(inputs.contents) ?? {}) as Record<string, unknown>;
  const localPaths = (inputs.localPaths ?? {}) as Record<string, string>;
  assert.deepEqual(
    [...Object.keys(contents), ...Object.keys(localPaths)].sort(),
    Object.keys(manifest).sort(),
    `${name}: every file of the manifest has its text or its local file, and only one`,
  );
  const out: Record<string, PushedFileView> = {};
  let anySecret = false;
  for (const [path, entry] of Object.entries(manifest)) {
    const { hash, mode, owner } = entry;
    const localPath = localPaths[path];
    if (localPath !== undefined) {
      assert.equal(hash, contentFingerprint(readFileSync(localPath)), `${name}: ${path}'s hash`);
      out[path] = { localPath, mode, owner, secret: false };
      continue;
    }
    const secret = hash.startsWith("hmac-sha256:") || isSecretInput(contents[path]);
    const content = unwrap(contents[path]);
    assert.equal(typeof content, "string", `${name}: ${path}'s text`);
    const text = content as string;
    if (secret) {
      anySecret = true;
      if (options.hmacKey === undefined) {
        assert.match(hash, /^hmac-sha256:[0-9a-f]{64}$/, `${name}: ${path}'s fingerprint`);
      } else {
        assert.equal(hash, secretFingerprint(options.hmacKey, text), `${name}: ${path}'s HMAC`);
      }
    } else {
      assert.equal(hash, contentFingerprint(text), `${name}: ${path}'s hash`);
    }
    out[path] = { content: text, mode, owner, secret };
  }
  if (anySecret) {
    // The SDK hands the mocks the whole map as one secret once a value in it is one (the
    // engine keeps the others readable: test/engine/push.test.ts).
    assert.ok(isSecretInput(inputs.contents), `${name}: the texts hold a secret`);
  }
  return out;
}

/** The text the FilePush named `name` pushes to `path`. */
export function pushedText(list: readonly Registered[], name: string, path: string): string {
  const file = pushedFiles(list, name)[path];
  assert.ok(file, `${FILE_PUSH} ${name} pushes no ${path}`);
  assert.ok(file.content !== undefined, `${FILE_PUSH} ${name} pushes ${path} as a local file`);
  return file.content;
}

/** Each file's `mode owner`, destination → text, to compare a whole manifest at once. */
export function modesAndOwners(files: Record<string, PushedFileView>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([p, f]) => [p, `${f.mode} ${f.owner}`]));
}
