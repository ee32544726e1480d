/**
 * One command over one SSH connection, with bytes on its standard input: the transport of a
 * push (./file-push). ssh2 (pure JavaScript, in process) is loaded on first use, so that a
 * dynamic provider serialized by Pulumi requires it in its own process. No Pulumi. (The CLI's
 * lib/cli/ssh.ts runs the `ssh` binary instead: it must enter the guests' network namespace.)
 */
import type * as Ssh2 from "ssh2";

/** Where and as whom to connect. */
export interface SshConnection {
  /** Address or host name. */
  readonly host: string;
  /** @default 22 */
  readonly port?: number;
  /** The user. */
  readonly user: string;
  /** The user's private key (OpenSSH or PEM). */
  readonly privateKey: string;
  /**
   * The server's host public key (`ssh-ed25519 AAAA…`): when given, a server presenting
   * another key is refused before anything is sent.
   * @default any host key is accepted, as @pulumi/command's connections do
   */
  readonly hostPublicKey?: string;
  /**
   * Attempts to connect before giving up (a booting guest refuses connections for a while).
   * @default 10
   */
  readonly dialErrorLimit?: number;
  /**
   * Seconds one attempt may take.
   * @default 15
   */
  readonly perDialTimeout?: number;
}

/** What the command printed. */
export interface SshExecResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` on `target`, `stdin` on its standard input; rejects unless it exits 0. */
export async function sshExec(
  target: SshConnection,
  command: string,
  stdin: Buffer,
): Promise<SshExecResult> {
  const client = await connect(target);
  try {
    return await exec(client, target, command, stdin);
  } finally {
    client.end();
  }
}

/** The key blob of an OpenSSH public key line (`<type> <base64> [comment]`). */
export function publicKeyBlob(line: string): Buffer | undefined {
  const b64 = line.trim().split(/\s+/)[1];
  return b64 ? Buffer.from(b64, "base64") : undefined;
}

async function connect(target: SshConnection): Promise<Ssh2.Client> {
  const { Client } = require("ssh2") as typeof Ssh2;
  const attempts = Math.max(1, target.dialErrorLimit ?? 10);
  const expected =
    target.hostPublicKey === undefined ? undefined : publicKeyBlob(target.hostPublicKey);
  const keyType = target.hostPublicKey?.trim().split(/\s+/)[0] ?? "";
  let last: Error | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let hostKeyRefused = false;
    try {
      return await new Promise<Ssh2.Client>((resolve, reject) => {
        const client = new Client();
        client
          .on("ready", () => resolve(client))
          .on("error", (err) => reject(err))
          .connect({
            host: target.host,
            port: target.port ?? 22,
            username: target.user,
            privateKey: target.privateKey,
            readyTimeout: (target.perDialTimeout ?? 15) * 1000,
            ...(expected
              ? {
                  // Ask for the pinned key's type, so that a server with several keys shows it.
                  algorithms: { serverHostKey: [keyType] as Ssh2.ServerHostKeyAlgorithm[] },
                  hostVerifier: (key: Buffer) => {
                    hostKeyRefused = !key.equals(expected);
                    return !hostKeyRefused;
                  },
                }
              : {}),
          });
      });
    } catch (err) {
      if (hostKeyRefused) {
        throw new Error(
          `ssh ${target.user}@${target.host}: the server's host key is not the pinned ${target.hostPublicKey?.split(/\s+/)[0]} key; refusing to push`,
        );
      }
      last = err as Error;
      if (attempt < attempts) await new Promise((r) => setTimeout(r, 2000));
    }
  }
  throw new Error(
    `ssh ${target.user}@${target.host}:${target.port ?? 22}: cannot connect after ${attempts} attempts: ${last?.message}`,
  );
}

function exec(
  client: Ssh2.Client,
  target: SshConnection,
  command: string,
  stdin: Buffer,
): Promise<SshExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code: number | null = null;
      let signal: string | undefined;
      stream.on("data", (d: Buffer) => out.push(d));
      stream.stderr.on("data", (d: Buffer) => errOut.push(d));
      stream.on("exit", (c: number | null, s?: string) => {
        code = c;
        signal = s;
      });
      stream.on("close", () => {
        const stdout = Buffer.concat(out).toString("utf8");
        const stderr = Buffer.concat(errOut).toString("utf8");
        if (code === 0) {
          resolve({ stdout, stderr });
          return;
        }
        const tail = stderr.trim().split("\n").slice(-20).join("\n");
        reject(
          new Error(
            `on ${target.user}@${target.host}: ${signal ? `killed by ${signal}` : `exit status ${code}`}${tail ? `:\n${tail}` : ""}`,
          ),
        );
      });
      stream.end(stdin);
    });
  });
}
