/**
 * The libvirt harness (scripts/libvirt-harness: virtlogd and libvirtd inside the network
 * namespace `gentoo-infra`) for tests that need a libvirtd.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { after, before } from "node:test";
import { REPO_ROOT } from "./pulumi";

/** The harness script. */
export const HARNESS = path.join(REPO_ROOT, "scripts/libvirt-harness");
/** The network namespace the harness makes. */
export const NETNS = process.env.GI_NETNS ?? "gentoo-infra";

/** Whether the harness is running. */
export function harnessRunning(): boolean {
  return spawnSync(HARNESS, ["status"], { encoding: "utf8" }).status === 0;
}

/**
 * Registers before/after hooks of the current file that lease the harness
 * (`scripts/libvirt-harness use|release <pid>`): it is started unless it runs, and the last
 * release stops it only when a lease started it, so test files running side by side never stop
 * it under each other and a harness started by hand stays. `enabled()` decides at run time.
 */
export function useLibvirtHarness(enabled: () => boolean): void {
  let leased = false;
  before(() => {
    if (!enabled()) return;
    const r = spawnSync(HARNESS, ["use", String(process.pid)], {
      encoding: "utf8",
      timeout: 180_000,
    });
    if (r.status !== 0) {
      throw new Error(`scripts/libvirt-harness use failed:\n${r.stdout}${r.stderr}`);
    }
    leased = true;
  });
  after(() => {
    if (!leased) return;
    const r = spawnSync(HARNESS, ["release", String(process.pid)], {
      encoding: "utf8",
      timeout: 180_000,
    });
    if (r.status !== 0) {
      throw new Error(`scripts/libvirt-harness release failed:\n${r.stdout}${r.stderr}`);
    }
  });
}
