/**
 * catalyst spec files for the stage builders: stage1 → stage2 → stage3 per (environment,
 * arch, system profile), and stage4 per environment. Keys are checked against the table in
 * ./catalyst-keys (derived from catalyst's source) before anything is rendered.
 */
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import { type CatalystTarget, validateCatalystSpecKeys } from "./catalyst-keys";

/** A spec as ordered key → value (a list for multi-value keys). */
export type CatalystSpec = Readonly<Record<string, string | readonly string[]>>;

/** Inputs shared by every stage of one (environment, arch, system profile). */
export interface StageSpecArgs {
  /** Environment (`production`); becomes catalyst's `rel_type`, the builds/ subdirectory. */
  readonly environment: string;
  /** catalyst subarch (`amd64`, `i686`, `arm64`). */
  readonly subarch: string;
  /** The CHOST of the arch (`x86_64-pc-linux-gnu`); set on stage1. */
  readonly chost: string;
  /** System profile name (`server`); prefixes the version stamp. */
  readonly systemProfile: string;
  /**
   * Portage profile as catalyst takes it: relative to a repository's profiles/, optionally
   * prefixed with the repository name (`infra:targets/server`, `default/linux/amd64/23.0`).
   */
  readonly profile: string;
  /**
   * Commit of the Gentoo tree snapshot (`catalyst -s <commit>` made it).
   * @default none: the specs are unpinned; {@link pinSpec} pins one before it is rendered
   */
  readonly treeCommit?: string;
  /** Build date stamp, an input (never the clock): `20261122T030000Z`. */
  readonly buildStamp: string;
  /** The seed stage3 for stage1, relative to `$storedir/builds/`, without extension. */
  readonly seed: string;
  /**
   * Extra repositories (our overlay), as paths on the builder (directories or .sqfs).
   * @default none
   */
  readonly repos?: readonly string[];
  /**
   * A portage configuration directory copied into the stage's /etc/portage.
   * @default none
   */
  readonly portageConfdir?: string;
}

/** Inputs of the stage4 spec of one environment. */
export interface Stage4SpecArgs {
  readonly environment: string;
  readonly subarch: string;
  readonly profile: string;
  /** @default none: the spec is unpinned (see {@link StageSpecArgs.treeCommit}) */
  readonly treeCommit?: string;
  readonly buildStamp: string;
  /** The stage4's name, prefixing its version stamp (`web`). */
  readonly name: string;
  /** The stage3 it builds on, relative to `$storedir/builds/` (see {@link stageSourcePath}). */
  readonly source: string;
  /** Packages to install (atoms). */
  readonly packages: readonly string[];
  /** @default none */
  readonly use?: readonly string[];
  /** Services to add, as `service|runlevel` (OpenRC) entries. @default none */
  readonly rcadd?: readonly string[];
  /** A kernel built into the stage4. @default none */
  readonly kernel?: {
    /** Label (`gentoo`). */
    readonly label: string;
    /** Kernel sources package, or `gentoo-kernel` with `distkernel`. */
    readonly sources: string;
    /** Build a distribution kernel (sys-kernel/gentoo-kernel) instead of genkernel. */
    readonly distkernel: boolean;
    /** Kernel config path on the builder (not for distkernel). @default none */
    readonly config?: string;
  };
  /** @default none */
  readonly repos?: readonly string[];
  /** @default none */
  readonly portageConfdir?: string;
}

