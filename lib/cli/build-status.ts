/**
 * `gentoo-infra build-status`: what each builder's last build did (result, packages,
 * duration, log) and whether one is running now, read over SSH from the builders' outcome
 * records (GentooBuildFarm's `statusFile`). The pure parts (the remote command, parsing,
 * formatting) are exported and tested; {@link readBuildStatus} does the SSH.
 */

import type { BuildOutcome } from "../buildfarm/build-script-steps";
import { shQuote } from "../host/shell";
import { markedSections, sshRun } from "./ssh";

/** One builder as a site's stack outputs describe it. */
export interface BuilderEndpoint {
  /** `<env>/<arch>/<stack>`. */
  readonly buildProfile: string;
  /** SSH address and admin user of the builder. */
  readonly address: string;
  readonly user: string;
  /** The admin user's private key (OpenSSH). */
  readonly privateKeyOpenssh: string;
  /** The build service (`gentoo-infra-build-….service`). */
  readonly serviceName: string;
  /** The outcome record (`….json`; `….running` while a build runs). */
  readonly statusFile: string;
  /** Where the build profile's packages are served. */
  readonly packagesUrl: string;
}

/** What a builder reported. */
export interface BuilderStatus {
  readonly endpoint: BuilderEndpoint;
  /** systemd's state of the build service (`active`/`activating` while building). */
  readonly serviceState: string;
  /** The last finished build, if any. */
  readonly last: BuildOutcome | undefined;
  /** Start time of the build in progress, if one runs. */
  readonly runningSince: string | undefined;
  /** Why the builder could not be read (SSH failed), if so. */
  readonly error: string | undefined;
}

const MARK = "--- gentoo-infra";

/** The command run on a builder: the service state, the running marker and the record. */
export function builderStatusCommand(
  endpoint: Pick<BuilderEndpoint, "serviceName" | "statusFile">,
): string {
  // The service and the files come from the stack's outputs: quoted, so that what an output
  // holds is one argument, never more shell.
  const running = endpoint.statusFile.replace(/\.json$/, ".running");
  return [
    `echo '${MARK} state'`,
    `systemctl is-active -- ${shQuote(endpoint.serviceName)} || true`,
    `echo '${MARK} running'`,
    `cat -- ${shQuote(running)} 2>/dev/null || true`,
    `echo '${MARK} last'`,
    `cat -- ${shQuote(endpoint.statusFile)} 2>/dev/null || true`,
  ].join("; ");
}

/** Parses the output of {@link builderStatusCommand}. */
export function parseBuilderStatus(
  endpoint: BuilderEndpoint,
  output: string,
): Omit<BuilderStatus, "error"> {
  const sections = markedSections(output, MARK);
  const json = (text: string | undefined): Record<string, unknown> | undefined => {
    if (!text?.trim()) return undefined;
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const state = (sections.state ?? "").trim() || "unknown";
  const running = json(sections.running);
  const building = state === "active" || state === "activating";
  return {
    endpoint,
    serviceState: state,
    last: json(sections.last) as BuildOutcome | undefined,
    runningSince: building ? String(running?.startedAt ?? "an unknown time") : undefined,
  };
}

/** Formats the statuses, one block per builder. */
export function formatBuildStatus(statuses: readonly BuilderStatus[]): string {
  const out: string[] = [];
  for (const s of statuses) {
    out.push(`${s.endpoint.buildProfile}  (${s.endpoint.address})`);
    if (s.error) {
      out.push(`  unreachable: ${s.error}`);
    } else {
      if (s.runningSince) out.push(`  building now, since ${s.runningSince}`);
      const last = s.last;
      if (last) {
        const what =
          last.status === "success"
            ? "success"
            : `FAILED at step ${last.step} (exit ${last.exitCode})`;
        const count =
          last.packages.length === 1 ? "1 new package" : `${last.packages.length} new packages`;
        out.push(
          `  last build: ${what}, ${count}${last.published ? ", published" : ", nothing published"}, ${last.durationSeconds} s, finished ${last.finishedAt}`,
        );
        for (const p of last.packages) out.push(`    ${p}`);
        out.push(`  tree ${last.treeCommit}, overlay ${last.overlayCommit}`);
        out.push(`  log: ${last.log}`);
      } else if (!s.runningSince) {
        out.push("  no build yet");
      }
    }
    out.push(`  packages: ${s.endpoint.packagesUrl}`);
  }
  return `${out.join("\n")}\n`;
}

/**
 * The builders of a site from its stack outputs (`pulumi stack output --json
 * --show-secrets`): `builds` (per build profile: `server`, `serviceName`, `statusFile`,
 * `packagesUrl`) and `servers` (per server: `address`, `user`, `privateKeyOpenssh`), as
 * examples/minimal exports them.
 */
export function buildersFromOutputs(outputs: unknown): BuilderEndpoint[] {
  const o = (outputs ?? {}) as {
    builds?: Record<
      string,
      { server?: string; serviceName?: string; statusFile?: string; packagesUrl?: string }
    >;
    servers?: Record<string, { address?: string; user?: string; privateKeyOpenssh?: string }>;
  };
  if (!o.builds || !o.servers) {
    throw new Error("the stack outputs have no `builds` and `servers` (see examples/minimal)");
  }
  return Object.entries(o.builds)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([buildProfile, b]) => {
      const server = b.server ? o.servers?.[b.server] : undefined;
      if (
        !server?.address ||
        !server.user ||
        !server.privateKeyOpenssh ||
        !b.serviceName ||
        !b.statusFile
      ) {
        throw new Error(
          `the stack outputs lack the server, service or status file of ${buildProfile}`,
        );
      }
      return {
        buildProfile,
        address: server.address,
        user: server.user,
        privateKeyOpenssh: server.privateKeyOpenssh,
        serviceName: b.serviceName,
        statusFile: b.statusFile,
        packagesUrl: b.packagesUrl ?? "",
      };
    });
}

/** Reads every builder's status over SSH (in parallel). */
export async function readBuildStatus(
  endpoints: readonly BuilderEndpoint[],
): Promise<BuilderStatus[]> {
  return Promise.all(
    endpoints.map(async (endpoint) => {
      const { code, stdout, stderr } = await sshRun(endpoint, builderStatusCommand(endpoint));
      if (code !== 0) {
        return {
          endpoint,
          serviceState: "unknown",
          last: undefined,
          runningSince: undefined,
          error: stderr.trim() || `ssh exited ${code}`,
        };
      }
      return { ...parseBuilderStatus(endpoint, stdout), error: undefined };
    }),
  );
}
