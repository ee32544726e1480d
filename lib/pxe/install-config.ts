/**
 * The per-machine install configuration the installer fetches (`gi.config=` on its kernel
 * command line) and follows: disk layout with its sfdisk script, the stage to unpack and its
 * digest, host name, network, files to write (binrepos.conf, Puppet's configuration and
 * CSR attributes), certificates to fetch, Puppet bootstrap, where to report, and the root
 * certificate the installer verifies every HTTPS download against.
 *
 * JSON, versioned (`version: 1`), so the installer can refuse a format it does not know.
 */
import { stringify as yamlStringify } from "yaml";
import { parseIpv4Subnet } from "../network/ipv4";
import { normalizeMac } from "../network/mac";
import { machinePortageToolFiles } from "../portage/machine-tools";
import {
  isLateBound,
  throwIfViolations,
  type Violation,
  violation,
} from "../validation/violations";
import { type DiskLayout, GPT_TYPE_GUIDS, renderSfdiskScript } from "./disk-layout";
import { type Machine, type PxeNetwork, validateMachines, validatePxeNetwork } from "./inventory";
import { joinUrl, pxeHttpPaths } from "./netboot";

/** A file the installer downloads into the installed system (certificates, keys). */
export interface InstallDownload {
  /** Where to fetch it (HTTPS for anything secret). */
  readonly url: string;
  /** Absolute path in the installed system. */
  readonly path: string;
  /** Octal mode, e.g. `0600` for a private key. */
  readonly mode: string;
}

/** Puppet agent bootstrap for the installed machine. */
export interface PuppetBootstrap {
  /** The Puppet server's host name. */
  readonly server: string;
  /** The Puppet environment (`production`). */
  readonly environment: string;
  /** The agent's certname (usually the FQDN). */
  readonly certname: string;
  /**
   * One-time autosign token for this host: written into the CSR as challengePassword
   * (OID 1.2.840.113549.1.9.7) so that the server's policy autosigns only this host.
   */
  readonly autosignToken: string;
}

/** Inputs of {@link renderInstallConfig}. */
export interface InstallConfigArgs {
  /** The machine being installed. */
  readonly machine: Machine;
  /** The install subnet (for the installed system's static network). */
  readonly network: PxeNetwork;
  /** Base URL of the install host's HTTP server (for the report URL). */
  readonly installHostUrl: string;
  /** The stage tarball on the binhost, and its SHA-512 digest (hex). */
  readonly stage: { readonly url: string; readonly sha512: string };
  /**
   * Content of /etc/portage/binrepos.conf/gentoo-infra.conf for this machine (from the
   * Stack renderer). A file in the directory: Gentoo's stages ship binrepos.conf as a
   * directory (gentoobinhost.conf).
   */
  readonly binreposConf: string;
  /**
   * Content of /etc/portage/make.conf for this machine (from the Stack renderer).
   * @default none: the stage's make.conf stays
   */
  readonly makeConf?: string;
  /**
   * The rest of the machine's Portage configuration as the Stack renders it (path →
   * content: make.profile/parent, repos.conf, the tree snapshot, the world file); entries for
   * binrepos.conf and make.conf must equal `binreposConf` and `makeConf`.
   * @default none: the stage's files stay
   */
  readonly portageFiles?: Readonly<Record<string, string>>;
  /**
   * The farm's package-signing public key (armored OpenPGP). With it the machine gets
   * `/etc/gentoo-infra/package-signing.asc` and the tools Portage uses it with
   * (lib/portage/machine-tools.ts): the trust helper make.conf names
   * (`gentoo-infra-getuto`) and `gentoo-infra-sync`.
   * @default none: the machine cannot verify binary packages until something installs it
   */
  readonly signingPublicKey?: string;
  /**
   * OpenSSH public keys that may log in as root (`/root/.ssh/authorized_keys`).
   * @default none
   */
  readonly authorizedKeys?: readonly string[];
  /** Certificates and keys to fetch into the installed system. */
  readonly certificates: readonly InstallDownload[];
  /** Puppet bootstrap. */
  readonly puppet: PuppetBootstrap;
  /**
   * The site's root certificate (PEM): the installer verifies the stage and every
   * certificate download (HTTPS) against it, and installs it as
   * `/etc/gentoo-infra/ca.pem`. It comes over the same channel as the rest of the
   * configuration (the install host's HTTP, which iPXE also loads the installer from), so
   * one installer build serves every site on every firmware.
   * @default none: the installer uses the certificate built into it (`build-installer --ca`)
   */
  readonly rootCertificatePem?: string;
}

