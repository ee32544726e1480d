/**
 * The contract of {@link BinhostMirror}: its arguments and the shapes of its outputs.
 */
import type { Hypervisor } from "../libvirt/hypervisor";
import type { GuestNetwork } from "../libvirt/network";
import type { ImageSource } from "../libvirt/virtual-machine";
import type { RootCa } from "../pki/root-ca";
import type { Stack } from "../stack/stack";
import type { BinhostGitRepository } from "./git";
import type { BinhostHttpMode } from "./nginx-conf";

/** Arguments of a `BinhostMirror`. */
export interface BinhostMirrorArgs {
  /** The hypervisor its server runs on. */
  readonly hypervisor: Hypervisor;
  /** The network its server is attached to. */
  readonly network: GuestNetwork;
  /** Its static IPv4 address in the network's subnet (also a SAN of its certificate). */
  readonly address: string;
  /** The image its server's disk starts from (a cloud-init image with nginx, rsync and python3). */
  readonly image: ImageSource;
  /**
   * The PKI: its host sub-CA issues the TLS certificate; its CRLs, CA chain, root
   * certificate and package-signing public key are published.
   */
  readonly rootCa: RootCa;
  /**
   * The Stacks whose build profiles it serves: one repository per build profile at
   * `<env>/<arch>/<stack>/`. A Stack's base must be listed too (clients fetch from it).
   */
  readonly stacks: readonly Stack[];
  /**
   * Its fully qualified DNS name: nginx's server_name, the certificate's common name and
   * DNS SAN, the URL's host. Required (not defaulted to the resource name): the resource
   * name is also the VM's libvirt and host name, one label, and the certificate needs a
   * fully qualified name.
   */
  readonly hostname: string;
  /**
   * Port 80: `redirect` serves `crl/` and redirects everything else to HTTPS; `off` has no
   * port-80 listener.
   * @default "redirect"
   */
  readonly http?: BinhostHttpMode;
  /**
   * Disk size in GiB (packages, distfiles and stages of every build profile).
   * @default 50
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
   * Days of validity of its TLS certificate; a preview shows the renewal 30 days before
   * expiry and `pulumi up` pushes it.
   * @default 365
   */
  readonly certificateValidityDays?: number;
  /**
   * Git repositories served read-only over HTTPS (smart HTTP) at `git/<name>.git`, each
   * pushed from a local clone: `branches` maps a branch on the binhost to the commit it must
   * point at (an environment's tree snapshot commit). Validation checks that each clone
   * has each commit. The binhost has exactly the listed branches; a new commit is pushed by
   * the next `pulumi up` (its preview names the commit).
   * @default none: no git repositories, no fcgiwrap, no `git/` locations
   */
  readonly gitRepositories?: readonly BinhostGitRepository[];
}

/** What builders need to upload with rsync over SSH. */
export interface BinhostUpload {
  /** The address to connect to. */
  readonly host: string;
  /** The upload user (its login runs only rrsync, confined to the document root). */
  readonly user: string;
  /** The upload key, OpenSSH private key format. */
  readonly privateKeyOpenssh: string;
  /** known_hosts line(s) pinning the binhost's host key (host name and address). */
  readonly knownHosts: string;
}

/** What an installed machine of one build profile puts into its Portage configuration. */
export interface BinhostClientConfig {
  /** Its repository on this binhost. */
  readonly repositoryUrl: string;
  /** `/etc/portage/binrepos.conf/gentoo-infra.conf`, as its Stack renders it. */
  readonly binreposConf: string;
  /** `/etc/portage/make.conf`, as its Stack renders it. */
  readonly makeConf: string;
  /**
   * Every Portage file of such a machine as its Stack renders it (path → content):
   * make.conf, binrepos.conf, repos.conf, make.profile/parent, the tree snapshot, the world
   * file. PxeInstallHost installs them all.
   */
  readonly files: Readonly<Record<string, string>>;
}

/** Default of {@link BinhostMirrorArgs.diskGiB}. */
export const DEFAULT_BINHOST_DISK_GIB = 50;
