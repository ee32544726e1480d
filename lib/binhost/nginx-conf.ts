/**
 * nginx.conf for BinhostMirror: a read-only HTTPS file server for the binary package
 * repositories (`<env>/<arch>/<stack>/`), distfiles, stages, CRLs and the package-signing
 * public key.
 *
 * Plain HTTP: decision. Portage clients, the installer and catalyst all speak HTTPS with
 * our CA, and iPXE never talks to the binhost (it loads from the install host), so port 80
 * redirects to HTTPS (`http: "redirect"`) or is not served at all (`"off"`). The one
 * exception is `crl/`: CRLs are signed by their CA, and RFC 5280 relying parties fetch CRL
 * distribution points over plain HTTP (an HTTPS CRL would need itself to be checked), so
 * port 80 serves `crl/` directly in `redirect` mode. Packages, indexes, stages and keys are
 * never served over plain HTTP, so a client can never silently fetch an unsigned index
 * from a spoofed server.
 */
import { throwIfViolations, type Violation, violation } from "../validation";
import { BINHOST_DIRECTORIES, type BuildProfileRef, binhostRepositoryPath } from "./paths";

/** What port 80 does: serve `crl/` and redirect every other request to HTTPS, or nothing (no listener). */
export type BinhostHttpMode = "redirect" | "off";

/** Inputs of {@link renderBinhostNginxConf}. */
export interface BinhostNginxArgs {
  /** The binhost's DNS name, as in its certificate (`binhost.example.ch`). */
  readonly serverName: string;
  /** PEM certificate chain (leaf first) from RootCa's host sub-CA. */
  readonly certificatePath: string;
  /** PEM private key of that certificate. */
  readonly keyPath: string;
  /** The build profiles whose repositories are served; any other path is 404. */
  readonly buildProfiles: readonly BuildProfileRef[];
  /**
   * Document root; repositories live at `<rootDir>/<env>/<arch>/<stack>/`.
   * @default "/srv/binhost"
   */
  readonly rootDir?: string;
  /**
   * Port 80 behaviour: `redirect` serves `crl/` and redirects everything else to HTTPS;
   * `off` has no port-80 listener (CRLs only over HTTPS).
   * @default "redirect"
   */
  readonly http?: BinhostHttpMode;
  /**
   * Directory for access.log and error.log.
   * @default "/var/log/nginx"
   */
  readonly logDir?: string;
  /**
   * nginx's pid file.
   * @default "/run/nginx.pid"
   */
  readonly pidFile?: string;
  /**
   * Unprivileged user the worker processes run as.
   * @default "www-data" (Debian's nginx user)
   */
  readonly user?: string;
}

const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const PATH = /^\/[A-Za-z0-9._/-]*$/;
const SEGMENT = /^[a-z0-9][a-z0-9_.-]*$/;
const USER = /^[a-z_][a-z0-9_-]*$/;

/** Checks the arguments of {@link renderBinhostNginxConf}. */
export function validateBinhostNginxArgs(args: BinhostNginxArgs): Violation[] {
  const out: Violation[] = [];
  if (!DNS_NAME.test(args.serverName ?? "")) {
    out.push(
      violation(
        "serverName",
        args.serverName,
        "is not a DNS name",
        "use the name in the binhost's certificate",
      ),
    );
  }
  for (const field of ["certificatePath", "keyPath", "rootDir", "logDir", "pidFile"] as const) {
    const value = args[field];
    if (
      (field === "certificatePath" || field === "keyPath" || value !== undefined) &&
      !PATH.test(value ?? "")
    ) {
      out.push(
        violation(
          field,
          value,
          "is not an absolute path without spaces",
          "use e.g. /etc/ssl/binhost/cert.pem",
        ),
      );
    }
  }
  if (args.http !== undefined && args.http !== "redirect" && args.http !== "off") {
    out.push(violation("http", args.http, "is not a port-80 mode", "use redirect or off"));
  }
  if (args.user !== undefined && !USER.test(args.user)) {
    out.push(violation("user", args.user, "is not a user name", "use e.g. www-data"));
  }
  if (args.buildProfiles.length === 0) {
    out.push(
      violation(
        "buildProfiles",
        args.buildProfiles,
        "is empty",
        "serve at least one build profile",
      ),
    );
  }
  const seen = new Map<string, number>();
  args.buildProfiles.forEach((p, i) => {
    for (const field of ["environment", "arch", "stack"] as const) {
      if (!SEGMENT.test(p[field] ?? "")) {
        out.push(
          violation(
            `buildProfiles[${i}].${field}`,
            p[field],
            "is not a path segment",
            "use lower-case letters, digits, '.', '_' and '-'",
          ),
        );
      }
    }
    const path = binhostRepositoryPath(p);
    const first = seen.get(path);
    if (first !== undefined) {
      out.push(
        violation(
          `buildProfiles[${i}]`,
          path,
          `duplicates buildProfiles[${first}]`,
          "list each build profile once",
        ),
      );
    } else seen.set(path, i);
  });
  return out;
}

