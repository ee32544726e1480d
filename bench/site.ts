/**
 * What the benches that bring examples/minimal up share: keeping a failed site for a look
 * (GI_BENCH_KEEP=1) and taking it down again (destroy, then virsh for whatever destroy left,
 * the stack, the work directory and the bench's harness lease).
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { sleep } from "../test/support/blank-machine";
import { removeLibvirtObjects } from "../test/support/libvirt";
import type { PulumiProgram } from "../test/support/pulumi";

const HARNESS = path.join(__dirname, "../scripts/libvirt-harness");

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
