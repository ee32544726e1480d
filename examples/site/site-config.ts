/**
 * What differs between the environments of examples/site, as its stack configuration
 * (Pulumi.<environment>.yaml) holds it: the hypervisors and the machines the install host
 * installs. index.ts checks both here before it declares anything, so that a wrong value is
 * one error naming the config key, not a half-planned stack. Pure (no Pulumi): the unit tier
 * (test/unit/site-config.test.ts) holds the messages.
 */
import { validateHypervisorArgs } from "../../lib/libvirt/validate";
import { macViolation, normalizeMac } from "../../lib/network/mac";
import { DNS_LABEL, isWholeNumber, matches } from "../../lib/validation/patterns";
import { throwIfViolations, type Violation, violation } from "../../lib/validation/violations";

/** One machine installed by MAC (config `site:machines`, keyed by hostname). */
export interface SiteMachine {
  /** The MAC it boots from the network with. */
  readonly mac: string;
  /** Its address: the `host`th of the site's subnet, 50 to 99 (servers sit below, DHCP above). */
  readonly host: number;
  /** The Stack it is installed with (stacks.ts). */
  readonly stack: string;
  /** Its firmware, which picks the boot loader and the disk layout. */
  readonly firmware: "bios" | "uefi";
}

/** The hypervisors when `site:hypervisors` is absent: this machine's libvirtd. */
export const DEFAULT_HYPERVISORS: Readonly<Record<string, string>> = { hv1: "qemu:///system" };

/** The machines when `site:machines` is absent (a fresh stack previews these). */
export const DEFAULT_MACHINES: Readonly<Record<string, SiteMachine>> = {
  web1: { mac: "52:54:00:20:00:33", host: 51, stack: "rails", firmware: "uefi" },
  web2: { mac: "52:54:00:20:00:34", host: 52, stack: "rails", firmware: "uefi" },
  worker1: { mac: "52:54:00:20:00:35", host: 53, stack: "ruby", firmware: "bios" },
  mail1: { mac: "52:54:00:20:00:36", host: 54, stack: "linux", firmware: "bios" },
};

/** The site's configuration as read (`undefined` for an absent key). */
export interface SiteConfigInput {
  readonly hypervisors: unknown;
  readonly arm64Hypervisor: unknown;
  readonly machines: unknown;
}

/** The site's configuration once checked, defaults applied. */
export interface SiteConfig {
  /** Libvirt URI by hypervisor name, in the order given (the first gets binhost and PXE). */
  readonly hypervisors: Readonly<Record<string, string>>;
  /** The hypervisor of the arm64 builders. */
  readonly arm64Hypervisor: string;
  /** The machines by hostname. */
  readonly machines: Readonly<Record<string, SiteMachine>>;
}

const MACHINE_FIELDS = ["mac", "host", "stack", "firmware"];
const MACHINE_EXAMPLE =
  'e.g. web1: { mac: "52:54:00:20:00:33", host: 51, stack: rails, firmware: uefi }';

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hypervisorViolations(value: unknown): Violation[] {
  const at = "site:hypervisors";
  if (!isMap(value) || Object.keys(value).length === 0) {
    return [
      violation(
        at,
        value,
        "is not a map of hypervisor name to libvirt URI",
        "e.g. kvm1: qemu+ssh://root@kvm1.example.ch/system",
      ),
    ];
  }
  return Object.entries(value).flatMap(([name, uri]) => [
    ...(matches(DNS_LABEL, name)
      ? []
      : [
          violation(
            `${at}.${name}`,
            name,
            "is not a hypervisor name",
            "use a DNS label, e.g. kvm1",
          ),
        ]),
    ...(typeof uri === "string"
      ? validateHypervisorArgs({ uri }).map((v) => ({ ...v, argument: `${at}.${name}` }))
      : [violation(`${at}.${name}`, uri, "is not a libvirt URI", "use e.g. qemu:///system")]),
  ]);
}

