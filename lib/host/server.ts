import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { renderNetworkConfig } from "../cloud-init/network-config";
import { renderUserData } from "../cloud-init/user-data";
import type { Hypervisor } from "../libvirt/hypervisor";
import type { GuestNetwork } from "../libvirt/network";
import { type ImageSource, VirtualMachine } from "../libvirt/virtual-machine";
import { parseIpv4Subnet } from "../network/ipv4";
import { derivedMac } from "../network/mac";
import { assertValid } from "../validation/resource-error";
import type { FilePush } from "./file-push";
import type { SshConnection } from "./ssh-exec";
import { validateServerArgs } from "./validate";

/** The user our SSH connections log in as (sudo without password). */
export const ADMIN_USER = "gi-admin";

/**
 * A directory of ours on every server (the admin user's, 0700), made by cloud-init's runcmd: the
 * readiness check looks for it to know that runcmd ran. (Pushes staged files here before they
 * were installed in one process, lib/host/push-install.py; it stays, since a change to it would
 * change every server's user data and so replace every VM.)
 */
export const STAGING_DIR = "/var/lib/gentoo-infra/incoming";

/** Arguments of a {@link Server}. */
export interface ServerArgs {
  /** The hypervisor it runs on. */
  readonly hypervisor: Hypervisor;
  /** The network it is attached to. */
  readonly network: GuestNetwork;
  /** Its static IPv4 address in the network's subnet. */
  readonly address: string;
  /** The image its disk starts from (a cloud-init image). */
  readonly image: ImageSource;
  /**
   * Disk size in GiB.
   * @default 10
   */
  readonly diskGiB?: number;
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
   * Commands run once, at first boot, after the admin user exists (e.g. enabling a service).
   * @default none
   */
  readonly firstBootCommands?: readonly string[];
  /**
   * Its SSH host key: `image` lets the image generate its host keys at first boot (unknown
   * until then); `pinned` creates an ED25519 key here (`tls.PrivateKey` `<name>-host-key`)
   * that cloud-init installs, so that {@link Server.hostPublicKey} can go into clients'
   * known_hosts before the server boots. The user-data then holds a private key and is a
   * Pulumi secret.
   * @default "image"
   */
  readonly hostKey?: "image" | "pinned";
}

/**
 * A server VM of the site (binhost, install host, builder): a {@link VirtualMachine} with a
 * static address, an admin user that our SSH connections use, and its own SSH key pair kept
 * as a Pulumi secret. Configuration that changes after creation is pushed over SSH with
 * {@link PushedFiles}, so a change never recreates the VM.
 *
 * Creates: `tls.PrivateKey` `<name>-ssh-key` (ED25519), `tls.PrivateKey` `<name>-host-key`
 * (ED25519, only with `hostKey: "pinned"`), `VirtualMachine` `<name>` and
 * `command.remote.Command` `<name>-ready`, which waits over SSH until cloud-init has finished
 * (first-boot commands included) and fails with cloud-init's own report when it did not.
 */
export class Server extends pulumi.ComponentResource {
  /** Its address. */
  public readonly address: string;
  /** Its MAC (derived from its libvirt name). */
  public readonly mac: string;
  /** The VM. */
  public readonly vm: VirtualMachine;
  /** The admin SSH key pair (private key secret). */
  public readonly sshKey: tls.PrivateKey;
  /** The pinned SSH host key (private key secret), with `hostKey: "pinned"`. */
  public readonly hostKey: tls.PrivateKey | undefined;
  /** The pinned SSH host public key (`ssh-ed25519 AAAA…`), with `hostKey: "pinned"`. */
  public readonly hostPublicKey: pulumi.Output<string> | undefined;
  /** How @pulumi/command reaches the server (private key secret). */
  public readonly connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
  /**
   * How a push ({@link FilePush}) reaches the server (private key secret); with
   * `hostKey: "pinned"` it refuses a server presenting another host key.
   */
  public readonly sshTarget: pulumi.Output<SshConnection>;
  /**
   * Done once cloud-init has finished on the current VM: depend on it before pushing files
   * (the admin user, its sudo and the users of first-boot commands exist from then on).
   */
  public readonly ready: command.remote.Command;

