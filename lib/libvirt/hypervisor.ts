import * as fs from "node:fs";
import * as libvirt from "@pulumi/libvirt";
import * as pulumi from "@pulumi/pulumi";
import { assertValid } from "../validation/resource-error";
import {
  DEFAULT_UEFI_FIRMWARE,
  type DomainType,
  type DomainTypeChoice,
  resolveDomainType,
} from "./domain-xml";
import { HypervisorReachable } from "./hypervisor-check";
import { HYPERVISOR_TYPE, validateHypervisorArgs } from "./validate";

/** Where a hypervisor keeps our volumes. */
export type HypervisorPool =
  /** A storage pool that already exists on the hypervisor (not managed by us). */
  | { readonly existing: string }
  /** A directory pool we create (and delete on destroy) at this path on the hypervisor. */
  | { readonly path: string };

/** Arguments of a {@link Hypervisor}. */
export interface HypervisorArgs {
  /**
   * The libvirt connection URI, e.g. `qemu+ssh://root@kvm1.example.ch/system`.
   * @default "qemu:///system" (this machine)
   */
  readonly uri?: string;
  /**
   * The domain type of every VM on this hypervisor: `kvm`, `qemu` (TCG, software emulation:
   * slow but works everywhere) or `detect` (`kvm` when the URI is local and /dev/kvm is
   * usable, `qemu` otherwise).
   * @default "detect"
   */
  readonly domainType?: DomainTypeChoice;
  /**
   * The storage pool for volumes.
   * @default a directory pool `<namePrefix>` at `/var/lib/libvirt/images/<namePrefix>`
   */
  readonly pool?: HypervisorPool;
  /**
   * Prefix of every libvirt object name (domains, volumes, networks, pools) on this
   * hypervisor, so that several Pulumi stacks (environments) can share one hypervisor.
   * @default "gi-<Pulumi stack name>"
   */
  readonly namePrefix?: string;
  /**
   * Directory on the hypervisor where each VM's serial console is written
   * (`<dir>/<domain>-serial.log`).
   * @default "/var/log/libvirt/qemu"
   */
  readonly logDirectory?: string;
  /**
   * UEFI firmware code and variable template on the hypervisor (Debian's OVMF paths).
   * @default { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", varsTemplate: "/usr/share/OVMF/OVMF_VARS_4M.fd" }
   */
  readonly uefiFirmware?: { readonly code: string; readonly varsTemplate: string };
}

function kvmUsable(): boolean {
  try {
    fs.accessSync("/dev/kvm", fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A libvirt host that VMs are placed on: one libvirt provider for its URI and the storage
 * pool our volumes live in. Builders spread over several hypervisors by giving each one.
 *
 * Creates: a {@link HypervisorReachable} check (`<name>-reachable`: every preview and up
 * first connects to the hypervisor's libvirt socket or port, and fails with one error naming
 * the hypervisor when it cannot), a `libvirt.Provider` (`<name>`) that waits for it and,
 * unless `pool.existing` is given, a directory `libvirt.Pool` (`<name>-pool`).
 */
export class Hypervisor extends pulumi.ComponentResource {
  /** The libvirt URI. */
  public readonly uri: string;
  /** The resolved domain type of VMs placed here. */
  public readonly domainType: DomainType;
  /** The prefix of libvirt object names. */
  public readonly namePrefix: string;
  /** The directory of serial console logs. */
  public readonly logDirectory: string;
  /** UEFI firmware paths. */
  public readonly uefiFirmware: { readonly code: string; readonly varsTemplate: string };
  /** The check that the hypervisor can be reached, which the provider waits for. */
  public readonly reachable: HypervisorReachable;
  /** The provider that every libvirt resource on this hypervisor must use. */
  public readonly provider: libvirt.Provider;
  /** The pool we created, when we created one. */
  public readonly pool: libvirt.Pool | undefined;
  /** The name of the storage pool for volumes. */
  public readonly poolName: pulumi.Output<string>;

  constructor(name: string, args: HypervisorArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(HYPERVISOR_TYPE, name, {}, opts);
    assertValid(this, `Hypervisor "${name}"`, validateHypervisorArgs(args));

    this.uri = args.uri ?? "qemu:///system";
    this.domainType = resolveDomainType(args.domainType ?? "detect", {
      uri: this.uri,
      kvmUsable: kvmUsable(),
    });
    this.namePrefix = args.namePrefix ?? `gi-${pulumi.getStack()}`;
    this.logDirectory = args.logDirectory ?? "/var/log/libvirt/qemu";
    this.uefiFirmware = args.uefiFirmware ?? DEFAULT_UEFI_FIRMWARE;
    this.reachable = new HypervisorReachable(
      `${name}-reachable`,
      { hypervisor: name, uri: this.uri },
      { parent: this },
    );
    this.provider = new libvirt.Provider(
      name,
      { uri: this.uri },
      { parent: this, dependsOn: [this.reachable] },
    );

    const pool = args.pool ?? { path: `/var/lib/libvirt/images/${this.namePrefix}` };
    if ("existing" in pool) {
      this.pool = undefined;
      this.poolName = pulumi.output(pool.existing);
    } else {
      this.pool = new libvirt.Pool(
        `${name}-pool`,
        { name: this.namePrefix, type: "dir", target: { path: pool.path } },
        { parent: this, provider: this.provider },
      );
      this.poolName = this.pool.name;
    }

    this.registerOutputs({
      uri: this.uri,
      domainType: this.domainType,
      poolName: this.poolName,
    });
  }

  /** The libvirt name of an object placed on this hypervisor: `<namePrefix>-<name>`. */
  public objectName(name: string): string {
    return `${this.namePrefix}-${name}`;
  }
}
