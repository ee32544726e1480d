/**
 * Validation of {@link BinhostMirrorArgs}: every problem, before anything is created.
 */
import { validateServerArgs } from "../host/validate";
import { validateVirtualMachineArgs } from "../libvirt/validate";
import { validateCertificateArgs } from "../pki/certificate-validate";
import { formatDn, parseDn } from "../pki/dn";
import type { RootCa } from "../pki/root-ca";
import type { Stack } from "../stack/stack";
import { DNS_NAME } from "../validation/patterns";
import { type Violation, violation } from "../validation/violations";
import { type BinhostMirrorArgs, DEFAULT_BINHOST_DISK_GIB } from "./binhost-mirror-args";
import { validateGitRepositories } from "./git";
import type { BuildProfileRef } from "./paths";

/** One served build profile with the Stack that owns it. */
export interface ServedProfile extends BuildProfileRef {
  readonly key: string;
  readonly stackIndex: number;
  readonly profileKey: string;
}

/** The build profiles of `stacks`, in order, with the Stack that owns each. */
export function servedProfiles(stacks: readonly Stack[]): ServedProfile[] {
  return stacks.flatMap((stack, stackIndex) =>
    Object.entries(isStack(stack) ? stack.buildProfiles : {}).map(([profileKey, p]) => ({
      environment: p.environment,
      arch: p.arch,
      stack: stack.definition.name,
      key: `${p.environment}/${p.arch}/${stack.definition.name}`,
      stackIndex,
      profileKey,
    })),
  );
}

/** Whether `value` has the shape of a {@link Stack} (its definition and build profiles). */
function isStack(value: unknown): value is Stack {
  const v = value as Partial<Stack> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.definition === "object" &&
    v.definition !== null &&
    typeof v.buildProfiles === "object" &&
    v.buildProfiles !== null
  );
}

/**
 * Every problem of a BinhostMirror's arguments, before anything is created: its name (the
 * server's libvirt and host name), VM size and image, hostname (a fully qualified name for
 * nginx and the certificate), address, port-80 mode, the Stacks (none, no build profile,
 * duplicate build profiles, a base Stack not served), the RootCa's CRL location, the
 * certificate's validity, and the git repositories (names, branches, commits, and whether
 * each clone has each commit).
 */
export function validateBinhostMirrorArgs(name: string, args: BinhostMirrorArgs): Violation[] {
  const out: Violation[] = [];
  out.push(
    ...validateVirtualMachineArgs(name, {
      diskGiB: args.diskGiB ?? DEFAULT_BINHOST_DISK_GIB,
      ...(args.memoryMiB === undefined ? {} : { memoryMiB: args.memoryMiB }),
      ...(args.vcpus === undefined ? {} : { vcpus: args.vcpus }),
      networks: [{ networkId: "network", mac: "52:54:00:00:00:00" }],
      image: args.image,
    }),
  );

  const hostname = args.hostname;
  const hostnameOk = typeof hostname === "string" && DNS_NAME.test(hostname);
  if (!hostnameOk || !hostname.includes(".")) {
    out.push(
      violation(
        "hostname",
        hostname,
        hostnameOk ? "is not a fully qualified DNS name" : "is not a DNS name",
        "use the lower-case fully qualified name clients use, e.g. binhost.example.ch",
      ),
    );
  }
  const addressProblems = validateServerArgs({ address: args.address }, args.network.subnet);
  out.push(...addressProblems);
  if (args.address === args.network.gateway) {
    out.push(
      violation(
        "address",
        args.address,
        "is the hypervisor's address on the network",
        "pick another address inside the subnet",
      ),
    );
  }
  if (args.http !== undefined && args.http !== "redirect" && args.http !== "off") {
    out.push(violation("http", args.http, "is not a port-80 mode", "use redirect or off"));
  }

  const stacks = Array.isArray(args.stacks) ? args.stacks : [];
  const profiles = servedProfiles(stacks);
  stacks.forEach((stack: unknown, i) => {
    if (!isStack(stack)) {
      out.push(violation(`stacks[${i}]`, stack, "is not a Stack", "list Stack components"));
    }
  });
  if (stacks.length === 0) {
    out.push(
      violation(
        "stacks",
        args.stacks,
        "names no Stack",
        "list the Stacks whose packages it serves",
      ),
    );
  } else if (profiles.length === 0 && stacks.every(isStack)) {
    out.push(
      violation(
        "stacks",
        stacks.map((s) => s.definition.name),
        "has no build profile",
        "give the Stacks environments and arches",
      ),
    );
  }
  const firstOwner = new Map<string, number>();
  for (const p of profiles) {
    const first = firstOwner.get(p.key);
    if (first === undefined) firstOwner.set(p.key, p.stackIndex);
    else if (first !== p.stackIndex) {
      out.push(
        violation(
          `stacks[${p.stackIndex}]`,
          p.stack,
          `duplicates build profile ${p.key} of stacks[${first}]`,
          "list each Stack once, and give different Stacks different stackNames",
        ),
      );
    }
  }
  for (const p of profiles) {
    const chain: readonly string[] = stacks[p.stackIndex]?.resolved?.stackChain ?? [];
    for (const base of chain.filter((s) => s !== p.stack)) {
      const key = `${p.environment}/${p.arch}/${base}`;
      if (!firstOwner.has(key)) {
        out.push(
          violation(
            `stacks[${p.stackIndex}]`,
            p.stack,
            `extends Stack "${base}", whose build profile ${key} is not served`,
            `add the "${base}" Stack with environment ${p.environment} and arch ${p.arch} to stacks`,
          ),
        );
      }
    }
  }

  const crlUrl = args.rootCa.subCas.host.issuer.crlUrl;
  if (hostnameOk && typeof crlUrl === "string") {
    const served = [`http://${hostname}/crl/`, `https://${hostname}/crl/`];
    if (!served.some((prefix) => crlUrl.startsWith(prefix))) {
      out.push(
        violation(
          "rootCa",
          crlUrl,
          "names CRL URLs this binhost does not serve",
          `create the RootCa with crlBaseUrl "http://${hostname}/crl"`,
        ),
      );
    }
  }

  // The certificate's own rules: only its validity can still be wrong here (the names and
  // the address were checked above, with fixes in this component's words).
  out.push(
    ...validateCertificateArgs({
      kind: "host",
      commonName: "binhost.example.org",
      baseDn: baseDnOf(args.rootCa),
      issuer: args.rootCa.subCas.host.issuer,
      ...(args.certificateValidityDays === undefined
        ? {}
        : { validityDays: args.certificateValidityDays }),
    }).map((v) =>
      v.argument === "validityDays" ? { ...v, argument: "certificateValidityDays" } : v,
    ),
  );
  out.push(...validateGitRepositories(args.gitRepositories));
  return out;
}

/** The RootCa's base DN: the host sub-CA's subject (`CN=…,<base>`) without its CN. */
export function baseDnOf(rootCa: RootCa): string {
  const parsed = parseDn(rootCa.subCas.host.subjectDn);
  return parsed.ok ? formatDn(parsed.rdns.filter((r) => r.type !== "CN")) : "";
}
