import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { buildProfileKey } from "../binhost/paths";
import { type PushedFile, PushedFiles } from "../host/pushed-files";
import { Server } from "../host/server";
import { normalizeMac } from "../network/mac";
import { Certificate } from "../pki/certificate";
import { assertValid } from "../validation/resource-error";
import { formatViolations } from "../validation/violations";
import { ipxeTftpFiles, renderDnsmasqConf } from "./dnsmasq-conf";
import { renderInstallConfig } from "./install-config";
import {
  DEFAULT_INSTALL_HOST_LAYOUT,
  machineConfigPath,
  machineSecretPath,
} from "./install-host-layout";
import { renderInstallHostNginxConf } from "./install-host-nginx";
import {
  type PxeBinhostClientConfig,
  type PxeStage,
  validateBinhostInputs,
} from "./install-host-plan";
import { renderDefaultScript, renderInstallScript, renderLocalBootScript } from "./ipxe-script";
import { pxeHttpPaths } from "./netboot";
import {
  installHostAfterChange,
  NETBOOT_UNITS,
  renderNetbootSwitchScript,
  renderNetbootTable,
  renderNetbootUnits,
  renderStatusScript,
} from "./netboot-switch";
import {
  installHostBinhostUrl,
  installHostMachines,
  installHostNetwork,
  type PxeInstallHostArgs,
} from "./pxe-install-host-args";
import { validatePxeInstallHostArgs } from "./pxe-install-host-validate";

/**
 * An install host: a {@link Server} running dnsmasq (DHCP in full or proxy mode, TFTP only
 * to chainload iPXE) and nginx (per-MAC iPXE scripts, installer images and install
 * configurations over HTTP; per-machine certificates and keys over HTTPS; install reports
 * by WebDAV PUT). A known machine installs until its installer reports success for its
 * install generation, then boots its disk; unknown MACs boot their disk and nothing is
 * written.
 *
 * Creates: `Server` `<name>`; `Certificate` `<name>-tls` (nginx, host sub-CA); per machine
 * `Certificate` `<name>-<hostname>-host` (host sub-CA), `Certificate`
 * `<name>-<hostname>-puppet` (puppet sub-CA), `random.RandomPassword`
 * `<name>-<hostname>-autosign`; and `PushedFiles` `<name>-files` with every file.
 */
export class PxeInstallHost extends pulumi.ComponentResource {
  /** The server. */
  public readonly server: Server;
  /** Base URL of its HTTP server, as iPXE and the installer reach it. */
  public readonly httpBaseUrl: string;
  /** Per canonical MAC, its install and local-boot iPXE scripts. */
  public readonly machineScripts: Readonly<
    Record<string, { readonly install: string; readonly localBoot: string }>
  >;
  /** The script unknown MACs get (full mode): boot the local disk. */
  public readonly defaultScript: string;
  /** Per canonical MAC, its install configuration JSON (secret: it holds the autosign token). */
  public readonly installConfigs: Readonly<Record<string, pulumi.Output<string>>>;
  /** Per host name, its host certificate. */
  public readonly hostCertificates: Readonly<Record<string, Certificate>>;
  /** Per host name, its Puppet agent certificate. */
  public readonly puppetCertificates: Readonly<Record<string, Certificate>>;
  /** Per host name, its one-time Puppet autosign token (secret). */
  public readonly autosignTokens: Readonly<Record<string, pulumi.Output<string>>>;
  /** The pushed files. */
  public readonly files: PushedFiles;

