/**
 * `gentoo-infra machine boot <hostname>`: switches on a new, blank server for a machine
 * registered with the site's PxeInstallHost and lets the user watch what happens. It defines
 * a libvirt domain with the machine's MAC and firmware and an empty disk on the site's
 * network (a stand-in for the server in the rack), follows the install on the serial console
 * and in the install host's status (`gi-pxe-status`), waits until the installed system runs
 * from its disk, and then installs a package of its Stack from the binhost the way an
 * operator does (`gentoo-infra-sync`, `emerge --getbinpkg --usepkgonly`, signature required),
 * and shows what Portage installed. `gentoo-infra machine remove <hostname>` takes the domain
 * and its files away again.
 *
 * It reads the site's stack outputs (`machines`, `servers.pxe`, `libvirt`, as
 * examples/minimal exports them) and must run where the site's guests are reachable (inside
 * the harness's network namespace: `scripts/site boot <hostname>` does that). The pure parts
 * (reading the outputs, the console's phases, the status row, the remote command) are
 * exported and unit-tested; the e2e tier boots web2 with it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type BlankDomain, blankDomainXml } from "../libvirt/blank-domain";
import { DNS_LABEL } from "../validation/patterns";
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import type { CliIo } from "./run";
import { markedSections, type SshTarget, sshRun } from "./ssh";

/** A machine registered with the install host, as the stack outputs describe it. */
export interface RegisteredMachine extends SshTarget {
  readonly hostname: string;
  readonly mac: string;
  readonly firmware: "bios" | "uefi";
}

/** Everything `machine boot` needs from the stack outputs. */
export interface MachineBootPlan {
  readonly machine: RegisteredMachine;
  /** The install host (for `gi-pxe-status`). */
  readonly installHost: SshTarget;
  /** The libvirt connection URI. */
  readonly uri: string;
  /** The blank machine's domain. */
  readonly domain: BlankDomain;
  /** The directory that holds its disk, console log, firmware variables and XML. */
  readonly dir: string;
}

/** The site's libvirt facts in the stack outputs (`libvirt` of examples/minimal). */
interface LibvirtOutputs {
  readonly uri?: string;
  readonly network?: string;
  readonly namePrefix?: string;
}

const HOSTNAME = DNS_LABEL;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** A Portage atom as `machine boot --package` takes it: category/name, nothing else. */
const ATOM = /^[A-Za-z0-9][A-Za-z0-9+_.-]*\/[A-Za-z0-9+_][A-Za-z0-9+_-]*$/;

/** The package `machine boot` installs when `--package` is not given. */
export const DEFAULT_MACHINE_PACKAGE = "net-misc/openssh";

/** The domain name of a blank machine: `<namePrefix>-machine-<hostname>`. */
function machineDomainName(namePrefix: string, hostname: string): string {
  return `${namePrefix}-machine-${hostname}`;
}

/** Where blank machines' files live by default: next to the site's pool, never inside it. */
function defaultMachineDirectory(namePrefix: string): string {
  return `/var/lib/libvirt/images/${namePrefix}-machines`;
}

/**
 * Reads the plan for booting `hostname` from the stack outputs. Throws one ValidationError
 * naming every missing or malformed output, before anything is created.
 */
