/** A small inventory shared by the pxe unit and render tests. */
import type * as Pulumi from "@pulumi/pulumi";
import { defaultDiskLayout, type Machine, type PxeNetwork } from "../../lib/pxe/renderers";

export const network: PxeNetwork = {
  subnet: "10.0.0.0/24",
  gateway: "10.0.0.1",
  dnsServers: ["10.0.0.1"],
  domain: "example.ch",
  dhcpRange: { start: "10.0.0.100", end: "10.0.0.199" },
};

export const known = {
  environments: ["development", "staging", "production"],
  arches: ["amd64", "x86", "arm64"],
  stacks: ["base", "web", "db"],
};

export const web1: Machine = {
  mac: "52:54:00:12:34:56",
  hostname: "web1",
  environment: "production",
  arch: "amd64",
  stack: "web",
  address: "10.0.0.21",
  firmware: "uefi",
  disk: defaultDiskLayout("uefi", "/dev/vda"),
};

export const db1: Machine = {
  mac: "52-54-00-AB-CD-EF",
  hostname: "db1",
  environment: "staging",
  arch: "amd64",
  stack: "db",
  address: "10.0.0.22",
  firmware: "bios",
  disk: defaultDiskLayout("bios", "/dev/sda"),
  installGeneration: 2,
};

export const arm1: Machine = {
  mac: "525400c0ffee",
  hostname: "arm1",
  environment: "development",
  arch: "arm64",
  stack: "base",
  address: "10.0.0.23",
  firmware: "uefi",
  disk: {
    device: "/dev/nvme0n1",
    partitions: [
      { label: "efi", type: "efi", sizeMiB: 256, filesystem: "vfat", mountpoint: "/efi" },
      { label: "root", type: "linux", sizeMiB: 16384, filesystem: "xfs", mountpoint: "/" },
      { label: "var", type: "linux", filesystem: "btrfs", mountpoint: "/var" },
    ],
  },
};

export const machines: readonly Machine[] = [web1, db1, arm1];

/**
 * Lets component tests load lib/libvirt while `@pulumi/libvirt` (a generated SDK that
 * scripts/setup builds) is not installed: a STAND-IN module whose resources register with
 * the real provider's type tokens and keep their inputs as outputs, which is all the mocks
 * see. Does nothing when the real SDK resolves. Call it before requiring lib/libvirt.
 */
export function useLibvirtStandInWhenMissing(): void {
  try {
    require.resolve("@pulumi/libvirt");
    return;
  } catch {
    // not installed: register the stand-in below
  }
  const pulumi = require("@pulumi/pulumi") as typeof Pulumi;
  const Module = require("node:module") as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
  };
  const custom = (token: string) =>
    class extends pulumi.CustomResource {
      constructor(name: string, args: Pulumi.Inputs, opts?: Pulumi.CustomResourceOptions) {
        super(token, name, args, opts);
      }
    };
  class Provider extends pulumi.ProviderResource {
    constructor(name: string, args: Pulumi.Inputs, opts?: Pulumi.ResourceOptions) {
      super("libvirt", name, args, opts);
    }
  }
  const standIn = {
    Provider,
    Pool: custom("libvirt:index/pool:Pool"),
    Volume: custom("libvirt:index/volume:Volume"),
    CloudInitDisk: custom("libvirt:index/cloudInitDisk:CloudInitDisk"),
    Domain: custom("libvirt:index/domain:Domain"),
    Network: custom("libvirt:index/network:Network"),
  };
  const id = "/gentoo-infra-test/pulumi-libvirt-stand-in.js";
  const resolve = Module._resolveFilename;
  Module._resolveFilename = (request: string, ...rest: unknown[]) =>
    request === "@pulumi/libvirt" ? id : resolve(request, ...rest);
  require.cache[id] = { id, filename: id, loaded: true, exports: standIn } as NodeJS.Module;
}