  constructor(name: string, args: PxeInstallHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gentoo-infra:pxe:PxeInstallHost", name, {}, opts);
    assertValid(this, `PxeInstallHost "${name}"`, validatePxeInstallHostArgs(name, args));
    const machines = installHostMachines(args);
    const network = installHostNetwork(args);

    const layout = DEFAULT_INSTALL_HOST_LAYOUT;
    const mode = args.dhcpMode ?? "full";
    const fqdn = (host: string) => `${host}.${args.domain}`;
    this.httpBaseUrl = `http://${args.address}`;
    const httpsBaseUrl = `https://${args.address}`;
    const endpoint = {
      baseUrl: this.httpBaseUrl,
      ...(args.kernelArguments === undefined ? {} : { kernelArguments: args.kernelArguments }),
    };

    this.server = new Server(
      name,
      {
        hypervisor: args.hypervisor,
        network: args.network,
        address: args.address,
        image: args.image,
      },
      { parent: this },
    );
    const hostCa = args.rootCa.subCas.host.issuer;
    const puppetCa = args.rootCa.subCas.puppet.issuer;
    const tls = new Certificate(
      `${name}-tls`,
      {
        kind: "host",
        commonName: fqdn(name),
        baseDn: args.rootCa.baseDn,
        issuer: hostCa,
        ipAddresses: [args.address],
      },
      { parent: this },
    );

    // Late-bound binhost inputs are checked again once they resolve.
    const binhost = pulumi
      .all([args.binhost.clientConfig, args.stages, installHostBinhostUrl(args)])
      .apply(([clientConfig, stages, url]) => {
        const problems = validateBinhostInputs(machines, clientConfig, stages, url);
        if (problems.length > 0) {
          throw new pulumi.ResourceError(
            formatViolations(`PxeInstallHost "${name}"`, problems),
            this,
            true,
          );
        }
        return { clientConfig, stages };
      });

    // The farm's signing key and root's SSH keys: the same on every machine.
    const signingPublicKey: pulumi.Output<string | undefined> = pulumi.output(
      args.rootCa.packageSigningKey?.publicKeyArmored,
    );
    const authorizedKeys = pulumi.all([...(args.authorizedKeys ?? [])]);
    const scripts: Record<string, { install: string; localBoot: string }> = {};
    const configs: Record<string, pulumi.Output<string>> = {};
    const hostCerts: Record<string, Certificate> = {};
    const puppetCerts: Record<string, Certificate> = {};
    const tokens: Record<string, pulumi.Output<string>> = {};
    const machineFiles: PushedFile[] = [];
    for (const m of machines) {
      const mac = normalizeMac(m.mac) as string;
      const host = fqdn(m.hostname);
      const at = (file: string) => machineConfigPath(layout, mac, file);
      const secretUrl = (file: Parameters<typeof machineSecretPath>[1]) =>
        `${httpsBaseUrl}/${machineSecretPath(mac, file)}`;
      const hostCert = new Certificate(
        `${name}-${m.hostname}-host`,
        {
          kind: "host",
          commonName: host,
          baseDn: args.rootCa.baseDn,
          issuer: hostCa,
          ipAddresses: [m.address],
        },
        { parent: this },
      );
      const puppetCert = new Certificate(
        `${name}-${m.hostname}-puppet`,
        { kind: "puppet", commonName: host, baseDn: args.rootCa.baseDn, issuer: puppetCa },
        { parent: this },
      );
      const token = new random.RandomPassword(
        `${name}-${m.hostname}-autosign`,
        { length: 32, special: false },
        { parent: this },
      );
      const tokenValue = pulumi.secret(token.result);
      const config = pulumi.secret(
        pulumi
          .all([
            binhost,
            tokenValue,
            args.rootCa.rootCertificatePem,
            signingPublicKey,
            authorizedKeys,
          ])
          .apply(([b, autosignToken, rootCertificatePem, signingKey, keys]) => {
            const cell = b.clientConfig[buildProfileKey(m)] as PxeBinhostClientConfig;
            const stage = b.stages[buildProfileKey(m)] as PxeStage;
            return renderInstallConfig({
              machine: m,
              network,
              installHostUrl: this.httpBaseUrl,
              stage: { url: stage.url, sha512: stage.sha512 },
              binreposConf: cell.binreposConf,
              ...(cell.makeConf === undefined ? {} : { makeConf: cell.makeConf }),
              ...(cell.files === undefined ? {} : { portageFiles: cell.files }),
              ...(signingKey === undefined ? {} : { signingPublicKey: signingKey }),
              ...(keys.length === 0 ? {} : { authorizedKeys: keys }),
              certificates: [
                { url: secretUrl("ca.pem"), path: "/etc/ssl/gentoo-infra/ca.pem", mode: "0644" },
                {
                  url: secretUrl("host.pem"),
                  path: "/etc/ssl/gentoo-infra/host.pem",
                  mode: "0644",
                },
                {
                  url: secretUrl("host.key"),
                  path: "/etc/ssl/gentoo-infra/host.key",
                  mode: "0600",
                },
                {
                  url: secretUrl("puppet-ca.pem"),
                  path: "/etc/puppetlabs/puppet/ssl/certs/ca.pem",
                  mode: "0644",
                },
                {
                  url: secretUrl("puppet.pem"),
                  path: `/etc/puppetlabs/puppet/ssl/certs/${host}.pem`,
                  mode: "0644",
                },
                {
                  url: secretUrl("puppet.key"),
                  path: `/etc/puppetlabs/puppet/ssl/private_keys/${host}.pem`,
                  mode: "0600",
                },
              ],
              puppet: {
                server: args.puppet.server,
                environment: m.environment,
                certname: host,
                autosignToken,
              },
              rootCertificatePem,
            });
          }),
      );
      scripts[mac] = {
        install: renderInstallScript(m, endpoint),
        localBoot: renderLocalBootScript(m),
      };
      configs[mac] = config;
      hostCerts[m.hostname] = hostCert;
      puppetCerts[m.hostname] = puppetCert;
      tokens[m.hostname] = tokenValue;
      machineFiles.push(
        { path: at("install.ipxe"), content: scripts[mac].install },
        { path: at("local.ipxe"), content: scripts[mac].localBoot },
        { path: at("install.json"), content: config, mode: "0600" },
        {
          path: at("host.pem"),
          content: pulumi.concat(hostCert.certificatePem, args.rootCa.chainPems.host),
        },
        { path: at("host.key"), content: hostCert.privateKeyPem, mode: "0600" },
        { path: at("puppet.pem"), content: puppetCert.certificatePem },
        { path: at("puppet.key"), content: puppetCert.privateKeyPem, mode: "0600" },
      );
    }
    this.machineScripts = scripts;
    this.installConfigs = configs;
    this.hostCertificates = hostCerts;
    this.puppetCertificates = puppetCerts;
    this.autosignTokens = tokens;
    this.defaultScript = renderDefaultScript();

    const units = renderNetbootUnits(layout);
    const installerFiles: PushedFile[] = Object.entries(args.installers)
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([arch, images]) => [
        {
          path: `${layout.wwwRoot}/${pxeHttpPaths.installerKernel(arch)}`,
          localPath: images.kernel,
        },
        {
          path: `${layout.wwwRoot}/${pxeHttpPaths.installerInitramfs(arch)}`,
          localPath: images.initrd,
        },
      ]);
    const tftpFiles = ipxeTftpFiles(machines, args.efiBinary ?? "snponly");
    this.files = new PushedFiles(
      `${name}-files`,
      {
        server: this.server,
        files: [
          {
            path: "/etc/dnsmasq.conf",
            content: renderDnsmasqConf({
              mode,
              interface: "eth0",
              network,
              machines,
              httpBaseUrl: this.httpBaseUrl,
              tftpRoot: layout.tftpRoot,
              ...(args.efiBinary === undefined ? {} : { efiBinary: args.efiBinary }),
              ...(args.hostRecords === undefined ? {} : { hostRecords: args.hostRecords }),
            }),
          },
          {
            path: "/etc/nginx/nginx.conf",
            content: renderInstallHostNginxConf({
              address: args.address,
              network,
              machines,
              layout,
            }),
          },
          {
            path: layout.tlsCertificate,
            content: pulumi.concat(tls.certificatePem, args.rootCa.chainPems.host),
          },
          { path: layout.tlsKey, content: tls.privateKeyPem, mode: "0600" },
          { path: `${layout.configDir}/ca.pem`, content: args.rootCa.rootCertificatePem },
          {
            path: `${layout.configDir}/puppet-ca.pem`,
            content: pulumi.concat(args.rootCa.chainPems.puppet, args.rootCa.rootCertificatePem),
          },
          { path: `${layout.configDir}/netboot.tsv`, content: renderNetbootTable(machines) },
          { path: layout.switchScript, content: renderNetbootSwitchScript(layout), mode: "0755" },
          { path: layout.statusScript, content: renderStatusScript(layout), mode: "0755" },
          { path: `/etc/systemd/system/${NETBOOT_UNITS.path}`, content: units.path },
          { path: `/etc/systemd/system/${NETBOOT_UNITS.service}`, content: units.service },
          { path: `${layout.wwwRoot}/${pxeHttpPaths.defaultScript}`, content: this.defaultScript },
          ...installerFiles,
          ...machineFiles,
        ],
        afterChange: installHostAfterChange(
          tftpFiles,
          args.ipxeDirectory ?? "/usr/lib/ipxe",
          layout,
        ),
      },
      { parent: this },
    );

    // Known in a preview: what the policy pack (policy/) checks. The per-machine outputs
    // (scripts, install configurations, tokens) stay properties only: registered, they would be
    // copied into the state beside the push and the resources that hold them, about 25 KB a
    // machine (docs/adr/0012-state-per-machine.md).
    this.registerOutputs({
      machines: machines.map((m) => m.hostname),
      httpBaseUrl: this.httpBaseUrl,
    });
  }
}
