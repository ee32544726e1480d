/**
 * The arguments of {@link PxeInstallHost} (./pxe-install-host), with TSDoc on every field, and
 * the plain view of its machines. Validation is in ./pxe-install-host-validate.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Hypervisor } from "../libvirt/hypervisor";
import type { GuestNetwork } from "../libvirt/network";
import type { ImageSource } from "../libvirt/virtual-machine";
import type { Issuer } from "../pki/certificate-authority";
import type { Stack } from "../stack/stack";
import type { DiskLayout, Firmware } from "./disk-layout";
import type { DhcpMode, EfiBinary } from "./dnsmasq-conf";
import type { InstallerImages, PxeBinhostClientConfig, PxeStage } from "./install-host-plan";
import type { Machine, PxeNetwork } from "./inventory";

/** A machine the install host installs, known by its boot NIC's MAC. */
export interface PxeMachine {
  /** Its boot NIC's MAC address (any case; colon, hyphen or bare form). */
  readonly mac: string;
  /** Host name (one DNS label); names its certificates and child resources. */
  readonly hostname: string;
  /** The environment it belongs to (`production`); its Stack must build it. */
  readonly environment: string;
  /** Its Gentoo arch (`amd64`); its Stack must build it. */
  readonly arch: string;
  /** The name of the Stack it runs (one of `stacks`). */
  readonly stack: string;
  /** Its static IPv4 address: inside the subnet, outside the DHCP range. */
  readonly address: string;
  /** The disk the installer wipes and partitions (GPT), e.g. `defaultDiskLayout("uefi", "/dev/vda")`. */
  readonly diskLayout: DiskLayout;
  /** Firmware it PXE-boots with. */
  readonly firmware: Firmware;
  /**
   * Install generation. After a successful install the machine boots its disk; bump this
   * to reinstall it (its netboot switches on again until the new generation reports success).
   * @default 1
   */
  readonly installGeneration?: number;
}

/**
 * What the install host needs from the PKI: a `RootCa` (its host and puppet sub-CAs,
 * their chains and the root certificate) satisfies it.
 */
export interface PxePki {
  readonly subCas: {
    readonly host: { readonly issuer: Issuer };
    readonly puppet: { readonly issuer: Issuer };
  };
  readonly chainPems: {
    readonly host: pulumi.Input<string>;
    readonly puppet: pulumi.Input<string>;
  };
  readonly rootCertificatePem: pulumi.Input<string>;
  /** The base DN its certificates are issued under (`dc=example,dc=ch`): a RootCa's `baseDn`. */
  readonly baseDn: string;
  /**
   * The farm's package-signing key (a RootCa's, when it has one): installed machines trust
   * binary packages signed by it and by no other key.
   * @default none: machines get no key and cannot verify binary packages
   */
  readonly packageSigningKey?: { readonly publicKeyArmored: pulumi.Input<string> } | undefined;
}

