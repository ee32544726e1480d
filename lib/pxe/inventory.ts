/**
 * The install host's machine inventory: machines known by MAC, grouped by environment,
 * arch and Stack, on one IPv4 subnet. Validation collects every problem.
 */

import {
  ipv4InRange,
  ipv4InSubnet,
  ipv4ToNumber,
  isIpv4Address,
  parseIpv4Subnet,
} from "../network/ipv4";
import { macViolation, normalizeMac } from "../network/mac";
import { DNS_LABEL, DNS_NAME, matches } from "../validation/patterns";
import { type Violation, violation } from "../validation/violations";
import { type DiskLayout, FIRMWARES, type Firmware, validateDiskLayout } from "./disk-layout";

/** The subnet the install host serves. */
export interface PxeNetwork {
  /** The subnet in CIDR notation (`10.0.0.0/24`). */
  readonly subnet: string;
  /**
   * The default router handed to machines.
   * @default none: machines get no default route
   */
  readonly gateway?: string;
  /**
   * DNS servers handed to machines.
   * @default none
   */
  readonly dnsServers?: readonly string[];
  /**
   * DNS domain of the machines (`example.ch`); their FQDN is `<hostname>.<domain>`.
   * @default none
   */
  readonly domain?: string;
  /**
   * The dynamic DHCP pool (inclusive). In full mode the install host hands it out to
   * unknown clients; in proxy mode it is the pool of the existing DHCP server. Machine
   * addresses must lie outside it either way.
   */
  readonly dhcpRange: { readonly start: string; readonly end: string };
}

/** One machine the install host may install. */
export interface Machine {
  /** Its boot NIC's MAC address (any case; colon, hyphen or bare form). */
  readonly mac: string;
  /** Host name (one DNS label, lower case). */
  readonly hostname: string;
  /** The environment whose Stack build it installs (`production`). */
  readonly environment: string;
  /** Its Gentoo arch (`amd64`). */
  readonly arch: string;
  /** The Stack it runs (`web`). */
  readonly stack: string;
  /** Its static IPv4 address on the install subnet, outside the DHCP range. */
  readonly address: string;
  /** Firmware it PXE-boots with. */
  readonly firmware: Firmware;
  /** The disk the installer wipes and partitions. */
  readonly disk: DiskLayout;
  /**
   * Install generation: bump it to ask for a reinstall. A machine whose last successful
   * install reported this generation boots its local disk.
   * @default 1
   */
  readonly installGeneration?: number;
}

/** The names an inventory may refer to, from the program's environments and Stacks. */
export interface KnownNames {
  readonly environments: readonly string[];
  readonly arches: readonly string[];
  readonly stacks: readonly string[];
}

/** Firmware/arch pairs that have an iPXE binary: BIOS on x86 only, UEFI on amd64 and arm64. */
const SUPPORTED_FIRMWARE_ARCHES: readonly string[] = [
  "bios/amd64",
  "bios/x86",
  "uefi/amd64",
  "uefi/arm64",
];

const HOSTNAME = DNS_LABEL;
const DOMAIN = DNS_NAME;

/**
 * Where a field of a {@link PxeNetwork} came from in the caller's arguments, for the error
 * path: a prefix (`"network"` gives `network.domain`), or a function of the field (`domain`,
 * `dhcpRange.start`, `dnsServers[0]`) for a caller whose arguments are laid out otherwise.
 */
export type NetworkArgument = string | ((field: string) => string);

/** The problem of a machine's host name (`at` names it), or undefined: one DNS label. */
export function hostnameViolation(at: string, value: unknown): Violation | undefined {
  return matches(HOSTNAME, value)
    ? undefined
    : violation(
        at,
        value,
        "is not a host name",
        "use one DNS label: a-z, 0-9 and '-', at most 63 characters",
      );
}