export function machineBootPlan(
  outputs: unknown,
  hostname: string,
  options: { readonly dir?: string; readonly memoryMiB?: number } = {},
): MachineBootPlan {
  const o = (outputs ?? {}) as {
    machines?: Record<string, Partial<RegisteredMachine>>;
    servers?: Record<string, Partial<SshTarget>>;
    libvirt?: LibvirtOutputs;
  };
  const problems: Violation[] = [];
  if (!HOSTNAME.test(hostname)) {
    problems.push(violation("hostname", hostname, "is not a host name", "use e.g. web1"));
  }
  const m = o.machines?.[hostname];
  if (!m) {
    const known = Object.keys(o.machines ?? {}).sort();
    problems.push(
      violation(
        "hostname",
        hostname,
        "is not a machine of this site",
        known.length ? `use one of ${known.join(", ")}` : "register machines with PxeInstallHost",
      ),
    );
  } else {
    if (!m.mac || !MAC.test(m.mac)) {
      problems.push(violation(`machines.${hostname}.mac`, m.mac, "is not a MAC", "re-run up"));
    }
    if (m.firmware !== "bios" && m.firmware !== "uefi") {
      problems.push(
        violation(`machines.${hostname}.firmware`, m.firmware, "is not bios or uefi", "re-run up"),
      );
    }
    if (!m.address || !m.user || !m.privateKeyOpenssh) {
      problems.push(
        violation(
          `machines.${hostname}`,
          Object.keys(m).sort(),
          "lacks address, user or privateKeyOpenssh",
          "export them (examples/minimal's `machines`) and pass --show-secrets",
        ),
      );
    }
  }
  const pxe = o.servers?.pxe;
  if (!pxe?.address || !pxe.user || !pxe.privateKeyOpenssh) {
    problems.push(
      violation(
        "servers.pxe",
        Object.keys(pxe ?? {}).sort(),
        "lacks address, user or privateKeyOpenssh",
        "export the install host's server (examples/minimal's `servers`) and pass --show-secrets",
      ),
    );
  }
  const lv = o.libvirt;
  if (!lv?.network || !lv.namePrefix || !/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/.test(lv.namePrefix)) {
    problems.push(
      violation(
        "libvirt",
        lv,
        "lacks the network or a plain namePrefix",
        "export `libvirt: { uri, network, namePrefix }` (examples/minimal)",
      ),
    );
  }
  throwIfViolations(`gentoo-infra machine boot ${hostname}`, problems);
  const machine = { ...(m as RegisteredMachine), hostname };
  const libvirt = lv as Required<LibvirtOutputs>;
  const dir = options.dir ?? defaultMachineDirectory(libvirt.namePrefix);
  const name = machineDomainName(libvirt.namePrefix, hostname);
  return {
    machine,
    installHost: pxe as SshTarget,
    uri: libvirt.uri ?? "qemu:///system",
    dir,
    domain: {
      name,
      mac: machine.mac,
      firmware: machine.firmware,
      disk: path.join(dir, `${name}.qcow2`),
      log: path.join(dir, `${name}.log`),
      nvram: path.join(dir, `${name}_VARS.fd`),
      network: libvirt.network,
      ...(options.memoryMiB === undefined ? {} : { memoryMiB: options.memoryMiB }),
    },
  };
}

/** Where a machine's install stands, read from its serial console. */
export type ConsolePhase =
  | { readonly phase: "firmware" }
  | { readonly phase: "installer" }
  | { readonly phase: "failed"; readonly cause: string }
  | { readonly phase: "installed"; readonly line: string }
  | { readonly phase: "booted"; readonly line: string }
  | { readonly phase: "ready" };

/**
 * The phase the console text shows for `hostname`: the firmware (network boot), the
 * installer running, a failure (with its cause), the installer's success, the installed
 * system's first line from its disk, and `ready` once its sshd listens.
 */
export function consolePhase(text: string, hostname: string): ConsolePhase {
  const failed = /gentoo-infra installer \[[^\]]*\]: FAILED: (.*)/.exec(text);
  if (failed?.[1] !== undefined) return { phase: "failed", cause: failed[1].trim() };
  const installed = new RegExp(`SUCCESS: installed ${hostname}\\..*`).exec(text);
  if (!installed) {
    return /gentoo-infra installer/.test(text) ? { phase: "installer" } : { phase: "firmware" };
  }
  const after = text.slice(installed.index);
  const booted = /gentoo-infra stage STAND-IN: hostname=.*/.exec(after);
  if (!booted) return { phase: "installed", line: installed[0].trim() };
  if (/gentoo-infra stage STAND-IN: ready/.test(after.slice(booted.index))) {
    return { phase: "ready" };
  }
  return { phase: "booted", line: booted[0].trim() };
}

/** A machine's row of `gi-pxe-status -H` (cells split at two or more spaces). */
export interface PxeStatusRow {
  readonly host: string;
  readonly generation: string;
  readonly netboot: string;
  readonly last: string;
}

/** The row of the MAC `mac` (colons or hyphens) in `gi-pxe-status -H` output, if listed. */
export function pxeStatusRow(output: string, mac: string): PxeStatusRow | undefined {
  const key = mac.toLowerCase().replaceAll(":", "-");
  const row = output.split("\n").find((r) => r.toLowerCase().startsWith(key));
  if (!row) return undefined;
  const [, host = "", generation = "", netboot = "", ...last] = row.split(/ {2,}/);
  return { host, generation, netboot, last: last.join("  ").trim() };
}

/** Lines printed between the markers of {@link machineInstallCommand}'s output. */
const MARK = "--- gentoo-infra machine";

/**
 * The command run as root on the installed machine: pin its tree to its environment's
 * snapshot (`gentoo-infra-sync`), install `atom` from the binhost only (`--getbinpkg
 * --usepkgonly`; make.conf requires a valid signature), then list what is installed of it.
 */
export function machineInstallCommand(atom: string): string {
  if (!ATOM.test(atom)) throw new Error(`not a category/package atom: ${JSON.stringify(atom)}`);
  const [category, name] = atom.split("/") as [string, string];
  return [
    `echo '${MARK} sync'`,
    "gentoo-infra-sync 2>&1",
    `echo '${MARK} emerge'`,
    `emerge --color=n --nospinner --getbinpkg --usepkgonly --oneshot ${atom} 2>&1`,
    `echo '${MARK} installed'`,
    `ls -1 /var/db/pkg/${category} 2>/dev/null | grep -E '^${name}-[0-9]' || true`,
  ].join(" && ");
}

