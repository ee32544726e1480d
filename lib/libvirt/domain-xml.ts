/**
 * Pure helpers for the libvirt domains of our VMs: names, the domain type decision, the
 * default UEFI firmware and the XSLT that the libvirt provider applies to the domain XML it generates (the provider has no
 * field for a file-backed serial console, which we need to read a guest's boot log).
 */

/** libvirt domain types we create: `kvm` (hardware virtualisation) or `qemu` (TCG). */
export type DomainType = "kvm" | "qemu";

/** Default UEFI firmware paths (Debian's `ovmf` package). */
export const DEFAULT_UEFI_FIRMWARE = {
  code: "/usr/share/OVMF/OVMF_CODE_4M.fd",
  varsTemplate: "/usr/share/OVMF/OVMF_VARS_4M.fd",
} as const;

/** How a hypervisor picks its domain type. */
export type DomainTypeChoice = DomainType | "detect";

/** The facts `detect` decides from. */
export interface DomainTypeFacts {
  /** The hypervisor's libvirt URI. */
  readonly uri: string;
  /** Whether /dev/kvm on this machine can be opened for reading and writing. */
  readonly kvmUsable: boolean;
}

/** Whether a libvirt URI points at this machine (no host part). */
export function isLocalUri(uri: string): boolean {
  return /^[a-z0-9+]+:\/\/\/.*/.test(uri);
}

/**
 * Resolves a domain type choice: an explicit type wins; `detect` means `kvm` on a local URI
 * whose /dev/kvm is usable and `qemu` (TCG) otherwise. A remote hypervisor cannot be probed
 * from here, so `detect` gives TCG there: set `kvm` explicitly for remote KVM hosts.
 */
export function resolveDomainType(choice: DomainTypeChoice, facts: DomainTypeFacts): DomainType {
  if (choice !== "detect") return choice;
  return isLocalUri(facts.uri) && facts.kvmUsable ? "kvm" : "qemu";
}

/** The serial log of a domain under the hypervisor's log directory. */
export function serialLogPath(logDirectory: string, domainName: string): string {
  return `${logDirectory.replace(/\/+$/, "")}/${domainName}-serial.log`;
}

function xmlAttribute(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/'/g, "&apos;").replace(/</g, "&lt;");
}

/**
 * An XSLT stylesheet that copies the domain XML unchanged except that it drops any serial or
 * console device and adds one serial port writing to `logPath` (libvirt pairs the console
 * with serial port 0 by itself). Guests booted with `console=ttyS0` print their boot and
 * cloud-init output there.
 */
export function serialConsoleXslt(logPath: string): string {
  const path = xmlAttribute(logPath);
  return [
    '<?xml version="1.0"?>',
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">',
    '  <xsl:output omit-xml-declaration="yes" indent="yes"/>',
    '  <xsl:template match="node()|@*">',
    '    <xsl:copy><xsl:apply-templates select="node()|@*"/></xsl:copy>',
    "  </xsl:template>",
    '  <xsl:template match="/domain/devices/serial|/domain/devices/console"/>',
    '  <xsl:template match="/domain/devices">',
    "    <xsl:copy>",
    '      <xsl:apply-templates select="node()|@*"/>',
    "      <serial type='file'>",
    `        <source path='${path}' append='on'/>`,
    "        <target port='0'/>",
    "      </serial>",
    "    </xsl:copy>",
    "  </xsl:template>",
    "</xsl:stylesheet>",
    "",
  ].join("\n");
}
