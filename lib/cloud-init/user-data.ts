/**
 * cloud-init user-data (`#cloud-config`) for the project's VMs (builders, binhost, install
 * host): host name, users with SSH keys, files, packages and commands. YAML is produced by
 * the `yaml` package, never by string concatenation, so any content is quoted correctly.
 */
import { stringify } from "yaml";
import { DNS_LABEL, FQDN } from "../validation/patterns";
import { throwIfViolations, type Violation, violation } from "../validation/violations";

/** A user cloud-init creates. */
export interface CloudInitUser {
  /** Login name. */
  readonly name: string;
  /** OpenSSH public keys (`ssh-ed25519 AAAA… comment`). */
  readonly sshAuthorizedKeys: readonly string[];
  /**
   * sudoers rule, e.g. `ALL=(ALL) NOPASSWD:ALL`.
   * @default none: no sudo
   */
  readonly sudo?: string;
  /** @default none */
  readonly groups?: readonly string[];
  /** @default "/bin/bash" */
  readonly shell?: string;
  /**
   * Authorize the keys as the very last first-boot command instead of when the user is
   * created. cloud-init restarts sshd while it configures the machine, which drops any SSH
   * session that started before; with this, a login that succeeds means the configuration is
   * done (automation that logs in as soon as it can never races cloud-init).
   * @default false
   */
  readonly authorizeKeysLast?: boolean;
}

/** A file cloud-init writes. */
export interface CloudInitFile {
  /** Absolute path. */
  readonly path: string;
  /** Text content. */
  readonly content: string;
  /**
   * Octal mode.
   * @default "0644"
   */
  readonly permissions?: string;
  /**
   * `user:group`.
   * @default "root:root"
   */
  readonly owner?: string;
}

/**
 * A pinned SSH host key: cloud-init writes it to `/etc/ssh/ssh_host_ed25519_key` (module
 * `ssh`, key `ssh_keys`), so that its public half is known (and can go into known_hosts)
 * before the machine boots. The image still generates its other host key types.
 */
export interface CloudInitHostKey {
  /** The ED25519 private key in OpenSSH format (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
  readonly ed25519Private: string;
  /** Its public key, one line (`ssh-ed25519 AAAA…`). */
  readonly ed25519Public: string;
}

/** Inputs of {@link renderUserData}. */
export interface UserDataArgs {
  /** Host name (one DNS label). */
  readonly hostname: string;
  /** @default none: cloud-init derives it */
  readonly fqdn?: string;
  /** Users to create; the image's default user is not created. */
  readonly users: readonly CloudInitUser[];
  /** @default none */
  readonly writeFiles?: readonly CloudInitFile[];
  /** Packages to install with the image's package manager. @default none */
  readonly packages?: readonly string[];
  /** Commands run once at first boot, each an argv list (no shell) or a shell string. @default none */
  readonly runcmd?: readonly (string | readonly string[])[];
  /**
   * A pinned SSH host key. The rendered document then contains a private key: keep it
   * secret (a Pulumi secret) wherever it goes.
   * @default none: the image generates its host keys at first boot
   */
  readonly hostKey?: CloudInitHostKey;
}

const HOSTNAME = DNS_LABEL;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const SSH_KEY =
  /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( [^\n]*)?$/;
const PATH = /^\/[^\0\n]*[^/]$/;
const MODE = /^0[0-7]{3}$/;
const OWNER = /^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/;
const PACKAGE = /^[A-Za-z0-9][A-Za-z0-9+._/:=<>@-]*$/;

