/**
 * Pure pieces of BinhostMirror's server side: where its files live, the upload user's
 * restricted SSH login (rsync through `rrsync`, confined to the document root), the
 * known_hosts line builders use, and the first-boot and after-change commands. No Pulumi.
 */
import { scriptSource } from "../host/script-file";
import { shQuote } from "../host/shell";
import { isIpv4Address } from "../network/ipv4";
import { DNS_NAME, matches, plainAbsolutePathViolations } from "../validation/patterns";
import { throwIfViolations, type Violation, violation } from "../validation/violations";
import {
  BINHOST_DIRECTORIES,
  type BuildProfileRef,
  binhostRepositoryPath,
  validateBuildProfileRef,
} from "./paths";

/** The binhost's document root; repositories live at `<root>/<env>/<arch>/<stack>/`. */
export const BINHOST_ROOT = "/srv/binhost";

/** The user builders log in as to upload (rsync only, confined to {@link BINHOST_ROOT}). */
export const UPLOAD_USER = "gi-upload";

/** The upload user's home directory. */
const UPLOAD_HOME = "/var/lib/gi-upload";

/**
 * rsync's restricted-rsync wrapper (Debian bookworm and later ship it in the rsync package;
 * on Gentoo, net-misc/rsync with USE="rrsync").
 */
const RRSYNC = "/usr/bin/rrsync";

/** Where BinhostMirror puts its files on the server. */
export const BINHOST_FILES = {
  /** nginx's main configuration (replaces the distribution's; no sites-enabled). */
  nginxConf: "/etc/nginx/nginx.conf",
  /** The TLS certificate, leaf first, then the host sub-CA and the level-1 intermediate. */
  certificate: "/etc/ssl/gentoo-infra/binhost.pem",
  /** The TLS private key (0600, root). */
  key: "/etc/ssl/gentoo-infra/binhost.key",
  /** The CA chain clients may download: host sub-CA, then level-1 intermediate. */
  caChain: `${BINHOST_ROOT}/${BINHOST_DIRECTORIES.keys}ca-chain.pem`,
  /** The root certificate (the trust anchor; verify its fingerprint out of band). */
  rootCertificate: `${BINHOST_ROOT}/${BINHOST_DIRECTORIES.keys}root-ca.pem`,
  /** The package-signing public key, ASCII-armoured OpenPGP. */
  signingKey: `${BINHOST_ROOT}/${BINHOST_DIRECTORIES.keys}package-signing.asc`,
  /** The RootCa's CRL files as JSON (file name → PEM), unpacked into `crl/` by the publisher. */
  crlBundle: "/var/lib/gentoo-infra/binhost/crl-files.json",
  /** The script that unpacks the CRL bundle. */
  crlPublisher: "/usr/local/libexec/gentoo-infra/binhost-publish-crls",
  /** The upload user's authorized_keys (root-owned: the user cannot lift its restriction). */
  uploadAuthorizedKeys: `${UPLOAD_HOME}/.ssh/authorized_keys`,
} as const;

/**
 * The problem of a document root (the parameter `root` of the commands below): it stands in
 * them unquoted, so it must be a plain absolute path.
 */
function rootViolations(root: unknown): Violation[] {
  return plainAbsolutePathViolations("root", root, BINHOST_ROOT);
}

/**
 * The upload user's authorized_keys line: no shell, no forwarding, no pty (`restrict`),
 * and every command replaced by `rrsync <root>`, which accepts only rsync and confines it
 * to `root`. `-no-lock`: rrsync otherwise allows one run per user at a time, and all
 * builders share this user. sshd runs the forced command through a shell: a `root` that is
 * not a plain absolute path throws a ValidationError.
 */
export function uploadAuthorizedKeysLine(publicKeyOpenssh: string, root = BINHOST_ROOT): string {
  throwIfViolations("uploadAuthorizedKeysLine", rootViolations(root));
  const [type, key] = publicKeyOpenssh.trim().split(/\s+/);
  return `restrict,command="${RRSYNC} -no-lock ${root}" ${type} ${key} ${UPLOAD_USER}\n`;
}

/**
 * A known_hosts line for `names` (host names and addresses) and a host public key
 * (`ssh-ed25519 AAAA… [comment]`; the comment is dropped). A name that is not a DNS name or an
 * IPv4 address (a blank, a comma or a line break would pin the key for other hosts) throws a
 * ValidationError naming it (`names[1]`).
 */
