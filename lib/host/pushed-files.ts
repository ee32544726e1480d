import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { assertValid } from "../validation/resource-error";
import { type Server, STAGING_DIR } from "./server";
import { contentHash, installScript, pathSlug, stagedPath } from "./staged-files";
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
   * initramfs images). Its SHA-256 is read when the program runs, so a changed file
   * re-runs the install command.
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
 * any of them changes. A change updates these resources only: the VM stays.
 *
 * Creates: one `command.remote.CopyToRemote` per file (`<name>-<path slug>`, so the preview
 * names each changed file) into the server's staging directory (made by the Server at first boot), and one
 * `command.remote.Command` `<name>-install` that installs them and runs `afterChange`,
 * replaced whenever a file's content changes. When the VM itself is replaced (a new domain
 * id), every file is copied and installed again.
 */
export class PushedFiles extends pulumi.ComponentResource {
  /** SHA-256 over every file's path and content (secret when any content is). */
  public readonly contentHash: pulumi.Output<string>;

  constructor(name: string, args: PushedFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:host:PushedFiles", name, {}, opts);
    assertValid(this, `PushedFiles "${name}"`, validatePushedFiles(args.files));

    const connection = args.server.connection;
    // A replaced VM keeps its address and key, so the connection alone would not show that the
    // new VM lacks the files: its domain id triggers every copy and the install again.
    const vmId = args.server.vm.domain.id;
    const copies = args.files.map(
      (f) =>
        new command.remote.CopyToRemote(
          `${name}-${pathSlug(f.path)}`,
          {
            connection,
            source:
              f.localPath === undefined
                ? pulumi.output(f.content ?? "").apply((text) => new pulumi.asset.StringAsset(text))
                : new pulumi.asset.FileAsset(f.localPath),
            remotePath: stagedPath(STAGING_DIR, name, f.path),
            triggers: [vmId],
          },
          // Only into a VM whose cloud-init has made the staging directory.
          { parent: this, dependsOn: [args.server.ready] },
        ),
    );
    this.contentHash = pulumi
      .all(
        args.files.map((f) =>
          f.localPath === undefined ? (f.content ?? "") : `file sha256:${fileSha256(f.localPath)}`,
        ),
      )
      .apply((contents) =>
        contentHash(
          args.files.flatMap((f, i) => [
            f.path,
            f.mode ?? "0644",
            f.owner ?? "root:root",
            contents[i] ?? "",
          ]),
        ),
      );
    const script = installScript(
      args.files.map((f) => ({
        staged: stagedPath(STAGING_DIR, name, f.path),
        path: f.path,
        mode: f.mode ?? "0644",
        owner: f.owner ?? "root:root",
      })),
      args.afterChange,
    );
    new command.remote.Command(
      `${name}-install`,
      {
        connection,
        create: script,
        triggers: [this.contentHash, vmId],
      },
      { parent: this, dependsOn: copies },
    );
    this.registerOutputs({ contentHash: this.contentHash });
  }
}

function fileSha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}
