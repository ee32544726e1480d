/**
 * The spec keys catalyst 4.x accepts, per target: a key table derived by reading catalyst's
 * source (gentoo/catalyst, not copied):
 * - `catalyst/base/stagebase.py`, `StageBase.__init__`: `required_values` (profile, rel_type,
 *   snapshot_treeish, source_subpath, subarch, target, version_stamp) and `valid_values`
 *   (asflags … portage_prefix), and `set_valid_build_kernel_vars` for the per-kernel
 *   `boot/kernel/<label>/…` keys;
 * - `catalyst/targets/stage1.py` (chost, update_seed, update_seed_command),
 *   `stage2.py` (chost), `stage3.py` (none), `stage4.py` (stage4/packages required;
 *   boot/kernel, repos, stage4/{empty,fsscript,gk_mainargs,groups,linuxrc,rcadd,rcdel,rm,
 *   root_overlay,ssh_public_keys,unmerge,use,users});
 * - `catalyst/support.py` `addl_arg_parse`: an unknown key is "not recognized" and a missing
 *   required key is "not specified"; both abort the build.
 * - `catalyst/config.py` `SpecParser`: `key: value` lines, ':' separates, values split on
 *   whitespace, continuation lines extend the last key's list, '#' starts a comment and
 *   values pass through Python '%' formatting.
 */
import { type Violation, violation } from "../validation/violations";

/** catalyst targets gentoo-infra renders. */
export type CatalystTarget = "stage1" | "stage2" | "stage3" | "stage4";

const COMMON_REQUIRED = [
  "profile",
  "rel_type",
  "snapshot_treeish",
  "source_subpath",
  "subarch",
  "target",
  "version_stamp",
] as const;

const COMMON_VALID = [
  "asflags",
  "binrepo_path",
  "catalyst_use",
  "cbuild",
  "cflags",
  "common_flags",
  "compression_mode",
  "cxxflags",
  "decompressor_search_order",
  "fcflags",
  "fflags",
  "hostuse",
  "install_mask",
  "interpreter",
  "keep_repos",
  "kerncache_path",
  "ldflags",
  "pkgcache_path",
  "portage_confdir",
  "rename_regexp",
  "repos",
  "portage_prefix",
] as const;

/** Keys per target beyond the common ones: [required, valid]. */
const CATALYST_TARGET_KEYS: Readonly<
  Record<CatalystTarget, readonly [readonly string[], readonly string[]]>
> = {
  stage1: [[], ["chost", "update_seed", "update_seed_command"]],
  stage2: [[], ["chost"]],
  stage3: [[], []],
  stage4: [
    ["stage4/packages"],
    [
      "boot/kernel",
      "repos",
      "stage4/empty",
      "stage4/fsscript",
      "stage4/gk_mainargs",
      "stage4/groups",
      "stage4/linuxrc",
      "stage4/rcadd",
      "stage4/rcdel",
      "stage4/rm",
      "stage4/root_overlay",
      "stage4/ssh_public_keys",
      "stage4/unmerge",
      "stage4/use",
      "stage4/users",
    ],
  ],
};

/** Per-kernel keys, valid as `boot/kernel/<label>/<key>` for each label listed in `boot/kernel`. */
const CATALYST_KERNEL_KEYS: readonly string[] = [
  "aliases",
  "config",
  "console",
  "distkernel",
  "dracut_args",
  "extraversion",
  "gk_action",
  "gk_kernargs",
  "initramfs_overlay",
  "packages",
  "softlevel",
  "sources",
  "use",
];

/** The keys a spec for `target` must have. */
export function catalystRequiredKeys(target: CatalystTarget): string[] {
  return [...COMMON_REQUIRED, ...CATALYST_TARGET_KEYS[target][0]];
}

/** The keys a spec for `target` may have, given its kernel labels. */
function catalystValidKeys(
  target: CatalystTarget,
  kernelLabels: readonly string[] = [],
): Set<string> {
  const [required, valid] = CATALYST_TARGET_KEYS[target];
  return new Set([
    ...COMMON_REQUIRED,
    ...COMMON_VALID,
    ...required,
    ...valid,
    ...kernelLabels.flatMap((label) =>
      CATALYST_KERNEL_KEYS.map((k) => `boot/kernel/${label}/${k}`),
    ),
  ]);
}

/**
 * Checks a spec's keys as catalyst's `addl_arg_parse` would: every key recognized for the
 * spec's target, every required key present. `spec` maps keys to values (lists for
 * multi-value keys).
 */
export function validateCatalystSpecKeys(
  spec: Readonly<Record<string, string | readonly string[]>>,
): Violation[] {
  const target = spec.target;
  if (typeof target !== "string" || !Object.hasOwn(CATALYST_TARGET_KEYS, target)) {
    return [
      violation(
        "target",
        target,
        "is not a catalyst target gentoo-infra renders",
        "use stage1, stage2, stage3 or stage4",
      ),
    ];
  }
  const t = target as CatalystTarget;
  const kernels = spec["boot/kernel"];
  const labels =
    kernels === undefined ? [] : typeof kernels === "string" ? [kernels] : [...kernels];
  const valid = catalystValidKeys(t, labels);
  const out: Violation[] = [];
  for (const key of Object.keys(spec)) {
    if (!valid.has(key)) {
      out.push(
        violation(
          key,
          spec[key],
          `is not a catalyst ${t} spec key`,
          "remove it; catalyst aborts on unrecognized keys",
        ),
      );
    }
  }
  for (const key of catalystRequiredKeys(t)) {
    if (!(key in spec))
      out.push(violation(key, undefined, `is required in a catalyst ${t} spec`, "set it"));
  }
  return out;
}
