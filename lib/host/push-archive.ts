/**
 * The archive a push sends in one SSH session: a POSIX tar (tar-stream, loaded on first use
 * so that a dynamic provider serialized by Pulumi requires it in its own process). No Pulumi.
 */
import type * as TarStream from "tar-stream";

/** One member: a name relative to the archive's root and its bytes. */
export interface ArchiveMember {
  readonly name: string;
  readonly data: Buffer;
}

/** The tar archive of `members`, regular files readable only by their owner. */
export async function tarArchive(members: readonly ArchiveMember[]): Promise<Buffer> {
  const tar = require("tar-stream") as typeof TarStream;
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (chunk: unknown) => {
      chunks.push(chunk as Buffer);
    });
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        { name: m.name, size: m.data.length, mode: 0o600, mtime: new Date(0) },
        m.data,
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  pack.finalize();
  return done;
}
