/** Inputs shared by the buildfarm unit and render tests. */
import type {
  BuildScriptArgs,
  Stage4SpecArgs,
  StageScriptArgs,
  StageSpecArgs,
} from "../../lib/buildfarm";

export const TREE_COMMIT = "3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39";
export const OVERLAY_COMMIT = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d";
/** The next tree snapshot of production (a rebuild trigger). */
export const NEXT_TREE_COMMIT = "7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b";
export const FARM_TREE_URL = "https://git.example.ch/gentoo.git";
export const FARM_OVERLAY_URL = "https://git.example.ch/gentoo-infra-overlay.git";

export const buildScriptArgs: BuildScriptArgs = {
  buildProfile: { environment: "production", arch: "amd64", stack: "web" },
  tree: { name: "gentoo", url: "https://git.example.ch/gentoo.git", commit: TREE_COMMIT },
  overlay: {
    name: "infra",
    url: "https://git.example.ch/infra-overlay.git",
    commit: OVERLAY_COMMIT,
  },
  upload: {
    host: "binhost.example.ch",
    user: "binhost",
    sshKeyPath: "/etc/gentoo-infra/upload_ed25519",
    knownHostsPath: "/etc/gentoo-infra/known_hosts",
  },
  notifyUrl: "https://hooks.example.ch/builds",
  retentionDays: 30,
};

export const stageArgs: StageSpecArgs = {
  environment: "production",
  subarch: "amd64",
  chost: "x86_64-pc-linux-gnu",
  systemProfile: "server",
  profile: "infra:targets/server",
  treeCommit: TREE_COMMIT,
  buildStamp: "20261122T030000Z",
  seed: "seeds/stage3-amd64-openrc-20261101T170000Z",
  repos: ["/var/tmp/catalyst/repos/infra-9e8d7c6b.sqfs"],
};

export const stage4Args: Stage4SpecArgs = {
  environment: "production",
  subarch: "amd64",
  profile: "infra:targets/server",
  treeCommit: TREE_COMMIT,
  buildStamp: "20261122T030000Z",
  name: "web",
  source: "production/stage3-amd64-server-20261122T030000Z",
  packages: ["app-admin/sudo", "app-admin/puppet", "net-misc/openssh", "sys-boot/grub"],
  use: ["-X", "ssl"],
  rcadd: ["sshd|default", "puppet|default"],
  kernel: { label: "gentoo", sources: "sys-kernel/gentoo-kernel", distkernel: true },
  repos: ["/var/tmp/catalyst/repos/infra-9e8d7c6b.sqfs"],
};

/** The build script as GentooBuildFarm renders it: kernel, pushed signing key, rrsync-confined upload. */
export const farmBuildScriptArgs: BuildScriptArgs = {
  ...buildScriptArgs,
  overlay: { ...buildScriptArgs.overlay, name: "gentoo-infra" },
  upload: {
    host: "192.168.150.10",
    user: "gi-upload",
    rootDir: "/",
    sshKeyPath: "/etc/gentoo-infra/upload_ed25519",
    knownHostsPath: "/etc/gentoo-infra/upload_known_hosts",
  },
  kernelPackages: ["sys-kernel/gentoo-kernel"],
  signingKey: { keyPath: "/etc/gentoo-infra/package-signing-key.asc" },
  repositoryUrl: "https://binhost.example.ch/production/amd64/web/",
};

/** A stage script of production/amd64 (server system profile) plus the stage4 of production. */
export const stageScriptArgs: StageScriptArgs = {
  label: "production/amd64/web",
  treeCommit: TREE_COMMIT,
  builds: [
    {
      specPath: "/etc/gentoo-infra/catalyst/production-amd64-server/stage1.spec",
      output: "production/stage1-amd64-server-20261122T030000Z",
    },
    {
      specPath: "/etc/gentoo-infra/catalyst/production-amd64-server/stage2.spec",
      output: "production/stage2-amd64-server-20261122T030000Z",
    },
    {
      specPath: "/etc/gentoo-infra/catalyst/production-amd64-server/stage3.spec",
      output: "production/stage3-amd64-server-20261122T030000Z",
      uploadTo: "production/amd64",
    },
    {
      specPath: "/etc/gentoo-infra/catalyst/production-stage4/stage4.spec",
      output: "production/stage4-amd64-web-20261122T030000Z",
      uploadTo: "production/amd64",
    },
  ],
  upload: farmBuildScriptArgs.upload,
  notifyUrl: "https://hooks.example.ch/builds",
};
