/**
 * `gentoo-infra site-info`: what `npm run up` prints when the site is up (scripts/site): each
 * server's address and the ssh command that reaches it inside the guests' network namespace,
 * the site's URLs, and the root CA certificate with a curl command to try the binhost. The
 * SSH keys and the CA certificate are written to a key directory. Pure: the files to write are
 * returned, not written.
 */

import path from "node:path";
import { shWord } from "../host/shell";

/** The stack outputs it reads (examples/minimal's and the root program's). */
export interface SiteOutputs {
  readonly servers?: Readonly<
    Record<
      string,
      { readonly address: string; readonly user: string; readonly privateKeyOpenssh: string }
    >
  >;
  readonly urls?: Readonly<Record<string, string>>;
  readonly caCertificatePem?: string;
}

/** Where the site lives and where its keys go. */
export interface SiteInfoOptions {
  /** The directory the keys and the CA certificate are written to. */
  readonly keys: string;
  /** The guests' network namespace. */
  readonly netns: string;
  /** The Pulumi stack. */
  readonly stack: string;
}

/** A file to write: its path, content and mode. */
export interface SiteFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/** The text to print and the files to write. */
export function siteInfo(
  outputs: SiteOutputs,
  options: SiteInfoOptions,
): { readonly text: string; readonly files: readonly SiteFile[] } {
  const { keys, netns, stack } = options;
  const lines = [`\nThe ${stack} site is up. Guests live in the network namespace ${netns}.`];
  const files: SiteFile[] = [];
  for (const [name, s] of Object.entries(outputs.servers ?? {})) {
    const key = path.join(keys, `${stack}-${name}`);
    files.push({ path: key, content: s.privateKeyOpenssh, mode: 0o600 });
    lines.push(
      `  ${name.padEnd(12)} ${s.address.padEnd(16)} ssh: ip netns exec ${shWord(netns)} ssh -i ${shWord(key)} -- ${shWord(`${s.user}@${s.address}`)}`,
    );
  }
  for (const [what, url] of Object.entries(outputs.urls ?? {})) {
    lines.push(`  ${what.padEnd(12)} ${url}`);
  }
  if (outputs.caCertificatePem) {
    const ca = path.join(keys, `${stack}-root-ca.pem`);
    files.push({ path: ca, content: outputs.caCertificatePem, mode: 0o644 });
    lines.push(`  root CA      ${ca}`);
    const binhost = outputs.urls?.binhost ? new URL(outputs.urls.binhost) : undefined;
    const address = outputs.servers?.binhost?.address;
    if (binhost && address) {
      lines.push(
        `  try          ip netns exec ${shWord(netns)} curl --cacert ${shWord(ca)} --resolve ${shWord(`${binhost.hostname}:443:${address}`)} ${shWord(`${binhost.href}crl/`)}`,
      );
    }
  }
  lines.push(
    "Serial consoles: /var/log/libvirt/qemu/<domain>-serial.log; virsh -c qemu:///system list",
    "Take it down with: npm run down",
    "",
  );
  return { text: lines.join("\n"), files };
}
