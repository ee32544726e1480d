/**
 * The install host's nginx.conf: HTTP for iPXE and the installer, HTTPS for per-machine
 * certificates and keys, WebDAV PUT for install reports. Pure: no `@pulumi/pulumi`.
 */
import { isIpv4Address, parseIpv4Subnet } from "../network/ipv4";
import { macFileName, macViolation } from "../network/mac";
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import {
  DEFAULT_INSTALL_HOST_LAYOUT,
  type InstallHostLayout,
  installHostLayoutViolations,
} from "./install-host-layout";
import { REPORT_INBOX } from "./install-report";
import type { Machine, PxeNetwork } from "./inventory";

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
  out.push(...installHostLayoutViolations(args.layout ?? DEFAULT_INSTALL_HOST_LAYOUT));
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