/** The JSON document (version 1) the installer reads. */
export interface InstallConfig {
  readonly version: 1;
  readonly mac: string;
  readonly hostname: string;
  readonly fqdn: string;
  readonly environment: string;
  readonly arch: string;
  readonly stack: string;
  readonly firmware: Machine["firmware"];
  readonly generation: number;
  readonly disk: {
    readonly device: string;
    readonly sfdisk: string;
    readonly partitions: readonly {
      readonly label: string;
      readonly typeGuid: string;
      readonly sizeMiB: number | null;
      readonly filesystem: string;
      readonly mountpoint: string | null;
    }[];
  };
  readonly stage: { readonly url: string; readonly sha512: string };
  readonly network: {
    readonly address: string;
    readonly prefixLength: number;
    readonly gateway: string | null;
    readonly dnsServers: readonly string[];
    readonly domain: string | null;
  };
  readonly files: readonly {
    readonly path: string;
    readonly mode: string;
    readonly content: string;
  }[];
  readonly certificates: readonly InstallDownload[];
  readonly puppet: PuppetBootstrap;
  readonly report: { readonly url: string };
  readonly rootCertificatePem: string | null;
}

const SHA512 = /^[0-9a-f]{128}$/;
const HTTPS_URL = /^https:\/\/[^\s]+$/;
const HTTP_URL = /^https?:\/\/[^\s]+$/;
const ABSOLUTE = /^\/[A-Za-z0-9._/-]+$/;
const MODE = /^0[0-7]{3}$/;
const TOKEN = /^[A-Za-z0-9._~+/=-]{16,}$/;
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const PEM_CERTIFICATE =
  /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;

/** Checks the arguments of {@link renderInstallConfig}. */
export function validateInstallConfigArgs(args: InstallConfigArgs): Violation[] {
  const out: Violation[] = [
    ...validatePxeNetwork(args.network),
    ...validateMachines([args.machine], args.network).map((v) => ({
      ...v,
      argument: v.argument.replace(/^machines\[0\]/, "machine"),
    })),
  ];
  if (!HTTP_URL.test(args.installHostUrl ?? "")) {
    out.push(
      violation(
        "installHostUrl",
        args.installHostUrl,
        "is not an http(s) URL",
        "use e.g. http://10.0.0.2",
      ),
    );
  }
  if (!HTTPS_URL.test(args.stage?.url ?? "")) {
    out.push(
      violation(
        "stage.url",
        args.stage?.url,
        "is not an https:// URL",
        "fetch the stage from the binhost over HTTPS",
      ),
    );
  }
  if (!SHA512.test(args.stage?.sha512 ?? "")) {
    out.push(
      violation(
        "stage.sha512",
        args.stage?.sha512,
        "is not a SHA-512 digest",
        "give 128 lower-case hex digits from the stage's .DIGESTS",
      ),
    );
  }
  if (
    args.makeConf !== undefined &&
    (typeof args.makeConf !== "string" || args.makeConf.trim() === "")
  ) {
    out.push(
      violation(
        "makeConf",
        args.makeConf,
        "is empty",
        "pass the make.conf the Stack renders for this machine, or leave it out",
      ),
    );
  }
  out.push(...validateMachineExtras(args));
  if (typeof args.binreposConf !== "string" || args.binreposConf.trim() === "") {
    out.push(
      violation(
        "binreposConf",
        args.binreposConf,
        "is empty",
        "pass the binrepos.conf the Stack renders for this machine",
      ),
    );
  }
  args.certificates.forEach((c, i) => {
    if (!HTTPS_URL.test(c.url ?? "")) {
      out.push(
        violation(
          `certificates[${i}].url`,
          c.url,
          "is not an https:// URL",
          "serve certificates and keys over HTTPS",
        ),
      );
    }
    if (!ABSOLUTE.test(c.path ?? "")) {
      out.push(
        violation(
          `certificates[${i}].path`,
          c.path,
          "is not an absolute path",
          "use e.g. /etc/ssl/host/host.pem",
        ),
      );
    }
    if (!MODE.test(c.mode ?? "")) {
      out.push(
        violation(
          `certificates[${i}].mode`,
          c.mode,
          "is not an octal file mode",
          "use e.g. 0600 or 0644",
        ),
      );
    }
  });
  if (args.rootCertificatePem !== undefined && !PEM_CERTIFICATE.test(args.rootCertificatePem)) {
    out.push(
      violation(
        "rootCertificatePem",
        // Never echoed: a pasted private key must not reach an error message or a log.
        typeof args.rootCertificatePem === "string"
          ? `(${args.rootCertificatePem.length} characters, not shown)`
          : args.rootCertificatePem,
        "is not one PEM certificate",
        "pass the RootCa's rootCertificatePem, or leave it out to use the installer's own",
      ),
    );
  }
  const p = args.puppet;
  if (!HOST.test(p?.server ?? ""))
    out.push(
      violation("puppet.server", p?.server, "is not a host name", "use e.g. puppet.example.ch"),
    );
  if (!/^[a-z0-9_]+$/.test(p?.environment ?? "")) {
    out.push(
      violation(
        "puppet.environment",
        p?.environment,
        "is not a Puppet environment name",
        "use lower-case letters, digits and '_'",
      ),
    );
  }
  if (!HOST.test(p?.certname ?? ""))
    out.push(violation("puppet.certname", p?.certname, "is not a certname", "use the host's FQDN"));
  if (!TOKEN.test(p?.autosignToken ?? "")) {
    out.push(
      violation(
        "puppet.autosignToken",
        p?.autosignToken === undefined ? undefined : "(redacted)",
        "is not a one-time token of 16 or more URL-safe characters",
        "generate a random per-host token (e.g. @pulumi/random)",
      ),
    );
  }
  return out;
}

