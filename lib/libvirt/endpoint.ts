/**
 * Where a libvirt URI's daemon answers, as far as a connection can be tried without libvirt:
 * the local daemon's UNIX socket, or the TCP port of a remote transport (ssh, tcp, tls). Pure.
 */

/** The endpoint of a libvirt URI. */
export type LibvirtEndpoint =
  | { readonly kind: "unix"; readonly path: string }
  | {
      readonly kind: "tcp";
      readonly transport: "ssh" | "tcp" | "tls";
      readonly host: string;
      readonly port: number;
    };

/** The system daemon's socket, where go-libvirt (the libvirt provider's client) dials it. */
export const SYSTEM_SOCKET = "/var/run/libvirt/libvirt-sock";

const DEFAULT_PORTS = { ssh: 22, tcp: 16509, tls: 16514 } as const;

/**
 * The endpoint of `uri` (`qemu:///system`, `qemu+ssh://root@kvm2:2222/system`, …), or
 * undefined when it cannot be told (a session daemon, another transport).
 */
export function libvirtEndpoint(uri: string): LibvirtEndpoint | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  const transport = url.protocol.replace(/:$/, "").split("+")[1];
  if (transport === undefined || transport === "unix") {
    if (url.hostname !== "" || url.pathname !== "/system") return undefined;
    // The Hypervisor's URI check admits no `socket` parameter: the socket is the system one.
    return { kind: "unix", path: SYSTEM_SOCKET };
  }
  if (transport !== "ssh" && transport !== "tcp" && transport !== "tls") return undefined;
  if (url.hostname === "") return undefined;
  const port = url.port === "" ? DEFAULT_PORTS[transport] : Number(url.port);
  return { kind: "tcp", transport, host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

/** How an endpoint reads in an error: `/var/run/libvirt/libvirt-sock`, `kvm2:22 (ssh)`. */
export function describeEndpoint(endpoint: LibvirtEndpoint): string {
  return endpoint.kind === "unix"
    ? endpoint.path
    : `${endpoint.host}:${endpoint.port} (${endpoint.transport})`;
}
