/**
 * virsh against the harness's libvirtd and its second hypervisor, for tests that check what a
 * program left behind.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

/** The libvirt URI the harness serves. */
export const LIBVIRT_URI = "qemu:///system";

/**
 * A libvirtd as virsh reaches it: its URI, and the network namespace virsh runs in when the URI
 * is remote (the harness's second hypervisor is reached over qemu+ssh from the first namespace).
 */
export interface LibvirtConnection {
  readonly uri: string;
  readonly netns?: string;
}

/** The lines of a virsh listing that start with `prefix` (trimmed). */
function startingWith(prefix: string, listing: string): string[] {
  return listing
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith(prefix));
}

/** virsh and the clean-up helpers below, against one libvirtd. */
export function libvirtOn(connection: LibvirtConnection) {
  const command = (args: readonly string[]): [string, string[]] =>
    connection.netns
      ? ["ip", ["netns", "exec", connection.netns, "virsh", "-c", connection.uri, ...args]]
      : ["virsh", ["-c", connection.uri, ...args]];

  /** `virsh ARGS` without failing the test: for clean-ups and objects that may not exist. */
  const virshQuiet = (...args: string[]) => {
    const [file, argv] = command(args);
    return spawnSync(file, argv, { encoding: "utf8", timeout: 120_000 });
  };

  /** `virsh ARGS`; fails the test when virsh fails. */
  const virsh = (...args: string[]): string => {
    const r = virshQuiet(...args);
    assert.equal(r.status, 0, `virsh -c ${connection.uri} ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  /** Powers off and undefines a domain, with its NVRAM (no error if it does not exist). */
  const removeDomain = (name: string): void => {
    virshQuiet("destroy", name);
    virshQuiet("undefine", "--nvram", name);
  };

  /** `<kind> <name>` of every domain, network, pool and volume whose name starts with `prefix`. */
  const libvirtObjects = (prefix: string): string[] => {
    const names = (out: string) => startingWith(prefix, out);
    const volumes = names(virsh("pool-list", "--all", "--name")).flatMap((pool) =>
      names(virsh("vol-list", "--pool", pool)).map((v) => `volume ${v.split(/\s+/)[0]}`),
    );
    return [
      ...names(virsh("list", "--all", "--name")).map((n) => `domain ${n}`),
      ...names(virsh("net-list", "--all", "--name")).map((n) => `network ${n}`),
      ...names(virsh("pool-list", "--all", "--name")).map((n) => `pool ${n}`),
      ...volumes,
    ];
  };

  /**
   * Removes every domain, network and pool (with its volumes and directory) whose name starts
   * with `prefix`: what a run leaves when its `pulumi destroy` cannot run (an up that timed out
   * keeps the stack locked). Persistent networks and pools autostart with the next libvirtd, so
   * without this one failed run breaks the next (a network "already in use" on the same subnet).
   * Best effort; returns what it could not remove.
   */
  const removeLibvirtObjects = (prefix: string): string[] => {
    const names = (...args: string[]) => startingWith(prefix, virshQuiet(...args).stdout ?? "");
    for (const d of names("list", "--all", "--name")) removeDomain(d);
    for (const n of names("net-list", "--all", "--name")) {
      virshQuiet("net-destroy", n);
      virshQuiet("net-undefine", n);
    }
    for (const p of names("pool-list", "--all", "--name")) {
      for (const line of (virshQuiet("vol-list", "--pool", p).stdout ?? "").split("\n").slice(2)) {
        const volume = line.trim().split(/\s+/)[0];
        if (volume) virshQuiet("vol-delete", "--pool", p, volume);
      }
      virshQuiet("pool-destroy", p);
      // Its directory, on whichever host it is (libvirt removes it only when empty).
      virshQuiet("pool-delete", p);
      virshQuiet("pool-undefine", p);
    }
    try {
      return libvirtObjects(prefix);
    } catch (error) {
      return [`(virsh failed: ${error})`];
    }
  };

  return { virsh, virshQuiet, removeDomain, libvirtObjects, removeLibvirtObjects };
}

/** The harness's first hypervisor, where the tests run virsh directly. */
export const { virsh, virshQuiet, removeDomain, libvirtObjects, removeLibvirtObjects } = libvirtOn({
  uri: LIBVIRT_URI,
});
