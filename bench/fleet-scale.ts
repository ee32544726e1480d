/**
 * Fleet scale (issue 17): what a site pays per machine, beside a hand-written baseline.
 *
 * Ours: examples/minimal (RootCa, a Stack, BinhostMirror, PxeInstallHost, one builder) on the
 * harness's libvirtd, on a /16 so that it holds a fleet, brought up with 1 machine and grown
 * to each count in turn (1, 100, 400, 1000 by default). At each count: `pulumi preview` of the
 * stack as it is (what every pull request pays) and a no-change `pulumi up`, each timed, with
 * the peak memory of the whole process tree (CLI, language host, program, providers: the sum
 * of their resident sets, sampled every 250 ms). The up that grows the fleet is timed too, and
 * at the end 100 machines are added to the running install host (from the largest count).
 *
 * Baseline: bench/programs/tls-baseline, the per-machine certificates written by hand with
 * @pulumi/tls (key, CSR, signed certificate, for host and puppet: 6 resources per machine), the
 * same key algorithms as ours (ECDSA P-384 host keys, RSA-4096 puppet keys), same counts, same
 * measurements, no VM.
 *
 * Printed: a Markdown table per program, the per-machine slope of preview and of the
 * no-change up between the smallest and the largest count, and the ratio of our slope to the
 * baseline's.
 *
 *   npm run bench fleet-scale
 *   GI_FLEET_COUNTS=1,100,400 npm run bench fleet-scale    (other counts; ascending)
 *   GI_FLEET_ONLY=ours npm run bench fleet-scale            (one program: ours or baseline)
 *   GI_BENCH_KEEP=1 ...                                     (keep the site after a failure)
 *
 * Needs root, the toolchain, the images of `npm run setup`. Growing to 1000 machines
 * generates 1000 RSA-4096 keys in each program (minutes of CPU each). Figures of a run:
 * docs/benchmarks.md.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { PulumiProgram, processTree } from "../test/support/pulumi";
import { keepFailedSite, startBenchSite, tearDownSite } from "./site";

const NETNS = process.env.GI_NETNS ?? "gentoo-infra";
const COUNTS = (process.env.GI_FLEET_COUNTS ?? "1,100,400,1000")
  .split(",")
  .map((c) => Number.parseInt(c, 10));
const ADD = 100;
const ONLY = process.env.GI_FLEET_ONLY ?? "";
/** The environment of an up that saves the state only at its end. */
const SKIP_CHECKPOINTS = { PULUMI_EXPERIMENTAL: "true", PULUMI_SKIP_CHECKPOINTS: "true" };
const TIMEOUT_MS = 90 * 60_000;

/** Seconds and peak memory (MiB, summed over the process tree) of one CLI command. */
interface Measured {
  readonly seconds: number;
  readonly peakMiB: number;
  /** Peak resident set per part of the tree (MiB): CLI, language host, program, each provider. */
  readonly peakByPart: Readonly<Record<string, number>>;
  /** Its standard output, with `keepOutput`. */
  readonly stdout?: string;
}

/** Resident set of `pid` in KiB (0 once it is gone). */
function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Which part of a Pulumi run process `pid` is. */
function partOf(pid: number): string {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (cmdline.includes("cmd/dynamic-provider")) return "dynamic providers (node)";
    if (cmdline.includes("cmd/run/index.js")) return "program (node)";
    if (comm === "pulumi") return "CLI and engine";
    if (comm.startsWith("pulumi-language")) return "language host";
    // comm is cut at 15 characters: the provider's name is in its path.
    const plugin = /pulumi-resource-([\w-]+)$/.exec(cmdline.split("\0")[0] ?? "");
    if (plugin) return `provider ${plugin[1]}`;
    return "other";
  } catch {
    return "other";
  }
}

/** Runs `pulumi args` for `program` (in its namespace, if any), timed and sampled. */
function measure(
  program: PulumiProgram,
  args: readonly string[],
  keepOutput = false,
  env: NodeJS.ProcessEnv = {},
): Promise<Measured> {
  const argv = ["pulumi", ...args, "--non-interactive", "--stack", program.stack];
  const [file, rest] = program.netns
    ? ["ip", ["netns", "exec", program.netns, ...argv]]
    : [argv[0] as string, argv.slice(1)];
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, rest, {
      cwd: program.dir,
      env: { ...program.env, ...env },
      stdio: "pipe",
    });
    let output = "";
    const stdout: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => {
      if (keepOutput) stdout.push(b);
      output = `${output}${b}`.slice(-20_000);
    });
    child.stderr.on("data", (b: Buffer) => {
      output = `${output}${b}`.slice(-20_000);
    });
    let peak = 0;
    const peakByPart: Record<string, number> = {};
    const sampler = setInterval(() => {
      if (!child.pid) return;
      const byPart: Record<string, number> = {};
      let sum = 0;
      for (const pid of processTree(child.pid)) {
        const kib = rssKiB(pid);
        const part = partOf(pid);
        byPart[part] = (byPart[part] ?? 0) + kib;
        sum += kib;
      }
      peak = Math.max(peak, sum);
      for (const [part, kib] of Object.entries(byPart)) {
        peakByPart[part] = Math.max(peakByPart[part] ?? 0, kib / 1024);
      }
    }, 250);
    const timer = setTimeout(() => child.kill("SIGTERM"), TIMEOUT_MS);
    child.on("close", (code) => {
      clearInterval(sampler);
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code === 0) {
        resolve({
          seconds,
          peakMiB: peak / 1024,
          peakByPart,
          ...(keepOutput ? { stdout: Buffer.concat(stdout).toString("utf8") } : {}),
        });
      } else reject(new Error(`pulumi ${args.join(" ")} exited with ${code}:\n${output}`));
    });
  });
}

