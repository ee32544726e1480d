/**
 * The netboot switch and what runs it (PxeInstallHost). A known MAC's served script
 * (`ipxe/<mac>.ipxe`) is a copy of either its install script or its local-boot script. The
 * installer PUTs a report (lib/pxe/install-report.ts) to `report/<mac>`; nginx writes it into
 * the inbox; the path unit sees the inbox not empty and runs the switch
 * (lib/pxe/netboot-switch.py), which applies `netbootAction`'s rule (lib/pxe/netboot.ts) to every machine in
 * the netboot table: local boot once a success of the machine's current generation (or a later
 * one) is recorded, install otherwise. Install configurations and secrets are in the web root
 * only while a machine is in the install state. Also: the status command (lib/pxe/pxe-status.sh),
 * the units, and the command run after every push. Pure: no `@pulumi/pulumi`.
 */
import {
  fillPlaceholders,
  fillShellPlaceholders,
  scriptSource,
  shellScriptSource,
} from "../host/script-file";
import { macFileName, macViolation } from "../network/mac";
import { isPlainRelativePath, plainAbsolutePathViolations } from "../validation/patterns";
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import {
  DEFAULT_INSTALL_HOST_LAYOUT,
  type InstallHostLayout,
  installHostLayoutViolations,
} from "./install-host-layout";
import { REPORT_INBOX, REPORT_MESSAGE_MAX, REPORT_STORE } from "./install-report";
import { hostnameViolation, installGenerationViolation, type Machine } from "./inventory";

/** Names of the netboot switch's systemd units. */
export const NETBOOT_UNITS = {
  path: "gi-pxe-netboot.path",
  service: "gi-pxe-netboot.service",
} as const;

/**
 * The shell command run as root after every push: put the iPXE binaries into the TFTP
 * root (and the x86-64 EFI one into the web root's `ipxe/` too, for UEFI HTTP boot clients),
 * (re)load the netboot units, run the switch, check both configurations, then
 * restart dnsmasq (a reload does not re-read dnsmasq.conf) and nginx (a reload cannot bind
 * the install host's address while the image's default site holds the wildcard port 80).
 * `ipxeFiles` are paths relative to `ipxeDirectory` and to the TFTP root. The paths stand in
 * the command unquoted: a file that is not a plain relative path, a directory or a layout path
 * that is not a plain absolute path throws a ValidationError naming it (`ipxeFiles[2]`,
 * `ipxeDirectory`, `layout.tftpRoot`).
 */
export function installHostAfterChange(
  ipxeFiles: readonly string[],
  ipxeDirectory: string,
  layout: InstallHostLayout = DEFAULT_INSTALL_HOST_LAYOUT,
): string {
  throwIfViolations("installHostAfterChange", [
    ...ipxeFilesViolations(ipxeFiles),
    ...plainAbsolutePathViolations("ipxeDirectory", ipxeDirectory, "/usr/lib/ipxe"),
    ...installHostLayoutViolations(layout),
  ]);
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

/** The problems of `ipxeFiles`: a list of plain relative paths (`arm64/snponly.efi`). */
function ipxeFilesViolations(ipxeFiles: unknown): Violation[] {
  if (!Array.isArray(ipxeFiles)) {
    return [
      violation(
        "ipxeFiles",
        ipxeFiles,
        "is not a list",
        'list paths relative to ipxeDirectory, e.g. ["undionly.kpxe", "arm64/snponly.efi"]',
      ),
    ];
  }
  return ipxeFiles.flatMap((file, i) =>
    isPlainRelativePath(file)
      ? []
      : [
          violation(
            `ipxeFiles[${i}]`,
            file,
            "is not a plain relative path",
            "use e.g. arm64/snponly.efi: letters, digits and . _ + - between slashes, no . or .. segment, no leading - or /",
          ),
        ],
  );
}

/**
 * The netboot table the switch and status scripts read: one line
 * `<mac-with-hyphens> <generation> <hostname>` per known machine, sorted by MAC. A MAC that is
 * not one, a host name that is not a DNS label or a generation that is not a positive whole
 * number throws a ValidationError naming it (`machines[1].hostname`): a blank or a line break
 * would make another field or row.
 */
export function renderNetbootTable(machines: readonly Machine[]): string {
  throwIfViolations("renderNetbootTable", netbootTableViolations(machines));
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

/** The problems of the machines of {@link renderNetbootTable}: the fields it writes. */
function netbootTableViolations(machines: unknown): Violation[] {
  if (!Array.isArray(machines)) {
    return [violation("machines", machines, "is not a list", "list the known machines")];
  }
  return machines.flatMap((m: Partial<Machine> | null, i): Violation[] => {
    const at = `machines[${i}]`;
    if (typeof m !== "object" || m === null) {
      return [violation(at, m, "is not a machine", "give { mac, hostname, … }")];
    }
    const out: Violation[] = [];
    const badMac = macViolation(`${at}.mac`, m.mac);
    if (badMac) out.push(badMac);
    const badHostname = hostnameViolation(`${at}.hostname`, m.hostname);
    if (badHostname) out.push(badHostname);
    const badGeneration = installGenerationViolation(
      `${at}.installGeneration`,
      m.installGeneration,
    );
    if (badGeneration) out.push(badGeneration);
    return out;
  });
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
  throwIfViolations("renderNetbootSwitchScript", installHostLayoutViolations(layout));
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

const STATUS_SOURCE = shellScriptSource(__dirname, "pxe-status.sh");

/**
 * The status command (POSIX sh, lib/pxe/pxe-status.sh, run as root on the install host:
 * `sudo gi-pxe-status`): one line per known machine with its MAC, host name, install
 * generation, what its netboot serves now (`install` or `local`) and its last report (status,
 * generation, time and the installer's message, e.g. the cause of a failure). `-H` leaves out
 * the header.
 */
export function renderStatusScript(
  layout: InstallHostLayout = DEFAULT_INSTALL_HOST_LAYOUT,
): string {
  throwIfViolations("renderStatusScript", installHostLayoutViolations(layout));
  return fillShellPlaceholders(STATUS_SOURCE, {
    CONFIG_DIR: layout.configDir,
    WWW_ROOT: layout.wwwRoot,
    REPORT_INBOX: `${layout.stateDir}/${REPORT_INBOX}`,
    REPORT_STORE: `${layout.stateDir}/${REPORT_STORE}`,
    REPORT_MESSAGE_MAX: String(REPORT_MESSAGE_MAX),
  });
}

/**
 * The systemd path and service units of the netboot switch. The layout's paths stand in them
 * as they are: a layout that {@link installHostLayoutViolations} refuses throws a
 * ValidationError naming the field (`layout.stateDir`).
 */
export function renderNetbootUnits(layout: InstallHostLayout = DEFAULT_INSTALL_HOST_LAYOUT): {
  readonly path: string;
  readonly service: string;
} {
  throwIfViolations("renderNetbootUnits", installHostLayoutViolations(layout));
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
