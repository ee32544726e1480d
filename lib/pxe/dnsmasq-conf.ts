/**
 * dnsmasq.conf for the install host: DHCP in full or proxy mode, TFTP serving only the
 * iPXE binaries, and the two-stage chainload (firmware PXE → iPXE over TFTP → per-MAC
 * script over HTTP). iPXE announces itself with DHCP user-class "iPXE"; that tag is what
 * stops the loop of iPXE chainloading iPXE.
 */

import { isIpv4Address, parseIpv4Subnet } from "../network/ipv4";
import { macTag, normalizeMac } from "../network/mac";
import { DNS_NAME } from "../validation/patterns";
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import type { Firmware } from "./disk-layout";
import { type Machine, type PxeNetwork, validateInventory } from "./inventory";
import { joinUrl, pxeHttpPaths } from "./netboot";

/**
 * `full`: the install host is the subnet's DHCP server (fixed addresses for known machines,
 * the dynamic range for others). `proxy`: another DHCP server hands out addresses; dnsmasq
 * only adds boot information, and only for known MACs.
 */
export type DhcpMode = "full" | "proxy";

/**
 * Which iPXE EFI binary UEFI machines load: `snponly` drives the NIC through the
 * firmware's SNP protocol (works on any NIC the firmware supports); `ipxe` carries iPXE's
 * own drivers.
 */
export type EfiBinary = "snponly" | "ipxe";

/** Inputs of {@link renderDnsmasqConf}. */
export interface DnsmasqConfArgs {
  /** DHCP mode. */
  readonly mode: DhcpMode;
  /** The network interface facing the install subnet (`eth1`). */
  readonly interface: string;
  /** The install subnet. */
  readonly network: PxeNetwork;
  /** Known machines. */
  readonly machines: readonly Machine[];
  /** Base URL of the install host's HTTP server, as iPXE reaches it (`http://10.0.0.2`). */
  readonly httpBaseUrl: string;
  /**
   * TFTP root; it should hold only the iPXE binaries ({@link ipxeTftpFiles}).
   * @default "/srv/tftp"
   */
  readonly tftpRoot?: string;
  /**
   * Lease time of the dynamic range (full mode only).
   * @default "12h"
   */
  readonly leaseTime?: string;
  /**
   * iPXE binary for UEFI machines.
   * @default "snponly"
   */
  readonly efiBinary?: EfiBinary;
  /**
   * Names dnsmasq answers DNS queries for, each with its IPv4 address (`host-record`), e.g.
   * the binhost's host name, so that the installer resolves the stage URL. With any record
   * dnsmasq serves DNS on the install subnet for these names only (nothing is forwarded);
   * without, DNS is off (`port=0`).
   * @default none
   */
  readonly hostRecords?: Readonly<Record<string, string>>;
}

const HOST_NAME = DNS_NAME;

/** Checks host records (name → IPv4 address) for dnsmasq's `host-record`; `at` names the argument. */
export function validateHostRecords(records: unknown, at = "hostRecords"): Violation[] {
  if (records === undefined) return [];
  if (typeof records !== "object" || records === null || Array.isArray(records)) {
    return [
      violation(
        at,
        records,
        "is not a map of host names to addresses",
        `use e.g. { "binhost.example.ch": "10.0.0.10" }`,
      ),
    ];
  }
  const out: Violation[] = [];
  for (const [name, address] of Object.entries(records)) {
    if (!HOST_NAME.test(name)) {
      out.push(
        violation(
          `${at}["${name}"]`,
          name,
          "is not a lower-case DNS name",
          "use e.g. binhost.example.ch",
        ),
      );
    }
    if (!isIpv4Address(address)) {
      out.push(
        violation(`${at}["${name}"]`, address, "is not an IPv4 address", "use e.g. 10.0.0.10"),
      );
    }
  }
  return out;
}

/** DHCP option 93 (client system architecture) values, RFC 4578 and IANA's registry. */
const CLIENT_ARCH = {
  bios: { tag: "bios", codes: [0], csa: "x86PC" },
  "uefi/amd64": { tag: "efi-x86-64", codes: [7, 9], csa: "x86-64_EFI" },
  "uefi/arm64": { tag: "efi-arm64", codes: [11], csa: "ARM64_EFI" },
} as const;

type BootKind = keyof typeof CLIENT_ARCH;

/** dnsmasq tag of x86-64 UEFI HTTP boot clients (option 93 value 16). */
const HTTP_BOOT_TAG = "efi-x86-64-http";