/**
 * Per resource type, how many resources an up's engine events (`up --json`) show and the seconds
 * from each one's start (resource pre-event) to its outputs, longest first.
 */
function whereTimeGoes(log: string): { type: string; count: number; sum: number; max: number }[] {
  const started = new Map<string, number>();
  const byType = new Map<string, { type: string; count: number; sum: number; max: number }>();
  for (const line of log.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    const e = JSON.parse(line) as {
      timestamp: number;
      resourcePreEvent?: { metadata: { urn: string; type: string; op: string } };
      resOutputsEvent?: { metadata: { urn: string; type: string; op: string } };
    };
    if (typeof e.timestamp !== "number") continue;
    const pre = e.resourcePreEvent?.metadata;
    if (pre && pre.op !== "same") started.set(pre.urn, e.timestamp);
    const done = e.resOutputsEvent?.metadata;
    const start = done ? started.get(done.urn) : undefined;
    if (done && start !== undefined) {
      const t = byType.get(done.type) ?? { type: done.type, count: 0, sum: 0, max: 0 };
      const seconds = e.timestamp - start;
      byType.set(done.type, {
        type: done.type,
        count: t.count + 1,
        sum: t.sum + seconds,
        max: Math.max(t.max, seconds),
      });
    }
  }
  return [...byType.values()].sort((a, b) => b.max - a.max);
}

/** One row: a count and what it cost. */
interface Row {
  readonly machines: number;
  readonly grow?: Measured;
  readonly preview: Measured;
  readonly up: Measured;
}

