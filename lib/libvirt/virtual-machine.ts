import * as libvirt from "@pulumi/libvirt";
import * as pulumi from "@pulumi/pulumi";
import { assertValid } from "../validation/resource-error";
import { serialConsoleXslt, serialLogPath } from "./domain-xml";
import type { Hypervisor } from "./hypervisor";
import { validateVirtualMachineArgs } from "./validate";

/** Where a VM's disk comes from. */
export type ImageSource =
  /** A qcow2 image file on the hypervisor, copied into a volume of our own. */
  | { readonly path: string }
  /** A qcow2 image at an HTTP(S) URL the hypervisor can reach, copied into a volume. */
  | { readonly url: string }
  /** An existing volume (e.g. a {@link BaseImage}): the VM's disk is a copy-on-write layer on it. */
  | { readonly volumeId: pulumi.Input<string> };

/** One network interface of a VM. */
export interface VmNetworkInterface {
  /** The id of a libvirt network managed in this program (give this or `networkName`). */
  readonly networkId?: pulumi.Input<string>;
  /** The name of an existing libvirt network (give this or `networkId`). */
  readonly networkName?: string;
  /**
   * The interface's MAC address, lower-case colon form. Give it when something else (an
   * install host, a DHCP reservation) must know the machine by MAC.
   * @default libvirt picks one
   */
  readonly mac?: string;
}

/** Arguments of a {@link VirtualMachine}. */
export interface VirtualMachineArgs {
  /** The hypervisor the VM runs on. */
  readonly hypervisor: Hypervisor;
  /**
   * The image the disk starts from.
   * @default none: a blank disk (only with `boot: "network"`, for machines that install themselves)
   */
  readonly image?: ImageSource;
  /** Size of the VM's disk in GiB. */
  readonly diskGiB: number;
  /**
   * Memory in MiB.
   * @default 1024
   */
  readonly memoryMiB?: number;
  /**
   * Virtual CPUs.
   * @default 1
   */
  readonly vcpus?: number;
  /**
   * Firmware: `bios` (SeaBIOS) or `uefi` (OVMF, with a per-VM variable store).
   * @default "bios"
   */
  readonly firmware?: "bios" | "uefi";
  /**
   * What the VM boots: `disk`, or `network` first (PXE, then the disk).
   * @default "disk"
   */
  readonly boot?: "disk" | "network";
  /**
   * cloud-init user-data (`#cloud-config`), attached as a NoCloud ISO. Keep it to what the
   * first boot needs: configuration that changes later is pushed over SSH, because a new
   * user-data reaches the guest only when it boots again.
   * @default none: no cloud-init disk
   */
  readonly userData?: pulumi.Input<string>;
  /**
   * cloud-init network-config (version 2), e.g. a static address.
   * @default none: the image's default (DHCP)
   */
  readonly networkConfig?: pulumi.Input<string>;
  /** The VM's network interfaces, in order. */
  readonly networks: readonly VmNetworkInterface[];
  /**
   * Start the VM with the hypervisor.
   * @default true
   */
  readonly autostart?: boolean;
}

const GIB = 1024 * 1024 * 1024;

/**
 * A libvirt virtual machine: a disk volume (a copy-on-write layer over its image, or blank),
 * a cloud-init NoCloud disk, and a domain of the hypervisor's type (`kvm` or TCG `qemu`)
 * whose serial console is written to a file on the hypervisor.
 *
 * Creates: `libvirt.Volume` `<name>-image` (only for `image: { path | url }`),
 * `libvirt.Volume` `<name>-disk`, `libvirt.CloudInitDisk` `<name>-cloudinit` (only with
 * `userData`), `libvirt.Domain` `<name>`; libvirt names are `<namePrefix>-<name>…`.
 */
export class VirtualMachine extends pulumi.ComponentResource {
  /** The libvirt domain name. */
  public readonly domainName: string;
  /** Path of the serial console log on the hypervisor. */
  public readonly serialLogPath: string;
  /** The domain. */
  public readonly domain: libvirt.Domain;
  /** The VM's disk volume. */
  public readonly disk: libvirt.Volume;
  /** The cloud-init disk, when user-data was given. */
  public readonly cloudInit: libvirt.CloudInitDisk | undefined;
  /** The MAC addresses of the VM's interfaces, in order, as libvirt reports them. */
  public readonly macs: pulumi.Output<string[]>;

