/**
 * The gentoo-infra command line: `promote`, `snapshot`, `build-status`, `machine`,
 * `preview-report`, `site-info` and `recover`. Returns the exit code: 0 done, 1 refused (the message names every problem
 * and its fix), 2 usage error, 3 (preview-report only) a stateful resource is replaced or
 * deleted.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { GitFlowBranches } from "../snapshot/git-flow";
import { promote } from "../snapshot/promote";
import { readTreeSnapshot } from "../snapshot/tree-snapshot";
import { ValidationError } from "../validation/violations";
import { buildersFromOutputs, formatBuildStatus, readBuildStatus } from "./build-status";
import { formatPromotion, formatSnapshot } from "./format";
import {
  bootMachine,
  DEFAULT_MACHINE_PACKAGE,
  machineBootPlan,
  removeMachine,
} from "./machine-boot";
import { type EnvironmentPreview, type PreviewJson, previewReport } from "./preview-report";
import { recover } from "./recover";
import { type SiteOutputs, siteInfo } from "./site-info";

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The usage text printed by --help and on a usage error. */
const USAGE = `usage:
  gentoo-infra promote <from> <to> [--repo PATH]... [--cherry-pick COMMIT]...
                       [--allow-skip] [--push] [--remote NAME] [--dry-run] [BRANCH OPTIONS]
  gentoo-infra snapshot <environment> --gentoo PATH --overlay PATH [--json] [BRANCH OPTIONS]
  gentoo-infra build-status [--outputs FILE]
  gentoo-infra machine boot <hostname> [--outputs FILE] [--package ATOM] [--verbose]
                            [--timeout-minutes N] [--disk-gib N] [--dir DIR]
  gentoo-infra machine remove <hostname>... | --all [--outputs FILE] [--dir DIR]
  gentoo-infra preview-report [ENVIRONMENT=]FILE... [--output FILE]
  gentoo-infra site-info --keys DIR --netns NAME --stack NAME [--outputs FILE]
  gentoo-infra recover --stack NAME [--dir DIR] [--pulumi COMMAND] [--dry-run]

environments: development, staging, production
promote       moves <from>'s branch into <to>'s, fast-forward only, in every --repo
              (default: the current directory); --cherry-pick applies only the named
              commits onto <to>'s branch (the zero-day path)
snapshot      prints the branch and commit <environment> builds from in the Gentoo tree
              clone and in the overlay; nothing is fetched
build-status  each builder's last build (result, packages, duration, log) and whether one
              runs now, over SSH; reads the site's stack outputs (pulumi stack output
              --json --show-secrets) from FILE or standard input; exit 1 if a last build
              failed or a builder is unreachable
machine boot  switches on a blank VM for a machine registered with the site's install host
              (its MAC and firmware, an empty disk), follows its install on the serial
              console and in gi-pxe-status, and once it runs from its disk installs
              ATOM (default ${DEFAULT_MACHINE_PACKAGE}) from the binhost as an operator
              does; reads the stack outputs like build-status; run it where the site's
              guests are reachable (scripts/site boot <hostname>)
machine remove  powers off and removes the VMs machine boot made, with their files
preview-report  Markdown for a pull-request comment from "pulumi preview --json" of each
              environment (FILE, or - for standard input): per environment, by component
              and in the site's words, replacements and deletions of stateful resources
              first, every change folded below; exit 3 if a stateful resource is replaced
              or deleted
site-info     what npm run up prints when the site is up: each server's ssh command in
              the guests' namespace, the URLs, the root CA; writes the SSH keys and the
              CA certificate to DIR (0700); reads the stack outputs like build-status
recover       after a killed pulumi up or destroy, before the next one: stops the killed
              run's plugins, removes what its interrupted creates made in libvirt,
              releases its lock (file:// backends, a process of this host that is
              gone) and drops its pending operations from the state (refreshing
              interrupted updates and deletes); run it where the killed run ran (the
              same network namespace), in the site's directory (--dir); --pulumi is the
              CLI to run (default pulumi); see docs/operations.md
BRANCH OPTIONS: --develop NAME (develop) --master NAME (master)
                --release NAME (the single release/* branch) --release-prefix PREFIX (release/)
exit codes: 0 done, 1 refused, 2 usage error, 3 stateful change (preview-report)
`;

