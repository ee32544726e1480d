/**
 * The libvirt harness (scripts/libvirt-harness: virtlogd and libvirtd inside the network
 * namespace `gentoo-infra`) for tests that need a libvirtd.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before } from "node:test";
import { REPO_ROOT } from "./pulumi";

/** The harness script. */
export const HARNESS = path.join(REPO_ROOT, "scripts/libvirt-harness");
/** The network namespace the harness makes. */
export const NETNS = process.env.GI_NETNS ?? "gentoo-infra";

/** The network namespace of the harness's second hypervisor (`--hypervisors 2`). */
export const NETNS2 = process.env.GI_NETNS2 ?? `${NETNS}-kvm2`;
/** The state directory of the second hypervisor (scripts/libvirt-harness-kvm2.sh). */
export const KVM2_DIR = path.join(
  process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache"),
  "libvirt-harness-kvm2",
);

/** The qemu+ssh URI of the running second hypervisor, as the harness wrote it. */
export function secondHypervisorUri(): string {
  return readFileSync(path.join(KVM2_DIR, "client/uri"), "utf8").trim();
}

/**
 * A /24 of the range the first namespace routes to the second hypervisor (10.252.0.0/16) that no
 * network of the second uses yet.
 */
export function freeSecondSubnet(): string {
  const used = spawnSync("ip", ["-n", NETNS2, "-4", "-o", "addr"], { encoding: "utf8" }).stdout;
  for (let third = 1; third <= 250; third++) {
    if (!used.includes(` 10.252.${third}.`)) return `10.252.${third}.0/24`;
  }
  throw new Error(`no free /24 in 10.252.0.0/16 inside the namespace ${NETNS2}`);
}

/** Whether the harness is running. */
export function harnessRunning(): boolean {
  return spawnSync(HARNESS, ["status"], { encoding: "utf8" }).status === 0;
}

/**
 * Registers before/after hooks of the current file that lease the harness
 * (`scripts/libvirt-harness use|release <pid>`): it is started unless it runs, and the last
 * release stops it only when a lease started it, so test files running side by side never stop
 * it under each other and a harness started by hand stays. `enabled()` decides at run time.
 * With `hypervisors: 2` the lease also covers the second hypervisor (docs/libvirt.md "A second
 * hypervisor in the harness"), which the last such release stops if a lease started it.
 */
export function useLibvirtHarness(
  enabled: () => boolean,
  options: { readonly hypervisors?: 1 | 2 } = {},
): void {
  let leased = false;
  before(() => {
    if (!enabled()) return;
    const second = options.hypervisors === 2 ? ["--hypervisors", "2"] : [];
    const r = spawnSync(HARNESS, ["use", String(process.pid), ...second], {
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
