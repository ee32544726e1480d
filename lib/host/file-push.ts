/**
 * FilePush: a server's files sent in one SSH session (a Pulumi dynamic resource). The files'
 * fingerprints are inputs, so a preview names each file that changes; an update sends only
 * those, in one tar archive, and the server installs them beside their destinations before
 * renaming them into place, in one process ({@link PUSH_INSTALLER}). A refresh reads the files
 * back (lib/host/push-inspect.py): a file edited, removed, re-moded or re-owned on the server shows
 * as changed, and the next up sends it again.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { tarArchive } from "./push-archive";
import {
  contentFingerprint,
  inspectCommand,
  inspectRequest,
  type ObservedFile,
  observedManifest,
  PUSH_PLAN_MEMBER,
  type PushedFileEntry,
  type PushManifest,
  type PushState,
  planPush,
  pushCommand,
  pushPlanDocument,
  secretFingerprint,
} from "./push-plan";
import { type SshConnection, sshExec } from "./ssh-exec";

/** Inputs of {@link FilePush}. */
export interface FilePushArgs {
  /** How to reach the server (secret: it holds the private key). */
  readonly connection: pulumi.Input<SshConnection>;
  /** The server's VM id: a new VM gets every file again. */
  readonly vmId: pulumi.Input<string>;
  /**
   * Destination path → fingerprint, mode and owner (`pushInputs`). A secret text's fingerprint
   * is keyed with `connection.privateKey`, which a refresh uses to fingerprint what it reads.
   */
  readonly files: pulumi.Input<Record<string, pulumi.Input<PushedFileEntry>>>;
  /** Destination path → content, for files given as text (a secret stays secret). */
  readonly contents: Record<string, pulumi.Input<string>>;
  /** Destination path → absolute local path, for files sent byte for byte. */
  readonly localPaths: Record<string, string>;
  /**
   * Run as root after files were sent or removed, or when it changed itself.
   * @default none
   */
  readonly afterChange?: string;
}

/** What the provider receives: the inputs, resolved. */
interface FilePushInputs {
  readonly connection: SshConnection;
  readonly vmId: string;
  readonly files: PushManifest;
  readonly contents: Record<string, string>;
  readonly localPaths: Record<string, string>;
  readonly afterChange?: string;
}

/**
 * What the state keeps: no content; the connection (a secret, as its input is), which a
 * refresh needs to reach the server.
 */
interface FilePushOutputs extends PushState {
  readonly connection?: SshConnection;
  /** What the last push did. */
  readonly lastPush: { readonly sent: readonly string[]; readonly removed: readonly string[] };
}

const stateOf = (news: FilePushInputs): PushState => ({
  files: news.files,
  vmId: news.vmId,
  host: news.connection.host,
  ...(news.afterChange ? { afterChange: news.afterChange } : {}),
});

/** Sends what changed from `before` to `news` and returns the new state. */
async function push(
  before: PushState | undefined,
  news: FilePushInputs,
  previous: FilePushOutputs["lastPush"],
): Promise<FilePushOutputs> {
  const after = stateOf(news);
  const plan = planPush(before, after);
  if (plan.send.length === 0 && plan.remove.length === 0 && !plan.runAfterChange) {
    return { ...after, connection: news.connection, lastPush: previous };
  }
  const members = plan.send.map((path, i) => {
    const localPath = news.localPaths[path];
    const data =
      localPath === undefined ? Buffer.from(news.contents[path] ?? "") : readFileSync(localPath);
    const expected = news.files[path]?.hash ?? "";
    if (localPath !== undefined && contentFingerprint(data) !== expected) {
      throw new Error(`${localPath} (for ${path}) changed after the program read it: run up again`);
    }
    return { member: String(i), path, data };
  });
  const planDocument = pushPlanDocument(
    members.map(({ member, path }) => ({
      member,
      path,
      mode: news.files[path]?.mode ?? "0644",
      owner: news.files[path]?.owner ?? "root:root",
    })),
    plan.remove,
    plan.runAfterChange ? news.afterChange : undefined,
  );
  const archive = await tarArchive([
    { name: PUSH_PLAN_MEMBER, data: Buffer.from(planDocument) },
    ...members.map((m) => ({ name: `files/${m.member}`, data: m.data })),
  ]);
  await sshExec(news.connection, pushCommand(news.connection.user), archive);
  return {
    ...after,
    connection: news.connection,
    lastPush: { sent: plan.send, removed: plan.remove },
  };
}

/**
 * The dynamic provider of {@link FilePush}. A change is what the push would do: a file's
 * fingerprint, mode or owner, a file added or removed, a new VM or address, or a new
 * `afterChange`; nothing else (a new version of this code, a longer dial timeout) is, except
 * once for a push whose state has no connection yet (made before refresh could read it).
 */
export const filePushProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id: string, olds: FilePushOutputs, news: FilePushInputs) {
    const plan = planPush(olds, stateOf(news));
    const changes =
      plan.send.length > 0 ||
      plan.remove.length > 0 ||
      (olds.afterChange ?? "") !== (news.afterChange ?? "") ||
      // A push made before refresh could read it: one update, sending nothing, keeps the
      // connection a refresh needs.
      olds.connection === undefined;
    return { changes, replaces: [], deleteBeforeReplace: false };
  },

  async create(news: FilePushInputs) {
    const outs = await push(undefined, news, { sent: [], removed: [] });
    return { id: `${news.connection.host}:${news.vmId}`, outs };
  },

  async update(_id: string, olds: FilePushOutputs, news: FilePushInputs) {
    return { outs: await push(olds, news, olds.lastPush) };
  },

  // A refresh: the files as the server has them now. A state from before pushes kept their
  // connection cannot be read; the next up stores it.
  async read(id: string, props: FilePushOutputs) {
    if (props.connection === undefined || Object.keys(props.files).length === 0) {
      return { id, props };
    }
    const { connection } = props;
    const { stdout } = await sshExec(
      connection,
      inspectCommand(connection.user),
      Buffer.from(inspectRequest(props.files)),
    );
    const observed = JSON.parse(stdout) as Record<string, ObservedFile>;
    const files = observedManifest(props.files, observed, (content) =>
      secretFingerprint(connection.privateKey, content),
    );
    return { id, props: { ...props, files } };
  },

  // Deleting a push leaves its files: the server usually goes with it, and a server that
  // stays keeps working with the files it has.
  async delete() {},
};

/**
 * Files sent to a server in one SSH session per `up` (see the module's comment). Used by
 * {@link PushedFiles}, which computes the fingerprints.
 */
export class FilePush extends pulumi.dynamic.Resource {
  /** The files as last pushed. */
  declare public readonly files: pulumi.Output<PushManifest>;
  /** The paths the last push sent and removed. */
  declare public readonly lastPush: pulumi.Output<FilePushOutputs["lastPush"]>;

  constructor(name: string, args: FilePushArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      filePushProvider,
      name,
      {
        ...args,
        connection: pulumi.secret(args.connection),
        afterChange: args.afterChange ?? "",
        lastPush: undefined,
      },
      opts,
      "gentoo-infra",
      "FilePush",
    );
  }
}
