/**
 * An OpenSSH server on 127.0.0.1 for the engine tier (test/engine/command.test.ts,
 * test/engine/push.test.ts; its configuration also for the binhost of
 * test/render/build-script-unreachable.test.ts): a temporary host key and client key made here, root login by key
 * only, its log kept (`-e`) so that a test can count the sessions it accepted. Stopped by its
 * process.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import path from "node:path";

/** The server binary. */
export const SSHD = "/usr/sbin/sshd";

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port answers with an SSH banner; rejects after `ms`. */
export async function waitForSsh(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const banner = await new Promise<string>((resolve) => {
      const socket = new Socket();
      let data = "";
      socket.setTimeout(1000, () => socket.destroy());
      socket.on("data", (chunk) => {
        data += chunk.toString();
        socket.destroy();
      });
      socket.on("error", () => resolve(""));
      socket.on("close", () => resolve(data));
      socket.connect(port, "127.0.0.1");
    });
    if (banner.startsWith("SSH-2.0-")) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within ${ms} ms`);
}

/** An ED25519 key pair without passphrase at `file` and `file.pub`. */
export function keygen(file: string, comment: string): void {
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
}

/**
 * An sshd_config for a server on 127.0.0.1:`port` whose files are in `work`: host key
 * `host_key`, `sshd.pid`, `authorized_keys` (root login by key only).
 */
export function sshdConfig(work: string, port: number): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${path.join(work, "host_key")}`,
    `PidFile ${path.join(work, "sshd.pid")}`,
    `AuthorizedKeysFile ${path.join(work, "authorized_keys")}`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    // The temporary directory lives under the world-writable /tmp.
    "StrictModes no",
    "AcceptEnv GI_* PULUMI_COMMAND_*",
    "Subsystem sftp internal-sftp",
    "",
  ].join("\n");
}

/** A running sshd. */
export interface LocalSshd {
  readonly port: number;
  /** The client's private key (OpenSSH), authorized for root. */
  readonly privateKey: string;
  /** The server's host public key (`ssh-ed25519 AAAA… comment`). */
  readonly hostPublicKey: string;
  /** Everything sshd logged so far. */
  log(): string;
  /** Sessions accepted so far (one per SSH connection that logged in). */
  accepted(): number;
  /** Stops it (SIGTERM to its process). */
  stop(): void;
}

/** Starts sshd with its keys and configuration in `work` (an existing directory). */
export async function startSshd(work: string): Promise<LocalSshd> {
  keygen(path.join(work, "host_key"), "gi-test-host");
  keygen(path.join(work, "client_key"), "gi-test-client");
  const privateKey = await readFile(path.join(work, "client_key"), "utf8");
  await writeFile(
    path.join(work, "authorized_keys"),
    await readFile(path.join(work, "client_key.pub"), "utf8"),
  );
  const port = await freePort();
  await writeFile(path.join(work, "sshd_config"), sshdConfig(work, port));
  // sshd insists on its privilege separation directory (made by its service, which never runs here).
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  let log = "";
  const sshd: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", path.join(work, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  sshd.stderr?.on("data", (chunk) => {
    log += chunk.toString();
  });
  try {
    await waitForSsh(port, 10_000);
  } catch (error) {
    sshd.kill("SIGTERM");
    throw new Error(`${(error as Error).message}\nsshd log:\n${log}`);
  }
  return {
    port,
    privateKey,
    hostPublicKey: (await readFile(path.join(work, "host_key.pub"), "utf8")).trim(),
    log: () => log,
    accepted: () => log.match(/^Accepted publickey for /gm)?.length ?? 0,
    stop: () => {
      sshd.kill("SIGTERM");
    },
  };
}
