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
 *
 * Git: `git/<name>.git/` of each listed repository goes to git-http-backend through fcgiwrap
 * (read-only smart HTTP, and dumb HTTP for old clients); pushes are refused with 403 here
 * and by git-http-backend's configuration. Any other name under `git/` is 404.
 */

import { DNS_NAME, USER_NAME } from "../validation/patterns";
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import {
  BINHOST_GIT_ROOT,
  FCGIWRAP_SOCKET,
  GIT_HTTP_BACKEND,
  GIT_HTTP_BACKEND_CONFIG,
} from "./git";
import {
  BINHOST_DIRECTORIES,
  type BuildProfileRef,
  binhostRepositoryPath,
  validateBuildProfileRef,
} from "./paths";

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
   * Git repositories served read-only over HTTPS at `git/<name>.git/` (smart HTTP through
   * git-http-backend); any other name under `git/` is 404.
   * @default none
   */
  readonly gitRepositories?: readonly string[];
  /**
   * Where the bare repositories live (`<gitRoot>/<name>.git`), git-http-backend's
   * GIT_PROJECT_ROOT.
   * @default "/srv/git"
   */
  readonly gitRoot?: string;
  /**
   * git-http-backend's system configuration file (GIT_CONFIG_SYSTEM).
   * @default "/etc/gentoo-infra/git-http-backend.gitconfig"
   */
  readonly gitConfigPath?: string;
  /**
   * The git-http-backend program.
   * @default "/usr/lib/git-core/git-http-backend" (Debian)
   */
  readonly gitHttpBackend?: string;
  /**
   * fcgiwrap's socket.
   * @default "/run/fcgiwrap.socket" (Debian's fcgiwrap.socket)
   */
  readonly fcgiwrapSocket?: string;
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

const PATH = /^\/[A-Za-z0-9._/-]*$/;
const GIT_NAME = /^[a-z0-9][a-z0-9._-]*$/;

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
  const paths = [
    "certificatePath",
    "keyPath",
    "rootDir",
    "logDir",
    "pidFile",
    "gitRoot",
    "gitConfigPath",
    "gitHttpBackend",
    "fcgiwrapSocket",
  ] as const;
  for (const field of paths) {
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
  if (args.user !== undefined && !USER_NAME.test(args.user)) {
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
    out.push(...validateBuildProfileRef(p, `buildProfiles[${i}]`));
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
  const names = new Map<string, number>();
  (args.gitRepositories ?? []).forEach((name, i) => {
    if (!GIT_NAME.test(name ?? "") || name.endsWith(".git")) {
      out.push(
        violation(
          `gitRepositories[${i}]`,
          name,
          "is not a repository name",
          "use lower-case letters, digits, '.', '_' and '-', without .git",
        ),
      );
    } else if (names.has(name)) {
      out.push(
        violation(
          `gitRepositories[${i}]`,
          name,
          `duplicates gitRepositories[${names.get(name)}]`,
          "list each repository once",
        ),
      );
    } else names.set(name, i);
  });
  return out;
}

/** Where git-http-backend and its inputs are, for {@link binhostGitLocations}. */
export interface BinhostGitBackend {
  /** @default "/srv/git" */
  readonly root?: string;
  /** @default "/etc/gentoo-infra/git-http-backend.gitconfig" */
  readonly configPath?: string;
  /** @default "/usr/lib/git-core/git-http-backend" */
  readonly backend?: string;
  /** @default "/run/fcgiwrap.socket" */
  readonly socket?: string;
}

/**
 * The HTTPS server's locations for the git repositories `names` (none: no lines): pushes
 * (`git-receive-pack`, and its `info/refs?service=` probe) answer 403; everything else
 * below `/git/<name>.git/` goes to git-http-backend with PATH_INFO `/<name>.git/…`, GET and
 * POST only (smart HTTP fetches POST to git-upload-pack). Indented for the server block.
 */
export function binhostGitLocations(
  names: readonly string[],
  backend: BinhostGitBackend = {},
): string[] {
  if (names.length === 0) return [];
  const alternatives = [...names]
    .sort()
    .map((n) => n.replace(/\./g, "\\."))
    .join("|");
  const repo = `/(?:${alternatives})\\.git`;
  return [
    `        # Git repositories ${[...names].sort().join(", ")}: read-only smart HTTP (git-http-backend`,
    "        # through fcgiwrap). Pushes are refused here and by git-http-backend.",
    `        location ~ ^/git${repo}/git-receive-pack$ {`,
    "            return 403;",
    "        }",
    `        location ~ ^/git(?<git_path>${repo}/.*)$ {`,
    "            if ($arg_service = git-receive-pack) {",
    "                return 403;",
    "            }",
    "            limit_except GET POST {",
    "                deny all;",
    "            }",
    "            # Fetch negotiation of a large repository posts more than the default 1 MiB.",
    "            client_max_body_size 0;",
    `            fastcgi_pass unix:${backend.socket ?? FCGIWRAP_SOCKET};`,
    `            fastcgi_param SCRIPT_FILENAME ${backend.backend ?? GIT_HTTP_BACKEND};`,
    `            fastcgi_param GIT_PROJECT_ROOT ${backend.root ?? BINHOST_GIT_ROOT};`,
    '            fastcgi_param GIT_HTTP_EXPORT_ALL "";',
    `            fastcgi_param GIT_CONFIG_SYSTEM ${backend.configPath ?? GIT_HTTP_BACKEND_CONFIG};`,
    "            fastcgi_param PATH_INFO $git_path;",
    "            fastcgi_param QUERY_STRING $query_string;",
    "            fastcgi_param REQUEST_METHOD $request_method;",
    "            fastcgi_param CONTENT_TYPE $content_type;",
    "            fastcgi_param CONTENT_LENGTH $content_length;",
    "            fastcgi_param REMOTE_ADDR $remote_addr;",
    "            fastcgi_param SERVER_PROTOCOL $server_protocol;",
    "            fastcgi_param GATEWAY_INTERFACE CGI/1.1;",
    "        }",
  ];
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
    ...location(
      BINHOST_DIRECTORIES.client,
      "What machines read besides packages: each build profile's current tree snapshot.",
      ["default_type text/plain;"],
    ),
    ...binhostGitLocations(args.gitRepositories ?? [], {
      ...(args.gitRoot === undefined ? {} : { root: args.gitRoot }),
      ...(args.gitConfigPath === undefined ? {} : { configPath: args.gitConfigPath }),
      ...(args.gitHttpBackend === undefined ? {} : { backend: args.gitHttpBackend }),
      ...(args.fcgiwrapSocket === undefined ? {} : { socket: args.fcgiwrapSocket }),
    }),
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
