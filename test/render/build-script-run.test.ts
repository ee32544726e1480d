/**
 * Render tier: the builder's build script (lib/buildfarm/build.sh, rendered by
 * renderBuildScript) run by bash on this host, with fakes for what it drives (emerge,
 * portageq, perl-cleaner, emaint, Portage's Python, git, rsync, curl, gpgconf, sleep) that log
 * how they were called (test/support/build-script-run.ts). What the rendered values choose at runtime: the kernel packages' emerge,
 * the wait for base repositories, "nothing new" against the served index or the list of the
 * last publish, the outcome record (status, failing step, packages, published, phases, log).
 *
 * What it does not prove: the signing key, /etc/hosts and root CA branches (they write to
 * the host's /etc, and the key branch runs gpg into /etc/portage/gnupg: the build-farm e2e test
 * runs them on a builder, and build-script-portage.test.ts runs trust_signing_key and
 * verify_package against real Portage), nor anything about real packages, nor a binhost or
 * listener that cannot be reached (build-script-unreachable.test.ts, with real git, curl, rsync
 * and ssh).
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { BuildScriptArgs } from "../../lib/buildfarm/build-script-args";
import { BUILD_PHASES, type BuildOutcome } from "../../lib/buildfarm/build-script-steps";
import { scriptSource } from "../../lib/host/script-file";
import { builder as builderIn } from "../support/build-script-run";
import { scratch } from "../support/git-fixture";
import { requireTools } from "../support/tools";

const APT_HINT = "run scripts/setup (bash and coreutils are in the base image)";
const work = scratch("gi-build-script-run-");
after(() => work.cleanup());

const ZLIB = "sys-libs/zlib/zlib-1.3.1-1.gpkg.tar";
const BASE = "https://binhost.example.ch/production/amd64/linux/";
const SERVED = "https://binhost.example.ch/production/amd64/web/";

/** A builder's directories under `name`, and a build that runs the script with the fakes. */
function builder(name: string, args: Partial<BuildScriptArgs>) {
  return builderIn(join(work.dir, name), args).build;
}

const WORLD =
  "emerge --color=n --nospinner --verbose --binpkg-respect-use=y --update --deep --newuse --with-bdeps=y @world";
const PRESERVED =
  "emerge --color=n --nospinner --verbose --binpkg-respect-use=y @preserved-rebuild";
const KERNEL =
  "emerge --color=n --nospinner --verbose --binpkg-respect-use=y --oneshot --update --newuse sys-kernel/gentoo-kernel";
const SSH =
  "ssh -i /etc/gentoo-infra/upload_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/gentoo-infra/known_hosts -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4";

/** The prune: Portage's Python with prune-packages.py and the retention, as the fake logs it. */
const PRUNE = `python3 -c ${scriptSource(join(__dirname, "..", "..", "lib", "buildfarm"), "prune-packages.py").replaceAll("\n", "\\n")} 30`;

/** The upload and publish of PKGDIR `pkgdir`. */
function publish(pkgdir: string): string[] {
  const target = "binhost@binhost.example.ch:/srv/binhost/production/amd64/web/";
  return [
    `rsync --archive --exclude=/Packages --exclude=/Packages.gz -e ${SSH} ${pkgdir}/ ${target}`,
    "emaint binhost --fix",
    `rsync --archive --delete-after --delay-updates -e ${SSH} ${pkgdir}/ ${target}`,
  ];
}

/** The outcome without what varies from run to run (times, host). */
function stable(o: BuildOutcome) {
  return {
    status: o.status,
    step: o.step,
    exitCode: o.exitCode,
    packages: o.packages,
    pruned: o.pruned,
    published: o.published,
    phases: Object.keys(o.phases),
    log: o.log.replace(/ on .*$/, " on <host>"),
  };
}

