/**
 * Where the install host keeps its files (PxeInstallHost): the layout of its directories, and
 * where a machine's files lie in it. Pure: no `@pulumi/pulumi`.
 */
import { macFileName } from "../network/mac";
import { matches, plainAbsolutePathViolations, USER_NAME } from "../validation/patterns";
import { type Violation, violation } from "../validation/violations";

/** Where the install host keeps its files. Every path is absolute. */
export interface InstallHostLayout {
  /** nginx document root (iPXE scripts, installer images, install configurations, secrets). */
  readonly wwwRoot: string;
  /** Rendered per-machine files the switch script copies into the web root. */
  readonly configDir: string;
  /**
   * State: the report inbox (written by nginx), each machine's last report (moved there by
   * the switch), the switch's lock and nginx's request body temp directory.
   */
  readonly stateDir: string;
  /** TFTP root (iPXE binaries only). */
  readonly tftpRoot: string;
  /** The netboot switch script. */
  readonly switchScript: string;
  /** The status command: every known machine, its netboot state and its last report. */
  readonly statusScript: string;
  /** nginx's TLS certificate (chain) and key. */
  readonly tlsCertificate: string;
  readonly tlsKey: string;
  /** nginx's error log directory and pid file. */
  readonly logDir: string;
  readonly pidFile: string;
  /** The user nginx's workers run as (Debian: www-data; Gentoo: nginx). */
  readonly nginxUser: string;
}

/** The layout on the install host (Debian stand-in image: nginx runs as www-data). */
export const DEFAULT_INSTALL_HOST_LAYOUT: InstallHostLayout = {
  wwwRoot: "/srv/pxe/www",
  configDir: "/etc/gentoo-infra/pxe",
  stateDir: "/var/lib/gentoo-infra/pxe",
  tftpRoot: "/srv/tftp",
  switchScript: "/usr/local/sbin/gi-pxe-netboot-switch",
  statusScript: "/usr/local/sbin/gi-pxe-status",
  tlsCertificate: "/etc/gentoo-infra/pxe/tls/server.pem",
  tlsKey: "/etc/gentoo-infra/pxe/tls/server.key",
  logDir: "/var/log/nginx",
  pidFile: "/run/nginx.pid",
  nginxUser: "www-data",
};

/**
 * The problems of a layout, each named `layout.<field>`: every path must be a plain absolute
 * path (`isPlainAbsolutePath`), since the layout reaches root shell commands, systemd units
 * and nginx.conf unquoted, and `nginxUser` a user name. Every renderer that takes a layout
 * runs it.
 */
export function installHostLayoutViolations(layout: unknown): Violation[] {
  if (typeof layout !== "object" || layout === null) {
    return [
      violation(
        "layout",
        layout,
        "is not an install host layout",
        'give every field of DEFAULT_INSTALL_HOST_LAYOUT, e.g. { ...DEFAULT_INSTALL_HOST_LAYOUT, wwwRoot: "/srv/www" }',
      ),
    ];
  }
  const given = layout as Record<string, unknown>;
  const out: Violation[] = [];
  for (const [field, example] of Object.entries(DEFAULT_INSTALL_HOST_LAYOUT)) {
    if (field === "nginxUser") continue;
    out.push(...plainAbsolutePathViolations(`layout.${field}`, given[field], example));
  }
  if (!matches(USER_NAME, given.nginxUser)) {
    out.push(
      violation("layout.nginxUser", given.nginxUser, "is not a user name", "use e.g. www-data"),
    );
  }
  return out;
}

/** Files of one machine's secrets directory: served over HTTPS, only to its own address. */
const MACHINE_SECRET_FILES = [
  "ca.pem",
  "host.pem",
  "host.key",
  "puppet.pem",
  "puppet.key",
  "puppet-ca.pem",
] as const;

/** Where a machine's rendered files live before the switch script serves them. */
export function machineConfigPath(layout: InstallHostLayout, mac: string, file: string): string {
  return `${layout.configDir}/machines/${macFileName(mac)}/${file}`;
}

/** The HTTPS path (relative to the web root) of one of a machine's secret files. */
export function machineSecretPath(
  mac: string,
  file: (typeof MACHINE_SECRET_FILES)[number],
): string {
  return `secrets/${macFileName(mac)}/${file}`;
}