const WORD = /^[^\s:#%]+$/;
const VALUE = /^[^\s#%]+$/;

/** The spec value of `(target, subarch, stamp)` output, as a later stage's `source_subpath`. */
export function stageSourcePath(
  relType: string,
  target: CatalystTarget,
  subarch: string,
  versionStamp: string,
): string {
  return `${relType}/${target}-${subarch}-${versionStamp}`;
}

/** Checks that every value survives catalyst's spec parser unchanged. */
export function validateCatalystSpecValues(spec: CatalystSpec): Violation[] {
  const out: Violation[] = [];
  for (const [key, value] of Object.entries(spec)) {
    if (!/^[a-z0-9_/]+$/.test(key)) {
      out.push(
        violation(
          key,
          key,
          "is not a catalyst key",
          "use lower-case words separated by '/' or '_'",
        ),
      );
    }
    if (typeof value === "string") {
      if (!VALUE.test(value)) {
        out.push(
          violation(
            key,
            value,
            "has whitespace, '#' or '%' (catalyst splits, strips or formats them)",
            "give one word",
          ),
        );
      }
    } else {
      if (value.length === 0)
        out.push(
          violation(key, value, "is an empty list (catalyst drops it)", "leave the key out"),
        );
      value.forEach((item, i) => {
        if (!WORD.test(item)) {
          out.push(
            violation(
              `${key}[${i}]`,
              item,
              "has whitespace, ':', '#' or '%' (catalyst would misparse the line)",
              "give one word without those characters",
            ),
          );
        }
      });
    }
  }
  return out;
}

/**
 * `spec` pinned to the tree snapshot `treeCommit` (`snapshot_treeish`, after `profile`, where
 * {@link stageSpecs} puts it): a build farm plans and checks its specs before the commits,
 * which come from its Stacks, are known, and pins them when they are.
 */
export function pinSpec(spec: CatalystSpec, treeCommit: string): CatalystSpec {
  const { snapshot_treeish: _unpinned, ...rest } = spec;
  return Object.fromEntries(
    Object.entries(rest).flatMap(([key, value]) =>
      key === "profile"
        ? [
            [key, value],
            ["snapshot_treeish", treeCommit],
          ]
        : [[key, value]],
    ),
  );
}

/**
 * Renders a spec: `key: value` lines, lists as the key line followed by one tab-indented
 * item per line. Throws a ValidationError when a key is not valid for the target, a
 * required key is missing, or a value would not survive catalyst's parser.
 */
export function renderCatalystSpec(spec: CatalystSpec, comment?: string): string {
  throwIfViolations(`catalyst ${String(spec.target)} spec`, [
    ...validateCatalystSpecKeys(spec),
    ...validateCatalystSpecValues(spec),
  ]);
  const lines = comment ? comment.split("\n").map((l) => `# ${l}`.trimEnd()) : [];
  for (const [key, value] of Object.entries(spec)) {
    if (typeof value === "string") lines.push(`${key}: ${value}`);
    else lines.push(`${key}:`, ...value.map((v) => `\t${v}`));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Parses spec text the way catalyst's SpecParser does (its rules, re-implemented): strip
 * comments and blank lines; a line with ':' starts a key, its value split on whitespace;
 * other lines extend the last key's list; a single value stays a string. Used by tests to
 * check that rendered specs read back as intended.
 */
export function parseCatalystSpec(text: string): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {};
  let current: string[] | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/\s*#.*$/, "");
    if (!line) continue;
    const colon = line.indexOf(":");
    if (colon >= 0) {
      const value = line
        .slice(colon + 1)
        .trim()
        .replace(/^"+|"+$/g, "");
      current = [line.slice(0, colon), ...(value ? value.split(/\s+/) : [])];
    } else if (current) {
      current.push(...line.split(/\s+/));
    } else {
      throw new Error(`catalyst spec: continuation line before any key: ${raw}`);
    }
    values[current[0]] = current.length === 2 ? current[1] : current.slice(1);
  }
  return values;
}

function optional(key: string, value: string | readonly string[] | undefined): CatalystSpec {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return {};
  return { [key]: value };
}

/**
 * The three specs of one (environment, arch, system profile): stage1 from the seed (with
 * `update_seed: yes`, so the seed's toolchain is updated first), stage2 from stage1, stage3
 * from stage2. All pinned to `snapshot_treeish: <treeCommit>` and compressed with pixz
 * (`.tar.xz`). Version stamps are `<systemProfile>-<buildStamp>`.
 */
export function stageSpecs(
  args: StageSpecArgs,
): Record<"stage1" | "stage2" | "stage3", CatalystSpec> {
  const stamp = `${args.systemProfile}-${args.buildStamp}`;
  const common = (target: CatalystTarget, source: string): CatalystSpec => ({
    target,
    subarch: args.subarch,
    version_stamp: stamp,
    rel_type: args.environment,
    profile: args.profile,
    ...optional("snapshot_treeish", args.treeCommit),
    source_subpath: source,
    compression_mode: "pixz",
    ...optional("repos", args.repos),
    ...optional("portage_confdir", args.portageConfdir),
  });
  return {
    stage1: { ...common("stage1", args.seed), chost: args.chost, update_seed: "yes" },
    stage2: common("stage2", stageSourcePath(args.environment, "stage1", args.subarch, stamp)),
    stage3: common("stage3", stageSourcePath(args.environment, "stage2", args.subarch, stamp)),
  };
}

/** The stage4 spec of one environment (see {@link Stage4SpecArgs}). */
export function stage4Spec(args: Stage4SpecArgs): CatalystSpec {
  const k = args.kernel;
  const kernel: CatalystSpec = k
    ? {
        "boot/kernel": k.label,
        [`boot/kernel/${k.label}/sources`]: k.sources,
        ...(k.distkernel ? { [`boot/kernel/${k.label}/distkernel`]: "yes" } : {}),
        ...optional(`boot/kernel/${k.label}/config`, k.config),
      }
    : {};
  return {
    target: "stage4",
    subarch: args.subarch,
    version_stamp: `${args.name}-${args.buildStamp}`,
    rel_type: args.environment,
    profile: args.profile,
    ...optional("snapshot_treeish", args.treeCommit),
    source_subpath: args.source,
    compression_mode: "pixz",
    ...optional("repos", args.repos),
    ...optional("portage_confdir", args.portageConfdir),
    "stage4/packages": args.packages,
    ...optional("stage4/use", args.use),
    ...optional("stage4/rcadd", args.rcadd),
    ...kernel,
  };
}