export function knownHostsLine(names: readonly string[], publicKeyOpenssh: string): string {
  throwIfViolations("knownHostsLine", knownHostNamesViolations(names));
  const [type, key] = publicKeyOpenssh.trim().split(/\s+/);
  return `${[...new Set(names)].join(",")} ${type} ${key}\n`;
}

/** The problems of the names of {@link knownHostsLine}. */
function knownHostNamesViolations(names: unknown): Violation[] {
  if (!Array.isArray(names) || names.length === 0) {
    return [
      violation(
        "names",
        names,
        "is not a list of host names",
        'list the host\'s names and addresses, e.g. ["binhost.example.ch", "192.168.150.10"]',
      ),
    ];
  }
  return names.flatMap((name, i) =>
    matches(DNS_NAME, name) || isIpv4Address(name)
      ? []
      : [
          violation(
            `names[${i}]`,
            name,
            "is not a DNS name or an IPv4 address",
            "use e.g. binhost.example.ch or 192.168.150.10",
          ),
        ],
  );
}

/** The directories the upload user may write: each repository, distfiles/ and stages/. */
export function uploadDirectories(
  profiles: readonly BuildProfileRef[],
  root = BINHOST_ROOT,
): string[] {
  const repos = profiles.map(binhostRepositoryPath).sort();
  return [...repos, BINHOST_DIRECTORIES.distfiles, BINHOST_DIRECTORIES.stages].map(
    (dir) => `${root}/${dir.replace(/\/$/, "")}`,
  );
}

/**
 * Commands run once at first boot: the upload user (system account; password `*`: none
 * works, yet the account is not "locked", which sshd without PAM would refuse), the
 * root-owned document root with its `crl/` and `keys/` directories, and nginx enabled. A
 * `root` that is not a plain absolute path throws a ValidationError.
 */
export function binhostFirstBootCommands(root = BINHOST_ROOT): string[] {
  throwIfViolations("binhostFirstBootCommands", rootViolations(root));
  return [
    `id -u ${UPLOAD_USER} >/dev/null 2>&1 || useradd --system --user-group --create-home --home-dir ${UPLOAD_HOME} --shell /bin/sh --password '*' ${UPLOAD_USER}`,
    `install -d -m 0755 -o root -g root ${root} ${root}/${BINHOST_DIRECTORIES.crl} ${root}/${BINHOST_DIRECTORIES.keys}`,
    "systemctl enable --now nginx",
  ];
}

/**
 * The command run as root after BinhostMirror's files changed: wait for first boot to have
 * finished (the upload user must exist), publish the CRLs, create the upload directories
 * (owned by the upload user; parents stay root's), run `setup` (the git repositories:
 * `binhostGitSetupCommands`), then check and reload nginx. `root` stands in the command
 * unquoted and the build profiles name directories: a `root` that is not a plain absolute path
 * or a profile whose environment, arch or Stack is not a path segment throws a ValidationError
 * naming it (`root`, `profiles[1].stack`). `setup` are shell commands, run as given.
 */
export function binhostAfterChange(
  profiles: readonly BuildProfileRef[],
  root = BINHOST_ROOT,
  setup: readonly string[] = [],
): string {
  throwIfViolations("binhostAfterChange", [
    ...(Array.isArray(profiles)
      ? profiles.flatMap((p, i) => validateBuildProfileRef(p, `profiles[${i}]`))
      : [violation("profiles", profiles, "is not a list", "list the served build profiles")]),
    ...rootViolations(root),
  ]);
  return [
    "cloud-init status --wait >/dev/null 2>&1 || true",
    [
      `python3 ${BINHOST_FILES.crlPublisher} ${BINHOST_FILES.crlBundle} ${root}/${BINHOST_DIRECTORIES.crl.replace(/\/$/, "")}`,
      `install -d -m 0755 -o ${UPLOAD_USER} -g ${UPLOAD_USER} ${uploadDirectories(profiles, root).map(shQuote).join(" ")}`,
      ...setup,
      "nginx -t -q",
      "systemctl reload-or-restart nginx",
    ].join(" && "),
  ].join("; ");
}

/**
 * A Python 3 script (python3 is on every Gentoo system and in the stand-in image for
 * cloud-init), lib/binhost/publish-crls.py: `publish-crls <bundle.json> <dir>` writes each
 * `name → PEM` of the bundle to `<dir>/<name>` atomically (0644) and removes other `*.crl`
 * files from `<dir>`, so a CRL that RootCa no longer signs disappears. Names must be plain
 * file names ending `.crl`.
 */
export const CRL_PUBLISHER_SCRIPT = scriptSource(__dirname, "publish-crls.py");