/** Arguments of {@link PxeInstallHost}. */
export interface PxeInstallHostArgs {
  /** The hypervisor its server runs on. */
  readonly hypervisor: Hypervisor;
  /** The network it serves (its subnet is the install subnet). */
  readonly network: GuestNetwork;
  /** The install host's own static address in the network. */
  readonly address: string;
  /** The image its server starts from (must contain dnsmasq, nginx and the iPXE binaries). */
  readonly image: ImageSource;
  /**
   * `full`: the install host is the subnet's DHCP server (give the GuestNetwork
   * `dhcp: "off"`); `proxy`: another DHCP server hands out addresses and the install host
   * adds boot information for known MACs only.
   * @default "full"
   */
  readonly dhcpMode?: DhcpMode;
  /** The dynamic DHCP pool: handed out in full mode, the other server's pool in proxy mode. */
  readonly dhcpRange: { readonly start: string; readonly end: string };
  /**
   * Default router of installed machines.
   * @default the network's gateway (the hypervisor's address on it)
   */
  readonly gateway?: string;
  /**
   * DNS servers of installed machines.
   * @default none
   */
  readonly dnsServers?: readonly string[];
  /**
   * Names the install host answers DNS for on the install subnet, each with its IPv4 address
   * (dnsmasq `host-record`), e.g. `{ "binhost.example.ch": "10.0.0.10" }` so that the
   * installer resolves the binhost's stage URL. Give the install host's address in
   * `dnsServers` for machines to use it. Nothing else is answered or forwarded.
   * @default none: the install host serves no DNS
   */
  readonly hostRecords?: Readonly<Record<string, string>>;
  /**
   * DNS domain (`example.ch`): a machine's FQDN, certificate name and Puppet certname is
   * `<hostname>.<domain>`, the install host's `<name>.<domain>`.
   */
  readonly domain: string;
  /** The machines, by MAC. Adding one pushes files; it never recreates the server. */
  readonly machines: readonly PxeMachine[];
  /** The Stacks machines may run; a machine's environment and arch must be built by its Stack. */
  readonly stacks: readonly Stack[];
  /**
   * The binhost: its base URL and, per `<env>/<arch>/<stack>`, the client configuration
   * (a BinhostMirror's `url` and `clientConfig` fit).
   */
  readonly binhost: {
    readonly clientConfig: pulumi.Input<Readonly<Record<string, PxeBinhostClientConfig>>>;
  };
  /**
   * Per `<env>/<arch>/<stack>` of the machines, the stage tarball they install (HTTPS on
   * the binhost) and its SHA-512. Changing one changes the install configurations only.
   */
  readonly stages: pulumi.Input<Readonly<Record<string, PxeStage>>>;
  /**
   * The PKI: host certificates from its host sub-CA, agent certificates from its puppet
   * sub-CA, both under its base DN.
   */
  readonly rootCa: PxePki;
  /** Puppet bootstrap: the server's host name. The agent's environment is the machine's. */
  readonly puppet: { readonly server: string };
  /** Installer kernel and initramfs per arch (local files), served over HTTP. */
  readonly installers: Readonly<Record<string, InstallerImages>>;
  /**
   * iPXE binary for UEFI machines.
   * @default "snponly"
   */
  readonly efiBinary?: EfiBinary;
  /**
   * Extra kernel arguments of the installer.
   * @default ["console=tty0", "console=ttyS0,115200"]
   */
  readonly kernelArguments?: readonly string[];
  /**
   * Directory on the server holding the iPXE binaries (Debian's ipxe package); they are
   * copied into the TFTP root. arm64 binaries are expected in its `arm64/` subdirectory.
   * An absolute path of plain segments (letters, digits, `. _ + -`; no `.` or `..`): it
   * reaches a root shell command on the server, so anything else is refused up front.
   * @default "/usr/lib/ipxe"
   */
  readonly ipxeDirectory?: string;
  /**
   * OpenSSH public keys that may log in as root on every installed machine
   * (`/root/.ssh/authorized_keys`, written by the installer).
   * @default none
   */
  readonly authorizedKeys?: readonly pulumi.Input<string>[];
}

/**
 * The binhost machines install from: its Stacks' `binhostUrl` (the install host's validation
 * refuses Stacks that give different ones), or undefined without a Stack.
 */
export function installHostBinhostUrl(args: PxeInstallHostArgs): pulumi.Input<string> | undefined {
  return Array.isArray(args.stacks) ? args.stacks[0]?.binhostUrl : undefined;
}

/** The machines of a PxeInstallHost's arguments as the install host's inventory lists them. */
export function installHostMachines(args: PxeInstallHostArgs): Machine[] {
  return (args.machines ?? []).map((m) => ({
    mac: m.mac,
    hostname: m.hostname,
    environment: m.environment,
    arch: m.arch,
    stack: m.stack,
    address: m.address,
    firmware: m.firmware,
    disk: m.diskLayout,
    ...(m.installGeneration === undefined ? {} : { installGeneration: m.installGeneration }),
  }));
}

/** The install host's network as its arguments give it: the GuestNetwork's subnet and gateway, and its own. */
export function installHostNetwork(args: PxeInstallHostArgs): PxeNetwork {
  return {
    subnet: args.network?.subnet,
    gateway: args.gateway ?? args.network?.gateway,
    ...(args.dnsServers === undefined ? {} : { dnsServers: args.dnsServers }),
    domain: args.domain,
    dhcpRange: args.dhcpRange,
  };
}