function bootKind(firmware: Firmware, arch: string): BootKind {
  return firmware === "bios" ? "bios" : arch === "arm64" ? "uefi/arm64" : "uefi/amd64";
}

/** The file (relative to the TFTP root) a firmware/arch pair chainloads. */
export function ipxeBootFile(
  firmware: Firmware,
  arch: string,
  efiBinary: EfiBinary = "snponly",
): string {
  const kind = bootKind(firmware, arch);
  if (kind === "bios") return "undionly.kpxe";
  return kind === "uefi/arm64" ? `arm64/${efiBinary}.efi` : `${efiBinary}.efi`;
}

/** The iPXE binaries the TFTP root must hold for `machines`, without duplicates, sorted. */
export function ipxeTftpFiles(
  machines: readonly Machine[],
  efiBinary: EfiBinary = "snponly",
): string[] {
  return [...new Set(machines.map((m) => ipxeBootFile(m.firmware, m.arch, efiBinary)))].sort();
}

const INTERFACE = /^[A-Za-z0-9_.:-]{1,15}$/;
const LEASE_TIME = /^([1-9][0-9]*[smhdw]?|infinite)$/;
const HTTP_URL = /^http:\/\/[A-Za-z0-9.:[\]-]+(\/[A-Za-z0-9._~/-]*)?$/;
const TFTP_ROOT = /^\/[A-Za-z0-9._/-]*$/;

/** Checks the arguments of {@link renderDnsmasqConf} (machines against the network only). */
export function validateDnsmasqConfArgs(args: DnsmasqConfArgs): Violation[] {
  const out: Violation[] = [];
  if (args.mode !== "full" && args.mode !== "proxy") {
    out.push(violation("mode", args.mode, "is not a DHCP mode", "use full or proxy"));
  }
  if (!INTERFACE.test(args.interface ?? "")) {
    out.push(
      violation("interface", args.interface, "is not a network interface name", "use e.g. eth1"),
    );
  }
  if (!HTTP_URL.test(args.httpBaseUrl ?? "")) {
    out.push(
      violation(
        "httpBaseUrl",
        args.httpBaseUrl,
        "is not a plain http:// URL",
        "use e.g. http://10.0.0.2 (iPXE fetches over HTTP)",
      ),
    );
  }
  if (args.tftpRoot !== undefined && !TFTP_ROOT.test(args.tftpRoot)) {
    out.push(violation("tftpRoot", args.tftpRoot, "is not an absolute path", "use e.g. /srv/tftp"));
  }
  if (args.leaseTime !== undefined && !LEASE_TIME.test(args.leaseTime)) {
    out.push(
      violation(
        "leaseTime",
        args.leaseTime,
        "is not a dnsmasq lease time",
        "use e.g. 12h, 45m or infinite",
      ),
    );
  }
  if (args.efiBinary !== undefined && args.efiBinary !== "snponly" && args.efiBinary !== "ipxe") {
    out.push(
      violation("efiBinary", args.efiBinary, "is not an iPXE EFI binary", "use snponly or ipxe"),
    );
  }
  out.push(...validateHostRecords(args.hostRecords));
  return [...out, ...validateInventory(args.machines, args.network)];
}

/**
 * Renders dnsmasq.conf. Throws a ValidationError naming every problem with `args`.
 *
 * Both modes: no DNS (`port=0`) unless `hostRecords` are given (then DNS for those names
 * only), TFTP from `tftpRoot`, firmware PXE clients get the iPXE
 * binary for their client architecture, iPXE clients (user-class `iPXE`) get the HTTP URL
 * of their MAC's script. Full mode also hands out addresses (fixed for known machines) and
 * sends unknown iPXE clients the local-boot default script; proxy mode ignores unknown MACs
 * entirely (`dhcp-ignore=tag:!known`).
 */
