/**
 * The libvirt harness (scripts/libvirt-harness: virtlogd and libvirtd inside the network
 * namespace `gentoo-infra`) for tests that need a libvirtd: started when it is not running and
 * stopped again by the same test file; a harness someone else started is left running.
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
 * Registers before/after hooks of the current file: start the harness unless it runs, stop it
 * afterwards when this file started it. `enabled()` decides at run time (e.g. root and tools).
 */
export function useLibvirtHarness(enabled: () => boolean): void {
  let started = false;
  before(() => {
    if (!enabled() || harnessRunning()) return;
    const r = spawnSync(HARNESS, ["start"], { encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0)
      throw new Error(`scripts/libvirt-harness start failed:\n${r.stdout}${r.stderr}`);
    started = true;
  });
  after(() => {
    if (!started) return;
    const r = spawnSync(HARNESS, ["stop"], { encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0)
      throw new Error(`scripts/libvirt-harness stop failed:\n${r.stdout}${r.stderr}`);
  });
}
