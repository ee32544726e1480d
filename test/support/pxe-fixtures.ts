/** A small inventory shared by the pxe unit and render tests. */
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
