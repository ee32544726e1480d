/**
 * Times blank machines installing themselves through PxeInstallHost (issue 7): from starting
 * a blank VM (empty disk, network boot first) to its first boot from its own disk, the
 * median of 3 rounds, for one machine and for four at once; BIOS guests (SeaBIOS and QEMU's
 * iPXE ROM) or UEFI ones (OVMF, whose PXE loads the install host's snponly.efi), TCG.
 * Baseline in the same run: a plain restart of an installed machine (power on, network
 * boot, the local-boot script, its disk), so the ratio says what the install costs on top
 * of a boot on this machine under this load.
 *
 *   npm run bench pxe-install        (this one; `npm run bench` runs every benchmark)
 *   GI_BENCH_ROUNDS=1 ... (rounds; default 3)
 *   GI_BENCH_SCENARIOS=4 ... (machine counts to run, comma-separated; default 1,4)
 *   GI_BENCH_KEEP=1 ... (when a round fails, keep the site and the VMs until Ctrl-C)
 *   GI_BENCH_FIRMWARE=uefi ... (OVMF guests instead of BIOS ones)
 *
 * examples/minimal goes up once on the harness (four machines registered, its own free /24);
 * before each round the install host forgets the machines' reports (so netboot installs
 * again) and the disks are recreated empty. Phases come from the serial console: iPXE's
 * first line, the installer's first line, its SUCCESS line, the installed system's first line.
 * Needs root, the toolchain and the images of `npm run setup`. Prints Markdown tables.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DEFAULT_INSTALL_HOST_LAYOUT as LAYOUT } from "../lib/pxe/install-host-layout";
import { REPORT_INBOX, REPORT_STORE } from "../lib/pxe/install-report";
import { NETBOOT_UNITS } from "../lib/pxe/netboot-switch";
import {
  type BlankMachine,
  defineBlankMachine,
  FIRST_DISK_BOOT,
  type Firmware,
  freeSubnet,
  readSerial,
  removeDomain,
  run,
  sleep,
  startDomain,
  stopDomain,
  tail,
} from "../test/support/blank-machine";
import { PulumiProgram } from "../test/support/pulumi";
import { median, tearDownSite } from "./site";

const HARNESS = path.join(__dirname, "../scripts/libvirt-harness");
const NETNS = process.env.GI_NETNS ?? "gentoo-infra";
const ROUNDS = Number(process.env.GI_BENCH_ROUNDS ?? 3);
const SCENARIOS = (process.env.GI_BENCH_SCENARIOS ?? "1,4").split(",").map(Number);
const KEEP = Boolean(process.env.GI_BENCH_KEEP);
const FIRMWARE = ((f: string): Firmware => {
  if (f !== "bios" && f !== "uefi") throw new Error(`GI_BENCH_FIRMWARE=${f}: use bios or uefi`);
  return f;
})(process.env.GI_BENCH_FIRMWARE ?? "bios");
const TIMEOUT_MS = 20 * 60_000;

/** The markers on the serial console, in the order they appear. */
const PHASES = [
  ["iPXE", /iPXE (initialising|\d)/],
  ["installer", /gentoo-infra installer \[/],
  ["installed", /SUCCESS: installed /],
  ["disk boot", FIRST_DISK_BOOT],
] as const;
type Phase = (typeof PHASES)[number][0];
type Timeline = Record<Phase, number>;

const fmt = (x: number) => `${x.toFixed(1)} s`;

/** Starts every machine at once; resolves with each one's phase times (s from its start). */
async function timeBoots(machines: BlankMachine[], until: Phase): Promise<Timeline[]> {
  const starts = machines.map((m) => {
    const from = readSerial(m.log).length;
    startDomain(m.name);
    return { at: Date.now(), from };
  });
  const seen: Partial<Timeline>[] = machines.map(() => ({}));
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    machines.forEach((m, i) => {
      const start = starts[i] as { at: number; from: number };
      const text = readSerial(m.log).slice(start.from);
      if (/FAILED: /.test(text)) throw new Error(`${m.name}: the installer failed\n${tail(text)}`);
      for (const [phase, marker] of PHASES) {
        const times = seen[i] as Partial<Timeline>;
        if (times[phase] === undefined && marker.test(text)) {
          times[phase] = (Date.now() - start.at) / 1000;
        }
      }
    });
    if (seen.every((s) => s[until] !== undefined)) break;
    if (Date.now() > deadline) {
      throw new Error(`not every machine reached "${until}" within ${TIMEOUT_MS / 60_000} min`);
    }
    await sleep(250);
  }
  for (const m of machines) stopDomain(m.name);
  // Each machine installs once: a report the install host misses means a second install.
  machines.forEach((m, i) => {
    const text = readSerial(m.log).slice((starts[i] as { from: number }).from);
    const runs = text.match(/gentoo-infra installer \[[\d.]+ s\]: starting \(/g)?.length ?? 0;
    if (runs > 1) throw new Error(`${m.name}: the installer ran ${runs} times\n${tail(text)}`);
  });
  return seen as Timeline[];
}

async function main(): Promise<void> {
  if (spawnSync(HARNESS, ["use", String(process.pid)], { stdio: "inherit" }).status !== 0) {
    throw new Error("scripts/libvirt-harness use failed");
  }
  const work = mkdtempSync(path.join(tmpdir(), "gi-bench-pxe-"));
  chmodSync(work, 0o755);
  const program = await PulumiProgram.create("examples/minimal", {
    netns: NETNS,
    stack: `bp-${randomBytes(2).toString("hex")}`,
  });
  const prefix = `gi-${program.stack}`;
  let machines: BlankMachine[] = [];
  let diagnose = () => {};
  let failed = false;
  try {
    await program.setConfig("subnet", freeSubnet(NETNS, 200, 249));
    await program.setConfig("machineCount", "4");
    for (const n of [1, 2, 3, 4]) await program.setConfig(`web${n}Firmware`, FIRMWARE);
    const upStart = Date.now();
    await program.up();
    console.error(`examples/minimal up with 4 machines: ${fmt((Date.now() - upStart) / 1000)}`);
    const outputs = await program.outputs({ showSecrets: true });
    const pxe = (outputs.servers as Record<string, { address: string; privateKeyOpenssh: string }>)
      .pxe;
    if (!pxe) throw new Error("no pxe server in the outputs");
    const key = path.join(work, "pxe.key");
    writeFileSync(key, pxe.privateKeyOpenssh, { mode: 0o600 });
    const onInstallHost = (command: string) => {
      const r = run("ip", [
        ...["netns", "exec", NETNS, "ssh", "-i", key, "-o", "BatchMode=yes"],
        ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
        `gi-admin@${pxe.address}`,
        command,
      ]);
      if (r.status !== 0) throw new Error(`${command}: ${r.stderr}`);
      return r.stdout;
    };
    // On a failed round: what the install host saw (switch runs, requests, served files).
    diagnose = () => {
      for (const command of [
        `sudo -n ${LAYOUT.statusScript}`,
        `sudo -n journalctl --no-pager -o short-precise -u ${NETBOOT_UNITS.service} -u dnsmasq -n 300`,
        `sudo -n tail -n 200 ${LAYOUT.logDir}/access.log ${LAYOUT.logDir}/error.log`,
        `sudo -n ls -l --time-style=full-iso -R ${LAYOUT.wwwRoot}/install ${LAYOUT.wwwRoot}/ipxe ${LAYOUT.stateDir}`,
      ]) {
        try {
          console.error(`\n== install host: ${command}\n${onInstallHost(command)}`);
        } catch (e) {
          console.error(`\n== install host: ${command} failed: ${e}`);
        }
      }
    };
    const macs = [0, 1, 2, 3].map((i) => `52:54:00:47:49:${(0x50 + i).toString(16)}`);
    /** Fresh blank machines for web1..web<count>, the install host set to install them. */
    const fresh = (count: number) => {
      for (const m of machines) removeDomain(m.name);
      machines = macs.slice(0, count).map((mac, i) => {
        rmSync(path.join(work, `${prefix}-web${i + 1}.qcow2`), { force: true });
        rmSync(path.join(work, `${prefix}-web${i + 1}.log`), { force: true });
        return defineBlankMachine(work, `${prefix}-web${i + 1}`, mac, FIRMWARE, `${prefix}-lan`);
      });
      const reports = macs.flatMap((m) =>
        [REPORT_INBOX, REPORT_STORE].map(
          (d) => `${LAYOUT.stateDir}/${d}/${m.replaceAll(":", "-")}`,
        ),
      );
      onInstallHost(`sudo -n rm -f ${reports.join(" ")} && sudo -n ${LAYOUT.switchScript}`);
      return machines;
    };

    const results: { scenario: string; rounds: Timeline[][] }[] = [];
    let restarts: number[] = [];
    for (const count of SCENARIOS) {
      const rounds: Timeline[][] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const timeline = await timeBoots(fresh(count), "disk boot");
        rounds.push(timeline);
        console.error(
          `${count} machine(s), round ${round}: ${timeline.map((x) => fmt(x["disk boot"])).join(", ")}`,
        );
        if (count === 1) {
          // Baseline: restart the installed machine (network boot, local-boot script, disk).
          const [again] = await timeBoots(machines, "disk boot");
          restarts.push((again as Timeline)["disk boot"]);
        }
      }
      results.push({ scenario: count === 1 ? "one machine" : "four at once", rounds });
    }
    restarts = restarts.length ? restarts : [Number.NaN];

    const baseline = median(restarts);
    console.log(
      `Blank VM start to first boot from its own disk through PxeInstallHost (${FIRMWARE.toUpperCase()}, TCG, 2 cores, ${ROUNDS} rounds):\n`,
    );
    console.log("| scenario | rounds (slowest machine) | median | ratio to a plain restart |");
    console.log("|---|---|---|---|");
    for (const r of results) {
      const slowest = r.rounds.map((t) => Math.max(...t.map((x) => x["disk boot"])));
      console.log(
        `| ${r.scenario} | ${slowest.map(fmt).join(", ")} | ${fmt(median(slowest))} | ${(median(slowest) / baseline).toFixed(1)}x |`,
      );
    }
    console.log(
      `| baseline: restart of an installed machine (PXE, local-boot script, disk) | ${restarts.map(fmt).join(", ")} | ${fmt(baseline)} | 1.0x |`,
    );
    console.log("\nMedian time of each phase, from the VM's start (all machines of all rounds):\n");
    console.log(`| scenario | ${PHASES.map(([p]) => p).join(" | ")} |`);
    console.log(`|---|${PHASES.map(() => "---").join("|")}|`);
    for (const r of results) {
      const all = r.rounds.flat();
      console.log(
        `| ${r.scenario} | ${PHASES.map(([p]) => fmt(median(all.map((x) => x[p])))).join(" | ")} |`,
      );
    }
  } catch (error) {
    failed = true;
    diagnose();
    throw error;
  } finally {
    if (failed && KEEP) {
      console.error(
        `GI_BENCH_KEEP: site kept (stack ${program.stack}, VMs ${prefix}-web*, install host key ${work}/pxe.key); Ctrl-C or SIGTERM to pid ${process.pid} removes it`,
      );
      await new Promise((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
    }
    for (const m of machines) removeDomain(m.name);
    await tearDownSite(program, work, failed);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
