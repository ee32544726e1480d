/** virsh against the harness's libvirtd, for tests that check what a program left behind. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

/** The libvirt URI the harness serves. */
export const LIBVIRT_URI = "qemu:///system";

/** `virsh ARGS`; fails the test when virsh fails. */
export function virsh(...args: string[]): string {
  const r = spawnSync("virsh", ["-c", LIBVIRT_URI, ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, `virsh ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** `<kind> <name>` of every domain, network, pool and volume whose name starts with `prefix`. */
export function libvirtObjects(prefix: string): string[] {
  const names = (out: string) =>
    out
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith(prefix));
  const volumes = names(virsh("pool-list", "--all", "--name")).flatMap((pool) =>
    names(virsh("vol-list", "--pool", pool)).map((v) => `volume ${v.split(/\s+/)[0]}`),
  );
  return [
    ...names(virsh("list", "--all", "--name")).map((n) => `domain ${n}`),
    ...names(virsh("net-list", "--all", "--name")).map((n) => `network ${n}`),
    ...names(virsh("pool-list", "--all", "--name")).map((n) => `pool ${n}`),
    ...volumes,
  ];
}
