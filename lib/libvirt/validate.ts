import * as ipaddr from "ipaddr.js";
import { parseIpv4Subnet } from "../network/ipv4";
import { HTTP_URL, isPlainAbsolutePath, isWholeNumber, matches } from "../validation/patterns";
import { isResourceOfType } from "../validation/resource-type";
import { type Violation, violation } from "../validation/violations";
import type { Hypervisor, HypervisorArgs } from "./hypervisor";
import type { GuestNetworkArgs } from "./network";

/** The Pulumi type of the {@link Hypervisor} component. */
export const HYPERVISOR_TYPE = "gentoo-infra:libvirt:Hypervisor";

/** True when `value` is a {@link Hypervisor} component (recognised without loading Pulumi). */
export function isHypervisor(value: unknown): value is Hypervisor {
  return isResourceOfType(value, HYPERVISOR_TYPE);
}

/** Letters, digits and hyphens, starting with a letter: safe in libvirt and host names. */
const OBJECT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

const NAME_FIX = "use 1 to 40 lower-case letters, digits or hyphens, starting with a letter";

/**
 * The query parameters a Hypervisor's URI may carry (docs/libvirt.md, "A second hypervisor"):
 * what the libvirt provider's Go client or libvirt's own (virsh) reads, each with the shape of
 * its value. `no_verify` is refused on its own: the Go client stops checking the host key
 * whenever it is present, `no_verify=0` included.
 */
const URI_PARAMETERS: Readonly<Record<string, "path" | "methods">> = {
  /** Both clients: the SSH private key. */
  keyfile: "path",
  /** The Go client: the known-hosts file (default `~/.ssh/known_hosts`). */
  knownhosts: "path",
  /** virsh: the command it runs instead of `ssh`. */
  command: "path",
  /** The Go client: authentication methods in order, e.g. `agent,privkey`. */
  sshauth: "methods",
};

const URI_FIX = "use e.g. qemu:///system or qemu+ssh://root@host/system";

/**
 * The problems of a libvirt URI: `driver[+transport]://[user@][host[:port]]/system` (or
 * `/session`), with only the query parameters of {@link URI_PARAMETERS}, in any order.
 * Parsed with the WHATWG URL parser; no whitespace, password or fragment.
 */