/** The problem of an install generation (`at` names it), or undefined: absent, or 1 or more. */
export function installGenerationViolation(at: string, value: unknown): Violation | undefined {
  const generation = value ?? 1;
  return Number.isInteger(generation) && (generation as number) >= 1
    ? undefined
    : violation(at, value, "is not a positive whole number", "use 1, and bump it to reinstall");
}

/** Checks the subnet, gateway, DNS servers and DHCP range. */
export function validatePxeNetwork(
  network: PxeNetwork,
  at: NetworkArgument = "network",
): Violation[] {
  const path = typeof at === "string" ? (field: string) => `${at}.${field}` : at;
  const out: Violation[] = [];
  const subnet = parseIpv4Subnet(network.subnet);
  if (!subnet) {
    out.push(
      violation(
        path("subnet"),
        network.subnet,
        "is not an IPv4 subnet",
        "use CIDR notation, e.g. 10.0.0.0/24",
      ),
    );
  } else if (subnet.prefixLength > 30) {
    out.push(
      violation(
        path("subnet"),
        network.subnet,
        "has no room for hosts",
        "use a prefix of /30 or shorter",
      ),
    );
  }
  const inside = (field: string, value: unknown): void => {
    if (!isIpv4Address(value)) {
      out.push(
        violation(
          path(field),
          value,
          "is not an IPv4 address",
          "use dotted-quad form, e.g. 10.0.0.1",
        ),
      );
    } else if (subnet && !ipv4InSubnet(value, subnet)) {
      out.push(
        violation(
          path(field),
          value,
          `is outside the subnet ${network.subnet}`,
          "use an address inside the subnet",
        ),
      );
    } else if (subnet && (value === subnet.network || value === subnet.broadcast)) {
      out.push(
        violation(
          path(field),
          value,
          `is the network or broadcast address of ${network.subnet}`,
          "use a host address",
        ),
      );
    }
  };
  if (network.gateway !== undefined) inside("gateway", network.gateway);
  (network.dnsServers ?? []).forEach((dns, i) => {
    if (!isIpv4Address(dns)) {
      out.push(
        violation(
          path(`dnsServers[${i}]`),
          dns,
          "is not an IPv4 address",
          "use dotted-quad form, e.g. 10.0.0.1",
        ),
      );
    }
  });
  if (network.domain !== undefined && !matches(DOMAIN, network.domain)) {
    out.push(
      violation(
        path("domain"),
        network.domain,
        "is not a DNS domain",
        "use lower-case labels, e.g. example.ch",
      ),
    );
  }
  const range = network.dhcpRange ?? { start: undefined, end: undefined };
  inside("dhcpRange.start", range.start);
  inside("dhcpRange.end", range.end);
  if (
    isIpv4Address(range.start) &&
    isIpv4Address(range.end) &&
    ipv4ToNumber(range.start) > ipv4ToNumber(range.end)
  ) {
    out.push(
      violation(
        path("dhcpRange"),
        range,
        "starts after it ends",
        "give the lower address as start",
      ),
    );
  }
  return out;
}

/**
 * Checks machines against the network and, when `known` is given, against the program's
 * environments, arches and Stacks. Duplicates are reported on the later machine, naming the
 * earlier one. Every problem is returned; nothing throws.
 */
