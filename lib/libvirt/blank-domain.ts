/**
 * The libvirt domain of a blank machine: an empty qcow2 disk, network boot first and then the
 * disk, the serial console in a file. It stands for a new server switched on in the rack:
 * `gentoo-infra machine boot` and the e2e tier define one to watch a registered machine
 * PXE-install itself. BIOS machines use SeaBIOS (machine `pc`, QEMU's iPXE option ROM on the
 * virtio NIC); UEFI machines use OVMF (machine `q35`, its own PXE client, IPv4 only, no option
 * ROM), which chainloads the install host's iPXE binary.
 */
import { DEFAULT_UEFI_FIRMWARE } from "./domain-xml";

/** A blank machine's domain. */
export interface BlankDomain {
  /** The domain name. */
  readonly name: string;
  /** The boot NIC's MAC, as registered with the install host. */
  readonly mac: string;
  readonly firmware: "bios" | "uefi";
  /** The qcow2 disk (an absolute path QEMU can open). */
  readonly disk: string;
  /** Where QEMU appends the serial console. */
  readonly log: string;
  /** The libvirt network it is plugged into. */
  readonly network: string;
  /** Where a UEFI machine keeps its firmware variables (a copy of the template). */
  readonly nvram: string;
  /** @default 1024 */
  readonly memoryMiB?: number;
  /** @default "qemu" (TCG); "kvm" where /dev/kvm works */
  readonly domainType?: "qemu" | "kvm";
  /** @default Debian's OVMF (DEFAULT_UEFI_FIRMWARE) */
  readonly uefiFirmware?: { readonly code: string; readonly varsTemplate: string };
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "'": "&apos;",
  '"': "&quot;",
};

/** `value` as XML character data or attribute value. */
function xml(value: string): string {
  return value.replace(/[&<>'"]/g, (c) => XML_ESCAPES[c] ?? c);
}

/** The domain XML of a blank machine (`virsh define`). */
export function blankDomainXml(d: BlankDomain): string {
  const uefi = d.firmware === "uefi";
  const ovmf = d.uefiFirmware ?? DEFAULT_UEFI_FIRMWARE;
  const firmware = uefi
    ? `<loader readonly='yes' type='pflash'>${xml(ovmf.code)}</loader>
    <nvram template='${xml(ovmf.varsTemplate)}'>${xml(d.nvram)}</nvram>`
    : "<bios useserial='yes'/>";
  // UEFI: OVMF's own network stack boots (no iPXE option ROM), IPv4 only, as on a server
  // whose firmware has IPv6 network boot off: its boot order is then PXEv4, HTTPv4, disk.
  const sysinfo = uefi
    ? `
  <sysinfo type='fwcfg'>
    <entry name='opt/org.tianocore/IPv6Support'>no</entry>
  </sysinfo>`
    : "";
  const rom = uefi ? "\n      <rom enabled='no'/>" : "";
  const log = xml(d.log);
  return `<domain type='${d.domainType ?? "qemu"}'>
  <name>${xml(d.name)}</name>
  <memory unit='MiB'>${d.memoryMiB ?? 1024}</memory>
  <vcpu>1</vcpu>${sysinfo}
  <os>
    <type arch='x86_64' machine='${uefi ? "q35" : "pc"}'>hvm</type>
    ${firmware}
  </os>
  <features><acpi/><apic/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${xml(d.disk)}'/>
      <target dev='vda' bus='virtio'/>
      <boot order='2'/>
    </disk>
    <interface type='network'>
      <source network='${xml(d.network)}'/>
      <mac address='${xml(d.mac)}'/>
      <model type='virtio'/>
      <boot order='1'/>${rom}
    </interface>
    <serial type='file'><source path='${log}' append='on'/><target port='0'/></serial>
    <console type='file'><source path='${log}' append='on'/><target type='serial' port='0'/></console>
  </devices>
</domain>
`;
}
