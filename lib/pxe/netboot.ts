/**
 * Netboot state as data: which script the install host serves a known MAC. A machine
 * installs until a successful install of its current generation is recorded; from then on
 * it boots its local disk, until an operator bumps `installGeneration` to ask for a
 * reinstall. So no machine reinstalls in a loop.
 */

import { macFileName, normalizeMac } from "../network/mac";
import { REPORT_INBOX } from "./install-report";

/** A successful install, as the installer reported it to the install host. */
export interface InstallRecord {
  /** The machine's MAC (any accepted form). */
  readonly mac: string;
  /** The install generation that completed. */
  readonly generation: number;
}

/** What a known machine's per-MAC iPXE script does. */
export type NetbootAction = "install" | "local-boot";

/**
 * `install` unless `records` holds a successful install of the machine's current generation
 * (or a later one), then `local-boot`.
 */
export function netbootAction(
  machine: { readonly mac: string; readonly installGeneration?: number },
  records: readonly InstallRecord[],
): NetbootAction {
  const mac = normalizeMac(machine.mac);
  const generation = machine.installGeneration ?? 1;
  const done = records.some((r) => normalizeMac(r.mac) === mac && r.generation >= generation);
  return done ? "local-boot" : "install";
}

/**
 * Paths on the install host's HTTP server (relative to its document root and base URL).
 * iPXE fetches scripts, kernels and initramfs images over HTTP; TFTP only serves iPXE itself.
 */
export const pxeHttpPaths = {
  /** The per-MAC iPXE script (`ipxe/52-54-00-12-34-56.ipxe`). */
  machineScript: (mac: string): string => `ipxe/${macFileName(mac)}.ipxe`,
  /** The script for unknown MACs: boot the local disk. */
  defaultScript: "ipxe/default.ipxe",
  /** The installer kernel for an arch. */
  installerKernel: (arch: string): string => `installer/${arch}/vmlinuz`,
  /** The installer initramfs for an arch. */
  installerInitramfs: (arch: string): string => `installer/${arch}/initramfs.img`,
  /**
   * An iPXE EFI binary served over HTTP to UEFI HTTP boot clients (`ipxe/snponly.efi`);
   * the same file the TFTP root holds.
   */
  httpBootFile: (file: string): string => `ipxe/${file}`,
  /** The per-MAC install configuration (JSON) the installer reads. */
  installConfig: (mac: string): string => `install/${macFileName(mac)}.json`,
  /** Where the installer reports its status: a WebDAV PUT of `status=…` and `generation=…` lines. */
  report: (mac: string): string => `${REPORT_INBOX}/${macFileName(mac)}`,
} as const;

/** Joins a base URL (with or without trailing slash) and a relative path. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}
