/**
 * Where the install host keeps its files (PxeInstallHost): the layout of its directories, and
 * where a machine's files lie in it. Pure: no `@pulumi/pulumi`.
 */
import { macFileName } from "../network/mac";

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
