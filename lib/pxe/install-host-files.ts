/**
 * What the install host runs besides dnsmasq: its nginx.conf (HTTP for iPXE and the
 * installer, HTTPS for per-machine certificates and keys, WebDAV PUT for install reports),
 * the netboot table, the netboot switch script and the systemd path and service units that
 * run it when an installer reports. Pure: no `@pulumi/pulumi`.
 *
 * The netboot switch: a known MAC's served script (`ipxe/<mac>.ipxe`) is a copy of either
 * its install script or its local-boot script. The installer PUTs a report
 * (`status=success`, `generation=<n>`) to `report/<mac>`; nginx writes it into the report
 * directory; the path unit sees the directory change and runs the switch script, which
 * applies {@link netbootAction}'s rule to every machine in the netboot table: local boot
 * once a success of the machine's current generation (or a later one) is recorded,
 * install otherwise. Install configurations and secrets are in the web root only while a
 * machine is in the install state.
 */

import { fillPlaceholders, scriptSource } from "../host/script-file";
import { isIpv4Address, parseIpv4Subnet } from "../network/ipv4";
import { macFileName, macViolation } from "../network/mac";
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import type { Machine, PxeNetwork } from "./inventory";
import type { InstallRecord } from "./netboot";

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
 * The shell command run as root after every push: put the iPXE binaries into the TFTP
 * root (and the x86-64 EFI one into the web root's `ipxe/` too, for UEFI HTTP boot clients),
 * (re)load the netboot units, run the switch, check both configurations, then
 * restart dnsmasq (a reload does not re-read dnsmasq.conf) and nginx (a reload cannot bind
 * the install host's address while the image's default site holds the wildcard port 80).
 * `ipxeFiles` are paths relative to `ipxeDirectory` and to the TFTP root.
 */
export function installHostAfterChange(
  ipxeFiles: readonly string[],
  ipxeDirectory: string,
  layout: InstallHostLayout = DEFAULT_INSTALL_HOST_LAYOUT,
): string {
  return [
    `install -d -m 0755 ${layout.tftpRoot}`,
    ...ipxeFiles.map((f) => `install -D -m 0644 ${ipxeDirectory}/${f} ${layout.tftpRoot}/${f}`),
    ...ipxeFiles
      .filter((f) => f.endsWith(".efi") && !f.includes("/")) // x86-64 only, see dnsmasq-conf
      .map((f) => `install -D -m 0644 ${ipxeDirectory}/${f} ${layout.wwwRoot}/ipxe/${f}`),
    "systemctl daemon-reload",
    // Restart, not `enable --now` (which leaves a running unit alone): the path unit starts
    // over with the [Path] just pushed and checks it at once.
    `systemctl enable ${NETBOOT_UNITS.path}`,
    `systemctl restart ${NETBOOT_UNITS.path}`,
    layout.switchScript,
    "dnsmasq --test",
    "nginx -t -q",
    "systemctl enable dnsmasq nginx",
    "systemctl restart dnsmasq",
    // A restart, not a reload: nginx listens on the install host's address only, and a reload
    // cannot bind it while the image's default configuration holds the wildcard port 80.
    "systemctl restart nginx",
  ].join(" && ");
}

/** Names of the netboot switch's systemd units. */
export const NETBOOT_UNITS = {
  path: "gi-pxe-netboot.path",
  service: "gi-pxe-netboot.service",
} as const;

/**
 * Under the state directory: nginx stores the PUT of `/report/<mac>` as `report/<mac>`
 * (the inbox: the report URL's directory, `pxeHttpPaths.report`, is this name), and the
 * netboot switch moves each report from there into `last-report/<mac>`, which the switch
 * and the status command read.
 */
export const REPORT_INBOX = "report";
export const REPORT_STORE = "last-report";

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

/**
 * The netboot table the switch and status scripts read: one line
 * `<mac-with-hyphens> <generation> <hostname>` per known machine, sorted by MAC.
 */
export function renderNetbootTable(machines: readonly Machine[]): string {
  const rows = machines
    .map((m) => `${macFileName(m.mac)} ${m.installGeneration ?? 1} ${m.hostname}`)
    .sort();
  return [
    "# gentoo-infra: known MACs, their install generation and host name; read by the netboot",
    "# switch and the status command.",
    "# Rendered file: edits are overwritten.",
    ...rows,
    "",
  ].join("\n");
}

/** The first value of each `key=value` line of a report. */
function reportFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf("=");
    if (at > 0 && !fields.has(line.slice(0, at))) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

/**
 * Reads an install report as the installer PUTs it: `key=value` lines, of which the switch
 * uses `status` (`success` or anything else) and `generation` (a positive whole number).
 * Returns the record of a successful install, or undefined (a failure, or unreadable).
 */
export function parseInstallReport(mac: string, text: string): InstallRecord | undefined {
  const fields = reportFields(text);
  const generation = fields.get("generation") ?? "";
  if (fields.get("status") !== "success" || !/^[1-9][0-9]{0,8}$/.test(generation)) return undefined;
  return { mac, generation: Number(generation) };
}

/** The longest report message the installer sends (nginx takes at most 4 KiB per report). */
export const REPORT_MESSAGE_MAX = 400;

/**
 * A report message as the installer sends it and the status command shows it: one line of
 * printable ASCII (anything else becomes a space), at most {@link REPORT_MESSAGE_MAX}
 * characters. The installer does the same with `tr` and `cut`.
 */
export function reportMessage(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, " ").slice(0, REPORT_MESSAGE_MAX);
}