const BRANCH_OPTIONS = {
  develop: { type: "string" },
  master: { type: "string" },
  release: { type: "string" },
  "release-prefix": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

class UsageError extends Error {}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "promote":
        return await runPromote(rest, io);
      case "snapshot":
        return await runSnapshot(rest, io);
      case "build-status":
        return await runBuildStatus(rest, io);
      case "machine":
        return await runMachine(rest, io);
      case "preview-report":
        return runPreviewReport(rest, io);
      case "site-info":
        return runSiteInfo(rest, io);
      case "recover":
        return await runRecover(rest, io);
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return 0;
      default:
        throw new UsageError(
          command === undefined ? "no command given" : `unknown command ${JSON.stringify(command)}`,
        );
    }
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.err(`gentoo-infra: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof ValidationError) {
      io.err(`${error.message}\n`);
      return 1;
    }
    io.err(`gentoo-infra: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function runPromote(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...BRANCH_OPTIONS,
      repo: { type: "string", multiple: true },
      "cherry-pick": { type: "string", multiple: true },
      "allow-skip": { type: "boolean" },
      push: { type: "boolean" },
      remote: { type: "string" },
      "dry-run": { type: "boolean" },
    },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `promote needs <from> and <to>, got: ${positionals.join(" ") || "nothing"}`,
    );
  }
  const [from, to] = positionals as [string, string];
  const remote = values.remote ?? "origin";
  const result = await promote(from, to, {
    repositories: values.repo ?? ["."],
    branches: branchOptions(values),
    cherryPick: values["cherry-pick"] ?? [],
    allowSkip: values["allow-skip"] === true,
    push: values.push === true,
    remote,
    dryRun: values["dry-run"] === true,
  });
  io.out(formatPromotion(result, remote));
  return 0;
}

async function runBuildStatus(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { outputs: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`build-status takes no arguments, got: ${positionals.join(" ")}`);
  }
  const text = readFileSync(values.outputs ?? 0, "utf8");
  const statuses = await readBuildStatus(buildersFromOutputs(JSON.parse(text)));
  io.out(formatBuildStatus(statuses));
  const bad = statuses.some((s) => s.error !== undefined || s.last?.status === "failure");
  return bad ? 1 : 0;
}

async function runRecover(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      stack: { type: "string" },
      dir: { type: "string" },
      pulumi: { type: "string" },
      "dry-run": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length > 0 || !values.stack) throw new UsageError("recover needs --stack NAME");
  await recover({
    stack: values.stack,
    dir: path.resolve(values.dir ?? "."),
    ...(values.pulumi ? { pulumi: values.pulumi } : {}),
    dryRun: values["dry-run"] === true,
    say: (line) => io.out(`recover: ${line}\n`),
  });
  return 0;
}

function runSiteInfo(argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      keys: { type: "string" },
      netns: { type: "string" },
      stack: { type: "string" },
      outputs: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length > 0 || !values.keys || !values.netns || !values.stack) {
    throw new UsageError("site-info needs --keys DIR, --netns NAME and --stack NAME");
  }
  const outputs = JSON.parse(readFileSync(values.outputs ?? 0, "utf8")) as SiteOutputs;
  const info = siteInfo(outputs, { keys: values.keys, netns: values.netns, stack: values.stack });
  mkdirSync(values.keys, { recursive: true, mode: 0o700 });
  chmodSync(values.keys, 0o700);
  for (const f of info.files) {
    writeFileSync(f.path, f.content, { mode: f.mode });
    chmodSync(f.path, f.mode);
  }
  io.out(info.text);
  return 0;
}

