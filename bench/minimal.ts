/**
 * Times `pulumi up`, a no-change `pulumi up` and `pulumi destroy` of examples/minimal on the
 * harness's libvirt (TCG, network namespace gentoo-infra) and prints the figures, next to the
 * same three operations of the tls/random engine fixture run in the same session as a baseline
 * (so the ratios say how much is libvirt and the guests, not this machine's speed).
 *
 *   npm run bench            (all benchmarks)
 *   npm run bench minimal    (this one)
 *
 * Needs root, the toolchain and the images of `npm run setup`. Prints a Markdown table.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { PulumiProgram } from "../test/support/pulumi";

const HARNESS = `${__dirname}/../scripts/libvirt-harness`;
const NETNS = process.env.GI_NETNS ?? "gentoo-infra";

interface Times {
  up: number;
  noChangeUp: number;
  destroy: number;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function measure(dir: string, options: { netns?: string; stack?: string }): Promise<Times> {
  const program = await PulumiProgram.create(dir, options);
  try {
    const up = await timed(() => program.up());
    const noChangeUp = await timed(() => program.up({ expectNoChanges: true }));
    const destroy = await timed(() => program.destroy());
    return { up, noChangeUp, destroy };
  } finally {
    await program.cleanup({ force: true });
  }
}

async function main(): Promise<void> {
  // A lease: started unless running, stopped afterwards only if this lease started it.
  if (spawnSync(HARNESS, ["use", String(process.pid)], { stdio: "inherit" }).status !== 0) {
    throw new Error("scripts/libvirt-harness use failed");
  }
  try {
    const baseline = await measure("test/engine/fixtures/tls-random", {});
    const minimal = await measure("examples/minimal", {
      netns: NETNS,
      stack: `bn-${randomBytes(2).toString("hex")}`,
    });
    const row = (op: keyof Times, label: string) =>
      `| ${label} | ${minimal[op].toFixed(1)} s | ${baseline[op].toFixed(1)} s | ${(minimal[op] / baseline[op]).toFixed(1)}x |`;
    console.log("| operation | examples/minimal | baseline (tls/random fixture) | ratio |");
    console.log("|---|---|---|---|");
    console.log(row("up", "pulumi up"));
    console.log(row("noChangeUp", "pulumi up, no changes"));
    console.log(row("destroy", "pulumi destroy"));
  } finally {
    spawnSync(HARNESS, ["release", String(process.pid)], { stdio: "inherit" });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