/** The sections of {@link machineInstallCommand}'s output. */
export function parseMachineInstall(output: string): {
  sync: string;
  emerge: string;
  installed: string[];
} {
  const sections = markedSections(output, MARK);
  return {
    sync: (sections.sync ?? "").trim(),
    emerge: sections.emerge ?? "",
    installed: (sections.installed ?? "").split("\n").filter((l) => l.trim() !== ""),
  };
}

/** Whether `atom` is a category/package atom `machine boot --package` accepts. */
function isMachineAtom(atom: string): boolean {
  return ATOM.test(atom);
}

/** Printable console lines: ANSI escapes and carriage returns removed. */
export function consoleLines(text: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: console escape sequences
  const clean = text.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[()][0-9A-Za-z]|\r/g, "");
  return clean.split("\n").filter((l) => l.trim() !== "");
}

/** What `machine boot` says when the console reaches a phase (once each). */
const PHASE_TEXT: Partial<Record<ConsolePhase["phase"], string>> = {
  installer: "the installer runs",
  installed: "the installer reported success; rebooting into the installed system",
  booted: "runs from its own disk",
};

/** The console lines `machine boot` shows without --verbose. */
const SHOWN = /gentoo-infra|iPXE|BdsDxe|SeaBIOS|Booting|reboot/i;

/** Options of {@link bootMachine}. */
export interface BootOptions {
  readonly package: string;
  /** Every console line, not only the installer's and the firmware's. */
  readonly verbose: boolean;
  /** Give up after this long (minutes). */
  readonly timeoutMinutes: number;
  /** The blank disk's size. */
  readonly diskGiB: number;
}

