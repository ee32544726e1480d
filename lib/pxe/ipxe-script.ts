/**
 * iPXE scripts the install host serves over HTTP: a per-MAC install script, a per-MAC
 * local-boot script (netboot off after a successful install) and a default script for
 * unknown MACs. None of them writes anything to a disk.
 */

import { normalizeMac } from "../network/mac";
import type { Firmware } from "./disk-layout";
import type { Machine } from "./inventory";
import { joinUrl, pxeHttpPaths } from "./netboot";

/** Where the install host serves its files. */
export interface PxeHttpEndpoint {
  /** Base URL of the install host's HTTP server (`http://10.0.0.2`). */
  readonly baseUrl: string;
  /**
   * Extra kernel arguments for the installer (console settings and the like).
   * @default ["console=tty0", "console=ttyS0,115200"]
   */
  readonly kernelArguments?: readonly string[];
}

const DEFAULT_KERNEL_ARGUMENTS = ["console=tty0", "console=ttyS0,115200"];

/**
 * The install script for `machine`: fetch the installer kernel and initramfs for its arch
 * over HTTP and boot them, telling the installer its MAC and the URL of its install
 * configuration (`gi.mac=`, `gi.config=`). If a download fails it boots the local disk.
 */
export function renderInstallScript(machine: Machine, endpoint: PxeHttpEndpoint): string {
  const mac = normalizeMac(machine.mac) ?? machine.mac;
  const url = (path: string) => joinUrl(endpoint.baseUrl, path);
  const args = [
    "initrd=initrd",
    `gi.config=${url(pxeHttpPaths.installConfig(mac))}`,
    `gi.mac=${mac}`,
    ...(endpoint.kernelArguments ?? DEFAULT_KERNEL_ARGUMENTS),
  ];
  return [
    "#!ipxe",
    `# gentoo-infra: install ${machine.hostname} (${mac}) as ${machine.environment}/${machine.arch}/${machine.stack}, generation ${machine.installGeneration ?? 1}.`,
    "# Served until the installer reports success; then this MAC gets a local-boot script.",
    `kernel --name vmlinuz ${url(pxeHttpPaths.installerKernel(machine.arch))} ${args.join(" ")} || goto failed`,
    `initrd --name initrd ${url(pxeHttpPaths.installerInitramfs(machine.arch))} || goto failed`,
    "boot || goto failed",
    ":failed",
    `echo gentoo-infra: could not boot the installer for ${machine.hostname}, booting the local disk in 10 s`,
    "sleep 10",
    ...localBootLines(machine.firmware),
    "",
  ].join("\n");
}

/**
 * The local-boot script for a known machine whose install is done: BIOS machines boot the
 * first hard disk (`sanboot --no-describe --drive 0x80`), UEFI machines `exit 1` back to the
 * firmware. The status matters: EDK2's boot manager tries the next boot entry (the disk)
 * only when an entry fails; a plain `exit` (status 0) ends in the firmware's setup menu.
 */
export function renderLocalBootScript(machine: Machine): string {
  const mac = normalizeMac(machine.mac) ?? machine.mac;
  return [
    "#!ipxe",
    `# gentoo-infra: ${machine.hostname} (${mac}) is installed (generation ${machine.installGeneration ?? 1}); boot its local disk.`,
    "# Bump installGeneration to reinstall.",
    ...localBootLines(machine.firmware),
    "",
  ].join("\n");
}

/**
 * The script for MACs the install host does not know: boot the local disk and write
 * nothing. It detects the firmware from iPXE's `${platform}` (`pcbios` or `efi`).
 */
export function renderDefaultScript(): string {
  return [
    "#!ipxe",
    "# gentoo-infra: unknown machine; nothing is installed. Boot the local disk.",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an iPXE variable, expanded by iPXE
    "iseq ${platform} efi && exit 1 ||",
    "sanboot --no-describe --drive 0x80 ||",
    "exit",
    "",
  ].join("\n");
}

function localBootLines(firmware: Firmware): string[] {
  // `exit 1`: the firmware goes on to its next boot entry (see renderLocalBootScript).
  return firmware === "bios" ? ["sanboot --no-describe --drive 0x80 ||", "exit 1"] : ["exit 1"];
}
