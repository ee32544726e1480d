/**
 * cloud-init network-config version 2 (netplan-style) for a VM with a static address,
 * matched by MAC so the interface name the image picks does not matter.
 */
import { stringify } from "yaml";
import { ipv4InSubnet, isIpv4Address, parseIpv4Subnet } from "../network/ipv4";
import { macViolation, normalizeMac } from "../network/mac";
import { DNS_NAME } from "../validation/patterns";
import { throwIfViolations, type Violation, violation } from "../validation/violations";

/** Inputs of {@link renderNetworkConfig}. */
export interface StaticNetworkArgs {
  /** MAC of the interface to configure. */
  readonly mac: string;
  /**
   * Name the interface gets.
   * @default "eth0"
   */
  readonly interfaceName?: string;
  /** Address with prefix length (`10.0.0.5/24`). */
  readonly address: string;
  /** @default none: no default route */
  readonly gateway?: string;
  /** @default none */
  readonly dnsServers?: readonly string[];
  /** @default none */
  readonly searchDomains?: readonly string[];
}

const IFNAME = /^[a-z][a-z0-9]{0,14}$/;
const DOMAIN = DNS_NAME;

/** Checks the arguments of {@link renderNetworkConfig}. */
export function validateStaticNetworkArgs(args: StaticNetworkArgs): Violation[] {
  const out: Violation[] = [];
  const badMac = macViolation("mac", args.mac);
  if (badMac) out.push(badMac);
  if (args.interfaceName !== undefined && !IFNAME.test(args.interfaceName)) {
    out.push(
      violation("interfaceName", args.interfaceName, "is not an interface name", "use e.g. eth0"),
    );
  }
  const [address] = (args.address ?? "").split("/");
  const subnet = parseIpv4Subnet(args.address);
  if (!subnet || !isIpv4Address(address)) {
    out.push(
      violation(
        "address",
        args.address,
        "is not an IPv4 address with prefix length",
        "use e.g. 10.0.0.5/24",
      ),
    );
  }
  if (args.gateway !== undefined) {
    if (!isIpv4Address(args.gateway))
      out.push(violation("gateway", args.gateway, "is not an IPv4 address", "use e.g. 10.0.0.1"));
    else if (subnet && !ipv4InSubnet(args.gateway, subnet)) {
      out.push(
        violation(
          "gateway",
          args.gateway,
          `is outside ${args.address}`,
          "use a router on the interface's subnet",
        ),
      );
    }
  }
  (args.dnsServers ?? []).forEach((d, i) => {
    if (!isIpv4Address(d))
      out.push(violation(`dnsServers[${i}]`, d, "is not an IPv4 address", "use e.g. 10.0.0.1"));
  });
  (args.searchDomains ?? []).forEach((d, i) => {
    if (!DOMAIN.test(d))
      out.push(violation(`searchDomains[${i}]`, d, "is not a DNS domain", "use e.g. example.ch"));
  });
  return out;
}

/** Renders network-config v2. Throws a ValidationError naming every problem. */
export function renderNetworkConfig(args: StaticNetworkArgs): string {
  throwIfViolations("cloud-init network-config", validateStaticNetworkArgs(args));
  const name = args.interfaceName ?? "eth0";
  const nameservers = {
    ...(args.dnsServers?.length ? { addresses: [...args.dnsServers] } : {}),
    ...(args.searchDomains?.length ? { search: [...args.searchDomains] } : {}),
  };
  const ethernet = {
    match: { macaddress: normalizeMac(args.mac) },
    "set-name": name,
    addresses: [args.address],
    ...(args.gateway ? { routes: [{ to: "0.0.0.0/0", via: args.gateway }] } : {}),
    ...(Object.keys(nameservers).length ? { nameservers } : {}),
  };
  return stringify(
    { network: { version: 2, ethernets: { [name]: ethernet } } },
    { lineWidth: 0, version: "1.1" },
  );
}
