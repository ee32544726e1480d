/**
 * Validation of {@link PxeInstallHostArgs}: every problem that can be known before anything
 * is created, collected into one list. The checks themselves are the install host's plan
 * checks (./install-host-plan), run on the plain view of the arguments.
 */

import { existsSync } from "node:fs";
import { stackDisagreement } from "../stack/stack-validate";
import { isLateBound, type Violation, violation } from "../validation/violations";
import { validateInstallHostPlan } from "./install-host-plan";
import {
  installHostBinhostUrl,
  installHostMachines,
  installHostNetwork,
  type PxeInstallHostArgs,
} from "./pxe-install-host-args";

/** A value as given, or `undefined` when it is known only later (then checked as it resolves). */
function plain<T>(value: unknown): T | undefined {
  return isLateBound(value) ? undefined : (value as T | undefined);
}

/**
 * Every problem of a PxeInstallHost's arguments that can be known before anything is
 * created: the network and the machines, each machine's Stack, the install host's address,
 * the DHCP mode, the installer images (`fileExists` judges their paths; the local file
 * system by default), the RootCa's base DN, the Puppet server, the kernel arguments, host
 * records, authorized keys and, when given as plain values, the binhost's URL, client
 * configuration and stages. `name` is the component's name: the install host's host name.
 */
export function validatePxeInstallHostArgs(
  name: string,
  args: PxeInstallHostArgs,
  fileExists: (path: string) => boolean = existsSync,
): Violation[] {
  for (const list of ["machines", "stacks"] as const) {
    const value: unknown = args[list];
    if (value !== undefined && !Array.isArray(value)) {
      return [violation(list, value, "is not a list", `give ${list} as an array`)];
    }
  }
  const binhostUrl = installHostBinhostUrl(args);
  const removedUrl = (args.binhost as { url?: unknown } | undefined)?.url;
  const stackUrls = (args.stacks ?? []).flatMap((s, i) =>
    stackDisagreement(
      `stacks[${i}]`,
      s.definition.name,
      "binhostUrl",
      s.binhostUrl,
      { at: "stacks[0]", value: binhostUrl },
      "give every Stack the binhost's one URL",
    ),
  );
  return [
    ...(removedUrl === undefined
      ? []
      : [
          violation(
            "binhost.url",
            removedUrl,
            "is no longer an argument: machines install from their Stacks' binhostUrl",
            "remove binhost.url; give the binhost's URL to the Stacks (binhostUrl)",
          ),
        ]),
    ...stackUrls,
    ...validateInstallHostPlan({
      name,
      // The network's fields are this component's own arguments, but for the subnet (and the
      // gateway when not given) that come from the GuestNetwork.
      networkArgument: (field) =>
        field === "subnet" || (field === "gateway" && args.gateway === undefined)
          ? `network.${field}`
          : field,
      address: args.address,
      dhcpMode: args.dhcpMode ?? "full",
      efiBinary: args.efiBinary,
      ipxeDirectory: args.ipxeDirectory,
      network: installHostNetwork(args),
      machines: installHostMachines(args),
      stacks: (args.stacks ?? []).map((s) => ({
        name: s.definition.name,
        buildProfiles: Object.values(s.buildProfiles).map((p) => `${p.environment}/${p.arch}`),
      })),
      installers: args.installers ?? {},
      baseDn: args.rootCa?.baseDn,
      removedBaseDn: (args as { baseDn?: unknown }).baseDn,
      puppetServer: args.puppet?.server,
      kernelArguments: args.kernelArguments,
      hostRecords: args.hostRecords,
      authorizedKeys: args.authorizedKeys,
      clientConfig: plain(args.binhost?.clientConfig),
      stages: args.stages === undefined ? {} : plain(args.stages),
      binhostUrl: plain(binhostUrl),
      fileExists,
    }),
  ];
}
