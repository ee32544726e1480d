import * as libvirt from "@pulumi/libvirt";
import * as pulumi from "@pulumi/pulumi";
import { firstHostAddress, parseIpv4Subnet } from "../network/ipv4";
import { assertValid } from "../validation/resource-error";
import type { Hypervisor } from "./hypervisor";
import { validateGuestNetworkArgs } from "./validate";

/** Arguments of a {@link GuestNetwork}. */
export interface GuestNetworkArgs {
  /** The hypervisor the network lives on. */
  readonly hypervisor: Hypervisor;
  /** The IPv4 subnet in CIDR form; the hypervisor's bridge takes its first address. */
  readonly subnet: string;
  /**
   * `isolated`: guests reach each other and the hypervisor only; `nat`: also the hypervisor's
   * outside networks, masqueraded; `route`: the hypervisor routes between the network and its
   * other networks without masquerading, both ways (guests on another hypervisor reach these
   * guests, and the machine that runs Pulumi reaches them, through a route to the subnet).
   * @default "isolated"
   */
  readonly mode?: "isolated" | "nat" | "route";
  /**
   * Who answers DHCP: `off` leaves it to a PxeInstallHost in full DHCP mode (guests of ours
   * get static addresses through cloud-init); `libvirt` lets libvirt's own dnsmasq answer
   * (then run the install host in proxy-DHCP mode).
   * @default "off"
   */
  readonly dhcp?: "off" | "libvirt";
  /**
   * An IPv6 /64 (a ULA such as `fd00:67:69:150::/64`) that the hypervisor advertises on the
   * network: router advertisements with the prefix only, not as a default router, sent by
   * libvirt's dnsmasq. Network boot firmware wants one: iPXE waits about 13 s for a router
   * advertisement at every network boot on a network without (measured in
   * docs/pxe-install-host.md). libvirt runs its dnsmasq only with DNS or DHCP on, so this
   * also turns on libvirt's DNS on the hypervisor's addresses (local names only, nothing
   * forwarded; the site's machines use their own DNS servers).
   * @default none: IPv4 only, no dnsmasq from libvirt unless `dhcp` is `libvirt`
   */
  readonly ipv6Prefix?: string;
}

/**
 * A libvirt network for a site's machines: a bridge on the hypervisor with the subnet's first
 * address.
 *
 * Creates: `libvirt.Network` `<name>` named `<namePrefix>-<name>`.
 */
export class GuestNetwork extends pulumi.ComponentResource {
  /** The libvirt network's id, for {@link VmNetworkInterface.networkId}. */
  public readonly networkId: pulumi.Output<string>;
  /** The libvirt network's name. */
  public readonly networkName: string;
  /** The subnet in CIDR form. */
  public readonly subnet: string;
  /** The hypervisor's address on the network (the subnet's first address). */
  public readonly gateway: string;

  constructor(name: string, args: GuestNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:libvirt:GuestNetwork", name, {}, opts);
    assertValid(this, `GuestNetwork "${name}"`, validateGuestNetworkArgs(args));
    const parsed = parseIpv4Subnet(args.subnet);
    // assertValid above threw unless the subnet parsed.
    const subnet = parsed as NonNullable<typeof parsed>;
    this.subnet = args.subnet;
    this.gateway = firstHostAddress(subnet);
    this.networkName = args.hypervisor.objectName(name);
    const network = new libvirt.Network(
      name,
      {
        name: this.networkName,
        mode: args.mode === "nat" || args.mode === "route" ? args.mode : "none",
        addresses: args.ipv6Prefix === undefined ? [args.subnet] : [args.subnet, args.ipv6Prefix],
        autostart: true,
        dhcp: { enabled: args.dhcp === "libvirt" },
        // libvirt's dnsmasq (which sends the router advertisements) runs only with DNS or DHCP on.
        dns: { enabled: args.ipv6Prefix !== undefined },
      },
      { parent: this, provider: args.hypervisor.provider },
    );
    this.networkId = network.id;
    this.registerOutputs({ networkId: this.networkId, gateway: this.gateway });
  }
}
