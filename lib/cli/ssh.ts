/**
 * SSH for the CLI's commands that read or act on a site's guests (`build-status`,
 * `machine boot`): one command on one guest, its private key written to a temporary 0600
 * file that is removed afterwards. Guests' host keys are not in the stack outputs, so they
 * are not checked; run these commands on the host that reaches the site's network only.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where and as whom to log in. */
export interface SshTarget {
  readonly address: string;
  readonly user: string;
  /** The private key (OpenSSH format). */
  readonly privateKeyOpenssh: string;
}

/** The result of one remote command. */
export interface SshResult {
  /** The exit code (255: ssh itself failed; 124: stopped after the timeout). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` on `target` and resolves with its result (never rejects). */
export function sshRun(
  target: SshTarget,
  command: string,
  options: {
    readonly timeoutMs?: number;
    /** Run ssh inside this network namespace (`ip netns exec`), where the guests are. */
    readonly netns?: string;
  } = {},
): Promise<SshResult> {
  const dir = mkdtempSync(join(tmpdir(), "gi-ssh-"));
  const key = join(dir, "key");
  const pem = target.privateKeyOpenssh;
  writeFileSync(key, pem.endsWith("\n") ? pem : `${pem}\n`, { mode: 0o600 });
  return new Promise<SshResult>((resolve) => {
    const ns = options.netns === undefined ? [] : ["netns", "exec", options.netns, "ssh"];
    const child = spawn(
      ns.length ? "ip" : "ssh",
      [
        ...ns,
        ...["-i", key, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"],
        ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
        ...["-o", "LogLevel=ERROR"],
        // The destination comes from the stack's outputs: after "--", never read as an option.
        "--",
        `${target.user}@${target.address}`,
        command,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
          }, options.timeoutMs);
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", (error) => {
      stderr += String(error);
    });
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? 255), stdout, stderr });
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/**
 * Splits the output of a remote command that prints `<mark> <section>` lines before each
 * part into its parts by section name (each part's lines end with a newline).
 */
export function markedSections(output: string, mark: string): Record<string, string> {
  const sections: Record<string, string> = {};
  let current = "";
  for (const line of output.split("\n")) {
    if (line.startsWith(`${mark} `)) {
      current = line.slice(mark.length + 1).trim();
      sections[current] = "";
    } else if (current) {
      sections[current] += `${line}\n`;
    }
  }
  return sections;
}
