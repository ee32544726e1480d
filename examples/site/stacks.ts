/**
 * The Stacks of examples/site: the site's profile catalog and three Stacks with inheritance
 * (rails → ruby → linux). Kept apart from index.ts so that the render tier
 * (test/render/examples.test.ts) renders every build profile of it and lets Portage judge it.
 */
import type { ArchName, Environment, ProfileCatalog, StackDefinition } from "../../lib";

/** System profiles (what every machine has) and application profiles (what a product adds). */
export const catalog: ProfileCatalog = {
  systemProfiles: {
    base: {
      description: "every machine: init, logging, SSH, the distribution kernel as a binary package",
      packages: [
        "sys-apps/baselayout",
        "app-admin/sysklogd",
        "net-misc/openssh",
        "sys-kernel/gentoo-kernel",
      ],
      use: ["-X", "ipv6"],
    },
    server: {
      parent: "base",
      description: "headless servers managed by Puppet",
      packages: ["app-admin/sudo", "app-admin/puppet"],
      packageUse: { "app-admin/sudo": ["-sendmail"] },
    },
  },
  applicationProfiles: {
    ruby: {
      description: "the Ruby runtime",
      packages: ["dev-lang/ruby"],
      packageUse: { "dev-lang/ruby": ["jit"] },
    },
    rails: {
      parent: "ruby",
      description: "Rails applications behind nginx, with PostgreSQL client libraries",
      packages: ["dev-ruby/rails", "www-servers/nginx", "dev-db/postgresql"],
      packageUse: { "www-servers/nginx": ["ssl"], "dev-db/postgresql": ["ssl"] },
      acceptKeywords: ["dev-ruby/rails"],
    },
  },
};

/** linux: the server system profile alone. */
export const linux: StackDefinition = { name: "linux", systemProfile: "server" };
/** ruby: linux plus the ruby application profile. */
export const ruby: StackDefinition = { name: "ruby", base: linux, applicationProfiles: ["ruby"] };
/** rails: ruby plus the rails application profile (rails → ruby → linux). */
export const rails: StackDefinition = { name: "rails", base: ruby, applicationProfiles: ["rails"] };

/** Every Stack of the site, bases first. */
export const stacks: readonly StackDefinition[] = [linux, ruby, rails];
/** The arches the site builds. */
export const arches: readonly ArchName[] = ["amd64", "arm64"];
/** The environments the site builds. */
export const environments: readonly Environment[] = ["development", "staging", "production"];
