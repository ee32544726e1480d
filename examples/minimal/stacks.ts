/**
 * The Stacks of examples/minimal (and of the default site, ../../index.ts): `linux`, a server
 * system profile, and `tools`, an application Stack on top of it; amd64, built for each
 * environment (one Pulumi stack per environment, config `environment`). The render tier (test/render/examples.test.ts) lets Portage judge every build
 * profile of them, and scripts/build-tree-standin writes their overlay profiles into the
 * stand-in overlay the builders build from.
 */
import type { ArchName, Environment, ProfileCatalog, StackDefinition } from "../../lib";

/** One system profile and one application profile. */
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
  applicationProfiles: {
    tools: {
      description: "the site's operator tools, from the site overlay",
      packages: ["app-admin/gi-site-tools"],
    },
  },
};

/** linux: the server system profile alone. */
export const linux: StackDefinition = { name: "linux", systemProfile: "server" };

/** tools: linux plus the operator tools; its binhost path stores only what linux lacks. */
export const tools: StackDefinition = {
  name: "tools",
  base: linux,
  applicationProfiles: ["tools"],
};

/** Every Stack of the example. */
export const stacks: readonly StackDefinition[] = [linux, tools];
/** The arches it builds. */
export const arches: readonly ArchName[] = ["amd64"];
/** The environments it builds (a stack's config `environment` picks one). */
export const environments: readonly Environment[] = ["development", "staging", "production"];