/**
 * The report body for a finished install (what the installer PUTs): status, generation
 * and a one-line message (the cause of a failure; what was installed on success).
 */
export function renderInstallReport(
  status: "success" | "failed",
  generation: number,
  message?: string,
): string {
  const line = message === undefined ? "" : `message=${reportMessage(message)}\n`;
  return `status=${status}\ngeneration=${generation}\n${line}`;
}

const NETBOOT_SWITCH_SOURCE = scriptSource(__dirname, "netboot-switch.py");

/**
 * The netboot switch (Python 3, lib/pxe/netboot-switch.py, run as root by the service unit and
 * after every push): serves each MAC in the netboot table its install or local-boot script,
 * puts its install configuration and secrets into the web root while it installs and removes
 * them once it is installed, and removes what belongs to MACs no longer in the table. One
 * process for the whole table: it runs for every install report too.
 */
export function renderNetbootSwitchScript(
  layout: InstallHostLayout = DEFAULT_INSTALL_HOST_LAYOUT,
): string {
  return fillPlaceholders(NETBOOT_SWITCH_SOURCE, {
    SERVICE: NETBOOT_UNITS.service,
    CONFIG_DIR: layout.configDir,
    WWW_ROOT: layout.wwwRoot,
    STATE_DIR: layout.stateDir,
    REPORT_INBOX,
    REPORT_STORE,
    NGINX_USER: layout.nginxUser,
  });
}

/**
 * The status command (POSIX sh, run as root on the install host: `sudo gi-pxe-status`):
 * one line per known machine with its MAC, host name, install generation, what its
 * netboot serves now (`install` or `local`) and its last report (status, generation, time
 * and the installer's message, e.g. the cause of a failure). `-H` leaves out the header.
 */
