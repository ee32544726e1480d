/**
 * The arguments of {@link GentooBuildFarm}, their defaults, and how a builder's hypervisor
 * key selects its network, image and overlay. Validation is in ./gentoo-build-farm-validate.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Hypervisor } from "../libvirt/hypervisor";
import type { GuestNetwork } from "../libvirt/network";
import type { ImageSource } from "../libvirt/virtual-machine";
import type { ArchName } from "../portage/arch";
import type { Environment } from "../snapshot/environments";
import { isStack } from "../stack/model";
import type { Stack } from "../stack/stack";

/** One builder: the build profile it builds and where its VM runs. */
export interface BuildFarmBuilder {
  /**
   * The Stack built; the build profile is `stack.buildProfiles["<environment>/<arch>/<stack>"]`, and
   * the tree it builds is the Stack's for the environment (`stack.treeSources`: its clone URLs
   * at its `treeSnapshots` commits).
   */
  readonly stack: Stack;
  /** The environment (one of the Stack's environments). */
  readonly environment: Environment;
  /** The arch (one of the Stack's arches). */
  readonly arch: ArchName;
  /** The key in `hypervisors` of the hypervisor its VM runs on. */
  readonly hypervisor: string;
  /** Its static IPv4 address in the network's subnet. */
  readonly address: string;
}

/** How builders reach the binhost's upload account (BinhostMirror's `upload`). */
export interface BuildFarmUpload {
  /** Host name or address of the binhost. */
  readonly host: string;
  /** The upload account. */
  readonly user: string;
  /** The upload account's private key (OpenSSH format); pushed as a secret file. */
  readonly privateKeyOpenssh: string;
  /** known_hosts line(s) with the binhost's host key. */
  readonly knownHosts: string;
}

/** The catalyst stage builds. */
export interface BuildFarmStages {
  /** The build date stamp of this round of stages (an input, never the clock): `20261122T030000Z`. */
  readonly buildStamp: string;
  /** The seed stage3 per arch, relative to catalyst's `$storedir/builds/`, without extension. */
  readonly seeds: Readonly<Partial<Record<ArchName, string>>>;
  /**
   * The stage4 of each environment: the Stack (by name) and arch whose packages it holds;
   * built on that build profile's builder from the stage3 of the Stack's system profile.
   * @default none: no stage4
   */
  readonly stage4?: Readonly<Partial<Record<Environment, { stack: string; arch: ArchName }>>>;
}

/** Arguments of {@link GentooBuildFarm}. */
export interface GentooBuildFarmArgs {
  /** The hypervisors builders run on, by a key of yours (`kvm1`). */
  readonly hypervisors: Readonly<Record<string, Hypervisor>>;
  /**
   * The network builders attach to: one {@link GuestNetwork}, or one per hypervisor key (a
   * libvirt network lives on one hypervisor).
   */
  readonly network: GuestNetwork | Readonly<Record<string, GuestNetwork>>;
  /**
   * The builder image (a cloud-init qcow2; the Debian STAND-IN in the examples): one
   * `ImageSource`, or one per hypervisor key (a `BaseImage` volume lives in one
   * hypervisor's pool, so `{ volumeId }` is per hypervisor).
   */
  readonly image: ImageSource | Readonly<Record<string, ImageSource>>;
  /** One entry per build profile. */
  readonly builders: readonly BuildFarmBuilder[];
  /**
   * The binhost builders publish to: the account they upload with. Its URL is the builders'
   * Stacks' `binhostUrl` (build profiles are served at `<url>/<env>/<arch>/<stack>/`).
   */
  readonly binhost: {
    /** Upload account (host, user, private key, known_hosts). */
    readonly upload: pulumi.Input<BuildFarmUpload>;
    /**
     * The directory on the binhost, as the upload account sees it, below which
     * `<env>/<arch>/<stack>/` and `stages/` are uploaded.
     * @default "/": the account's root; BinhostMirror confines its upload account to the
     * document root with rrsync, so remote paths are relative to the document root
     */
    readonly rootDir?: string;
    /**
     * The PEM certificate of the CA that issued the binhost's TLS certificate (the RootCa's
     * `rootCertificatePem`): pushed to each builder and trusted inside its builds, so that
     * git, wget and Portage reach the binhost over HTTPS.
     * @default none: the builder image's own CA store must trust the binhost
     */
    readonly rootCertificatePem?: pulumi.Input<string>;
    /**
     * Whether builds resolve the binhost URL's host name to `upload.host` (an IPv4 address,
     * as BinhostMirror's `upload` has) inside their throwaway root, for sites whose builders
     * have no DNS entry for the binhost.
     * @default true when `upload.host` is an IPv4 address
     */
    readonly pinHostname?: boolean;
  };
  /** The package-signing key (`rootCa.packageSigningKey`); its private key is pushed as a secret file. */
  readonly signingKey: { readonly privateKeyArmored: pulumi.Input<string> };
  /** URL that receives a JSON POST with each build's outcome. */
  readonly notifyUrl: pulumi.Input<string>;
  /** Binary packages older than this many days that nothing installed needs are pruned. */
  readonly retentionDays: number;
  /** systemd calendar expression of the periodic build (`*-*-* 03:00:00`). */
  readonly schedule: string;
  /**
   * Kernel packages every builder builds into binary packages besides @world.
   * @default ["sys-kernel/gentoo-kernel"] (the distribution kernel); `[]` builds none
   */
  readonly kernelPackages?: readonly string[];
  /**
   * Disk of each builder in GiB (the image, PKGDIR, distfiles, repository clones).
   * @default 40
   */
  readonly diskGiB?: number;
  /**
   * Memory of each builder in MiB.
   * @default 4096
   */
  readonly memoryMiB?: number;
  /**
   * vCPUs of each builder; match the Stacks' `builderMakeJobs`.
   * @default 4
   */
  readonly vcpus?: number;
  /**
   * catalyst stage builds: stage1-3 per (environment, arch, system profile), stage4 per
   * environment.
   * @default none: no stage builds
   */
  readonly stages?: BuildFarmStages;
}

