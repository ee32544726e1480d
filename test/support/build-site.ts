/**
 * What the build-farm e2e test and bench/build-farm.ts share: a real HTTP listener for the
 * builders' outcome notifications inside the harness's network namespace, reading the
 * binhost's served index and packages over HTTPS from inside the namespace, and checking a
 * served gpkg's signatures with gpg against the package-signing public key alone.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BuildOutcome } from "../../lib/buildfarm/build-script-steps";
import { sleep } from "./blank-machine";

/** The outcomes a {@link NotifyListener} received, in arrival order. */
export interface NotifyListener {
  /** The URL builders POST to. */
  readonly url: string;
  /** Every outcome received so far. */
  readonly outcomes: BuildOutcome[];
  /** Waits for the next outcome of `buildProfile` after the first `after` ones of it. */
  next(buildProfile: string, after: number, timeoutMs: number): Promise<BuildOutcome>;
  /** How many outcomes of `buildProfile` arrived so far. */
  count(buildProfile: string): number;
  /** Stops the listener process. */
  stop(): void;
}

const LISTENER = `
const http = require("node:http");
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (d) => { body += d; });
  req.on("end", () => {
    process.stdout.write(JSON.stringify({ method: req.method, url: req.url, body }) + "\\n");
    res.writeHead(204);
    res.end();
  });
});
server.listen(Number(process.argv[1]), "0.0.0.0", () => process.stdout.write("listening\\n"));
`;

/**
 * Starts a real HTTP listener inside `netns` on `address:port` (the address must be the
 * namespace's side of the guests' network, e.g. the network's gateway).
 */
export async function startNotifyListener(
  netns: string,
  address: string,
  port: number,
): Promise<NotifyListener> {
  const child: ChildProcessWithoutNullStreams = spawn(
    "ip",
    ["netns", "exec", netns, process.execPath, "-e", LISTENER, String(port)],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const outcomes: BuildOutcome[] = [];
  let buffer = "";
  let listening = false;
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  child.stdout.on("data", (d) => {
    buffer += d;
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line === "listening") listening = true;
      else {
        const request = JSON.parse(line) as { method: string; body: string };
        if (request.method === "POST") outcomes.push(JSON.parse(request.body) as BuildOutcome);
      }
      nl = buffer.indexOf("\n");
    }
  });
  for (let i = 0; i < 100 && !listening; i++) await sleep(100);
  if (!listening) {
    child.kill();
    throw new Error(`the notification listener did not start: ${stderr}`);
  }
  const of = (profile: string) => outcomes.filter((o) => o.buildProfile === profile);
  return {
    url: `http://${address}:${port}/builds`,
    outcomes,
    count: (profile) => of(profile).length,
    async next(profile, after, timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const got = of(profile);
        if (got.length > after) return got[after] as BuildOutcome;
        if (Date.now() > end) {
          assert.fail(
            `no outcome of ${profile} within ${timeoutMs / 1000} s (received: ${JSON.stringify(outcomes)})`,
          );
        }
        await sleep(1000);
      }
    },
    stop: () => {
      child.kill();
    },
  };
}

/** Fetches `url` with curl inside `netns`, trusting `caFile`, resolving its host to `address`. */
export function fetchFromBinhost(
  netns: string,
  caFile: string,
  address: string,
  url: string,
  output?: string,
): { status: number | null; body: Buffer; stderr: string } {
  const u = new URL(url);
  const r = spawnSync(
    "ip",
    [
      ...["netns", "exec", netns, "curl", "-sS", "--fail", "--cacert", caFile],
      ...["--resolve", `${u.hostname}:443:${address}`],
      ...(output ? ["-o", output] : []),
      url,
    ],
    { timeout: 120_000, maxBuffer: 256 * 1024 * 1024 },
  );
  return { status: r.status, body: r.stdout, stderr: r.stderr.toString() };
}

/** One package entry of a Portage `Packages` index. */
export interface IndexEntry {
  readonly cpv: string;
  readonly path: string;
  readonly buildId: string;
}

/** Parses a `Packages` index: the header block, then one block per package. */
export function parsePackagesIndex(text: string): IndexEntry[] {
  const blocks = text.split(/\n\n+/).slice(1);
  return blocks
    .map((block) => {
      const fields = Object.fromEntries(
        block
          .split("\n")
          .filter((l) => l.includes(": "))
          .map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]),
      );
      return { cpv: fields.CPV ?? "", path: fields.PATH ?? "", buildId: fields.BUILD_ID ?? "" };
    })
    .filter((e) => e.cpv !== "");
}

/** The `category/package` of a CPV (`app-admin/sudo-1.9.17-r1` → `app-admin/sudo`). */
export function packageName(cpv: string): string {
  return cpv.replace(/-[0-9][^/]*$/, "");
}

/**
 * Checks a gpkg the way a client would, with a keyring that holds nothing but
 * `publicKeyArmored`: the clear-signed Manifest carries a valid signature by `fingerprint`,
 * every member's detached signature verifies, and every member's size and SHA512 match the
 * Manifest. Returns the problems (empty when it verifies).
 */
export function verifyGpkg(gpkg: string, publicKeyArmored: string, fingerprint: string): string[] {
  const work = mkdtempSync(path.join(tmpdir(), "gi-gpkg-"));
  const problems: string[] = [];
  try {
    const home = path.join(work, "gnupg");
    mkdirSync(home, { mode: 0o700 });
    writeFileSync(path.join(work, "key.asc"), publicKeyArmored);
    const gpg = (...args: string[]) =>
      spawnSync("gpg", ["--batch", "--homedir", home, ...args], { encoding: "utf8" });
    const imported = gpg("--import", path.join(work, "key.asc"));
    if (imported.status !== 0) return [`the public key does not import: ${imported.stderr}`];
    const unpacked = path.join(work, "x");
    mkdirSync(unpacked);
    const tar = spawnSync("tar", ["-xf", gpkg, "-C", unpacked], { encoding: "utf8" });
    if (tar.status !== 0) return [`not a tar archive: ${tar.stderr}`];
    const [dir] = readdirSync(unpacked);
    if (!dir) return ["empty archive"];
    const base = path.join(unpacked, dir);
    const manifest = path.join(base, "Manifest");
    const v = gpg("--status-fd", "1", "--verify", manifest);
    if (!new RegExp(`^\\[GNUPG:\\] VALIDSIG .* ${fingerprint}$`, "mi").test(v.stdout)) {
      problems.push(`Manifest: no valid signature by ${fingerprint}: ${v.stdout}${v.stderr}`);
    }
    const text = readFileSync(manifest, "utf8");
    const members = readdirSync(base).filter((f) => f !== "Manifest" && !f.endsWith(".sig"));
    for (const member of members) {
      const data = readFileSync(path.join(base, member));
      const line = text.split("\n").find((l) => l.startsWith(`DATA ${member} `));
      if (!line) {
        problems.push(`${member}: not in the Manifest`);
        continue;
      }
      const sha512 = createHash("sha512").update(data).digest("hex");
      if (!line.includes(` ${data.length} `) || !line.toLowerCase().includes(sha512)) {
        problems.push(`${member}: size or SHA512 differs from the Manifest`);
      }
      const sig = `${path.join(base, member)}.sig`;
      if (readdirSync(base).includes(`${member}.sig`)) {
        const d = gpg("--verify", sig, path.join(base, member));
        if (d.status !== 0) problems.push(`${member}.sig does not verify: ${d.stderr}`);
      } else if (member !== "gpkg-1") {
        problems.push(`${member} has no signature`);
      }
    }
    return problems;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