function virsh(uri: string, args: readonly string[]) {
  return spawnSync("virsh", ["-q", "-c", uri, ...args], { encoding: "utf8" });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Boots the blank machine of `plan`, follows its install, then installs `options.package`
 * on it from the binhost. Returns the exit code: 0 installed and the package installed,
 * 1 refused before anything was created, or a failure (the domain stays for inspection).
 */
export async function bootMachine(
  plan: MachineBootPlan,
  options: BootOptions,
  io: CliIo,
): Promise<number> {
  const { machine, domain, uri } = plan;
  const host = machine.hostname;
  if (!isMachineAtom(options.package)) {
    io.err(
      `gentoo-infra machine boot: --package ${JSON.stringify(options.package)} is not a category/package atom (e.g. ${DEFAULT_MACHINE_PACKAGE})\n`,
    );
    return 1;
  }
  // Checks first: nothing is created when one fails.
  if (virsh(uri, ["domstate", domain.name]).status === 0) {
    io.err(
      `gentoo-infra machine boot: ${domain.name} exists already (${host} was booted before); take it away with 'gentoo-infra machine remove ${host}' first\n`,
    );
    return 1;
  }
  const status = await sshRun(plan.installHost, "sudo -n gi-pxe-status -H", { timeoutMs: 60_000 });
  if (status.code !== 0) {
    io.err(
      `gentoo-infra machine boot: the install host does not answer: ${status.stderr.trim()}\n`,
    );
    return 1;
  }
  const row = pxeStatusRow(status.stdout, machine.mac);
  if (!row) {
    io.err(
      `gentoo-infra machine boot: the install host does not know ${machine.mac} (${host}); run up first\n`,
    );
    return 1;
  }
  if (row.netboot !== "install") {
    io.err(
      `gentoo-infra machine boot: the install host boots ${host} from its disk (installed, generation ${row.generation}: ${row.last}); a blank disk would not install. Raise its install generation and run up to install it again.\n`,
    );
    return 1;
  }

  const t0 = Date.now();
  const seconds = () => ((Date.now() - t0) / 1000).toFixed(0);
  mkdirSync(plan.dir, { recursive: true, mode: 0o755 });
  const img = spawnSync(
    "qemu-img",
    ["create", "-q", "-f", "qcow2", domain.disk, `${options.diskGiB}G`],
    { encoding: "utf8" },
  );
  if (img.status !== 0) {
    removeMachine(plan); // nothing half-made stays
    io.err(`gentoo-infra machine boot: qemu-img create failed: ${img.stderr}\n`);
    return 1;
  }
  const xmlFile = path.join(plan.dir, `${domain.name}.xml`);
  writeFileSync(xmlFile, blankDomainXml(domain));
  for (const args of [
    ["define", xmlFile],
    ["start", domain.name],
  ]) {
    const r = virsh(uri, args);
    if (r.status !== 0) {
      removeMachine(plan); // nothing half-made stays: no domain, disk or file
      io.err(`gentoo-infra machine boot: virsh ${args[0]} failed: ${r.stderr.trim()}\n`);
      return 1;
    }
  }
  io.out(
    `${host}: a blank ${machine.firmware.toUpperCase()} machine (${domain.name}, MAC ${machine.mac}, ${options.diskGiB} GiB disk) is switched on; console: ${domain.log}\n`,
  );

  const deadline = t0 + options.timeoutMinutes * 60_000;
  let shown = 0;
  let lastRow = `${row.netboot}  ${row.last}`;
  let lastStatusCheck = 0;
  let phase: ConsolePhase = { phase: "firmware" };
  const announced = new Set<string>();
  while (phase.phase !== "ready") {
    const text = existsSync(domain.log) ? readFileSync(domain.log, "latin1") : "";
    const lines = consoleLines(text);
    for (const line of lines.slice(shown)) {
      if (options.verbose || SHOWN.test(line)) io.out(`  console | ${line}\n`);
    }
    shown = lines.length;
    phase = consolePhase(text, host);
    if (phase.phase === "failed") {
      io.err(
        `${host}: the install FAILED after ${seconds()} s: ${phase.cause}\nThe domain stays for inspection (console: ${domain.log}); take it away with 'gentoo-infra machine remove ${host}'.\n`,
      );
      return 1;
    }
    const said = PHASE_TEXT[phase.phase];
    if (said !== undefined && !announced.has(phase.phase)) {
      announced.add(phase.phase);
      io.out(`${host}: ${said} (${seconds()} s)\n`);
    }
    if (Date.now() - lastStatusCheck > 15_000) {
      lastStatusCheck = Date.now();
      const s = await sshRun(plan.installHost, "sudo -n gi-pxe-status -H", { timeoutMs: 30_000 });
      const r = s.code === 0 ? pxeStatusRow(s.stdout, machine.mac) : undefined;
      const now = r ? `${r.netboot}  ${r.last}` : lastRow;
      if (r && now !== lastRow) {
        io.out(`${host}: install host: netboot ${r.netboot}, last report: ${r.last}\n`);
        lastRow = now;
      }
    }
    if (Date.now() > deadline) {
      io.err(
        `${host}: not ready after ${options.timeoutMinutes} min (last phase: ${phase.phase}); console: ${domain.log}\n`,
      );
      return 1;
    }
    await sleep(1000);
  }
  io.out(`${host}: ready: sshd listens (${seconds()} s after switching it on)\n`);

  io.out(
    `${host}: installing ${options.package} from the binhost as root (gentoo-infra-sync, emerge --getbinpkg --usepkgonly)\n`,
  );
  const r = await sshRun(machine, machineInstallCommand(options.package), {
    timeoutMs: 30 * 60_000,
  });
  const result = parseMachineInstall(r.stdout);
  if (result.sync) io.out(`  ${result.sync.split("\n").join("\n  ")}\n`);
  if (r.code !== 0 || result.installed.length === 0) {
    const tail = result.emerge.split("\n").slice(-30).join("\n");
    io.err(`${host}: installing ${options.package} FAILED (exit ${r.code}):\n${tail}${r.stderr}\n`);
    return 1;
  }
  const [category] = options.package.split("/");
  io.out(
    `${host}: installed ${result.installed.map((p) => `${category}/${p}`).join(", ")} from the binhost; Portage verified its signature against the farm's key (FEATURES=binpkg-request-signature), ${seconds()} s after switching it on\n`,
  );
  return 0;
}

/**
 * Takes a blank machine's domain away (powered off, undefined with its firmware variables)
 * and deletes its disk, console log and XML. Returns what it removed; absent parts are
 * skipped, so it can run twice.
 */
export function removeMachine(plan: Pick<MachineBootPlan, "uri" | "domain" | "dir">): string[] {
  const removed: string[] = [];
  const { uri, domain } = plan;
  if (virsh(uri, ["domstate", domain.name]).status === 0) {
    virsh(uri, ["destroy", domain.name]);
    const u = virsh(uri, ["undefine", "--nvram", domain.name]);
    if (u.status !== 0) virsh(uri, ["undefine", domain.name]);
    removed.push(`domain ${domain.name}`);
  }
  for (const file of [
    domain.disk,
    domain.log,
    domain.nvram,
    path.join(plan.dir, `${domain.name}.xml`),
  ]) {
    if (existsSync(file)) {
      rmSync(file, { force: true });
      removed.push(file);
    }
  }
  // The directory goes when nothing else is left in it.
  try {
    rmdirSync(plan.dir);
  } catch {
    // not empty, or gone already
  }
  return removed;
}
