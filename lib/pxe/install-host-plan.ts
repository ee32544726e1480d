/**
 * Validation of a PxeInstallHost's arguments as plain data, and the per-machine binhost
 * lookups. Pure: no `@pulumi/pulumi`; the component extracts plain values from its
 * arguments (Stack names and build profiles, file existence) and calls these.
 */

import { buildProfileKey } from "../binhost/paths";
import { ipv4InRange, ipv4InSubnet, isIpv4Address, parseIpv4Subnet } from "../network/ipv4";
import { validateBaseDn } from "../pki/dn";
import { validateCommonName, validateDnsName } from "../pki/validate";
import { DNS_LABEL, DNS_NAME, isPlainAbsolutePath } from "../validation/patterns";
import { type Violation, violation } from "../validation/violations";
import { validateHostRecords } from "./dnsmasq-conf";
import { validateAuthorizedKeys } from "./install-config";
import {
  type Machine,
  type NetworkArgument,
  type PxeNetwork,
  validateInventory,
} from "./inventory";

/**
 * What the install host needs from the binhost for one `<env>/<arch>/<stack>` cell: a
 * BinhostMirror's `clientConfig` entry has these fields (and more).
 */
export interface PxeBinhostClientConfig {
  /** binrepos.conf for machines of this cell (installed as binrepos.conf/gentoo-infra.conf). */
  readonly binreposConf: string;
  /**
   * make.conf for machines of this cell.
   * @default none: the stage's make.conf stays
   */
  readonly makeConf?: string;
  /**
   * The machine's whole Portage configuration, path → content (binrepos.conf and make.conf
   * included, equal to the fields above).
   * @default none: only binrepos.conf and make.conf are installed
   */
  readonly files?: Readonly<Record<string, string>>;
}

/** The stage tarball a machine installs: its HTTPS URL on the binhost and its SHA-512 (hex). */
export interface PxeStage {
  readonly url: string;
  readonly sha512: string;
}

/** The installer kernel and initramfs of one arch: local file paths. */
export interface InstallerImages {
  /** The installer's kernel (bzImage/Image), a local path. */
  readonly kernel: string;
  /** Its initramfs, a local path. */
  readonly initrd: string;
}

/** A Stack as the install host sees it: its name and the cells it builds. */
export interface StackCells {
  readonly name: string;
  /** `<environment>/<arch>` keys of its build profiles. */
  readonly buildProfiles: readonly string[];
}

/** Everything {@link validateInstallHostPlan} checks, as plain values. */
export interface InstallHostPlan {
  /** The component's name: the install host's host name (`<name>.<domain>` in its certificate). */
  readonly name: string;
  readonly address: unknown;
  readonly dhcpMode: unknown;
  readonly efiBinary: unknown;
  /** Where the install host's iPXE binaries are (it reaches a root shell command). */
  readonly ipxeDirectory?: unknown;
  readonly network: PxeNetwork;
  /** The argument each network field came from, for error paths (default `network.<field>`). */
  readonly networkArgument?: NetworkArgument;
  readonly machines: readonly Machine[];
  readonly stacks: readonly StackCells[];
  readonly installers: Readonly<Record<string, InstallerImages>>;
  /** The RootCa's base DN (`rootCa.baseDn`). */
  readonly baseDn: unknown;
  /** A `baseDn` argument as the component took it before 2026-12-03: refused, with the fix. */
  readonly removedBaseDn?: unknown;
  readonly puppetServer: unknown;
  readonly kernelArguments: readonly unknown[] | undefined;
  /** Names the install host answers DNS for (dnsmasq host-record). */
  readonly hostRecords?: unknown;
  /** The binhost's client configuration, when it is a plain value (not yet an Output). */
  readonly clientConfig: Readonly<Record<string, PxeBinhostClientConfig>> | undefined;
  /** The stages by cell, when a plain value. */
  readonly stages: Readonly<Record<string, PxeStage>> | undefined;
  /** The binhost's base URL, when a plain value. */
  readonly binhostUrl: string | undefined;
  /** OpenSSH public keys for root on installed machines (outputs are checked later). */
  readonly authorizedKeys?: unknown;
  /** Whether a local file exists (the component passes fs.existsSync). */
  readonly fileExists: (path: string) => boolean;
}

