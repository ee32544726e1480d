/**
 * `gentoo-infra build-status`: the remote command, parsing what a builder printed, the text
 * shown, and reading the builders from a site's stack outputs. (The SSH itself runs in the
 * e2e tier, against real builders.)
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BuildOutcome } from "../../lib/buildfarm/build-script-steps";
import {
  type BuilderEndpoint,
  builderStatusCommand,
  buildersFromOutputs,
  formatBuildStatus,
  parseBuilderStatus,
} from "../../lib/cli/build-status";

const endpoint: BuilderEndpoint = {
  buildProfile: "development/amd64/linux",
  address: "192.168.150.20",
  user: "gi-admin",
  privateKeyOpenssh: "key",
  serviceName: "gentoo-infra-build-development-amd64-linux.service",
  statusFile: "/var/lib/gentoo-infra/builds/development-amd64-linux.json",
  packagesUrl: "https://binhost.example.ch/development/amd64/linux/",
};

const outcome: BuildOutcome = {
  buildProfile: "development/amd64/linux",
  status: "success",
  step: "finished",
  exitCode: 0,
  packages: ["sys-libs/zlib/zlib-1.3.1-1.gpkg.tar", "app-admin/sudo/sudo-1.9.17-1.gpkg.tar"],
  pruned: [],
  published: true,
  durationSeconds: 312.5,
  phases: { fetch: 3.1, emerge: 290.2 },
  startedAt: "2026-12-02T03:00:00Z",
  finishedAt: "2026-12-02T03:05:12Z",
  treeCommit: "a".repeat(40),
  overlayCommit: "b".repeat(40),
  host: "builder",
  log: "journalctl -u gentoo-infra-build-development-amd64-linux.service on builder",
};

describe("build status", () => {
  it("asks for the service state, the running marker and the record", () => {
    assert.equal(
      builderStatusCommand(endpoint),
      "echo '--- gentoo-infra state'; systemctl is-active -- 'gentoo-infra-build-development-amd64-linux.service' || true; echo '--- gentoo-infra running'; cat -- '/var/lib/gentoo-infra/builds/development-amd64-linux.running' 2>/dev/null || true; echo '--- gentoo-infra last'; cat -- '/var/lib/gentoo-infra/builds/development-amd64-linux.json' 2>/dev/null || true",
    );
  });

  it("reads a finished build and says nothing runs", () => {
    const s = parseBuilderStatus(
      endpoint,
      `--- gentoo-infra state\ninactive\n--- gentoo-infra running\n--- gentoo-infra last\n${JSON.stringify(outcome)}\n`,
    );
    assert.equal(s.serviceState, "inactive");
    assert.equal(s.runningSince, undefined);
    assert.deepEqual(s.last, outcome);
  });

  it("says a build is in progress instead of looking like a failure", () => {
    const s = parseBuilderStatus(
      endpoint,
      '--- gentoo-infra state\nactivating\n--- gentoo-infra running\n{"startedAt":"2026-12-02T03:10:00Z"}\n--- gentoo-infra last\n',
    );
    assert.equal(s.runningSince, "2026-12-02T03:10:00Z");
    assert.equal(
      formatBuildStatus([{ ...s, error: undefined }]),
      [
        "development/amd64/linux  (192.168.150.20)",
        "  building now, since 2026-12-02T03:10:00Z",
        "  packages: https://binhost.example.ch/development/amd64/linux/",
        "",
      ].join("\n"),
    );
  });

  it("shows result, packages, duration, commits and log of the last build", () => {
    const failed: BuildOutcome = {
      ...outcome,
      status: "failure",
      step: "update-world",
      exitCode: 1,
      packages: [],
      published: false,
    };
    const text = formatBuildStatus([
      {
        endpoint,
        serviceState: "inactive",
        last: outcome,
        runningSince: undefined,
        error: undefined,
      },
      {
        endpoint: { ...endpoint, buildProfile: "development/amd64/tools" },
        serviceState: "failed",
        last: failed,
        runningSince: undefined,
        error: undefined,
      },
      {
        endpoint: { ...endpoint, buildProfile: "development/amd64/web" },
        serviceState: "unknown",
        last: undefined,
        runningSince: undefined,
        error: "ssh: connect to host 192.168.150.20 port 22: No route to host",
      },
    ]);
    assert.equal(
      text,
      [
        "development/amd64/linux  (192.168.150.20)",
        "  last build: success, 2 new packages, published, 312.5 s, finished 2026-12-02T03:05:12Z",
        "    sys-libs/zlib/zlib-1.3.1-1.gpkg.tar",
        "    app-admin/sudo/sudo-1.9.17-1.gpkg.tar",
        `  tree ${"a".repeat(40)}, overlay ${"b".repeat(40)}`,
        "  log: journalctl -u gentoo-infra-build-development-amd64-linux.service on builder",
        "  packages: https://binhost.example.ch/development/amd64/linux/",
        "development/amd64/tools  (192.168.150.20)",
        "  last build: FAILED at step update-world (exit 1), 0 new packages, nothing published, 312.5 s, finished 2026-12-02T03:05:12Z",
        `  tree ${"a".repeat(40)}, overlay ${"b".repeat(40)}`,
        "  log: journalctl -u gentoo-infra-build-development-amd64-linux.service on builder",
        "  packages: https://binhost.example.ch/development/amd64/linux/",
        "development/amd64/web  (192.168.150.20)",
        "  unreachable: ssh: connect to host 192.168.150.20 port 22: No route to host",
        "  packages: https://binhost.example.ch/development/amd64/linux/",
        "",
      ].join("\n"),
    );
  });

  it("reads the builders from a site's stack outputs, sorted, and names what is missing", () => {
    const outputs = {
      builds: {
        "development/amd64/tools": {
          server: "builder-t",
          serviceName: "t.service",
          statusFile: "/t.json",
          packagesUrl: "u2",
        },
        "development/amd64/linux": {
          server: "builder-l",
          serviceName: "l.service",
          statusFile: "/l.json",
          packagesUrl: "u1",
        },
      },
      servers: {
        "builder-l": { address: "10.0.0.1", user: "gi-admin", privateKeyOpenssh: "k1" },
        "builder-t": { address: "10.0.0.2", user: "gi-admin", privateKeyOpenssh: "k2" },
      },
    };
    assert.deepEqual(
      buildersFromOutputs(outputs).map((b) => [b.buildProfile, b.address, b.statusFile]),
      [
        ["development/amd64/linux", "10.0.0.1", "/l.json"],
        ["development/amd64/tools", "10.0.0.2", "/t.json"],
      ],
    );
    assert.throws(() => buildersFromOutputs({}), /have no `builds` and `servers`/);
    assert.throws(
      () => buildersFromOutputs({ ...outputs, servers: {} }),
      /lack the server, service or status file of development\/amd64\/linux/,
    );
  });
});