function runPreviewReport(argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { output: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    throw new UsageError("preview-report needs a preview: [ENVIRONMENT=]FILE, or - for stdin");
  }
  const previews: EnvironmentPreview[] = positionals.map((arg) => {
    const m = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(arg);
    const file = m?.[2] ?? arg;
    let preview: PreviewJson;
    try {
      preview = JSON.parse(readFileSync(file === "-" ? 0 : file, "utf8")) as PreviewJson;
    } catch (error) {
      throw new Error(
        `${file === "-" ? "standard input" : file} is not the output of pulumi preview --json: ${(error as Error).message}`,
      );
    }
    if (typeof preview !== "object" || preview === null || !Array.isArray(preview.steps ?? [])) {
      throw new Error(`${file} is not the output of pulumi preview --json: no steps`);
    }
    return { environment: m?.[1] ?? stackOf(preview) ?? file, preview };
  });
  const report = previewReport(previews);
  if (values.output) writeFileSync(values.output, report.markdown);
  else io.out(report.markdown);
  return report.stateful.length > 0 ? 3 : 0;
}

/** The stack a preview is of, from its steps' URNs (`urn:pulumi:<stack>::…`). */
function stackOf(preview: PreviewJson): string | undefined {
  const urn = preview.steps?.[0]?.urn;
  return urn ? /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] : undefined;
}

/** A whole number option within bounds, or a usage error naming it. */
function wholeNumber(name: string, value: string | undefined, fallback: number, max: number) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > max) {
    throw new UsageError(
      `--${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

async function runMachine(argv: readonly string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: [...rest],
    allowPositionals: true,
    options: {
      outputs: { type: "string" },
      package: { type: "string" },
      verbose: { type: "boolean" },
      "timeout-minutes": { type: "string" },
      "disk-gib": { type: "string" },
      dir: { type: "string" },
      all: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const outputs = () => JSON.parse(readFileSync(values.outputs ?? 0, "utf8")) as unknown;
  const dir = values.dir === undefined ? {} : { dir: values.dir };
  if (verb === "boot") {
    if (positionals.length !== 1) {
      throw new UsageError(
        `machine boot needs one <hostname>, got: ${positionals.join(" ") || "nothing"}`,
      );
    }
    const options = {
      package: values.package ?? DEFAULT_MACHINE_PACKAGE,
      verbose: values.verbose === true,
      timeoutMinutes: wholeNumber("timeout-minutes", values["timeout-minutes"], 30, 24 * 60),
      diskGiB: wholeNumber("disk-gib", values["disk-gib"], 4, 4096),
    };
    const plan = machineBootPlan(outputs(), positionals[0] as string, dir);
    return bootMachine(plan, options, io);
  }
  if (verb === "remove") {
    if ((positionals.length === 0) === (values.all !== true)) {
      throw new UsageError("machine remove needs <hostname>... or --all (not both)");
    }
    const o = outputs();
    const hosts =
      values.all === true
        ? Object.keys((o as { machines?: Record<string, unknown> }).machines ?? {}).sort()
        : positionals;
    for (const host of hosts) {
      const removed = removeMachine(machineBootPlan(o, host, dir));
      io.out(
        removed.length
          ? `${host}: removed ${removed.join(", ")}\n`
          : `${host}: nothing to remove\n`,
      );
    }
    return 0;
  }
  throw new UsageError(
    verb === undefined
      ? "machine needs boot or remove"
      : `unknown machine command ${JSON.stringify(verb)}`,
  );
}

async function runSnapshot(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...BRANCH_OPTIONS,
      gentoo: { type: "string" },
      overlay: { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `snapshot needs one <environment>, got: ${positionals.join(" ") || "nothing"}`,
    );
  }
  const missing = (["gentoo", "overlay"] as const).filter((name) => values[name] === undefined);
  if (missing.length > 0) {
    throw new UsageError(`snapshot needs ${missing.map((m) => `--${m} PATH`).join(" and ")}`);
  }
  const branches = branchOptions(values);
  const snapshot = await readTreeSnapshot({
    environment: positionals[0] as never,
    gentoo: { path: values.gentoo as string, branches },
    overlay: { path: values.overlay as string, branches },
  });
  io.out(values.json ? `${JSON.stringify(snapshot, null, 2)}\n` : formatSnapshot(snapshot));
  return 0;
}

function branchOptions(values: {
  develop?: string;
  master?: string;
  release?: string;
  "release-prefix"?: string;
}): GitFlowBranches {
  return {
    develop: values.develop,
    master: values.master,
    release: values.release,
    releasePrefix: values["release-prefix"],
  };
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}