  constructor(name: string, args: ServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:host:Server", name, {}, opts);
    assertValid(this, `Server "${name}"`, validateServerArgs(args, args.network.subnet));

    this.address = args.address;
    this.mac = derivedMac(args.hypervisor.objectName(name));
    this.sshKey = new tls.PrivateKey(`${name}-ssh-key`, { algorithm: "ED25519" }, { parent: this });
    this.hostKey =
      args.hostKey === "pinned"
        ? new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this })
        : undefined;
    this.hostPublicKey = this.hostKey?.publicKeyOpenssh.apply((key) => key.trim());
    const prefixLength = parseIpv4Subnet(args.network.subnet)?.prefixLength ?? 24;
    const hostKey = this.hostKey
      ? pulumi
          .all([this.hostKey.privateKeyOpenssh, this.hostKey.publicKeyOpenssh])
          .apply(([ed25519Private, ed25519Public]) => ({ ed25519Private, ed25519Public }))
      : pulumi.output(undefined);

    const rendered = pulumi.all([this.sshKey.publicKeyOpenssh, hostKey]).apply(([publicKey, key]) =>
      renderUserData({
        hostname: name,
        users: [
          {
            name: ADMIN_USER,
            sshAuthorizedKeys: [publicKey.trim()],
            sudo: "ALL=(ALL) NOPASSWD:ALL",
            // Our SSH automation may log in only once cloud-init is done with sshd.
            authorizeKeysLast: true,
          },
        ],
        runcmd: [
          ["install", "-d", "-m", "0700", "-o", ADMIN_USER, "-g", ADMIN_USER, STAGING_DIR],
          ...(args.firstBootCommands ?? []),
        ],
        ...(key ? { hostKey: key } : {}),
      }),
    );
    const userData = this.hostKey ? pulumi.secret(rendered) : rendered;
    this.vm = new VirtualMachine(
      name,
      {
        hypervisor: args.hypervisor,
        image: args.image,
        diskGiB: args.diskGiB ?? 10,
        memoryMiB: args.memoryMiB ?? 1024,
        vcpus: args.vcpus ?? 1,
        userData,
        networkConfig: renderNetworkConfig({
          mac: this.mac,
          address: `${args.address}/${prefixLength}`,
          gateway: args.network.gateway,
        }),
        networks: [{ networkId: args.network.networkId, mac: this.mac }],
      },
      { parent: this },
    );
    this.connection = pulumi.secret(
      pulumi.all([this.sshKey.privateKeyOpenssh, this.vm.domain.id]).apply(([privateKey]) => ({
        host: args.address,
        user: ADMIN_USER,
        privateKey,
        // A TCG guest takes a minute or more to boot and run cloud-init: keep dialing.
        dialErrorLimit: 60,
        perDialTimeout: 10,
      })),
    );
    this.sshTarget = pulumi.secret(
      pulumi
        .all([this.sshKey.privateKeyOpenssh, this.hostPublicKey])
        .apply(([privateKey, hostPublicKey]) => ({
          host: args.address,
          user: ADMIN_USER,
          privateKey,
          ...(hostPublicKey ? { hostPublicKey } : {}),
          // Pushes follow `ready`: the guest is up, a few attempts ride out a restarting sshd.
          dialErrorLimit: 10,
          perDialTimeout: 20,
        })),
    );
    this.ready = new command.remote.Command(
      `${name}-ready`,
      {
        connection: this.connection,
        create: readyScript(name),
        // A replaced VM is waited for again.
        triggers: [this.vm.domain.id],
      },
      { parent: this },
    );
    this.registerOutputs({
      address: this.address,
      mac: this.mac,
      ...(this.hostPublicKey ? { hostPublicKey: this.hostPublicKey } : {}),
    });
  }
}

/**
 * Waits for cloud-init on server `name`: `cloud-init status --wait` exits 1 when it failed
 * (2, from cloud-init 23.4 on, when it finished with recoverable errors: accepted).
 */
function readyScript(name: string): string {
  return [
    "set -u",
    "rc=0",
    "sudo cloud-init status --wait --long || rc=$?",
    `if [ "$rc" = 1 ]; then echo "cloud-init failed on ${name} (see /var/log/cloud-init-output.log)" >&2; exit 1; fi`,
    `test -d ${STAGING_DIR} || { echo "${STAGING_DIR} is missing on ${name}" >&2; exit 1; }`,
    "",
  ].join("\n");
}
