/**
 * The e2e steps of an installed machine that consumes the binhost (test/e2e/site.test.ts):
 * SSH to guests inside the harness's network namespace, waiting for a build profile's
 * build, reading and replacing files on the binhost, and `emerge` on the machine.
 */
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { withIndexEntryFor } from "./binpkg-tamper";
import { run, sleep } from "./blank-machine";
import { packageName, parsePackagesIndex } from "./build-site";

/** A guest reachable over SSH: an entry of examples/minimal's `servers` or `machines` output. */
export interface SshTarget {
  readonly address: string;
  readonly user: string;
  readonly privateKeyOpenssh: string;
}

/** Runs commands on guests over SSH inside `netns`, with their keys written below `work`. */
export function sshRunner(netns: string, work: string) {
  const ssh = (name: string, target: SshTarget, command: string, timeout = 600_000) => {
    const key = path.join(work, `${name}.key`);
    writeFileSync(key, target.privateKeyOpenssh);
    chmodSync(key, 0o600);
    return run(
      "ip",
      [
        ...["netns", "exec", netns, "ssh", "-i", key, "-o", "BatchMode=yes"],
        ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
        ...["-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"],
        `${target.user}@${target.address}`,
        command,
      ],
      timeout,
    );
  };
  const sshOk = (name: string, target: SshTarget, command: string, timeout?: number) => {
    const r = ssh(name, target, command, timeout);
    assert.equal(r.status, 0, `${name}: ${command}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  return { ssh, sshOk };
}

/** A build outcome file (lib/buildfarm/build-script-steps.ts BuildOutcome), as far as read here. */
interface Outcome {
  readonly status: string;
  readonly step: string;
  readonly published: boolean;
}

/**
 * Waits until the builder's outcome file says the build succeeded (throws at a failure or
 * after `timeoutMs`).
 */
export async function waitForBuild(
  read: () => string | undefined,
  what: string,
  timeoutMs: number,
): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  let last = "(no outcome yet)";
  while (Date.now() < deadline) {
    const text = read();
    if (text) {
      last = text;
      const outcome = JSON.parse(text) as Outcome;
      if (outcome.status === "failure") assert.fail(`${what} failed: ${text}`);
      if (outcome.status === "success") return outcome;
    }
    await sleep(10_000);
  }
  assert.fail(`${what}: no successful build after ${timeoutMs / 1000} s; last: ${last}`);
}

/** Emerge's options for a machine's install from the binhost, as an operator runs it. */
export const MACHINE_EMERGE = "emerge --color=n --nospinner --getbinpkg --usepkgonly --oneshot";

/** The installed versions of `category/package` on a machine (`/var/db/pkg`), sorted. */
export function installedCommand(atom: string): string {
  const [category, name] = atom.split("/");
  return `ls -1 /var/db/pkg/${category} 2>/dev/null | grep -E '^${name}-[0-9]' || true`;
}

/**
 * A compromised binhost for the duration of `body`: the served package of `atom` in the
 * build profile directory `dir` becomes `change(package)` and its index entry is updated to
 * match (so a client's refusal comes from the signatures); afterwards both are put back.
 * `onBinhost` runs a command on the binhost as its admin (sudo) and returns its output.
 */
export async function withCompromisedPackage(
  onBinhost: (command: string) => string,
  dir: string,
  atom: string,
  change: (gpkg: Buffer) => Buffer,
  body: () => void | Promise<void>,
): Promise<void> {
  const index = onBinhost(`sudo -n cat ${dir}/Packages`);
  const entry = parsePackagesIndex(index).find((e) => packageName(e.cpv) === atom);
  assert.ok(entry, `${atom} is in the index of ${dir}:\n${index}`);
  const file = `${dir}/${entry.path}`;
  const changed = change(Buffer.from(onBinhost(`sudo -n base64 -w0 ${file}`), "base64"));
  const newIndex = Buffer.from(withIndexEntryFor(index, entry.path, changed));
  const put = (data: Buffer, to: string) =>
    `echo ${data.toString("base64")} | base64 -d | sudo -n tee ${to} >/dev/null`;
  const saved = [file, `${dir}/Packages`, `${dir}/Packages.gz`];
  onBinhost(
    [
      ...saved.map((f) => `if [ -e ${f} ]; then sudo -n cp -p ${f} ${f}.good; fi`),
      put(changed, file),
      put(newIndex, `${dir}/Packages`),
      `if [ -e ${dir}/Packages.gz ]; then sudo -n gzip -kf ${dir}/Packages; fi`,
    ].join(" && "),
  );
  try {
    await body();
  } finally {
    onBinhost(
      saved.map((f) => `if [ -e ${f}.good ]; then sudo -n mv ${f}.good ${f}; fi`).join("; "),
    );
  }
}
