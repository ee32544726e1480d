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
import { throwIfViolations, type Violation, violation } from "../validation";
import { type DiskLayout, GPT_TYPE_GUIDS, renderSfdiskScript } from "./disk-layout";
import { type Machine, type PxeNetwork, validateMachines, validatePxeNetwork } from "./inventory";
import { parseIpv4Subnet } from "./ipv4";
import { normalizeMac } from "./mac";
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
        path: "/etc/portage/binrepos.conf/gentoo-infra.conf",
        mode: "0644",
        content: args.binreposConf,
      },
      ...(args.makeConf === undefined
        ? []
        : [{ path: "/etc/portage/make.conf", mode: "0644", content: args.makeConf }]),
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
