/**
 * The Stack model as plain data: a catalog of system and application profiles, and Stack
 * definitions that combine one system profile with application profiles and may inherit
 * from a base Stack (rails → ruby → linux). Names and validation need these before any
 * resource exists, so nothing here is a `pulumi.Input`.
 */
import { isResourceOfType } from "../validation/resource-type";
import type { Stack } from "./stack";

/** Settings a profile contributes; every field is optional. */
export interface ProfileSettings {
  /** One line for humans; rendered as a comment in the profile's files. */
  readonly description?: string;
  /**
   * Packages (atoms). For a system profile they form the `@system` set (`*atom` in the
   * profile's `packages`); for an application profile they go to the world file.
   * @default none
   */
  readonly packages?: readonly string[];
  /**
   * Global USE tokens for the profile's make.defaults: `"ipv6"` enables, `"-X"` disables.
   * @default none
   */
  readonly use?: readonly string[];
  /**
   * Per-package USE tokens (`package.use`): atom → tokens.
   * @default none
   */
  readonly packageUse?: Readonly<Record<string, readonly string[]>>;
  /**
   * Atoms whose testing keyword (`~amd64` on amd64 …) is accepted
   * (`package.accept_keywords`).
   * @default none: only stable keywords
   */
  readonly acceptKeywords?: readonly string[];
  /**
   * Other make.defaults variables (`PYTHON_SINGLE_TARGET`, `VIDEO_CARDS` …). USE, CHOST
   * and ARCH are not allowed here: use `use`, and the arch table decides CHOST and ARCH.
   * @default none
   */
  readonly makeDefaults?: Readonly<Record<string, string>>;
}

/** A system profile (base, server, desktop …): what a stage3 of that kind contains. */
export interface SystemProfileDefinition extends ProfileSettings {
  /**
   * The system profile this one inherits from (its settings load first).
   * @default none: the profile sits directly on the arch's official Gentoo profile
   */
  readonly parent?: string;
}

/** An application profile (python-app, django-app …): extra packages and settings. */
export interface ApplicationProfileDefinition extends ProfileSettings {
  /**
   * The application profile this one inherits from (python-app for django-app).
   * @default none
   */
  readonly parent?: string;
}

/** The profiles a site defines, shared by all its Stacks. */
export interface ProfileCatalog {
  /** System profiles by name. */
  readonly systemProfiles: Readonly<Record<string, SystemProfileDefinition>>;
  /**
   * Application profiles by name.
   * @default none
   */
  readonly applicationProfiles?: Readonly<Record<string, ApplicationProfileDefinition>>;
}

/** A Stack as plain data: what a `Stack` component exposes as `definition`. */
export interface StackDefinition {
  /** The Stack's name: a path segment of its binhost paths and of its profile. */
  readonly name: string;
  /**
   * Its system profile.
   * @default the base Stack's (required when there is no base)
   */
  readonly systemProfile?: string;
  /**
   * Application profiles added on top of the base Stack's, in load order.
   * @default none
   */
  readonly applicationProfiles?: readonly string[];
  /**
   * The Stack this one extends: its system profile, application profiles and packages
   * are inherited, and its build profiles' binhost paths are used before building.
   * @default none
   */
  readonly base?: StackDefinition;
}

/** Names of profiles and Stacks: lower case letters, digits and `-`, starting with a letter. */
export const PROFILE_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

/** Fix text for a bad profile or Stack name. */
export const PROFILE_NAME_FIX =
  'use lower case letters, digits and "-", starting with a letter, e.g. "django-app"';

/** make.defaults variables a profile may not set through `makeDefaults`. */
export const RESERVED_MAKE_DEFAULTS = ["ARCH", "CHOST", "USE"] as const;

/** The Pulumi type of the {@link Stack} component. */
export const STACK_TYPE = "gentoo-infra:stack:Stack";

/** True when `value` is a {@link Stack} component (recognised without loading Pulumi). */
export function isStack(value: unknown): value is Stack {
  return isResourceOfType(value, STACK_TYPE);
}
