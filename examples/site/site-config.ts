/**
 * What differs between the environments of examples/site, as its stack configuration
 * (Pulumi.<environment>.yaml) holds it: the hypervisors and the machines the install host
 * installs. index.ts checks both here before it declares anything, so that a wrong value is
 * one error naming the config key, not a half-planned stack. Pure (no Pulumi): the unit tier
 * (test/unit/site-config.test.ts) holds the messages.
 */
import { validateHypervisorArgs } from "../../lib/libvirt/validate";
import { defaultDiskLayout, type Firmware } from "../../lib/pxe/disk-layout";
import { type Machine, type PxeNetwork, validateMachines } from "../../lib/pxe/inventory";
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

/**
 * The machines' checks: the shape of the config and the site's address plan here; everything
 * else (MAC, host name, Stack, firmware and disk, duplicates, the address against the subnet
 * and the DHCP range) by the install host's own validateMachines, on the machines as the
 * program builds them, with its `machines[i]` paths renamed to the config keys.
 */
function machineViolations(value: unknown, site: SitePlan): Violation[] {
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
  // The machines as the program builds them; one without a valid host number has no address
  // (reported above), so its address is not judged again.
  const checked: { key: string; machine: Machine; hostValid: boolean }[] = [];
  for (const [hostname, machine] of Object.entries(value)) {
    const here = `${at}.${hostname}`;
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
    const hostValid = isWholeNumber(machine.host, 50, 99);
    if (!hostValid) {
      out.push(
        violation(
          `${here}.host`,
          machine.host,
          "is not a machine's host number",
          "use 50 to 99 (the nth address of the subnet; servers sit below, DHCP above)",
        ),
      );
    }
    const firmware = machine.firmware as Firmware;
    checked.push({
      key: here,
      hostValid,
      machine: {
        mac: machine.mac as string,
        hostname,
        environment: site.environment,
        arch: "amd64",
        stack: machine.stack as string,
        address: hostValid ? site.address(machine.host as number) : "",
        firmware,
        disk: defaultDiskLayout(firmware === "uefi" ? "uefi" : "bios", "/dev/vda"),
      },
    });
  }
  const keyOf = (argument: string) =>
    argument.replace(/^machines\[(\d+)\]/, (_, i) => checked[Number(i)]?.key ?? argument);
  const found = validateMachines(
    checked.map((c) => c.machine),
    site.network,
    { environments: [site.environment], arches: ["amd64"], stacks: site.stacks },
  );
  const judged = found.filter((v) => {
    const i = /^machines\[(\d+)\]\.address$/.exec(v.argument)?.[1];
    return i === undefined || checked[Number(i)]?.hostValid !== false;
  });
  out.push(
    ...judged.map((v) => ({
      ...v,
      argument: keyOf(v.argument).replace(/\.address$/, ".host"),
      problem: v.problem.replace(/machines\[\d+\]\.\w+/g, (m) =>
        keyOf(m).replace(/\.address$/, ".host"),
      ),
    })),
  );
  return out;
}

/** What the machines are checked against: the program's environment, Stacks and network. */
export interface SitePlan {
  /** The stack's environment (every machine is installed for it). */
  readonly environment: string;
  /** The Stacks a machine may run. */
  readonly stacks: readonly string[];
  /** The install subnet and its DHCP range. */
  readonly network: PxeNetwork;
  /** The `host`th address of the subnet. */
  readonly address: (host: number) => string;
}

/** Every problem of the site's configuration. */
export function validateSiteConfig(input: SiteConfigInput, site: SitePlan): Violation[] {
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
  if (input.machines !== undefined) out.push(...machineViolations(input.machines, site));
  return out;
}

/**
 * The site's configuration with defaults applied; throws one ValidationError naming every
 * problem (the config key, the value and the fix).
 */
export function readSiteConfig(input: SiteConfigInput, site: SitePlan): SiteConfig {
  throwIfViolations("examples/site stack configuration", validateSiteConfig(input, site));
  const hypervisors =
    (input.hypervisors as Record<string, string> | undefined) ?? DEFAULT_HYPERVISORS;
  return {
    hypervisors,
    arm64Hypervisor:
      (input.arm64Hypervisor as string | undefined) ?? (Object.keys(hypervisors).at(-1) as string),
    machines: (input.machines as Record<string, SiteMachine> | undefined) ?? DEFAULT_MACHINES,
  };
}
