/**
 * What the benches that bring examples/minimal up share: starting (the harness lease, a free
 * /24, a fresh stack, a work directory QEMU can read), keeping a failed site for a look
 * (GI_BENCH_KEEP=1) and taking it down again (destroy, then virsh for whatever destroy left,
 * the stack, the work directory and the bench's harness lease); and the median every bench
 * prints.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freeSubnet, sleep } from "../test/support/blank-machine";
import { removeLibvirtObjects } from "../test/support/libvirt";
import { PulumiProgram } from "../test/support/pulumi";

/** The median of some timings. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const HARNESS = path.join(__dirname, "../scripts/libvirt-harness");
const NETNS = process.env.GI_NETNS ?? "gentoo-infra";

/**
 * Takes a lease on the harness, picks a free /24 (192.168.200-229), makes a fresh stack
 * `<stackPrefix>-<4 hex>` of examples/minimal inside the namespace and a work directory
 * `gi-bench-<name>-*` readable by QEMU.
 */
export async function startBenchSite(
  stackPrefix: string,
  name: string,
): Promise<{ subnet: string; program: PulumiProgram; work: string }> {
  if (spawnSync(HARNESS, ["use", String(process.pid)], { stdio: "inherit" }).status !== 0) {
    throw new Error("scripts/libvirt-harness use failed");
  }
  const subnet = freeSubnet(NETNS, 200, 229);
  const program = await PulumiProgram.create("examples/minimal", {
    netns: NETNS,
    stack: `${stackPrefix}-${randomBytes(2).toString("hex")}`,
  });
  const work = mkdtempSync(path.join(tmpdir(), `gi-bench-${name}-`));
  chmodSync(work, 0o755);
  return { subnet, program, work };
}

/** With GI_BENCH_KEEP=1, prints `error` and keeps the site until Ctrl-C; returns otherwise. */
export async function keepFailedSite(error: unknown, program: PulumiProgram): Promise<void> {
  if (process.env.GI_BENCH_KEEP !== "1") return;
  console.error(error);
  console.error(`GI_BENCH_KEEP=1: the site (stack ${program.stack}) stays up; Ctrl-C to end`);
  for (;;) await sleep(60_000);
}

/**
 * Destroys the site; after a failed bench (or a failed destroy) removes what is left of the
 * stack's libvirt objects with virsh; removes the stack, `work` and the harness lease.
 */
export async function tearDownSite(
  program: PulumiProgram,
  work: string,
  failed: boolean,
): Promise<void> {
  let destroyed = true;
  await program.destroy().catch((e: unknown) => {
    console.error(`destroy failed: ${e}`);
    destroyed = false;
  });
  if (failed || !destroyed) {
    const left = removeLibvirtObjects(`gi-${program.stack}`);
    if (!destroyed) console.error(`removed by virsh instead: ${left.join(", ") || "nothing"}`);
  }
  await program.cleanup({ force: true });
  rmSync(work, { recursive: true, force: true });
  spawnSync(HARNESS, ["release", String(process.pid)], { stdio: "inherit" });
}