const BINREPOS_CONF_PATH = "/etc/portage/binrepos.conf/gentoo-infra.conf";
const MAKE_CONF_PATH = "/etc/portage/make.conf";
const AUTHORIZED_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
const ARMORED_PUBLIC_KEY =
  /^-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n[\s\S]+\r?\n-----END PGP PUBLIC KEY BLOCK-----\r?\n?$/;

/** Checks `portageFiles`, `signingPublicKey` and `authorizedKeys`. */
function validateMachineExtras(args: InstallConfigArgs): Violation[] {
  const out: Violation[] = [];
  const files = args.portageFiles;
  if (files !== undefined) {
    if (typeof files !== "object" || files === null || Array.isArray(files)) {
      out.push(
        violation(
          "portageFiles",
          files,
          "is not a map of path to content",
          "pass the Stack's machine files",
        ),
      );
    } else {
      for (const [path, content] of Object.entries(files)) {
        if (
          !ABSOLUTE.test(path) ||
          /(^|\/)\.\.(\/|$)/.test(path) ||
          (!path.startsWith("/etc/") && !path.startsWith("/var/lib/portage/"))
        ) {
          out.push(
            violation(
              "portageFiles",
              path,
              "names a path outside /etc and /var/lib/portage",
              "pass the Stack's machine files only",
            ),
          );
        } else if (typeof content !== "string") {
          out.push(
            violation(
              `portageFiles["${path}"]`,
              content,
              "is not text",
              "pass file contents as strings",
            ),
          );
        }
      }
      for (const [path, own, name] of [
        [BINREPOS_CONF_PATH, args.binreposConf, "binreposConf"],
        [MAKE_CONF_PATH, args.makeConf, "makeConf"],
      ] as const) {
        if (Object.hasOwn(files, path) && files[path] !== own) {
          out.push(
            violation(
              `portageFiles["${path}"]`,
              "(differs)",
              `is not ${name}`,
              `give one content for ${path}: the Stack's`,
            ),
          );
        }
      }
    }
  }
  if (args.signingPublicKey !== undefined && !ARMORED_PUBLIC_KEY.test(args.signingPublicKey)) {
    out.push(
      violation(
        "signingPublicKey",
        typeof args.signingPublicKey === "string"
          ? `(${args.signingPublicKey.length} characters, not shown)`
          : args.signingPublicKey,
        "is not one armored OpenPGP public key",
        "pass the RootCa's packageSigningKey.publicKeyArmored",
      ),
    );
  }
  if (args.authorizedKeys !== undefined) {
    if (!Array.isArray(args.authorizedKeys)) {
      out.push(
        violation(
          "authorizedKeys",
          args.authorizedKeys,
          "is not a list",
          "list OpenSSH public keys",
        ),
      );
    } else {
      out.push(...validateAuthorizedKeys(args.authorizedKeys));
    }
  }
  return out;
}

/**
 * Checks OpenSSH public keys for root's authorized_keys: each one line of a known key type
 * and base64 (values that are not plain strings yet, such as Pulumi outputs, are skipped).
 */
export function validateAuthorizedKeys(keys: readonly unknown[]): Violation[] {
  const out: Violation[] = [];
  keys.forEach((key, i) => {
    if (isLateBound(key)) return;
    if (typeof key !== "string" || !AUTHORIZED_KEY.test(key.trim())) {
      out.push(
        violation(
          `authorizedKeys[${i}]`,
          key,
          "is not one OpenSSH public key",
          "use one line such as 'ssh-ed25519 AAAA... admin@example.ch'",
        ),
      );
    }
  });
  return out;
}

