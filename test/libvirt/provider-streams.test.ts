/**
 * libvirt tier: the libvirt provider's streams over its one libvirt connection
 * (toolchain/libvirt/patches/go-libvirt-stream-order.patch, docs/libvirt.md "Known provider
 * faults"). libvirtd may send a download's first data before the call's reply; unpatched,
 * go-libvirt lost that data (the provider read back an empty cloud-init ISO: "corrupted-image:
 * EOF") and the rest of the download, arriving for a finished call, could deadlock the
 * connection: an up of the e2e tier hung for 15 minutes in CI.
 *
 * The fixture (test/libvirt/fixtures/cloudinit-streams) is a pool and 8 CloudInitDisks; each
 * refresh downloads the 8 ISOs at once. With two busy loops on the cores (as the e2e tier's
 * guests keep them busy), 20 refreshes must each finish within a minute; a hang fails with the
 * provider's waiting goroutines (test/support/pulumi.ts), an empty ISO with the provider's
 * error. The up before them uploads the 8 ISOs and reads each back. Then destroy leaves
 * nothing. Unpatched, 3 of 19 such refreshes failed, so this test passes unpatched about once
 * in 30 runs. Needs root (the harness).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { useLibvirtHarness } from "../support/harness";
import { libvirtObjects, removeLibvirtObjects } from "../support/libvirt";
import { PulumiProgram, TOOLCHAIN_HINT } from "../support/pulumi";
import { requireRoot, requireTools } from "../support/tools";

const DISKS = 8;
const REFRESHES = 20;
const REFRESH_TIMEOUT_MS = 60_000;
useLibvirtHarness(() => process.getuid?.() === 0);

/** A process that keeps one core busy until killed. */
function busyLoop(): ChildProcess {
  return spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
}

test("the libvirt provider streams ISOs back over one connection without hanging", async (t) => {
  if (!requireRoot(t, "libvirtd")) return;
  if (!requireTools(t, ["pulumi", "virsh"], TOOLCHAIN_HINT)) return;
  const program = await PulumiProgram.create("test/libvirt/fixtures/cloudinit-streams", {
    stack: `ps-${randomBytes(2).toString("hex")}`,
  });
  const prefix = `gi-${program.stack}`;
  const load = [busyLoop(), busyLoop()];
  let destroyed = false;
  try {
    await program.setConfig("disks", String(DISKS));
    await program.up();
    const seconds: number[] = [];
    for (let i = 0; i < REFRESHES; i++) {
      const start = Date.now();
      await program.run(
        ["refresh", "--yes", "--skip-preview", "--non-interactive", "--stack", program.stack],
        REFRESH_TIMEOUT_MS,
      );
      seconds.push((Date.now() - start) / 1000);
    }
    seconds.sort((a, b) => a - b);
    t.diagnostic(
      `${REFRESHES} refreshes of ${DISKS} CloudInitDisks: median ${seconds[REFRESHES / 2]} s, slowest ${seconds.at(-1)} s`,
    );
    assert.equal(
      libvirtObjects(prefix).filter((o) => o.startsWith("volume ")).length,
      DISKS,
      "every ISO is a volume of the pool",
    );
    await program.destroy();
    destroyed = true;
    assert.deepEqual(libvirtObjects(prefix), [], "destroy leaves no pool or volume");
  } finally {
    for (const p of load) p.kill("SIGKILL");
    if (!destroyed) removeLibvirtObjects(prefix);
    // After a failure the stack still lists what removeLibvirtObjects removed.
    await program.cleanup({ force: !destroyed });
  }
});
