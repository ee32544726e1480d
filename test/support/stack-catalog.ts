/**
 * The profile catalog and Stacks the Stack tests share (unit, render, component). Its
 * package names exist in the stand-in Gentoo tree (standin/gentoo).
 */
import type { ProfileCatalog, StackDefinition } from "../../lib/stack";

/** base → server system profiles; ruby-app → rails-app and python-app → django-app. */
export const catalog: ProfileCatalog = {
  systemProfiles: {
    base: {
      description: "what every machine has",
      packages: ["sys-apps/baselayout"],
      use: ["-X", "ipv6"],
    },
    server: {
      parent: "base",
      description: "headless servers",
      packages: ["app-admin/sudo"],
      packageUse: { "app-admin/sudo": ["-sendmail"] },
    },
  },
  applicationProfiles: {
    "ruby-app": {
      packages: ["dev-lang/ruby"],
      packageUse: { "dev-lang/ruby": ["jit"] },
    },
    "rails-app": {
      parent: "ruby-app",
      packages: ["dev-ruby/rails"],
      acceptKeywords: ["dev-ruby/rails"],
    },
    "python-app": {
      packages: ["dev-lang/python"],
      use: ["sqlite"],
    },
    "django-app": {
      parent: "python-app",
      packages: ["dev-python/django"],
    },
  },
};

/** linux: the server system profile alone. */
export const linux: StackDefinition = { name: "linux", systemProfile: "server" };
/** ruby: linux plus ruby-app. */
export const ruby: StackDefinition = {
  name: "ruby",
  base: linux,
  applicationProfiles: ["ruby-app"],
};
/** rails: ruby plus rails-app (rails → ruby → linux). */
export const rails: StackDefinition = {
  name: "rails",
  base: ruby,
  applicationProfiles: ["rails-app"],
};

/** Fixed late-bound values: commits and a fingerprint in the shape git and gpg print them. */
export const GENTOO_COMMIT = "1111111111111111111111111111111111111111";
export const OVERLAY_COMMIT = "2222222222222222222222222222222222222222";
export const STAGING_GENTOO_COMMIT = "3333333333333333333333333333333333333333";
export const STAGING_OVERLAY_COMMIT = "4444444444444444444444444444444444444444";
export const FINGERPRINT = "0123456789ABCDEF0123456789ABCDEF01234567";
export const BINHOST_URL = "https://binhost.example.org/packages";
export const GENTOO_SYNC_URI = "https://git.example.org/gentoo.git";
export const OVERLAY_SYNC_URI = "https://git.example.org/overlay.git";