describe("the build script run with fake tools", () => {
  it("without optional arguments: builds @world, publishes what is new, then nothing on a rebuild, against the list of the last publish", (t) => {
    if (!requireTools(t, ["bash"], APT_HINT)) return;
    const build = builder("minimal", {});
    const pkgdir = join(work.dir, "minimal", "binpkgs");
    const first = build({ FAKE_NEW: ZLIB });
    assert.equal(first.status, 0, first.output);
    assert.match(first.output, /no signing key pushed; signatures are not checked/);
    assert.deepEqual(first.calls.slice(0, -1), [WORLD, PRESERVED, PRUNE, ...publish(pkgdir)]);
    assert.match(
      first.calls.at(-1) ?? "",
      /^curl .* --data \{.*\} https:\/\/hooks\.example\.ch\/builds$/,
    );
    assert.deepEqual(stable(first.outcome), {
      status: "success",
      step: "finished",
      exitCode: 0,
      packages: [ZLIB],
      pruned: [],
      published: true,
      phases: [...BUILD_PHASES],
      log: "the build's standard output",
    });

    const again = build({});
    assert.equal(again.status, 0, again.output);
    assert.match(again.output, /nothing new to publish/);
    assert.deepEqual(again.calls.slice(0, -1), [WORLD, PRESERVED, PRUNE]);
    assert.deepEqual(stable(again.outcome), {
      ...stable(first.outcome),
      packages: [],
      published: false,
      phases: BUILD_PHASES.filter((p) => p !== "publish"),
    });
  });

  it("with kernel packages, base repositories, the served repository and its service: waits for the bases, builds the kernel, compares with the served index", (t) => {
    if (!requireTools(t, ["bash"], APT_HINT)) return;
    const build = builder("farm", {
      kernelPackages: ["sys-kernel/gentoo-kernel"],
      baseRepositories: [BASE],
      repositoryUrl: SERVED,
      serviceName: "gentoo-infra-build-production-amd64-web.service",
    });
    const pkgdir = join(work.dir, "farm", "binpkgs");
    const base = `curl --fail --silent --head --output /dev/null --max-time 30 ${BASE}Packages`;
    const index = `curl --fail --silent --show-error --max-time 60 ${SERVED}Packages`;

    // The binhost serves no index yet: publish.
    const first = build({ FAKE_NEW: ZLIB });
    assert.equal(first.status, 0, first.output);
    assert.deepEqual(first.calls.slice(0, -1), [
      base,
      WORLD,
      KERNEL,
      PRESERVED,
      PRUNE,
      index,
      ...publish(pkgdir),
    ]);
    assert.equal(
      stable(first.outcome).log,
      "journalctl -u gentoo-infra-build-production-amd64-web.service on <host>",
    );
    assert.equal(first.outcome.published, true);

    // The served index lists exactly PKGDIR: nothing new, though the local list is gone.
    rmSync(join(work.dir, "farm", "builds", "production-amd64-web.published"));
    const served = build({ FAKE_INDEX: `VERSION: 0\n\nCPV: sys-libs/zlib-1.3.1\nPATH: ${ZLIB}\n` });
    assert.equal(served.status, 0, served.output);
    assert.deepEqual(served.calls.slice(0, -1), [base, WORLD, KERNEL, PRESERVED, PRUNE, index]);
    assert.equal(served.outcome.published, false);
  });

  it("reports the step that failed and its exit status, and publishes nothing", (t) => {
    if (!requireTools(t, ["bash"], APT_HINT)) return;
    const build = builder("failing", {});
    const r = build({ FAKE_FAIL: "1", FAKE_NEW: ZLIB });
    assert.equal(r.status, 1, r.output);
    assert.deepEqual(r.calls.slice(0, -1), [WORLD]);
    assert.deepEqual(stable(r.outcome), {
      status: "failure",
      step: "update-world",
      exitCode: 1,
      packages: [],
      pruned: [],
      published: false,
      phases: ["prepare", "fetch", "emerge"],
      log: "the build's standard output",
    });
  });
});