/** The files of `portageFiles`, the signing key and its tools, and root's authorized keys. */
function machineExtraFiles(args: InstallConfigArgs): InstallConfig["files"] {
  const portage = Object.entries(args.portageFiles ?? {})
    .filter(([path]) => path !== BINREPOS_CONF_PATH && path !== MAKE_CONF_PATH)
    .map(([path, content]) => ({ path, mode: "0644", content }));
  const keys = args.authorizedKeys ?? [];
  return [
    ...portage,
    ...(args.signingPublicKey === undefined ? [] : machinePortageToolFiles(args.signingPublicKey)),
    ...(keys.length === 0
      ? []
      : [
          {
            path: "/root/.ssh/authorized_keys",
            mode: "0600",
            content: keys.map((k) => `${k.trim()}\n`).join(""),
          },
        ]),
  ];
}

/** Puppet's puppet.conf `[agent]` section for the installed machine. */
export function renderPuppetConf(puppet: PuppetBootstrap): string {
  return [
    "# Rendered by gentoo-infra's installer configuration.",
    "[agent]",
    `server = ${puppet.server}`,
    `environment = ${puppet.environment}`,
    `certname = ${puppet.certname}`,
    "",
  ].join("\n");
}

/**
 * Puppet's csr_attributes.yaml carrying the one-time autosign token as the CSR's
 * challengePassword (the Foreman approach: the server autosigns only CSRs with this host's
 * token).
 */
export function renderPuppetCsrAttributes(puppet: PuppetBootstrap): string {
  return yamlStringify(
    { custom_attributes: { "1.2.840.113549.1.9.7": puppet.autosignToken } },
    { version: "1.1" },
  );
}

function diskJson(disk: DiskLayout): InstallConfig["disk"] {
  return {
    device: disk.device,
    sfdisk: renderSfdiskScript(disk),
    partitions: disk.partitions.map((p) => ({
      label: p.label,
      typeGuid: GPT_TYPE_GUIDS[p.type],
      sizeMiB: p.sizeMiB ?? null,
      filesystem: p.filesystem,
      mountpoint: p.mountpoint ?? null,
    })),
  };
}

/** Builds the install configuration document. Throws a ValidationError naming every problem. */
export function installConfig(args: InstallConfigArgs): InstallConfig {
  throwIfViolations("install configuration", validateInstallConfigArgs(args));
  const { machine, network, puppet } = args;
  const mac = normalizeMac(machine.mac) as string;
  const subnet = parseIpv4Subnet(network.subnet);
  if (!subnet) throw new Error("unreachable: subnet validated");
  return {
    version: 1,
    mac,
    hostname: machine.hostname,
    fqdn: network.domain ? `${machine.hostname}.${network.domain}` : machine.hostname,
    environment: machine.environment,
    arch: machine.arch,
    stack: machine.stack,
    firmware: machine.firmware,
    generation: machine.installGeneration ?? 1,
    disk: diskJson(machine.disk),
    stage: { url: args.stage.url, sha512: args.stage.sha512 },
    network: {
      address: machine.address,
      prefixLength: subnet.prefixLength,
      gateway: network.gateway ?? null,
      dnsServers: network.dnsServers ?? [],
      domain: network.domain ?? null,
    },
    files: [
      {
        path: BINREPOS_CONF_PATH,
        mode: "0644",
        content: args.binreposConf,
      },
      ...(args.makeConf === undefined
        ? []
        : [{ path: MAKE_CONF_PATH, mode: "0644", content: args.makeConf }]),
      ...machineExtraFiles(args),
      {
        path: "/etc/puppetlabs/puppet/puppet.conf",
        mode: "0644",
        content: renderPuppetConf(puppet),
      },
      {
        path: "/etc/puppetlabs/puppet/csr_attributes.yaml",
        mode: "0600",
        content: renderPuppetCsrAttributes(puppet),
      },
    ],
    certificates: args.certificates,
    puppet,
    report: { url: joinUrl(args.installHostUrl, pxeHttpPaths.report(mac)) },
    rootCertificatePem: args.rootCertificatePem ?? null,
  };
}

/** The install configuration as the JSON text the install host serves (2-space indent, final newline). */
export function renderInstallConfig(args: InstallConfigArgs): string {
  return `${JSON.stringify(installConfig(args), null, 2)}\n`;
}