/** Grows `program` to each count (config `machineCount`), measuring at each. */
async function series(program: PulumiProgram, label: string): Promise<Row[]> {
  const rows: Row[] = [];
  let first = true;
  for (const machines of COUNTS) {
    await program.setConfig("machineCount", String(machines));
    // Growing is the bench's setup, not a figure of it: the file backend writes the whole state
    // after every step, so an up that adds N machines to M costs O(N·(M+N)) in writes alone
    // (measured: 300 machines added to the baseline's 100 took over 15 minutes of CLI CPU).
    // The grows skip those writes (Pulumi's experimental PULUMI_SKIP_CHECKPOINTS); the measured
    // up that adds 100 machines at the end writes them, as a user's up does.
    const grow = await measure(
      program,
      ["up", "--yes", "--skip-preview"],
      false,
      first ? {} : SKIP_CHECKPOINTS,
    );
    const preview = await measure(program, ["preview"]);
    const up = await measure(program, ["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    const row = { machines, ...(first ? {} : { grow }), preview, up };
    rows.push(row);
    console.error(
      `${label} ${machines}: ${first ? "first up" : "grown"} ${grow.seconds.toFixed(1)} s, preview ${preview.seconds.toFixed(1)} s / ${preview.peakMiB.toFixed(0)} MiB, no-change up ${up.seconds.toFixed(1)} s`,
    );
    first = false;
  }
  return rows;
}

const s = (m: Measured | undefined) => (m ? `${m.seconds.toFixed(1)} s` : "(site up)");
const mib = (m: Measured) => `${m.peakMiB.toFixed(0)} MiB`;

function table(title: string, rows: readonly Row[]): string {
  return [
    `### ${title}`,
    "",
    "| machines | up that grew it (state saved once) | preview | preview peak memory | no-change up | no-change up peak memory |",
    "|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.machines} | ${s(r.grow)} | ${s(r.preview)} | ${mib(r.preview)} | ${s(r.up)} | ${mib(r.up)} |`,
    ),
    "",
  ].join("\n");
}

/** Where the peak memory of the preview at each program's largest count is, by part. */
function memoryByPart(programs: readonly [string, readonly Row[]][]): string {
  const largest = programs.filter(([, rows]) => rows.length > 0);
  const parts = [
    ...new Set(largest.flatMap(([, rows]) => Object.keys(rows.at(-1)?.preview.peakByPart ?? {}))),
  ].sort();
  return [
    `Peak resident memory of the preview at ${COUNTS.at(-1)} machines, by part (each part's own peak):`,
    "",
    `| part | ${largest.map(([label]) => label).join(" | ")} |`,
    `|---|${largest.map(() => "---:|").join("")}`,
    ...parts.map(
      (part) =>
        `| ${part} | ${largest.map(([, rows]) => `${(rows.at(-1)?.preview.peakByPart[part] ?? 0).toFixed(0)} MiB`).join(" | ")} |`,
    ),
    "",
  ].join("\n");
}

/** Seconds per machine between the first and the last row. */
function slope(rows: readonly Row[], pick: (r: Row) => Measured): number {
  const a = rows[0] as Row;
  const b = rows[rows.length - 1] as Row;
  return (pick(b).seconds - pick(a).seconds) / (b.machines - a.machines);
}

async function main(): Promise<void> {
  if (
    COUNTS.length < 2 ||
    COUNTS.some((c, i) => !(c >= 1) || (i > 0 && c <= (COUNTS[i - 1] ?? 0)))
  ) {
    throw new Error(`GI_FLEET_COUNTS must be two or more ascending counts from 1 (got ${COUNTS})`);
  }
  if (!["", "ours", "baseline"].includes(ONLY)) {
    throw new Error(`GI_FLEET_ONLY must be ours or baseline (got ${ONLY})`);
  }
  // The baseline first: no VM, nothing of it running while ours is measured.
  let baseRows: Row[] = [];
  if (ONLY !== "ours") {
    const baseline = await PulumiProgram.create("bench/programs/tls-baseline");
    try {
      baseRows = await series(baseline, "baseline");
    } finally {
      // Its resources (keys, requests, certificates) live only in its state: removing the stack
      // is enough. A destroy of its 6000 resources wrote the whole state after each of them.
      await baseline.cleanup({ force: true });
    }
  }
  if (ONLY === "baseline") {
    console.log(table("hand-written @pulumi/tls baseline (6 resources per machine)", baseRows));
    console.log(memoryByPart([["baseline", baseRows]]));
    return;
  }

  const { program, work } = await startBenchSite("fleet", "fleet-scale");
  const used = spawnSync("ip", ["netns", "exec", NETNS, "ip", "-4", "-o", "addr"], {
    encoding: "utf8",
  }).stdout;
  const second = [...Array(100).keys()]
    .map((i) => 100 + i)
    .find((n) => !used.includes(` 10.${n}.`));
  if (second === undefined) throw new Error(`no free 10.N.0.0/16 (N 100-199) in ${NETNS}`);
  let failed = false;
  try {
    await program.setConfig("subnet", `10.${second}.0.0/16`);
    await program.setConfig("ipv6Prefix", `fd00:67:6a:${second}::/64`);
    await program.setConfig("tools", "false");
    const rows = await series(program, "ours");
    const largest = COUNTS[COUNTS.length - 1] as number;
    await program.setConfig("machineCount", String(largest + ADD));
    // `up --json` prints the engine's events, one JSON document per line, with timestamps.
    const add = await measure(program, ["up", "--yes", "--skip-preview", "--json"], true);
    console.error(`ours: ${ADD} machines added to ${largest} in ${add.seconds.toFixed(1)} s`);

    const previewSlope = slope(rows, (r) => r.preview);
    const upSlope = slope(rows, (r) => r.up);
    const ratio = (ours: number, pick: (r: Row) => Measured) => {
      if (baseRows.length === 0) return "| (not run) | |";
      const base = slope(baseRows, pick);
      return `| ${(base * 1000).toFixed(1)} ms | ${(ours / base).toFixed(2)}x |`;
    };
    console.log(
      [
        `## Fleet scale (${COUNTS.join(", ")} machines; this machine: ${spawnSync("nproc", { encoding: "utf8" }).stdout.trim()} cores)`,
        "",
        table("examples/minimal on a /16 (ours)", rows),
        ...(baseRows.length > 0
          ? [table("hand-written @pulumi/tls baseline (6 resources per machine)", baseRows)]
          : []),
        "| per machine | ours | baseline | ours / baseline |",
        "|---|---:|---:|---:|",
        `| preview | ${(previewSlope * 1000).toFixed(1)} ms ${ratio(previewSlope, (r) => r.preview)}`,
        `| no-change up | ${(upSlope * 1000).toFixed(1)} ms ${ratio(upSlope, (r) => r.up)}`,
        "",
        memoryByPart([
          ["ours", rows],
          ["baseline", baseRows],
        ]),
        `Adding ${ADD} machines to the running install host (${largest} → ${largest + ADD}): ${s(add)}, peak ${mib(add)}. Where its time goes (seconds from a resource's start to its outputs, by type; the engine runs them in parallel):`,
        "",
        "| resource type | resources | sum | longest |",
        "|---|---:|---:|---:|",
        ...whereTimeGoes(add.stdout ?? "").map(
          (t) => `| \`${t.type}\` | ${t.count} | ${t.sum.toFixed(1)} s | ${t.max.toFixed(1)} s |`,
        ),
      ].join("\n"),
    );
  } catch (error) {
    failed = true;
    await keepFailedSite(error, program);
    throw error;
  } finally {
    // Over a thousand machines: the destroy saves the state once, not after each resource.
    Object.assign(program.env, SKIP_CHECKPOINTS);
    await tearDownSite(program, work, failed);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