export function renderDnsmasqConf(args: DnsmasqConfArgs): string {
  throwIfViolations("dnsmasq.conf", validateDnsmasqConfArgs(args));
  const subnet = parseIpv4Subnet(args.network.subnet);
  if (!subnet) throw new Error("unreachable: subnet validated");
  const efi = args.efiBinary ?? "snponly";
  const url = (path: string) => joinUrl(args.httpBaseUrl, path);
  const kinds = (Object.keys(CLIENT_ARCH) as BootKind[]).filter((k) =>
    args.machines.some((m) => bootKind(m.firmware, m.arch) === k),
  );
  const net = args.network;
  const out: string[] = [
    `# gentoo-infra install host: dnsmasq in ${args.mode} DHCP mode on ${args.interface} (${net.subnet}).`,
    "# Rendered file: edits are overwritten.",
    ...dnsLines(args.hostRecords),
    `interface=${args.interface}`,
    "bind-interfaces",
    "log-dhcp",
    "",
  ];
  if (args.mode === "full") {
    out.push(
      "# The only DHCP server on this subnet: fixed addresses for known machines, the range for others.",
      "dhcp-authoritative",
      `dhcp-range=${net.dhcpRange.start},${net.dhcpRange.end},${subnet.netmask},${args.leaseTime ?? "12h"}`,
    );
    if (net.gateway) out.push(`dhcp-option=option:router,${net.gateway}`);
    if (net.dnsServers?.length)
      out.push(`dhcp-option=option:dns-server,${net.dnsServers.join(",")}`);
    if (net.domain) out.push(`dhcp-option=option:domain-name,${net.domain}`);
  } else {
    out.push(
      "# Proxy-DHCP beside the existing DHCP server: boot information only, and only for known MACs.",
      `dhcp-range=${subnet.network},proxy,${subnet.netmask}`,
      "dhcp-ignore=tag:!known",
    );
  }
  out.push(
    "",
    "# TFTP serves only the iPXE binaries; scripts, kernels and initramfs images go over HTTP.",
    "enable-tftp",
    `tftp-root=${args.tftpRoot ?? "/srv/tftp"}`,
    "",
    "# Stage 1, firmware PXE: chainload the iPXE binary for the client architecture (option 93).",
    "# iPXE sends user-class iPXE; clients with that tag never get a binary again (no loop).",
    "dhcp-userclass=set:ipxe,iPXE",
  );
  for (const kind of kinds) {
    for (const code of CLIENT_ARCH[kind].codes) {
      out.push(`dhcp-match=set:${CLIENT_ARCH[kind].tag},option:client-arch,${code}`);
    }
  }
  for (const kind of kinds) {
    const { tag, csa } = CLIENT_ARCH[kind];
    const file =
      kind === "bios"
        ? "undionly.kpxe"
        : ipxeBootFile("uefi", kind === "uefi/arm64" ? "arm64" : "amd64", efi);
    out.push(
      args.mode === "full"
        ? `dhcp-boot=tag:!ipxe,tag:${tag},${file}`
        : `pxe-service=tag:!ipxe,${csa},"gentoo-infra: chainload iPXE",${file}`,
    );
  }
  if (args.mode === "full" && kinds.includes("uefi/amd64")) {
    out.push(
      "# UEFI HTTP boot (client arch 16): the same iPXE binary over HTTP. Firmware that tries",
      "# HTTP boot after PXE (OVMF does, before the disk) gets an answer at once instead of",
      "# timing out for a minute.",
      `dhcp-match=set:${HTTP_BOOT_TAG},option:client-arch,16`,
      `dhcp-option-force=tag:${HTTP_BOOT_TAG},60,HTTPClient`,
      `dhcp-boot=tag:!ipxe,tag:${HTTP_BOOT_TAG},${url(pxeHttpPaths.httpBootFile(ipxeBootFile("uefi", "amd64", efi)))}`,
    );
  }
  out.push("", "# Known machines, one tag each.");
  for (const m of args.machines) {
    const mac = normalizeMac(m.mac) as string;
    out.push(
      args.mode === "full"
        ? `dhcp-host=${mac},set:${macTag(mac)},${m.address},${m.hostname},infinite`
        : `dhcp-host=${mac},set:${macTag(mac)}`,
    );
  }
  out.push("", "# Stage 2, iPXE: each known MAC loads its own script over HTTP.");
  for (const m of args.machines) {
    const mac = normalizeMac(m.mac) as string;
    out.push(`dhcp-boot=tag:ipxe,tag:${macTag(mac)},${url(pxeHttpPaths.machineScript(mac))}`);
  }
  if (args.mode === "full") {
    out.push("# Unknown MACs get the default script: boot the local disk, write nothing.");
    out.push(`dhcp-boot=tag:ipxe,tag:!known,${url(pxeHttpPaths.defaultScript)}`);
  }
  return `${out.join("\n")}\n`;
}

function dnsLines(records: Readonly<Record<string, string>> | undefined): string[] {
  const names = Object.keys(records ?? {}).sort();
  if (!records || names.length === 0) return ["port=0"];
  return [
    "# DNS for these names only: nothing is forwarded, /etc/hosts is not read.",
    "no-resolv",
    "no-hosts",
    ...names.map((n) => `host-record=${n},${records[n]}`),
  ];
}
