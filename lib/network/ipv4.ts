import * as ipaddr from "ipaddr.js";

/** An IPv4 subnet in CIDR notation, parsed. */
export interface Ipv4Subnet {
  /** The network address (`10.0.0.0`). */
  readonly network: string;
  /** The prefix length (`24`). */
  readonly prefixLength: number;
  /** The dotted netmask (`255.255.255.0`). */
  readonly netmask: string;
  /** The broadcast address (`10.0.0.255`). */
  readonly broadcast: string;
}

/** Whether `value` is an IPv4 address in dotted-quad form (`10.0.0.1`). */
export function isIpv4Address(value: unknown): value is string {
  return typeof value === "string" && ipaddr.IPv4.isValidFourPartDecimal(value);
}

/** Parses `10.0.0.0/24`; returns undefined when it is not an IPv4 CIDR. */
export function parseIpv4Subnet(cidr: unknown): Ipv4Subnet | undefined {
  if (typeof cidr !== "string") return undefined;
  try {
    const [, prefixLength] = ipaddr.IPv4.parseCIDR(cidr);
    const [address] = cidr.split("/");
    if (!isIpv4Address(address)) return undefined;
    return {
      network: ipaddr.IPv4.networkAddressFromCIDR(cidr).toString(),
      prefixLength,
      netmask: ipaddr.IPv4.subnetMaskFromPrefixLength(prefixLength).toString(),
      broadcast: ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString(),
    };
  } catch {
    return undefined;
  }
}

/** The address as an unsigned 32-bit number, for ordering and ranges. */
export function ipv4ToNumber(address: string): number {
  return ipaddr.IPv4.parse(address)
    .toByteArray()
    .reduce((n, byte) => n * 256 + byte, 0);
}

/** Whether `address` lies in `subnet` (network and broadcast addresses included). */
export function ipv4InSubnet(address: string, subnet: Ipv4Subnet): boolean {
  return ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parse(subnet.network), subnet.prefixLength);
}

/** Whether `address` lies in the inclusive range `start`..`end`. */
export function ipv4InRange(address: string, start: string, end: string): boolean {
  const n = ipv4ToNumber(address);
  return n >= ipv4ToNumber(start) && n <= ipv4ToNumber(end);
}

/** The first host address of a subnet (network address + 1), where gateways usually sit. */
export function firstHostAddress(subnet: Ipv4Subnet): string {
  return hostAddress(subnet, 1);
}

/**
 * The `n`th host address of a subnet: its network address + `n` (`10.0.0.0/16`, 300 →
 * `10.0.1.44`). Throws a RangeError unless it is a host address of the subnet (neither the
 * network nor the broadcast address).
 */
export function hostAddress(subnet: Ipv4Subnet, n: number): string {
  const address = ipv4ToNumber(subnet.network) + n;
  if (!Number.isInteger(n) || n < 1 || address >= ipv4ToNumber(subnet.broadcast)) {
    throw new RangeError(
      `${subnet.network}/${subnet.prefixLength} has no host address number ${n}`,
    );
  }
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join(".");
}
