/**
 * The one Stack of examples/minimal (and of the default site, ../../index.ts): a server
 * system profile, amd64, built for development. The render tier (test/render/examples.test.ts)
 * lets Portage judge every build profile of it.
 */
import type { ArchName, Environment, ProfileCatalog, StackDefinition } from "../../lib";

/** One system profile and no application profiles. */
export const catalog: ProfileCatalog = {
  systemProfiles: {
    server: {
      description: "a headless server: SSH, sudo, the distribution kernel as a binary package",
      packages: [
        "sys-apps/baselayout",
        "net-misc/openssh",
        "app-admin/sudo",
        "sys-kernel/gentoo-kernel",
      ],
      use: ["-X"],
    },
  },
};

/** linux: the server system profile alone. */
export const linux: StackDefinition = { name: "linux", systemProfile: "server" };

/** Every Stack of the example. */
export const stacks: readonly StackDefinition[] = [linux];
/** The arches it builds. */
export const arches: readonly ArchName[] = ["amd64"];
/** The environments it builds. */
export const environments: readonly Environment[] = ["development"];