const HOST = DNS_NAME;
const KERNEL_ARGUMENT = /^[A-Za-z0-9._,:=/+-]+$/;

/**
 * Checks a PxeInstallHost's arguments: the network and machines (via
 * {@link validateInventory}, with the Stacks' names, environments and arches as the known
 * names), that each machine's Stack builds its environment and arch, the install host's
 * own address, the DHCP mode (proxy mode needs known MACs), the installer images, the PKI
 * base DN, the Puppet server and, when known, the binhost's client configuration.
 */
export function validateInstallHostPlan(plan: InstallHostPlan): Violation[] {
  const out: Violation[] = [];
  const stackNames = plan.stacks.map((s) => s.name);
  plan.stacks.forEach((s, i) => {
    if (stackNames.indexOf(s.name) !== i) {
      out.push(violation(`stacks[${i}]`, s.name, "names a Stack twice", "pass each Stack once"));
    }
  });
  const cells = plan.stacks.flatMap((s) => s.buildProfiles);
  const union = (part: 0 | 1) => [...new Set(cells.map((c) => c.split("/")[part] ?? ""))].sort();
  out.push(
    ...validateInventory(
      plan.machines,
      plan.network,
      { environments: union(0), arches: union(1), stacks: [...stackNames].sort() },
      plan.networkArgument,
    ),
  );
  plan.machines.forEach((m, i) => {
    const stack = plan.stacks.find((s) => s.name === m.stack);
    const cell = `${m.environment}/${m.arch}`;
    if (stack && cells.includes(cell) && !stack.buildProfiles.includes(cell)) {
      out.push(
        violation(
          `machines[${i}]`,
          `${cell}/${m.stack}`,
          `is not built: Stack "${m.stack}" builds ${stack.buildProfiles.join(", ") || "nothing"}`,
          "add the environment and arch to the Stack, or pick a cell it builds",
        ),
      );
    }
  });

  if (plan.authorizedKeys !== undefined) {
    out.push(
      ...(Array.isArray(plan.authorizedKeys)
        ? validateAuthorizedKeys(plan.authorizedKeys)
        : [
            violation(
              "authorizedKeys",
              plan.authorizedKeys,
              "is not a list",
              "list OpenSSH public keys, e.g. ['ssh-ed25519 AAAA... admin@example.ch']",
            ),
          ]),
    );
  }
  out.push(
    ...validateOwnAddress(plan),
    ...validateNames(plan),
    ...validateHostRecords(plan.hostRecords),
  );

  if (plan.dhcpMode !== "full" && plan.dhcpMode !== "proxy") {
    out.push(violation("dhcpMode", plan.dhcpMode, "is not a DHCP mode", "use full or proxy"));
  } else if (plan.dhcpMode === "proxy" && plan.machines.length === 0) {
    out.push(
      violation(
        "machines",
        [],
        "is empty in proxy mode",
        "list the machines to install: in proxy mode the install host answers known MACs only",
      ),
    );
  }
  if (plan.efiBinary !== undefined && plan.efiBinary !== "snponly" && plan.efiBinary !== "ipxe") {
    out.push(
      violation("efiBinary", plan.efiBinary, "is not an iPXE EFI binary", "use snponly or ipxe"),
    );
  }
  if (plan.ipxeDirectory !== undefined && !isPlainAbsolutePath(plan.ipxeDirectory)) {
    out.push(
      violation(
        "ipxeDirectory",
        plan.ipxeDirectory,
        "is not an absolute path of plain segments",
        "use e.g. /usr/lib/ipxe: letters, digits and . _ + - between slashes, no . or .. segment",
      ),
    );
  }

  // Only machines whose Stack builds their cell: the others already have a violation.
  const built = plan.machines.filter((m) =>
    plan.stacks.some(
      (s) => s.name === m.stack && s.buildProfiles.includes(`${m.environment}/${m.arch}`),
    ),
  );
  const arches = [...new Set(built.map((m) => m.arch))];
  for (const arch of arches) {
    if (plan.installers[arch] === undefined) {
      out.push(
        violation(
          `installers.${arch}`,
          undefined,
          "is missing",
          `give the installer kernel and initrd for ${arch}: a machine of that arch installs with it`,
        ),
      );
    }
  }
  for (const [arch, images] of Object.entries(plan.installers)) {
    for (const field of ["kernel", "initrd"] as const) {
      const path = images?.[field];
      if (typeof path !== "string" || !plan.fileExists(path)) {
        out.push(
          violation(
            `installers.${arch}.${field}`,
            path,
            "is not a readable local file",
            "give the path of the installer image on the machine that runs Pulumi",
          ),
        );
      }
    }
  }

  out.push(...validateBaseDn("rootCa.baseDn", plan.baseDn));
  if (plan.removedBaseDn !== undefined) {
    out.push(
      violation(
        "baseDn",
        plan.removedBaseDn,
        "is no longer an argument: the base DN is the RootCa's (rootCa.baseDn)",
        "remove baseDn; give the base DN to the RootCa",
      ),
    );
  }
  if (typeof plan.puppetServer !== "string" || !HOST.test(plan.puppetServer)) {
    out.push(
      violation(
        "puppet.server",
        plan.puppetServer,
        "is not a host name",
        "use e.g. puppet.example.ch",
      ),
    );
  }
  (plan.kernelArguments ?? []).forEach((a, i) => {
    if (typeof a !== "string" || !KERNEL_ARGUMENT.test(a)) {
      out.push(
        violation(
          `kernelArguments[${i}]`,
          a,
          "is not one kernel argument",
          "use one word without spaces or quotes, e.g. console=ttyS0,115200",
        ),
      );
    }
  });
  out.push(...validateBinhostInputs(built, plan.clientConfig, plan.stages, plan.binhostUrl));
  return out;
}

