/**
 * Blank machines for the e2e tier and bench/pxe-install.ts: a libvirt domain with an empty
 * qcow2 disk that boots from the network first, then from its disk, with its serial console
 * in a file (lib/libvirt/blank-domain.ts, which `gentoo-infra machine boot` uses too). BIOS guests use SeaBIOS (machine `pc`); UEFI guests use OVMF from Debian's
 * `ovmf` package (machine `q35`, a private copy of the firmware variables). The NIC is
 * virtio, so the firmware's network boot runs QEMU's iPXE option ROM (BIOS) or OVMF's own
 * PXE client (UEFI), which then chainloads the install host's iPXE binary.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { blankDomainXml } from "../../lib/libvirt/blank-domain";
import { DEFAULT_UEFI_FIRMWARE } from "../../lib/libvirt/domain-xml";
import { removeDomain, virsh, virshQuiet } from "./libvirt";

/** Debian's OVMF (package `ovmf`): firmware code and the variables template. */
export const OVMF = {
  code: DEFAULT_UEFI_FIRMWARE.code,
  vars: DEFAULT_UEFI_FIRMWARE.varsTemplate,
} as const;

export type Firmware = "bios" | "uefi";

export interface BlankMachine {
  readonly name: string;
  readonly mac: string;
  readonly firmware: Firmware;
  /** The qcow2 disk (4 GiB, empty at first). */
  readonly disk: string;
  /** The serial console, as QEMU writes it (appended to across starts). */
  readonly log: string;
}

export function run(file: string, args: string[], timeout = 120_000) {
  return spawnSync(file, args, { encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * A /24 in 192.168.<first>-<last> that no interface in the network namespace `netns` uses,
 * so a test's or a benchmark's site does not collide with another one running.
 */
export function freeSubnet(netns: string, first: number, last: number): string {
  const used = run("ip", ["netns", "exec", netns, "ip", "-4", "-o", "addr"]).stdout;
  for (let third = first; third <= last; third++) {
    if (!used.includes(` 192.168.${third}.`)) return `192.168.${third}.0/24`;
  }
  throw new Error(`no free /24 in 192.168.${first}-${last} inside the namespace ${netns}`);
}

/**
 * Creates an empty 4 GiB disk in `dir` and defines (does not start) a blank machine named
 * `name` on the libvirt network `network`. `dir` must be readable by QEMU (mode 0755).
 */
export function defineBlankMachine(
  dir: string,
  name: string,
  mac: string,
  firmware: Firmware,
  network: string,
): BlankMachine {
  const m: BlankMachine = {
    name,
    mac,
    firmware,
    disk: path.join(dir, `${name}.qcow2`),
    log: path.join(dir, `${name}.log`),
  };
  const r = run("qemu-img", ["create", "-q", "-f", "qcow2", m.disk, "4G"]);
  assert.equal(r.status, 0, r.stderr);
  const xml = path.join(dir, `${name}.xml`);
  writeFileSync(xml, blankDomainXml({ ...m, network, nvram: path.join(dir, `${name}-vars.fd`) }));
  virsh("define", xml);
  return m;
}

/** Starts a defined domain. */
export function startDomain(name: string): void {
  virsh("start", name);
}

/** Powers a domain off if it runs (no error if it does not). */
export function stopDomain(name: string): void {
  virshQuiet("destroy", name);
}

export { removeDomain };

/** Whether the domain runs. */
export function isRunning(name: string): boolean {
  return (virshQuiet("domstate", name).stdout ?? "").trim() === "running";
}

/** Whether any block of the qcow2 disk holds data (`qemu-img map`; works while it runs). */
export function diskHasData(disk: string): boolean {
  const r = run("qemu-img", ["map", "--output=json", "-U", disk]);
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { data: boolean }[]).some((e) => e.data);
}

/** The serial console so far. */
export const readSerial = (file: string) => (existsSync(file) ? readFileSync(file, "latin1") : "");

/** The last `lines` lines of `text`. */
export const tail = (text: string, lines = 40) => text.split("\n").slice(-lines).join("\n");

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `everyMs` until it returns a value; fails with `describe()` after `ms`.
 */
export async function waitFor<T>(
  what: string,
  ms: number,
  check: () => T | undefined,
  describe: () => string,
  everyMs = 500,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) assert.fail(`${what}: not within ${ms / 1000} s\n${describe()}`);
    await sleep(everyMs);
  }
}

/** What the installed stand-in stage prints on its serial console when it boots from disk. */
export const FIRST_DISK_BOOT = /gentoo-infra stage STAND-IN: hostname=.*/;