/** Checks the arguments of {@link renderUserData}. */
export function validateUserDataArgs(args: UserDataArgs): Violation[] {
  const out: Violation[] = [];
  if (!HOSTNAME.test(args.hostname ?? ""))
    out.push(
      violation(
        "hostname",
        args.hostname,
        "is not a host name",
        "use one DNS label: a-z, 0-9 and '-'",
      ),
    );
  if (args.fqdn !== undefined && !FQDN.test(args.fqdn))
    out.push(
      violation("fqdn", args.fqdn, "is not a fully qualified name", "use e.g. builder1.example.ch"),
    );
  const names = new Map<string, number>();
  args.users.forEach((u, i) => {
    if (!USER.test(u.name ?? ""))
      out.push(
        violation(
          `users[${i}].name`,
          u.name,
          "is not a user name",
          "use lower-case letters, digits, '_' and '-'",
        ),
      );
    else if (names.has(u.name))
      out.push(
        violation(
          `users[${i}].name`,
          u.name,
          `duplicates users[${names.get(u.name)}].name`,
          "list each user once",
        ),
      );
    else names.set(u.name, i);
    if (u.sshAuthorizedKeys.length === 0) {
      out.push(
        violation(
          `users[${i}].sshAuthorizedKeys`,
          u.sshAuthorizedKeys,
          "is empty",
          "give at least one key: the images have no passwords",
        ),
      );
    }
    u.sshAuthorizedKeys.forEach((key, k) => {
      if (!SSH_KEY.test(key))
        out.push(
          violation(
            `users[${i}].sshAuthorizedKeys[${k}]`,
            key,
            "is not an OpenSSH public key",
            "paste one line of id_*.pub",
          ),
        );
    });
    if (u.sudo !== undefined && (u.sudo.includes("\n") || u.sudo.trim() === "")) {
      out.push(
        violation(
          `users[${i}].sudo`,
          u.sudo,
          "is not one sudoers rule",
          "use e.g. ALL=(ALL) NOPASSWD:ALL",
        ),
      );
    }
  });
  const paths = new Map<string, number>();
  (args.writeFiles ?? []).forEach((f, i) => {
    if (!PATH.test(f.path ?? ""))
      out.push(
        violation(
          `writeFiles[${i}].path`,
          f.path,
          "is not an absolute file path",
          "use e.g. /etc/motd",
        ),
      );
    else if (paths.has(f.path))
      out.push(
        violation(
          `writeFiles[${i}].path`,
          f.path,
          `duplicates writeFiles[${paths.get(f.path)}].path`,
          "write each file once",
        ),
      );
    else paths.set(f.path, i);
    if (f.permissions !== undefined && !MODE.test(f.permissions))
      out.push(
        violation(
          `writeFiles[${i}].permissions`,
          f.permissions,
          "is not an octal mode",
          "use e.g. 0644",
        ),
      );
    if (f.owner !== undefined && !OWNER.test(f.owner))
      out.push(
        violation(`writeFiles[${i}].owner`, f.owner, "is not user:group", "use e.g. root:root"),
      );
  });
  (args.packages ?? []).forEach((p, i) => {
    if (!PACKAGE.test(p))
      out.push(violation(`packages[${i}]`, p, "is not a package name", "use e.g. rsync"));
  });
  if (args.hostKey !== undefined) {
    if (!/^-----BEGIN OPENSSH PRIVATE KEY-----/.test(args.hostKey.ed25519Private ?? "")) {
      out.push(
        violation(
          "hostKey.ed25519Private",
          "(not shown)",
          "is not an OpenSSH private key",
          "use tls.PrivateKey's privateKeyOpenssh of an ED25519 key",
        ),
      );
    }
    if (!/^ssh-ed25519 [A-Za-z0-9+/=]+( [^\n]*)?\n?$/.test(args.hostKey.ed25519Public ?? "")) {
      out.push(
        violation(
          "hostKey.ed25519Public",
          args.hostKey.ed25519Public,
          "is not an OpenSSH ED25519 public key",
          "use tls.PrivateKey's publicKeyOpenssh of the same key",
        ),
      );
    }
  }
  (args.runcmd ?? []).forEach((c, i) => {
    if ((typeof c === "string" && c.trim() === "") || (typeof c !== "string" && c.length === 0)) {
      out.push(violation(`runcmd[${i}]`, c, "is empty", "give a command"));
    }
  });
  return out;
}

/** Writes the keys ($2…) into the authorized_keys of user $1 (see `authorizeKeysLast`). */
const AUTHORIZE_KEYS = [
  'set -e; u=$1; shift; h=$(getent passwd "$u" | cut -d: -f6); g=$(id -g "$u")',
  'install -d -m 0700 -o "$u" -g "$g" "$h/.ssh"',
  'printf "%s\\n" "$@" > "$h/.ssh/authorized_keys.new"',
  'chown "$u:$g" "$h/.ssh/authorized_keys.new" && chmod 0600 "$h/.ssh/authorized_keys.new"',
  'mv "$h/.ssh/authorized_keys.new" "$h/.ssh/authorized_keys"',
].join("; ");

/** Renders user-data: `#cloud-config` then YAML. Throws a ValidationError naming every problem. */
export function renderUserData(args: UserDataArgs): string {
  throwIfViolations("cloud-init user-data", validateUserDataArgs(args));
  const doc: Record<string, unknown> = {
    hostname: args.hostname,
    ...(args.fqdn ? { fqdn: args.fqdn } : {}),
    preserve_hostname: false,
    ssh_pwauth: false,
    disable_root: true,
    users: args.users.map((u) => ({
      name: u.name,
      shell: u.shell ?? "/bin/bash",
      lock_passwd: true,
      ...(u.groups?.length ? { groups: u.groups.join(",") } : {}),
      ...(u.sudo ? { sudo: u.sudo } : {}),
      ...(u.authorizeKeysLast ? {} : { ssh_authorized_keys: [...u.sshAuthorizedKeys] }),
    })),
  };
  if (args.writeFiles?.length) {
    doc.write_files = args.writeFiles.map((f) => ({
      path: f.path,
      content: f.content,
      permissions: f.permissions ?? "0644",
      owner: f.owner ?? "root:root",
    }));
  }
  if (args.hostKey) {
    doc.ssh_keys = {
      ed25519_private: args.hostKey.ed25519Private,
      ed25519_public: args.hostKey.ed25519Public.trim(),
    };
  }
  if (args.packages?.length) doc.packages = [...args.packages];
  const runcmd: (string | string[])[] = (args.runcmd ?? []).map((c) =>
    typeof c === "string" ? c : [...c],
  );
  for (const u of args.users) {
    if (u.authorizeKeysLast)
      runcmd.push(["sh", "-c", AUTHORIZE_KEYS, "sh", u.name, ...u.sshAuthorizedKeys]);
  }
  if (runcmd.length) doc.runcmd = runcmd;
  return `#cloud-config\n${stringify(doc, { lineWidth: 0, version: "1.1" })}`;
}