export function validateMachines(
  machines: readonly Machine[],
  network: PxeNetwork,
  known?: KnownNames,
): Violation[] {
  const out: Violation[] = [];
  const subnet = parseIpv4Subnet(network.subnet);
  const range = network.dhcpRange;
  const rangeValid = range !== undefined && isIpv4Address(range.start) && isIpv4Address(range.end);
  const seen = {
    mac: new Map<string, number>(),
    address: new Map<string, number>(),
    hostname: new Map<string, number>(),
  };
  const duplicate = (
    field: "mac" | "address" | "hostname",
    key: string,
    i: number,
    value: unknown,
    fix: string,
  ): void => {
    const first = seen[field].get(key);
    if (first === undefined) seen[field].set(key, i);
    else
      out.push(
        violation(`machines[${i}].${field}`, value, `duplicates machines[${first}].${field}`, fix),
      );
  };
  const member = (
    i: number,
    field: "environment" | "arch" | "stack",
    names: readonly string[] | undefined,
    what: string,
  ): void => {
    const value = machines[i][field];
    if (names && !names.includes(value)) {
      out.push(
        violation(
          `machines[${i}].${field}`,
          value,
          `is not a known ${what}`,
          `use one of ${names.join(", ") || "(none defined)"}`,
        ),
      );
    }
  };

  machines.forEach((m, i) => {
    const at = `machines[${i}]`;
    const bad = macViolation(`${at}.mac`, m.mac);
    if (bad) out.push(bad);
    else
      duplicate(
        "mac",
        normalizeMac(m.mac) as string,
        i,
        m.mac,
        "give each machine its own MAC address",
      );

    const badHostname = hostnameViolation(`${at}.hostname`, m.hostname);
    if (badHostname) out.push(badHostname);
    else duplicate("hostname", m.hostname, i, m.hostname, "give each machine its own host name");

    member(i, "environment", known?.environments, "environment");
    member(i, "arch", known?.arches, "arch");
    member(i, "stack", known?.stacks, "Stack");

    if (!isIpv4Address(m.address)) {
      out.push(
        violation(
          `${at}.address`,
          m.address,
          "is not an IPv4 address",
          "use dotted-quad form, e.g. 10.0.0.21",
        ),
      );
    } else {
      if (subnet && !ipv4InSubnet(m.address, subnet)) {
        out.push(
          violation(
            `${at}.address`,
            m.address,
            `is outside the subnet ${network.subnet}`,
            "use an address inside the subnet",
          ),
        );
      } else if (subnet && (m.address === subnet.network || m.address === subnet.broadcast)) {
        out.push(
          violation(
            `${at}.address`,
            m.address,
            `is the network or broadcast address of ${network.subnet}`,
            "use a host address",
          ),
        );
      } else if (rangeValid && ipv4InRange(m.address, range.start, range.end)) {
        out.push(
          violation(
            `${at}.address`,
            m.address,
            `is inside the DHCP range ${range.start}-${range.end}`,
            "use an address outside the DHCP range",
          ),
        );
      } else if (m.address === network.gateway) {
        out.push(
          violation(`${at}.address`, m.address, "is the gateway's address", "use another address"),
        );
      }
      duplicate("address", m.address, i, m.address, "give each machine its own address");
    }

    if (!FIRMWARES.includes(m.firmware)) {
      out.push(
        violation(`${at}.firmware`, m.firmware, "is not a firmware kind", "use bios or uefi"),
      );
    } else {
      if (
        !SUPPORTED_FIRMWARE_ARCHES.includes(`${m.firmware}/${m.arch}`) &&
        (known === undefined || known.arches.includes(m.arch))
      ) {
        out.push(
          violation(
            `${at}.firmware`,
            m.firmware,
            `has no iPXE binary for arch ${m.arch}`,
            `use one of ${SUPPORTED_FIRMWARE_ARCHES.join(", ")} (firmware/arch)`,
          ),
        );
      }
      if (m.disk === undefined) {
        out.push(
          violation(
            `${at}.disk`,
            m.disk,
            "is missing",
            "give a disk layout, e.g. defaultDiskLayout(firmware, device)",
          ),
        );
      } else out.push(...validateDiskLayout(m.disk, m.firmware, `${at}.disk`));
    }

    const badGeneration = installGenerationViolation(
      `${at}.installGeneration`,
      m.installGeneration,
    );
    if (badGeneration) out.push(badGeneration);
  });
  return out;
}

/** Checks the network and the machines together (see {@link validateMachines}). */
export function validateInventory(
  machines: readonly Machine[],
  network: PxeNetwork,
  known?: KnownNames,
  networkArgument: NetworkArgument = "network",
): Violation[] {
  return [
    ...validatePxeNetwork(network, networkArgument),
    ...validateMachines(machines, network, known),
  ];
}