export function renderStatusScript(
  layout: InstallHostLayout = DEFAULT_INSTALL_HOST_LAYOUT,
): string {
  return `#!/bin/sh
# gentoo-infra: install status of the install host's machines. Rendered file: edits are
# overwritten. Usage: gi-pxe-status [-H]   (-H: no header)
set -eu
conf=${layout.configDir}
www=${layout.wwwRoot}
inbox=${layout.stateDir}/${REPORT_INBOX}
reports=${layout.stateDir}/${REPORT_STORE}

row() { printf '%-17s  %-20s  %-10s  %-7s  %s\\n' "$@"; }
[ "\${1:-}" = -H ] || row MAC HOST GENERATION NETBOOT "LAST REPORT"
while read -r mac generation hostname; do
  case "$mac" in '' | '#'*) continue ;; esac
  if cmp -s "$www/ipxe/$mac.ipxe" "$conf/machines/$mac/local.ipxe"; then netboot=local; else netboot=install; fi
  # A report the switch has not taken yet is the newest.
  file="$inbox/$mac"
  [ -f "$file" ] || file="$reports/$mac"
  if [ -f "$file" ]; then
    status=$(sed -n 's/^status=//p' "$file" | head -n 1 | cut -c1-20 | tr -c '[:alnum:]\\n' '?')
    reported=$(sed -n 's/^generation=\\([0-9]\\{1,9\\}\\)$/\\1/p' "$file" | head -n 1)
    message=$(sed -n 's/^message=//p' "$file" | head -n 1 | cut -c1-${REPORT_MESSAGE_MAX} | tr -c ' -~\\n' ' ')
    when=$(date -u -r "$file" +%Y-%m-%dT%H:%M:%SZ)
    last="\${status:-unreadable} (generation \${reported:-?}, $when)\${message:+: $message}"
  else
    last="none"
  fi
  row "$mac" "\${hostname:-?}" "$generation" "$netboot" "$last"
done < "$conf/netboot.tsv"
`;
}

/** The systemd path and service units of the netboot switch. */
export function renderNetbootUnits(layout: InstallHostLayout = DEFAULT_INSTALL_HOST_LAYOUT): {
  readonly path: string;
  readonly service: string;
} {
  return {
    path: [
      "# gentoo-infra: run the netboot switch while installers' reports wait in the inbox.",
      "# Level-triggered: systemd checks again when the switch ends. Rendered file.",
      "[Unit]",
      "Description=gentoo-infra install reports",
      "",
      "[Path]",
      `DirectoryNotEmpty=${layout.stateDir}/${REPORT_INBOX}`,
      `Unit=${NETBOOT_UNITS.service}`,
      "",
      "[Install]",
      "WantedBy=paths.target",
      "",
    ].join("\n"),
    service: [
      "# gentoo-infra: serve each known MAC its install or local-boot script. Rendered file.",
      "[Unit]",
      "Description=gentoo-infra netboot switch",
      "",
      "[Service]",
      "Type=oneshot",
      `ExecStart=${layout.switchScript}`,
      "",
    ].join("\n"),
  };
}

/** Inputs of {@link renderInstallHostNginxConf}. */
export interface InstallHostNginxArgs {
  /** The install host's own address (nginx listens there only). */
  readonly address: string;
  /** The install subnet; iPXE, installer and configuration paths answer only it. */
  readonly network: Pick<PxeNetwork, "subnet">;
  /** Known machines: each may PUT its report and GET its secrets from its own address only. */
  readonly machines: readonly Pick<Machine, "mac" | "address">[];
  /**
   * Paths on the host.
   * @default DEFAULT_INSTALL_HOST_LAYOUT
   */
  readonly layout?: InstallHostLayout;
}

/** Checks the arguments of {@link renderInstallHostNginxConf}. */
export function validateInstallHostNginxArgs(args: InstallHostNginxArgs): Violation[] {
  const out: Violation[] = [];
  if (!isIpv4Address(args.address)) {
    out.push(violation("address", args.address, "is not an IPv4 address", "use e.g. 10.0.0.2"));
  }
  if (!parseIpv4Subnet(args.network?.subnet)) {
    out.push(
      violation(
        "network.subnet",
        args.network?.subnet,
        "is not an IPv4 subnet",
        "use e.g. 10.0.0.0/24",
      ),
    );
  }
  args.machines.forEach((m, i) => {
    const badMac = macViolation(`machines[${i}].mac`, m.mac);
    if (badMac) out.push(badMac);
    if (!isIpv4Address(m.address)) {
      out.push(
        violation(
          `machines[${i}].address`,
          m.address,
          "is not an IPv4 address",
          "use e.g. 10.0.0.21",
        ),
      );
    }
  });
  const layout = args.layout ?? DEFAULT_INSTALL_HOST_LAYOUT;
  for (const [key, value] of Object.entries(layout)) {
    if (key === "nginxUser") continue;
    if (!/^\/[A-Za-z0-9._/-]*$/.test(value)) {
      out.push(
        violation(`layout.${key}`, value, "is not an absolute path", "use e.g. /srv/pxe/www"),
      );
    }
  }
  if (!/^[a-z_][a-z0-9_-]*$/.test(layout.nginxUser)) {
    out.push(
      violation("layout.nginxUser", layout.nginxUser, "is not a user name", "use e.g. www-data"),
    );
  }
  return out;
}