/** Default of {@link GentooBuildFarmArgs.kernelPackages}. */
export const DEFAULT_KERNEL_PACKAGES = ["sys-kernel/gentoo-kernel"] as const;
/** Defaults of the builder VM size. */
export const DEFAULT_BUILDER_SIZE = { diskGiB: 40, memoryMiB: 4096, vcpus: 4 } as const;

/** Default of `binhost.rootDir`: the upload account's (rrsync-confined) root. */
export const DEFAULT_UPLOAD_ROOT = "/";

/**
 * The overlay's repository name as a Stack renders it (`profiles/repo_name`), so that the
 * build script checks the overlay out where the Stack's repos.conf expects it.
 */
export function stackOverlayName(stack: Stack): string | undefined {
  return stack.overlayFiles["profiles/repo_name"]?.trim();
}

/**
 * The binhost URL all of a farm's Stacks share (their `binhostUrl`; the farm's validation
 * refuses Stacks that give different ones), or undefined when no builder has a Stack.
 */
export function farmBinhostUrl(
  args: Pick<GentooBuildFarmArgs, "builders">,
): pulumi.Input<string> | undefined {
  return (Array.isArray(args.builders) ? args.builders : []).find((b) => isStack(b.stack))?.stack
    .binhostUrl;
}

/** The overlay name all of a farm's Stacks share ("gentoo-infra" when there is none). */
export function farmOverlayName(args: Pick<GentooBuildFarmArgs, "builders">): string {
  const first = (Array.isArray(args.builders) ? args.builders : []).find((b) => isStack(b.stack));
  return (first && stackOverlayName(first.stack)) ?? "gentoo-infra";
}

/** Whether `value` is one ImageSource (rather than a map by hypervisor key). */
export function isImageSource(value: unknown): value is ImageSource {
  if (value === null || typeof value !== "object") return false;
  const keys = Object.keys(value);
  return keys.length >= 1 && keys.every((k) => k === "path" || k === "url" || k === "volumeId");
}

/** The image of a builder on hypervisor `key`, if any. */
export function imageFor(
  image: GentooBuildFarmArgs["image"],
  key: string,
): ImageSource | undefined {
  if (isImageSource(image)) return image;
  const map = image as Readonly<Record<string, ImageSource>> | undefined;
  return map && typeof map === "object" && Object.hasOwn(map, key) ? map[key] : undefined;
}

/** The GuestNetwork a builder on hypervisor `key` attaches to, if any. */
export function networkFor(
  network: GentooBuildFarmArgs["network"],
  key: string,
): GuestNetwork | undefined {
  if (network !== null && typeof network === "object" && "networkId" in network) {
    return network as GuestNetwork;
  }
  const map = network as Readonly<Record<string, GuestNetwork>> | undefined;
  return map && Object.hasOwn(map, key) ? map[key] : undefined;
}