export function libvirtUriViolations(uri: unknown): Violation[] {
  const refuse = (problem = "is not a libvirt URI", fix = URI_FIX) => [
    violation("uri", uri, problem, fix),
  ];
  if (typeof uri !== "string" || /[\s"'`$;\\]/.test(uri)) return refuse();
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return refuse();
  }
  if (
    !/^[a-z][a-z0-9]*(\+(ssh|tcp|tls|unix|libssh|libssh2|ext))?:$/.test(url.protocol) ||
    !/^\/[a-z]+$/.test(url.pathname) ||
    url.password !== "" ||
    url.hash !== "" ||
    !/^([a-z_][a-z0-9_.-]*)?$/.test(url.username)
  ) {
    return refuse();
  }
  const out: Violation[] = [];
  for (const [key, value] of url.searchParams) {
    const shape = URI_PARAMETERS[key];
    if (key === "no_verify") {
      out.push(
        ...refuse(
          "has no_verify, which turns off the libvirt provider's host-key check (even no_verify=0)",
          "remove it; give the hypervisor's host key in the knownhosts file",
        ),
      );
    } else if (shape === undefined) {
      out.push(
        ...refuse(
          `has the parameter "${key}", which gentoo-infra does not pass on`,
          `use only ${Object.keys(URI_PARAMETERS).join(", ")}`,
        ),
      );
    } else if (
      shape === "path" ? !isPlainAbsolutePath(value) : !/^[a-z-]+(,[a-z-]+)*$/.test(value)
    ) {
      out.push(
        ...refuse(
          `has a ${key} that is not ${shape === "path" ? "an absolute path of plain segments" : "a list of methods"}`,
          shape === "path" ? `give ${key}=/absolute/path` : "give e.g. sshauth=agent,privkey",
        ),
      );
    }
  }
  return out;
}

/** Checks a hypervisor's arguments; returns every violation. */
export function validateHypervisorArgs(args: HypervisorArgs): Violation[] {
  const out: Violation[] = [];
  if (args.uri !== undefined) out.push(...libvirtUriViolations(args.uri));
  if (args.domainType !== undefined && !["kvm", "qemu", "detect"].includes(args.domainType)) {
    out.push(
      violation("domainType", args.domainType, "is not a domain type", "use kvm, qemu or detect"),
    );
  }
  if (args.namePrefix !== undefined && !OBJECT_NAME_PATTERN.test(args.namePrefix)) {
    out.push(violation("namePrefix", args.namePrefix, "is not a valid name prefix", NAME_FIX));
  }
  if (args.pool && "path" in args.pool && !args.pool.path.startsWith("/")) {
    out.push(
      violation(
        "pool.path",
        args.pool.path,
        "is not an absolute path",
        "use an absolute directory path on the hypervisor",
      ),
    );
  }
  if (args.logDirectory !== undefined && !args.logDirectory.startsWith("/")) {
    out.push(
      violation(
        "logDirectory",
        args.logDirectory,
        "is not an absolute path",
        "use an absolute directory path on the hypervisor",
      ),
    );
  }
  return out;
}

/** The plain-data part of a VM's arguments that validation needs. */
export interface VirtualMachineShape {
  readonly diskGiB: number;
  readonly memoryMiB?: number;
  readonly vcpus?: number;
  readonly firmware?: string;
  readonly boot?: string;
  readonly networks: readonly {
    readonly mac?: string;
    readonly networkName?: string;
    readonly networkId?: unknown;
  }[];
  readonly image?: object;
  readonly userData?: unknown;
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** The problems of a VM's libvirt name (the domain's and its volumes' names derive from it). */
export function vmNameViolations(name: unknown): Violation[] {
  return typeof name === "string" && OBJECT_NAME_PATTERN.test(name)
    ? []
    : [violation("name", name, "is not a valid VM name", NAME_FIX)];
}

/** The problems of a VM's image: exactly one of `{ path }`, `{ url }`, `{ volumeId }`, well formed. */
export function imageSourceViolations(value: unknown): Violation[] {
  const out: Violation[] = [];
  const image = value as Record<string, unknown>;
  const kinds =
    typeof image === "object" && image !== null
      ? ["path", "url", "volumeId"].filter((k) => k in image)
      : [];
  if (kinds.length !== 1) {
    out.push(
      violation(
        "image",
        value,
        "must name exactly one source",
        "give one of { path }, { url } or { volumeId }",
      ),
    );
  } else if ("path" in image && !isPlainAbsolutePath(image.path)) {
    out.push(
      violation(
        "image.path",
        image.path,
        "is not an absolute path of plain segments",
        "use the image file's path on the hypervisor, e.g. /var/lib/libvirt/images/debian-12.qcow2: letters, digits and . _ + - between slashes",
      ),
    );
  } else if ("url" in image && !matches(HTTP_URL, image.url)) {
    out.push(
      violation(
        "image.url",
        image.url,
        "is not an http(s) URL",
        "use the image's URL, e.g. https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2",
      ),
    );
  }
  return out;
}

/** Checks a VM's arguments; returns every violation. */
export function validateVirtualMachineArgs(name: string, args: VirtualMachineShape): Violation[] {
  const out: Violation[] = [];
  out.push(...vmNameViolations(name));
  if (!Number.isInteger(args.diskGiB) || args.diskGiB < 1 || args.diskGiB > 4096) {
    out.push(
      violation(
        "diskGiB",
        args.diskGiB,
        "is not a whole number of GiB between 1 and 4096",
        "give the disk size in GiB, e.g. 20",
      ),
    );
  }
  if (args.memoryMiB !== undefined && !isWholeNumber(args.memoryMiB, 256, 1048576)) {
    out.push(
      violation(
        "memoryMiB",
        args.memoryMiB,
        "is not a whole number of MiB from 256 to 1048576",
        "give memory in MiB, e.g. 2048",
      ),
    );
  }
  if (
    args.vcpus !== undefined &&
    (!Number.isInteger(args.vcpus) || args.vcpus < 1 || args.vcpus > 256)
  ) {
    out.push(
      violation(
        "vcpus",
        args.vcpus,
        "is not a whole number between 1 and 256",
        "give the number of virtual CPUs, e.g. 2",
      ),
    );
  }
  if (args.firmware !== undefined && !["bios", "uefi"].includes(args.firmware)) {
    out.push(violation("firmware", args.firmware, "is not a firmware", "use bios or uefi"));
  }
  if (args.boot !== undefined && !["disk", "network"].includes(args.boot)) {
    out.push(violation("boot", args.boot, "is not a boot mode", "use disk or network"));
  }
  if (args.boot !== "network" && args.image === undefined) {
    out.push(
      violation(
        "image",
        undefined,
        "is missing, so the disk is blank and cannot boot",
        'give an image, or set boot: "network" for a machine that installs itself',
      ),
    );
  }
  if (args.image !== undefined) out.push(...imageSourceViolations(args.image));
  if (args.networks.length === 0) {
    out.push(
      violation("networks", args.networks, "is empty", "attach the VM to at least one network"),
    );
  }
  const macs = new Set<string>();
  args.networks.forEach((n, i) => {
    if ((n.networkName === undefined) === (n.networkId === undefined)) {
      out.push(
        violation(
          `networks[${i}]`,
          n,
          "must name exactly one network",
          "give networkName or networkId",
        ),
      );
    }
    if (n.mac !== undefined) {
      if (!MAC.test(n.mac)) {
        out.push(
          violation(
            `networks[${i}].mac`,
            n.mac,
            "is not a lower-case colon-separated MAC address",
            "use e.g. 52:54:00:12:34:56",
          ),
        );
      } else if (macs.has(n.mac)) {
        out.push(
          violation(
            `networks[${i}].mac`,
            n.mac,
            "is used by another interface of this VM",
            "give each interface its own MAC",
          ),
        );
      }
      macs.add(n.mac);
    }
  });
  return out;
}

/** Whether `value` is an IPv6 prefix of length 64 in CIDR form, on its network address. */
function isIpv6Slash64(value: unknown): boolean {
  if (typeof value !== "string" || !ipaddr.IPv6.isValidCIDR(value)) return false;
  const [address, length] = ipaddr.IPv6.parseCIDR(value);
  return (
    length === 64 && ipaddr.IPv6.networkAddressFromCIDR(value).toString() === address.toString()
  );
}

/** Checks a guest network's plain arguments; returns every violation. */
export function validateGuestNetworkArgs(
  args: Pick<GuestNetworkArgs, "subnet" | "mode" | "dhcp" | "ipv6Prefix">,
): Violation[] {
  return [
    ...(parseIpv4Subnet(args.subnet) === undefined
      ? [
          violation(
            "subnet",
            args.subnet,
            "is not an IPv4 subnet in CIDR form",
            "use e.g. 192.168.150.0/24",
          ),
        ]
      : []),
    ...(args.mode !== undefined && !["isolated", "nat", "route"].includes(args.mode)
      ? [violation("mode", args.mode, "is not a network mode", "use isolated, nat or route")]
      : []),
    ...(args.dhcp !== undefined && !["off", "libvirt"].includes(args.dhcp)
      ? [violation("dhcp", args.dhcp, "is not a DHCP choice", "use off or libvirt")]
      : []),
    ...(args.ipv6Prefix !== undefined && !isIpv6Slash64(args.ipv6Prefix)
      ? [
          violation(
            "ipv6Prefix",
            args.ipv6Prefix,
            "is not an IPv6 /64 prefix in CIDR form",
            "use e.g. fd00:67:69:150::/64 (a unique local prefix, its network address)",
          ),
        ]
      : []),
  ];
}
