/**
 * Times what a machine sees of the farm (issue 13), on examples/minimal as a staging stack
 * (TCG, its own free /24, the linux Stack's builder, one registered machine, web1, BIOS; a
 * private copy of the stand-in tree whose release branch the bench cuts at develop):
 * - first boot: `gentoo-infra machine boot web1` from switching a blank VM on to a package
 *   (net-misc/openssh) installed from the binhost, by phase (the command's own lines,
 *   timestamped as they arrive): installer running, install reported, first boot from disk,
 *   sshd ready, package installed. Baseline in the same run: a plain reboot of the installed
 *   machine to sshd ready (power cycle, local-boot script, its disk);
 * - a promotion: develop has moved to the stand-in's zlib 1.3.2 bump; from
 *   `gentoo-infra promote development staging`, then `pulumi preview`, `pulumi up`, the
 *   builder's rebuild (its outcome's arrival and its phases), and on web1
 *   `gentoo-infra-sync` and `emerge --getbinpkg --usepkgonly -uDN @world` until zlib-1.3.2 is
 *   installed. Baseline: the rebuild's emerge phase (Portage building the bump on the
 *   builder), and the ratio of the whole rollout to it.
 *
 *   npm run bench machine-rollout    (this one; `npm run bench` runs every benchmark)
 *   GI_BENCH_KEEP=1 ...              (keep the site after a failure until Ctrl-C)
 *
 * Needs root, the toolchain, the images, the stage and the stand-in tree of `npm run setup`.
 * Prints Markdown tables.
 *
 * Figures of a run and what they say: docs/benchmarks.md.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import path from "node:path";
import { machineBootPlan } from "../lib/cli/machine-boot";
import { type SshTarget, sshRun } from "../lib/cli/ssh";
import { sleep } from "../test/support/blank-machine";
import { startNotifyListener } from "../test/support/build-site";
import { REPO_ROOT } from "../test/support/pulumi";
import { keepFailedSite, startBenchSite, tearDownSite } from "./site";

const NETNS = process.env.GI_NETNS ?? "gentoo-infra";
const CACHE = process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache");
const LINUX = "staging/amd64/linux";
const RELEASE = "release/bench";
const TIMEOUT = 45 * 60_000;

/** Runs `gentoo-infra ARGS` in the namespace with the outputs on stdin; each line timestamped. */
function timedCli(
  args: readonly string[],
  outputs: string,
): Promise<{ code: number | null; lines: { at: number; text: string }[]; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      "ip",
      ["netns", "exec", NETNS, path.join(REPO_ROOT, "scripts/gentoo-infra"), ...args],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const lines: { at: number; text: string }[] = [];
    let partial = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      const parts = (partial + String(d)).split("\n");
      partial = parts.pop() ?? "";
      for (const text of parts) lines.push({ at: Date.now(), text });
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, lines, stderr }));
    child.stdin.end(outputs);
  });
}

const seconds = (from: number, to: number) => ((to - from) / 1000).toFixed(1);

/** SSH to a guest from inside the namespace (the bench itself runs outside it). */
const sshIn = (target: SshTarget, command: string, timeoutMs: number) =>
  sshRun(target, command, { timeoutMs, netns: NETNS });

