import * as libvirt from "@pulumi/libvirt";
import * as pulumi from "@pulumi/pulumi";
import { firstHostAddress, parseIpv4Subnet } from "../pxe/ipv4";
import { assertValid } from "../validation/resource-error";
import { violation } from "../validation/violations";
import type { Hypervisor } from "./hypervisor";

/** Arguments of a {@link GuestNetwork}. */
export interface GuestNetworkArgs {
  /** The hypervisor the network lives on. */
  readonly hypervisor: Hypervisor;
  /** The IPv4 subnet in CIDR form; the hypervisor's bridge takes its first address. */
  readonly subnet: string;
  /**
   * `isolated`: guests reach each other and the hypervisor only; `nat`: also the hypervisor's
   * outside networks, masqueraded.
   * @default "isolated"
   */
  readonly mode?: "isolated" | "nat";
  /**
   * Who answers DHCP: `off` leaves it to a PxeInstallHost in full DHCP mode (guests of ours
   * get static addresses through cloud-init); `libvirt` lets libvirt's own dnsmasq answer
   * (then run the install host in proxy-DHCP mode).
   * @default "off"
   */
  readonly dhcp?: "off" | "libvirt";
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
    const parsed = parseIpv4Subnet(args.subnet);
    assertValid(
      this,
      `GuestNetwork "${name}"`,
      parsed === undefined
        ? [
            violation(
              "subnet",
              args.subnet,
              "is not an IPv4 subnet in CIDR form",
              "use e.g. 192.168.150.0/24",
            ),
          ]
        : [],
    );
    // assertValid above threw unless the subnet parsed.
    const subnet = parsed as NonNullable<typeof parsed>;
    this.subnet = args.subnet;
    this.gateway = firstHostAddress(subnet);
    this.networkName = args.hypervisor.objectName(name);
    const network = new libvirt.Network(
      name,
      {
        name: this.networkName,
        mode: args.mode === "nat" ? "nat" : "none",
        addresses: [args.subnet],
        autostart: true,
        dhcp: { enabled: args.dhcp === "libvirt" },
        dns: { enabled: false },
      },
      { parent: this, provider: args.hypervisor.provider },
    );
    this.networkId = network.id;
    this.registerOutputs({ networkId: this.networkId, gateway: this.gateway });
  }
}