  constructor(name: string, args: VirtualMachineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:libvirt:VirtualMachine", name, {}, opts);
    assertValid(this, `VirtualMachine "${name}"`, validateVirtualMachineArgs(name, args));

    const hv = args.hypervisor;
    const child = { parent: this, provider: hv.provider };
    this.domainName = hv.objectName(name);
    this.serialLogPath = serialLogPath(hv.logDirectory, this.domainName);

    let baseVolumeId: pulumi.Input<string> | undefined;
    if (args.image && "volumeId" in args.image) {
      baseVolumeId = args.image.volumeId;
    } else if (args.image) {
      const source = "path" in args.image ? args.image.path : args.image.url;
      baseVolumeId = new libvirt.Volume(
        `${name}-image`,
        { name: `${this.domainName}-image.qcow2`, pool: hv.poolName, source, format: "qcow2" },
        child,
      ).id;
    }
    this.disk = new libvirt.Volume(
      `${name}-disk`,
      {
        name: `${this.domainName}-disk.qcow2`,
        pool: hv.poolName,
        format: "qcow2",
        size: args.diskGiB * GIB,
        ...(baseVolumeId ? { baseVolumeId } : {}),
      },
      child,
    );
    this.cloudInit =
      args.userData === undefined
        ? undefined
        : new libvirt.CloudInitDisk(
            `${name}-cloudinit`,
            {
              name: `${this.domainName}-cloudinit.iso`,
              pool: hv.poolName,
              userData: args.userData,
              metaData: `instance-id: ${this.domainName}\nlocal-hostname: ${name}\n`,
              ...(args.networkConfig === undefined ? {} : { networkConfig: args.networkConfig }),
            },
            child,
          );

    const uefi = args.firmware === "uefi";
    this.domain = new libvirt.Domain(
      name,
      {
        name: this.domainName,
        type: hv.domainType,
        memory: args.memoryMiB ?? 1024,
        vcpu: args.vcpus ?? 1,
        autostart: args.autostart ?? true,
        disks: [{ volumeId: this.disk.id }],
        networkInterfaces: args.networks.map((n) => ({
          ...(n.networkId === undefined ? {} : { networkId: n.networkId }),
          ...(n.networkName === undefined ? {} : { networkName: n.networkName }),
          ...(n.mac === undefined ? {} : { mac: n.mac }),
        })),
        bootDevices: [{ devs: args.boot === "network" ? ["network", "hd"] : ["hd"] }],
        ...(this.cloudInit ? { cloudinit: this.cloudInit.id } : {}),
        ...(uefi
          ? {
              firmware: hv.uefiFirmware.code,
              nvram: {
                file: `/var/lib/libvirt/qemu/nvram/${this.domainName}_VARS.fd`,
                template: hv.uefiFirmware.varsTemplate,
              },
            }
          : {}),
        xml: { xslt: serialConsoleXslt(this.serialLogPath) },
      },
      child,
    );
    this.macs = this.domain.networkInterfaces.apply((nics) =>
      (nics ?? []).map((nic) => nic.mac ?? ""),
    );

    this.registerOutputs({
      domainName: this.domainName,
      serialLogPath: this.serialLogPath,
      macs: this.macs,
    });
  }
}

/** Arguments of a {@link BaseImage}. */
export interface BaseImageArgs {
  /** The hypervisor that holds the image. */
  readonly hypervisor: Hypervisor;
  /**
   * The qcow2 image, which the libvirt provider reads where `pulumi` runs and uploads into the
   * hypervisor's pool over its connection (for a remote hypervisor, over SSH): a file on that
   * machine, or an HTTP(S) URL it can reach.
   */
  readonly source: { readonly path: string } | { readonly url: string };
}

/**
 * A qcow2 image copied once into a hypervisor's pool, for many VMs to layer their disks on
 * (`image: { volumeId: base.volumeId }`).
 *
 * Creates: `libvirt.Volume` `<name>` named `<namePrefix>-<name>.qcow2`.
 */
export class BaseImage extends pulumi.ComponentResource {
  /** The id of the image volume. */
  public readonly volumeId: pulumi.Output<string>;

  constructor(name: string, args: BaseImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:libvirt:BaseImage", name, {}, opts);
    const hv = args.hypervisor;
    const source = "path" in args.source ? args.source.path : args.source.url;
    const volume = new libvirt.Volume(
      name,
      { name: `${hv.objectName(name)}.qcow2`, pool: hv.poolName, source, format: "qcow2" },
      { parent: this, provider: hv.provider },
    );
    this.volumeId = volume.id;
    this.registerOutputs({ volumeId: this.volumeId });
  }
}