/**
 * The install host's complete nginx.conf. Port 80 serves `ipxe/`, `installer/` and
 * `install/` to the install subnet (GET and HEAD only) and takes each known machine's
 * report by WebDAV PUT from that machine's address only; port 443 (TLS, certificate from
 * the host sub-CA) serves each machine's `secrets/<mac>/` to its own address only.
 * Everything else is 404. Throws a ValidationError naming every problem.
 */
export function renderInstallHostNginxConf(args: InstallHostNginxArgs): string {
  throwIfViolations("install host nginx.conf", validateInstallHostNginxArgs(args));
  const layout = args.layout ?? DEFAULT_INSTALL_HOST_LAYOUT;
  const subnet = args.network.subnet;
  const sorted = [...args.machines].sort((a, b) =>
    macFileName(a.mac).localeCompare(macFileName(b.mac)),
  );
  const readOnly = (path: string) => [
    `    location /${path}/ {`,
    `      allow ${subnet};`,
    "      deny all;",
    "      limit_except GET { deny all; }",
    "    }",
  ];
  const lines = [
    "# gentoo-infra install host: HTTP for iPXE and the installer, HTTPS for machine secrets.",
    "# Rendered file: edits are overwritten.",
    `user ${layout.nginxUser};`,
    "worker_processes 1;",
    `pid ${layout.pidFile};`,
    `error_log ${layout.logDir}/error.log warn;`,
    "",
    "events {",
    "  worker_connections 256;",
    "}",
    "",
    "http {",
    "  types {",
    "    text/plain ipxe;",
    "    application/json json;",
    "    application/x-pem-file pem;",
    "    application/octet-stream key img;",
    "  }",
    "  default_type application/octet-stream;",
    `  access_log ${layout.logDir}/access.log;`,
    "  server_tokens off;",
    "  disable_symlinks on;",
    "  sendfile on;",
    "  autoindex off;",
    // WebDAV PUT renames the body's temp file into place: it must be on the reports' filesystem.
    `  client_body_temp_path ${layout.stateDir}/tmp;`,
    "",
    "  server {",
    `    listen ${args.address}:80;`,
    `    root ${layout.wwwRoot};`,
    "    location / {",
    "      return 404;",
    "    }",
    ...readOnly("ipxe"),
    ...readOnly("installer"),
    ...readOnly("install"),
  ];
  for (const m of sorted) {
    lines.push(
      `    location = /${REPORT_INBOX}/${macFileName(m.mac)} {`,
      `      allow ${m.address};`,
      "      deny all;",
      `      root ${layout.stateDir};`,
      "      dav_methods PUT;",
      "      dav_access user:rw group:r;",
      "      client_max_body_size 4k;",
      "      limit_except PUT { deny all; }",
      "    }",
    );
  }
  lines.push(
    "  }",
    "",
    "  server {",
    `    listen ${args.address}:443 ssl;`,
    `    ssl_certificate ${layout.tlsCertificate};`,
    `    ssl_certificate_key ${layout.tlsKey};`,
    "    ssl_protocols TLSv1.2 TLSv1.3;",
    `    root ${layout.wwwRoot};`,
    "    location / {",
    "      return 404;",
    "    }",
  );
  for (const m of sorted) {
    lines.push(
      `    location /secrets/${macFileName(m.mac)}/ {`,
      `      allow ${m.address};`,
      "      deny all;",
      "      limit_except GET { deny all; }",
      "    }",
    );
  }
  lines.push("  }", "}", "");
  return lines.join("\n");
}
