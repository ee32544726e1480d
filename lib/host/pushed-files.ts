import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { assertValid } from "../validation/resource-error";
import { FilePush } from "./file-push";
import {
  contentFingerprint,
  contentHash,
  type PushedFileEntry,
  secretFingerprint,
} from "./push-plan";
import type { Server } from "./server";
import { validatePushedFiles } from "./validate";

/** One file pushed to a server. */
export interface PushedFile {
  /** Absolute destination path on the server. */
  readonly path: string;
  /**
   * The content; a secret Output stays secret (state and preview show `[secret]`).
   * Give either `content` or `localPath`.
   */
  readonly content?: pulumi.Input<string>;
  /**
   * A local file pushed byte for byte instead of `content` (binary-safe: kernels,
   * initramfs images). Its SHA-256 is read when the program runs, so a changed file is
   * pushed again.
   * @default none: `content` is pushed
   */
  readonly localPath?: string;
  /**
   * Octal mode.
   * @default "0644"
   */
  readonly mode?: string;
  /**
   * `user:group`.
   * @default "root:root"
   */
  readonly owner?: string;
}

/** Arguments of {@link PushedFiles}. */
export interface PushedFilesArgs {
  /** The server to push to. */
  readonly server: Server;
  /** The files. */
  readonly files: readonly PushedFile[];
  /**
   * A shell command run as root after the files are in place, whenever any of them changed
   * (e.g. `nginx -t && systemctl reload nginx`).
   * @default none
   */
  readonly afterChange?: string;
}

/**
 * Files pushed to a {@link Server} over SSH and moved into place, with a command run after
 * any of them changes. A change updates this push only: the VM stays.
 *
 * Creates: one {@link FilePush} `<name>` (a dynamic resource) whose input `files` maps each
 * destination to its fingerprint, mode and owner, so that the preview names each file that
 * changes. An `up` sends the changed files in one SSH session (one tar archive, read as it
 * arrives by one python3 process on the server, lib/host/push-install.py), which writes them
 * beside their destinations, renames them into place, removes files no longer pushed and
 * runs `afterChange`. A file that did not change is not sent again; when the VM itself is
 * replaced (a new domain id), every file is sent again.
 */
export class PushedFiles extends pulumi.ComponentResource {
  /** SHA-256 over every file's path, mode, owner and fingerprint, in path order. */
  public readonly contentHash: pulumi.Output<string>;
  /** The push: depend on it to run after the files are in place. */
  public readonly push: FilePush;

  constructor(name: string, args: PushedFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:host:PushedFiles", name, {}, opts);
    assertValid(this, `PushedFiles "${name}"`, validatePushedFiles(args.files));

    const inputs = pushInputs(args.files, args.server.sshKey.privateKeyOpenssh);
    this.contentHash = pulumi.output(inputs.files).apply((manifest) =>
      contentHash(
        // By path: the files are a set, the order they were given in is not a change.
        Object.entries(manifest)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .flatMap(([path, e]) => [path, e.mode, e.owner, e.hash]),
      ),
    );
    this.push = new FilePush(
      name,
      {
        connection: args.server.sshTarget,
        vmId: args.server.vm.domain.id,
        ...inputs,
        ...(args.afterChange ? { afterChange: args.afterChange } : {}),
      },
      // Only into a VM whose cloud-init is done (its admin user, sudo and host key in place).
      { parent: this, dependsOn: [args.server.ready] },
    );
    this.registerOutputs({ contentHash: this.contentHash });
  }
}

/**
 * What a {@link FilePush} takes for `files`: the manifest (each destination's fingerprint,
 * mode and owner), the texts, and the local files' absolute paths.
 */
export function pushInputs(
  files: readonly PushedFile[],
  hmacKey: pulumi.Input<string>,
): {
  /** Per file, so that a preview shows a file whose content is not known yet as the only unknown. */
  files: Record<string, pulumi.Output<PushedFileEntry>>;
  contents: Record<string, pulumi.Input<string>>;
  localPaths: Record<string, string>;
} {
  const entries = files.map((f) =>
    pulumi
      .all([fingerprint(f, pulumi.output(hmacKey)), f.mode ?? "0644", f.owner ?? "root:root"])
      .apply(([hash, mode, owner]): PushedFileEntry => ({ hash, mode, owner })),
  );
  return {
    files: Object.fromEntries(
      files.map((f, i) => [f.path, entries[i] as pulumi.Output<PushedFileEntry>]),
    ),
    contents: Object.fromEntries(
      files.flatMap((f) => (f.localPath === undefined ? [[f.path, f.content ?? ""] as const] : [])),
    ),
    localPaths: Object.fromEntries(
      files.flatMap((f) =>
        f.localPath === undefined ? [] : [[f.path, resolve(f.localPath)] as const],
      ),
    ),
  };
}

/**
 * A file's fingerprint: the SHA-256 of a local file or of a text, or, for a secret text, an
 * HMAC keyed with a secret (the server's SSH private key), which reveals nothing of the
 * content and may therefore be shown in previews and kept in plain state.
 */
function fingerprint(f: PushedFile, hmacKey: pulumi.Output<string>): pulumi.Output<string> {
  if (f.localPath !== undefined) {
    return pulumi.output(contentFingerprint(readFileSync(f.localPath)));
  }
  const content = pulumi.output(f.content ?? "");
  return pulumi
    .output(pulumi.isSecret(content))
    .apply((secret) =>
      secret
        ? pulumi.unsecret(
            pulumi.all([hmacKey, content]).apply(([key, text]) => secretFingerprint(key, text)),
          )
        : content.apply((text) => contentFingerprint(text)),
    );
}