/**
 * Checks that the binhost's client configuration and the stages have a usable entry for
 * every machine's cell, and that each stage lies on the binhost. Each part is checked only
 * when given (a plain value): the component calls this at construction with what is
 * known, and again inside `apply` once Outputs resolve.
 */
export function validateBinhostInputs(
  machines: readonly Machine[],
  clientConfig: Readonly<Record<string, PxeBinhostClientConfig>> | undefined,
  stages: Readonly<Record<string, PxeStage>> | undefined,
  binhostUrl: string | undefined,
): Violation[] {
  const out: Violation[] = [];
  for (const key of [...new Set(machines.map(buildProfileKey))].sort()) {
    const entry = clientConfig?.[key];
    if (clientConfig !== undefined && entry === undefined) {
      out.push(
        violation(
          `binhost.clientConfig["${key}"]`,
          undefined,
          "is missing",
          `serve build profile ${key} from the binhost, or change the machines that use it`,
        ),
      );
    }
    if (entry !== undefined) {
      if (typeof entry.binreposConf !== "string" || entry.binreposConf.trim() === "") {
        out.push(
          violation(
            `binhost.clientConfig["${key}"].binreposConf`,
            entry.binreposConf,
            "is empty",
            "give the binrepos.conf machines of this build profile use",
          ),
        );
      }
    }
    if (stages === undefined) continue;
    const stage = stages[key];
    if (stage === undefined) {
      out.push(
        violation(
          `stages["${key}"]`,
          undefined,
          "is missing",
          `give the stage tarball machines of ${key} install (URL and SHA-512)`,
        ),
      );
      continue;
    }
    if (!/^https:\/\/\S+$/.test(stage.url ?? "")) {
      out.push(
        violation(
          `stages["${key}"].url`,
          stage.url,
          "is not an https:// URL",
          "give the stage tarball's URL on the binhost",
        ),
      );
    } else if (binhostUrl !== undefined && !stage.url.startsWith(binhostUrl.replace(/\/*$/, "/"))) {
      out.push(
        violation(
          `stages["${key}"].url`,
          stage.url,
          `is not on the binhost ${binhostUrl}`,
          "install stages from the Stacks' binhost (their binhostUrl)",
        ),
      );
    }
    if (!/^[0-9a-f]{128}$/.test(stage.sha512 ?? "")) {
      out.push(
        violation(
          `stages["${key}"].sha512`,
          stage.sha512,
          "is not a SHA-512 digest",
          "give 128 lower-case hex digits from the stage's .DIGESTS",
        ),
      );
    }
  }
  return out;
}

const LABEL = DNS_LABEL;

/** The domain is required, and every certificate name must be a usable FQDN of 64 characters at most. */
function validateNames(plan: InstallHostPlan): Violation[] {
  const domain = plan.network.domain;
  if (domain === undefined) {
    return [
      violation(
        "domain",
        undefined,
        "is missing",
        "give the DNS domain, e.g. example.ch: certificates and Puppet certnames are <hostname>.<domain>",
      ),
    ];
  }
  const out: Violation[] = [];
  // A domain that is not a DNS name is reported by the network's check; the names made
  // from it would only repeat that.
  const domainOk = typeof domain === "string" && HOST.test(domain);
  if (!LABEL.test(plan.name)) {
    out.push(
      violation(
        "name",
        plan.name,
        "is not a host name",
        "name the install host with one DNS label (a-z, 0-9, '-'): it is its host name",
      ),
    );
  }
  const names: [string, unknown][] = [
    ["name", plan.name],
    ...plan.machines.map((m, i): [string, unknown] => [`machines[${i}].hostname`, m.hostname]),
  ];
  for (const [argument, host] of names) {
    if (!domainOk || typeof host !== "string" || !LABEL.test(host)) continue;
    const fqdn = `${host}.${domain}`;
    const problems = [...validateCommonName(argument, fqdn), ...validateDnsName(argument, fqdn)];
    if (problems.length > 0) {
      out.push(
        violation(
          argument,
          host,
          `makes ${fqdn}, which is not a DNS name of 64 characters at most`,
          "use a shorter host name or domain",
        ),
      );
    }
  }
  return out;
}

function validateOwnAddress(plan: InstallHostPlan): Violation[] {
  const { address, network } = plan;
  if (!isIpv4Address(address)) {
    return [
      violation(
        "address",
        address,
        "is not an IPv4 address",
        "use dotted-quad form, e.g. 10.0.0.2",
      ),
    ];
  }
  const subnet = parseIpv4Subnet(network.subnet);
  if (subnet && !ipv4InSubnet(address, subnet)) {
    return [
      violation(
        "address",
        address,
        `is outside the subnet ${network.subnet}`,
        "use an address inside the network's subnet",
      ),
    ];
  }
  const range = network.dhcpRange;
  if (
    range &&
    isIpv4Address(range.start) &&
    isIpv4Address(range.end) &&
    ipv4InRange(address, range.start, range.end)
  ) {
    return [
      violation(
        "address",
        address,
        `is inside the DHCP range ${range.start}-${range.end}`,
        "use an address outside the DHCP range",
      ),
    ];
  }
  if (address === network.gateway || (subnet && address === subnet.network)) {
    return [violation("address", address, "is taken by the network", "use a free host address")];
  }
  const i = plan.machines.findIndex((m) => m.address === address);
  if (i >= 0) {
    return [
      violation(
        "address",
        address,
        `is machines[${i}]'s address`,
        "give the install host its own address",
      ),
    ];
  }
  return [];
}