function machineViolations(value: unknown, stacks: readonly string[]): Violation[] {
  const at = "site:machines";
  if (!isMap(value) || Object.keys(value).length === 0) {
    return [
      violation(
        at,
        value,
        "is not a map of hostname to machine",
        `list one or more, ${MACHINE_EXAMPLE}`,
      ),
    ];
  }
  const out: Violation[] = [];
  const seenMacs = new Map<string, string>();
  const seenHosts = new Map<number, string>();
  for (const [hostname, machine] of Object.entries(value)) {
    const here = `${at}.${hostname}`;
    if (!matches(DNS_LABEL, hostname)) {
      out.push(violation(here, hostname, "is not a hostname", "use a DNS label, e.g. web1"));
    }
    if (!isMap(machine)) {
      out.push(violation(here, machine, "is not a machine", MACHINE_EXAMPLE));
      continue;
    }
    for (const key of Object.keys(machine).filter((k) => !MACHINE_FIELDS.includes(k))) {
      out.push(
        violation(
          `${here}.${key}`,
          machine[key],
          "is not a machine field",
          `use ${MACHINE_FIELDS.join(", ")}`,
        ),
      );
    }
    const mac = macViolation(`${here}.mac`, machine.mac);
    if (mac) out.push(mac);
    const normal = normalizeMac(machine.mac);
    if (!mac && normal !== undefined) {
      const other = seenMacs.get(normal);
      if (other !== undefined) {
        out.push(
          violation(
            `${here}.mac`,
            machine.mac,
            `is ${other}'s MAC too`,
            "give each machine its own",
          ),
        );
      }
      seenMacs.set(normal, hostname);
    }
    if (!isWholeNumber(machine.host, 50, 99)) {
      out.push(
        violation(
          `${here}.host`,
          machine.host,
          "is not a machine's host number",
          "use 50 to 99 (the nth address of the subnet; servers sit below, DHCP above)",
        ),
      );
    } else {
      const other = seenHosts.get(machine.host);
      if (other !== undefined) {
        out.push(
          violation(
            `${here}.host`,
            machine.host,
            `is ${other}'s host number too`,
            "give each machine its own",
          ),
        );
      }
      seenHosts.set(machine.host, hostname);
    }
    if (typeof machine.stack !== "string" || !stacks.includes(machine.stack)) {
      out.push(
        violation(
          `${here}.stack`,
          machine.stack,
          "is not a Stack of the site",
          `use ${stacks.join(", ")}`,
        ),
      );
    }
    if (machine.firmware !== "bios" && machine.firmware !== "uefi") {
      out.push(
        violation(`${here}.firmware`, machine.firmware, "is not a firmware", "use bios or uefi"),
      );
    }
  }
  return out;
}

/** Every problem of the site's configuration; `stacks` are the names a machine may use. */
export function validateSiteConfig(input: SiteConfigInput, stacks: readonly string[]): Violation[] {
  const out: Violation[] = [];
  if (input.hypervisors !== undefined) out.push(...hypervisorViolations(input.hypervisors));
  const names = Object.keys(isMap(input.hypervisors) ? input.hypervisors : DEFAULT_HYPERVISORS);
  if (input.arm64Hypervisor !== undefined && !names.includes(input.arm64Hypervisor as string)) {
    out.push(
      violation(
        "site:arm64Hypervisor",
        input.arm64Hypervisor,
        "is not one of site:hypervisors",
        `use ${names.join(", ")}`,
      ),
    );
  }
  if (input.machines !== undefined) out.push(...machineViolations(input.machines, stacks));
  return out;
}

/**
 * The site's configuration with defaults applied; throws one ValidationError naming every
 * problem (the config key, the value and the fix).
 */
export function readSiteConfig(input: SiteConfigInput, stacks: readonly string[]): SiteConfig {
  throwIfViolations("examples/site stack configuration", validateSiteConfig(input, stacks));
  const hypervisors =
    (input.hypervisors as Record<string, string> | undefined) ?? DEFAULT_HYPERVISORS;
  return {
    hypervisors,
    arm64Hypervisor:
      (input.arm64Hypervisor as string | undefined) ?? (Object.keys(hypervisors).at(-1) as string),
    machines: (input.machines as Record<string, SiteMachine> | undefined) ?? DEFAULT_MACHINES,
  };
}