async function main(): Promise<void> {
  const { subnet, program, work } = await startBenchSite("br", "rollout");
  const trees = path.join(work, "trees");
  mkdirSync(trees);
  for (const repo of ["gentoo.git", "overlay.git"]) {
    const r = spawnSync("git", [
      "clone",
      "-q",
      "--mirror",
      path.join(CACHE, "trees", repo),
      path.join(trees, repo),
    ]);
    if (r.status !== 0) throw new Error(`git clone ${repo}: ${r.stderr}`);
  }
  symlinkSync(path.join(CACHE, "trees/distfiles"), path.join(trees, "distfiles"));
  const gentoo = path.join(trees, "gentoo.git");
  // Staging builds from its release branch: cut at develop, as `promote --release` does.
  const cut = await timedCli(
    [
      ...["promote", "development", "staging", "--release", RELEASE],
      ...["--repo", gentoo, "--repo", path.join(trees, "overlay.git")],
    ],
    "",
  );
  if (cut.code !== 0) throw new Error(`promote --release: ${cut.stderr}`);
  const bump = spawnSync("git", ["-C", gentoo, "rev-parse", "refs/heads/bump"], {
    encoding: "utf8",
  }).stdout.trim();
  const listener = await startNotifyListener(
    NETNS,
    subnet.replace(/\.0\/24$/, ".1"),
    30000 + (process.pid % 10000),
  );
  let failed = false;
  let outputs: Record<string, unknown> = {};
  try {
    await program.setConfig("subnet", subnet);
    await program.setConfig("notifyUrl", listener.url);
    await program.setConfig("treeDir", trees);
    await program.setConfig("environment", "staging");
    await program.setConfig("tools", "false");
    await program.up();
    outputs = await program.outputs({ showSecrets: true });
    const json = JSON.stringify(outputs);
    const first = await listener.next(LINUX, 0, TIMEOUT);
    if (first.status !== "success")
      throw new Error(`the first ${LINUX} build failed: ${JSON.stringify(first)}`);

    // First boot: machine boot web1, phases from its own lines.
    const boot = await timedCli(["machine", "boot", "web1"], json);
    if (boot.code !== 0) {
      throw new Error(
        `machine boot failed:\n${boot.lines.map((l) => l.text).join("\n")}\n${boot.stderr}`,
      );
    }
    const at = (re: RegExp) => boot.lines.find((l) => re.test(l.text))?.at;
    const start = at(/is switched on/) ?? 0;
    const phases: [string, number | undefined][] = [
      ["installer runs (firmware, iPXE, installer boot)", at(/the installer runs/)],
      ["install reported (stage fetched, unpacked, configured)", at(/reported success/)],
      ["first boot from its disk", at(/runs from its own disk/)],
      ["sshd ready", at(/ready: sshd listens/)],
      ["net-misc/openssh installed from the binhost", at(/: installed net-misc\/openssh/)],
    ];
    const web1 = (outputs.machines as Record<string, SshTarget>).web1 as SshTarget;
    const plan = machineBootPlan(outputs, "web1");
    // Baseline: a plain reboot of the installed machine to sshd ready.
    const readyCount = () =>
      (readFileSync(plan.domain.log, "latin1").match(/STAND-IN: ready/g) ?? []).length;
    const before = readyCount();
    const r0 = Date.now();
    await sshIn(web1, "systemctl reboot", 30_000);
    while (readyCount() === before) {
      if (Date.now() - r0 > TIMEOUT) throw new Error("web1 did not come back after a reboot");
      await sleep(1000);
    }
    const rebootSeconds = (Date.now() - r0) / 1000;
    const total = (phases[phases.length - 1]?.[1] ?? start) - start;

    console.log("First boot of web1 (BIOS, TCG) with `gentoo-infra machine boot`:\n");
    console.log("| phase | seconds since switched on | ratio to a reboot |");
    console.log("|---|---|---|");
    for (const [what, t] of phases) {
      const s = t === undefined ? Number.NaN : (t - start) / 1000;
      console.log(`| ${what} | ${s.toFixed(1)} | ${(s / rebootSeconds).toFixed(2)}x |`);
    }
    console.log(
      `| baseline: reboot of the installed machine to sshd ready | ${rebootSeconds.toFixed(1)} | 1.0x |`,
    );

    // The promotion: develop has the bump (a merge, not timed); from promote until web1 has
    // the new zlib.
    const linuxBuilds = listener.count(LINUX);
    spawnSync("git", ["-C", gentoo, "update-ref", "refs/heads/develop", bump]);
    const u0 = Date.now();
    const promoted = await timedCli(
      [
        "promote",
        "development",
        "staging",
        "--repo",
        gentoo,
        "--repo",
        path.join(trees, "overlay.git"),
      ],
      "",
    );
    if (promoted.code !== 0) throw new Error(`promote: ${promoted.stderr}`);
    const p0 = Date.now();
    await program.preview();
    const u1 = Date.now();
    await program.up();
    const u2 = Date.now();
    const rebuild = await listener.next(LINUX, linuxBuilds, TIMEOUT);
    if (rebuild.status !== "success")
      throw new Error(`the rebuild failed: ${JSON.stringify(rebuild)}`);
    const u3 = Date.now();
    const sync = await sshIn(web1, "gentoo-infra-sync", TIMEOUT);
    if (sync.code !== 0) throw new Error(`gentoo-infra-sync: ${sync.stderr}`);
    const u4 = Date.now();
    const emerge = await sshIn(
      web1,
      "emerge --color=n --nospinner --getbinpkg --usepkgonly -uDN @world >/dev/null 2>&1 && ls /var/db/pkg/sys-libs",
      TIMEOUT,
    );
    if (emerge.code !== 0 || !/zlib-1\.3\.2/.test(emerge.stdout)) {
      throw new Error(`emerge -uDN @world on web1: ${emerge.stdout}${emerge.stderr}`);
    }
    const u5 = Date.now();
    const portage = rebuild.phases.emerge ?? Number.NaN;
    const rollout = (u5 - u0) / 1000;
    console.log("\nA promotion (zlib 1.3.2 from develop to staging) reaching web1:\n");
    console.log("| step | seconds |");
    console.log("|---|---|");
    console.log(`| gentoo-infra promote development staging | ${seconds(u0, p0)} |`);
    console.log(`| pulumi preview | ${seconds(p0, u1)} |`);
    console.log(`| pulumi up | ${seconds(u1, u2)} |`);
    console.log(
      `| linux rebuild published (its outcome, after up ended; the build, started by up, took ${rebuild.durationSeconds.toFixed(1)} s, of it emerge ${portage.toFixed(1)} s) | ${seconds(u2, u3)} |`,
    );
    console.log(`| web1: gentoo-infra-sync | ${seconds(u3, u4)} |`);
    console.log(
      `| web1: emerge -uDN @world (zlib-1.3.2 and what it lacked) | ${seconds(u4, u5)} |`,
    );
    console.log(`| whole rollout, promote to zlib-1.3.2 on web1 | ${rollout.toFixed(1)} |`);
    console.log(
      `\nRatio of the whole rollout to Portage building the bump on the builder (baseline, ${portage.toFixed(1)} s): ${(rollout / portage).toFixed(2)}x`,
    );
    console.log(`First boot to a package installed: ${(total / 1000).toFixed(1)} s.`);
  } catch (error) {
    failed = true;
    await keepFailedSite(error, program);
    throw error;
  } finally {
    listener.stop();
    if (outputs.machines) await timedCli(["machine", "remove", "--all"], JSON.stringify(outputs));
    await tearDownSite(program, work, failed);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
