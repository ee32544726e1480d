/**
 * Times the build farm (issue 12): examples/minimal goes up on the harness (TCG, its own
 * free /24) and its linux builder builds the stand-in tree's packages with real Portage.
 * Prints:
 * - the first (triggered) build's phases as the builder measured them: prepare (trust, keys),
 *   fetch (clone the pinned commits from the binhost), emerge (Portage, which signs each
 *   package as it writes it), sign (every new package's signatures checked before
 *   publishing), prune, upload (the packages), publish (index generated and put in place);
 * - a no-op rebuild (nothing new: nothing built, nothing published);
 * - the baseline in the same run, on the same builder: the same emerge run directly, without
 *   the pipeline (a throwaway root, the signing key imported, `emerge` of the same packages
 *   into an empty PKGDIR with the binhost turned off), and the ratio of the farm's whole build
 *   to it: what our pipeline adds around Portage.
 *
 *   npm run bench build-farm         (this one; `npm run bench` runs every benchmark)
 *   GI_BENCH_KEEP=1 ...              (keep the site after a failure until Ctrl-C)
 *
 * Needs root, the toolchain, the images and the stand-in tree of `npm run setup`. Prints
 * Markdown tables.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BUILD_PHASES, type BuildOutcome } from "../lib/buildfarm/build-script-steps";
import { shellScriptSource } from "../lib/host/script-file";
import { startNotifyListener } from "../test/support/build-site";
import { keepFailedSite, startBenchSite, tearDownSite } from "./site";

const NETNS = process.env.GI_NETNS ?? "gentoo-infra";
const LINUX = "development/amd64/linux";
const TIMEOUT = 45 * 60_000;

interface Server {
  address: string;
  user: string;
  privateKeyOpenssh: string;
}

/** The direct run: the same emerge in a throwaway root of the builder, timed by itself. */
const DIRECT = `#!/bin/bash
set -euo pipefail
readonly SIGNING_GPG_HOME=/root/.gnupg VERIFY_GPG_HOME=/etc/portage/gnupg BUILD_PROFILE=bench
install -d -m 0700 "$SIGNING_GPG_HOME"
gpg --batch --quiet --homedir "$SIGNING_GPG_HOME" --import /etc/gentoo-infra/package-signing-key.asc
SIGNING_FPR=$(gpg --batch --with-colons --homedir "$SIGNING_GPG_HOME" --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
${shellScriptSource(path.join(__dirname, "..", "lib", "buildfarm"), "build-functions.sh")}
trust_signing_key
export PKGDIR=/var/tmp/bench-pkgdir FEATURES="-getbinpkg"
rm -rf "$PKGDIR"
start=$(date +%s%3N)
emerge --color=n --nospinner --quiet --getbinpkg=n --usepkg=n @world sys-kernel/gentoo-kernel
end=$(date +%s%3N)
echo "DIRECT_MS=$((end - start)) PACKAGES=$(find "$PKGDIR" -name '*.gpkg.tar' | wc -l)"
`;

async function main(): Promise<void> {
  const { subnet, program, work } = await startBenchSite("bb", "build");
  const listener = await startNotifyListener(
    NETNS,
    subnet.replace(/\.0\/24$/, ".1"),
    30000 + (process.pid % 10000),
  );
  let failed = false;
  try {
    await program.setConfig("subnet", subnet);
    await program.setConfig("notifyUrl", listener.url);
    const t0 = Date.now();
    await program.up();
    const upSeconds = (Date.now() - t0) / 1000;
    const outputs = await program.outputs({ showSecrets: true });
    const servers = outputs.servers as Record<string, Server>;
    const builder = servers[`builder-${LINUX.replaceAll("/", "-")}`];
    if (!builder) throw new Error("no linux builder in the outputs");
    const key = path.join(work, "builder.key");
    writeFileSync(key, builder.privateKeyOpenssh);
    chmodSync(key, 0o600);
    const ssh = (command: string) =>
      spawnSync(
        "ip",
        [
          ...["netns", "exec", NETNS, "ssh", "-i", key, "-o", "BatchMode=yes"],
          ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
          `${builder.user}@${builder.address}`,
          command,
        ],
        { encoding: "utf8", timeout: TIMEOUT },
      );

    const first = await listener.next(LINUX, 0, TIMEOUT);
    if (first.status !== "success")
      throw new Error(`the first build failed: ${JSON.stringify(first)}`);
    const service = "gentoo-infra-build-development-amd64-linux.service";
    // The first build's runner still cleans up its throwaway root after it reported; a start
    // while the unit is active would join that job instead of starting a build.
    const noop = ssh(
      `while [ "$(systemctl show -p ActiveState --value ${service})" = activating ]; do sleep 2; done; sudo -n systemctl start ${service}`,
    );
    if (noop.status !== 0) throw new Error(`the no-op rebuild failed: ${noop.stderr}`);
    const second = await listener.next(LINUX, 1, 60_000);

    // The baseline: the same emerge straight in a throwaway root of the same builder.
    const direct = ssh(
      `cat >/tmp/bench-direct <<'EOF'\n${DIRECT}EOF\nchmod 0755 /tmp/bench-direct && sudo -n cp /tmp/bench-direct /usr/local/libexec/gentoo-infra/bench-direct && sudo -n /usr/local/libexec/gentoo-infra/ephemeral-run /usr/local/libexec/gentoo-infra/bench-direct; sudo -n rm -f /usr/local/libexec/gentoo-infra/bench-direct`,
    );
    const m = /DIRECT_MS=(\d+) PACKAGES=(\d+)/.exec(direct.stdout);
    if (!m) throw new Error(`the direct emerge failed: ${direct.stdout}\n${direct.stderr}`);
    const directSeconds = Number(m[1]) / 1000;

    const phases = (o: BuildOutcome) =>
      BUILD_PHASES.map((p) => (o.phases[p] === undefined ? "-" : `${o.phases[p]} s`)).join(" | ");
    console.log(`examples/minimal up: ${upSeconds.toFixed(1)} s (two builders, TCG)\n`);
    console.log(`| build | total | ${BUILD_PHASES.join(" | ")} | packages |`);
    console.log(`|---|---|${BUILD_PHASES.map(() => "---").join("|")}|---|`);
    console.log(
      `| first (triggered by up) | ${first.durationSeconds} s | ${phases(first)} | ${first.packages.length} |`,
    );
    console.log(
      `| no-op rebuild | ${second.durationSeconds} s | ${phases(second)} | ${second.packages.length} |`,
    );
    console.log("");
    console.log("| on the same builder | seconds | ratio to the direct emerge |");
    console.log("|---|---|---|");
    console.log(
      `| direct emerge (baseline, ${m[2]} packages) | ${directSeconds.toFixed(1)} | 1.0x |`,
    );
    console.log(
      `| farm build, emerge phase | ${first.phases.emerge ?? "-"} | ${((first.phases.emerge ?? 0) / directSeconds).toFixed(2)}x |`,
    );
    console.log(
      `| farm build, whole | ${first.durationSeconds} | ${(first.durationSeconds / directSeconds).toFixed(2)}x |`,
    );
    console.log(
      `| no-op rebuild, whole | ${second.durationSeconds} | ${(second.durationSeconds / directSeconds).toFixed(2)}x |`,
    );
  } catch (error) {
    failed = true;
    await keepFailedSite(error, program);
    throw error;
  } finally {
    listener.stop();
    await tearDownSite(program, work, failed);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
