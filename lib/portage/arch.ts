/**
 * The Gentoo architectures a Stack can be built for, with the facts every renderer needs.
 * Values follow Gentoo's 23.0 profiles and the releng catalyst specs (checked 2026).
 */

/** One Gentoo architecture. */
export interface ArchInfo {
  /** Gentoo's name for it, as in `profiles/arch.list` and `KEYWORDS` (`amd64`). */
  readonly name: string;
  /** The GNU target triplet Portage builds for (`x86_64-pc-linux-gnu`). */
  readonly chost: string;
  /** catalyst's `subarch` for stage builds (`amd64`, `i686`, `arm64`). */
  readonly catalystSubarch: string;
  /**
   * The official Gentoo profile a system profile's chain ends at, relative to the Gentoo
   * tree's `profiles/` (`default/linux/amd64/23.0`).
   */
  readonly gentooProfile: string;
  /** `-march` baseline used in COMMON_FLAGS unless the user sets flags. */
  readonly commonFlags: string;
}

/** The architectures gentoo-infra knows, by Gentoo name. */
export const ARCHES = {
  amd64: {
    name: "amd64",
    chost: "x86_64-pc-linux-gnu",
    catalystSubarch: "amd64",
    gentooProfile: "default/linux/amd64/23.0",
    commonFlags: "-O2 -pipe",
  },
  x86: {
    name: "x86",
    chost: "i686-pc-linux-gnu",
    catalystSubarch: "i686",
    gentooProfile: "default/linux/x86/23.0/i686",
    commonFlags: "-O2 -pipe -march=i686",
  },
  arm64: {
    name: "arm64",
    chost: "aarch64-unknown-linux-gnu",
    catalystSubarch: "arm64",
    gentooProfile: "default/linux/arm64/23.0",
    commonFlags: "-O2 -pipe",
  },
} as const satisfies Record<string, ArchInfo>;

/** A Gentoo architecture name gentoo-infra knows: amd64 | x86 | arm64. */
export type ArchName = keyof typeof ARCHES;

/** The known arch names in table order. */
const ARCH_NAMES = Object.keys(ARCHES) as ArchName[];

/** Whether `value` names a known arch. */
export function isArchName(value: unknown): value is ArchName {
  return typeof value === "string" && Object.hasOwn(ARCHES, value);
}

/** The fix text shared by every "unknown arch" violation. */
export const ARCH_FIX = `use one of ${ARCH_NAMES.join(", ")}`;