/** Renders the binhost's complete nginx.conf. Throws a ValidationError naming every problem. */
export function renderBinhostNginxConf(args: BinhostNginxArgs): string {
  throwIfViolations("binhost nginx.conf", validateBinhostNginxArgs(args));
  const logDir = args.logDir ?? "/var/log/nginx";
  const readOnly = ["        limit_except GET {", "            deny all;", "        }"];
  const location = (path: string, comment: string, extra: string[] = []): string[] => [
    `        # ${comment}`,
    `        location /${path} {`,
    "            autoindex on;",
    ...extra.map((l) => `            ${l}`),
    ...readOnly.map((l) => `    ${l}`),
    "        }",
  ];
  const repos = [...args.buildProfiles]
    .map(binhostRepositoryPath)
    .sort()
    .flatMap((path) =>
      location(
        path,
        `Binary package repository ${path.slice(0, -1)}; the index "Packages" has no extension.`,
        ["default_type text/plain;"],
      ),
    );
  const lines = [
    `# gentoo-infra BinhostMirror: nginx.conf for ${args.serverName}. Rendered file: edits are overwritten.`,
    `user ${args.user ?? "www-data"};`,
    "worker_processes auto;",
    `pid ${args.pidFile ?? "/run/nginx.pid"};`,
    `error_log ${logDir}/error.log warn;`,
    "",
    "events {",
    "    worker_connections 1024;",
    "}",
    "",
    "http {",
    "    # Only the types a binhost serves (gpkg packages are .gpkg.tar); the rest is octet-stream.",
    "    types {",
    "        text/plain txt DIGESTS CONTENTS;",
    "        application/x-tar tar;",
    "        application/gzip gz;",
    "        application/x-xz xz;",
    "        application/x-bzip2 bz2;",
    "        application/zstd zst;",
    "        application/pgp-keys asc;",
    "        application/pkix-crl crl;",
    "        application/x-pem-file pem;",
    "    }",
    "    default_type application/octet-stream;",
    "    sendfile on;",
    "    tcp_nopush on;",
    "    server_tokens off;",
    `    access_log ${logDir}/access.log;`,
    "    # Never follow a symbolic link out of the document root.",
    "    disable_symlinks on;",
    "",
  ];
  if ((args.http ?? "redirect") === "redirect") {
    lines.push(
      "    # Port 80 serves only the CRLs (signed by their CAs; RFC 5280 clients fetch them over",
      "    # plain HTTP) and redirects everything else to HTTPS.",
      "    server {",
      "        listen 80;",
      `        server_name ${args.serverName};`,
      `        root ${args.rootDir ?? "/srv/binhost"};`,
      "",
      ...location(BINHOST_DIRECTORIES.crl, "Certificate revocation lists."),
      "        location / {",
      `            return 301 https://${args.serverName}$request_uri;`,
      "        }",
      "    }",
      "",
    );
  }
  lines.push(
    "    server {",
    "        listen 443 ssl;",
    `        server_name ${args.serverName};`,
    `        root ${args.rootDir ?? "/srv/binhost"};`,
    `        ssl_certificate ${args.certificatePath};`,
    `        ssl_certificate_key ${args.keyPath};`,
    "        ssl_protocols TLSv1.2 TLSv1.3;",
    "        ssl_session_cache shared:binhost:10m;",
    "        ssl_session_tickets off;",
    "",
    ...repos,
    ...location(BINHOST_DIRECTORIES.distfiles, "Source archives."),
    ...location(BINHOST_DIRECTORIES.stages, "Stage tarballs with .DIGESTS and .CONTENTS."),
    ...location(BINHOST_DIRECTORIES.crl, "Certificate revocation lists."),
    ...location(BINHOST_DIRECTORIES.keys, "The package-signing public key."),
    "        # Hidden files (.keep, editor leftovers) are never served.",
    "        location ~ /\\. {",
    "            return 404;",
    "        }",
    "        # Anything else, including the root, is not part of the binhost.",
    "        location / {",
    "            return 404;",
    "        }",
    "    }",
    "}",
    "",
  );
  return lines.join("\n");
}
