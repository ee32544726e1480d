/**
 * The preview report (`gentoo-infra preview-report`): `pulumi preview --json` of one or more
 * environments turned into Markdown a reviewer reads in a pull request, in the words of the
 * site rather than of URNs: "builder development/amd64/linux: tree 7dd2473 → 286966b",
 * "machine web2 added", "certificate web1 revoked, host CRL re-signed", "install host:
 * dnsmasq +1 host". Replacements and deletions of things that hold state (VM disks and
 * domains, keys, the package signing key, passphrases, CA certificates, pools, networks) come
 * first, marked; every step is listed, folded, at the end. Pure: no Pulumi, no file system.
 */

/** One step of `pulumi preview --json`, as far as the report reads it. */
export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly oldState?: StepState;
  readonly newState?: StepState;
}

/** A resource's state in a step: its inputs (secrets appear as "[secret]"). */
export interface StepState {
  readonly type?: string;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: Record<string, unknown>;
  /** The resource's provider reference (`<provider URN>::<id>`). */
  readonly provider?: string;
}

/** A `pulumi preview --json` document. */
export interface PreviewJson {
  readonly steps?: readonly PreviewStep[];
}

/** One environment's preview. */
export interface EnvironmentPreview {
  /** The environment (or stack) the preview is of: the report's heading. */
  readonly environment: string;
  readonly preview: PreviewJson;
}

/** What a report says, and whether state is at stake. */
export interface PreviewReport {
  /** Markdown for a pull-request comment. */
  readonly markdown: string;
  /** The replacements and deletions of stateful resources, one line each (empty: none). */
  readonly stateful: readonly string[];
}

/** A change of one resource, steps of a replacement merged. */
interface Change {
  readonly op: "create" | "update" | "replace" | "delete";
  readonly type: string;
  /** The type chain from the top component down to the resource. */
  readonly chain: readonly string[];
  readonly name: string;
  readonly old?: StepState;
  readonly new?: StepState;
}

/** Resource types whose replacement or deletion loses state, and what a reviewer calls them. */
const STATEFUL: Record<string, string> = {
  "libvirt:index/volume:Volume": "disk",
  "libvirt:index/domain:Domain": "VM",
  "libvirt:index/pool:Pool": "storage pool",
  "libvirt:index/network:Network": "network",
  "tls:index/privateKey:PrivateKey": "private key",
  "pulumi-nodejs:dynamic/gentoo-infra:PackageSigningKey": "package signing key",
  "random:index/randomPassword:RandomPassword": "passphrase",
};

/** The components of the library, by type token, as a reviewer calls them (report order). */
const COMPONENTS: readonly (readonly [string, string])[] = [
  ["gentoo-infra:buildfarm:GentooBuildFarm", "Build farm"],
  ["gentoo-infra:binhost:BinhostMirror", "Binhost"],
  ["gentoo-infra:pxe:PxeInstallHost", "Install host"],
  ["gentoo-infra:pki:RootCa", "PKI"],
  ["gentoo-infra:stack:Stack", "Stacks"],
];
const OTHER = "Other resources";

const short = (commit: string) => commit.slice(0, 7);
/** Inline code: a name or path as text, whatever Markdown characters it holds. */
const code = (text: string) => `\`${text.replaceAll("`", "'").replaceAll("|", "\\|")}\``;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The type chain and name of a URN (`urn:pulumi:<stack>::<project>::<types>::<name>`). */
function parseUrn(urn: string): { chain: string[]; name: string } {
  const parts = urn.split("::");
  const name = parts.slice(3).join("::");
  return { chain: (parts[2] ?? "").split("$"), name };
}

/** The steps that change something, a replacement's steps merged into one change. */
function changesOf(steps: readonly PreviewStep[]): Change[] {
  const byUrn = new Map<string, Change>();
  for (const step of steps) {
    const op = opOf(step.op);
    if (op === undefined) continue;
    const { chain, name } = parseUrn(step.urn);
    const type = chain[chain.length - 1] ?? "";
    const before = byUrn.get(step.urn);
    byUrn.set(step.urn, {
      op: before && before.op !== op ? "replace" : op,
      type,
      chain,
      name,
      ...((before?.old ?? step.oldState) ? { old: before?.old ?? step.oldState } : {}),
      ...((step.newState ?? before?.new) ? { new: step.newState ?? before?.new } : {}),
    });
  }
  return [...byUrn.values()];
}

function opOf(op: string): Change["op"] | undefined {
  switch (op) {
    case "create":
    case "update":
    case "delete":
      return op;
    case "replace":
    case "create-replacement":
    case "delete-replaced":
      return "replace";
    default:
      // same, read (a StackReference is read on every run), refresh, discard: no change.
      return undefined;
  }
}

/**
 * The hypervisor a libvirt resource is on: the name of its provider, which is its Hypervisor's
 * (lib/libvirt/hypervisor.ts), from `urn:…$pulumi:providers:libvirt::<name>::<id>`.
 */
function hypervisorOf(state: StepState | undefined): string | undefined {
  return /\$pulumi:providers:libvirt::([^:]+)::/.exec(state?.provider ?? "")?.[1];
}

/** The type of a push (lib/host/file-push.ts): one resource per PushedFiles. */
const FILE_PUSH = "pulumi-nodejs:dynamic/gentoo-infra:FilePush";

/** A file of a push that changes: its destination, its text before and after when known. */
interface FileChange {
  /** The push (a PushedFiles' name, e.g. `pxe-files`). */
  readonly push: string;
  readonly path: string;
  readonly op: "create" | "update" | "delete";
  /** The push's change, for its group. */
  readonly change: Change;
  readonly before?: string;
  readonly after?: string;
}

type Manifest = Record<string, { hash?: unknown; mode?: unknown; owner?: unknown }>;

/**
 * A push's files in a state (destination → fingerprint, mode, owner), or none: in the old
 * state what the server has (the outputs: as last pushed, or as a refresh found them), in the
 * new state what the program wants (the inputs).
 */
function manifestOf(state: StepState | undefined, side: "outputs" | "inputs"): Manifest {
  const files = state?.[side]?.files ?? state?.inputs?.files;
  return files && typeof files === "object" ? (files as Manifest) : {};
}

/** The text of a pushed file in a state, or undefined (secret, sent from a local file). */
function textOf(state: StepState | undefined, path: string): string | undefined {
  const contents = state?.inputs?.contents as Record<string, unknown> | undefined;
  const text = contents?.[path];
  return typeof text === "string" && text !== "[secret]" ? text : undefined;
}

/**
 * The files that change in the pushes' changes: added, removed, or with another fingerprint,
 * mode or owner. A push to a replaced VM sends every file again, but only these change.
 */
function fileChanges(changes: readonly Change[]): FileChange[] {
  const out: FileChange[] = [];
  for (const c of changes) {
    if (c.type !== FILE_PUSH) continue;
    const before = c.op === "create" ? {} : manifestOf(c.old, "outputs");
    const after = c.op === "delete" ? {} : manifestOf(c.new, "inputs");
    const push = c.name;
    for (const path of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(
      compare,
    )) {
      const was = before[path];
      const is = after[path];
      const op = was === undefined ? "create" : is === undefined ? "delete" : "update";
      if (op === "update" && JSON.stringify(was) === JSON.stringify(is)) continue;
      const beforeText = textOf(c.old, path);
      const afterText = textOf(c.new, path);
      out.push({
        push,
        path,
        op,
        change: c,
        ...(beforeText === undefined ? {} : { before: beforeText }),
        ...(afterText === undefined ? {} : { after: afterText }),
      });
    }
  }
  return out;
}

/** `KEY="value"` lines of a shell-sourced file (the builders' tree-snapshot file). */
function assignments(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (text ?? "").matchAll(/^([A-Z_]+)="([^"\n]*)"$/gm)) {
    if (m[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** dnsmasq's `dhcp-host=` lines: MAC (lower case) → hostname. */
function dhcpHosts(text: string | undefined): Map<string, string> {
  const hosts = new Map<string, string>();
  for (const m of (text ?? "").matchAll(
    /^dhcp-host=([0-9a-f:]{17}),(?:[^,\n]*,)*?([a-z0-9-]+),[^,\n]*$/gim,
  )) {
    if (m[1] !== undefined && m[2] !== undefined) hosts.set(m[1].toLowerCase(), m[2]);
  }
  return hosts;
}

/** A certificate's name for a reviewer: its first DNS name, e-mail or resource name. */
function certificateName(c: Change): string {
  const inputs = (c.new ?? c.old)?.inputs ?? {};
  const first = (key: string) => {
    const list = inputs[key];
    return Array.isArray(list) && typeof list[0] === "string" ? list[0] : undefined;
  };
  return first("dnsNames") ?? first("emailAddresses") ?? c.name.replace(/-cert$/, "");
}

const VERB: Record<Change["op"], string> = {
  create: "added",
  update: "changed",
  replace: "replaced",
  delete: "deleted",
};

/** What the report says of one environment's changes: lines per group, stateful first. */
interface Described {
  readonly stateful: string[];
  readonly groups: Map<string, string[]>;
}

function describe(unordered: readonly Change[]): Described {
  // The engine reports steps in the order they finish, which varies from run to run: the same
  // preview must give the same report, so changes are taken by name and type.
  const changes = [...unordered].sort((a, b) =>
    compare(`${a.name}\0${a.type}`, `${b.name}\0${b.type}`),
  );
  const stateful: string[] = [];
  const groups = new Map<string, string[]>();
  const say = (group: string, line: string) => {
    const lines = groups.get(group) ?? [];
    if (!lines.includes(line)) lines.push(line);
    groups.set(group, lines);
  };
  const groupOf = (c: Change) => COMPONENTS.find(([type]) => c.chain[0] === type)?.[1] ?? OTHER;
  const told = new Set<Change | FileChange>();
  const tell = (c: Change | FileChange, group: string, line: string) => {
    told.add(c);
    say(group, line);
  };
  const files = fileChanges(changes);

  // Stateful replacements and deletions, whatever else is said of them.
  for (const c of changes) {
    const what = STATEFUL[c.type] ?? (isCaCertificate(c) ? "CA certificate" : undefined);
    if (what && (c.op === "replace" || c.op === "delete")) {
      stateful.push(`**${c.op}** ${what} ${code(c.name)} (${groupOf(c)})`);
    }
  }

  // VMs that move to another hypervisor: their libvirt provider is the Hypervisor's, by name.
  for (const c of changes) {
    if (c.type !== "libvirt:index/domain:Domain" || c.op !== "replace") continue;
    const [from, to] = [hypervisorOf(c.old), hypervisorOf(c.new)];
    if (!from || !to || from === to) continue;
    const builder = /-(development|staging|production)-(amd64|arm64|x86)-(.+)$/.exec(c.name);
    const what =
      builder && c.chain[0] === "gentoo-infra:buildfarm:GentooBuildFarm"
        ? `builder ${builder[1]}/${builder[2]}/${builder[3]}`
        : `VM ${code(c.name)}`;
    tell(c, groupOf(c), `${what} moves: hypervisor ${from} → ${to}`);
  }

  // Builders: the tree snapshot they build.
  for (const f of files) {
    const m = /-(development|staging|production)-(amd64|arm64|x86)-(.+)-files$/.exec(f.push);
    if (!m || f.path !== "/etc/gentoo-infra/tree-snapshot") continue;
    const before = assignments(f.before);
    const after = assignments(f.after);
    const moves = (["GENTOO", "OVERLAY"] as const).flatMap((repo) => {
      const from = before[`GI_${repo}_COMMIT`];
      const to = after[`GI_${repo}_COMMIT`];
      const label = repo === "GENTOO" ? "tree" : "overlay";
      if (f.op === "create" && to) return [`${label} ${short(to)}`];
      return from && to && from !== to ? [`${label} ${short(from)} → ${short(to)}`] : [];
    });
    const profile = `${m[1]}/${m[2]}/${m[3]}`;
    tell(
      f,
      groupOf(f.change),
      f.op === "delete"
        ? `builder ${profile} removed`
        : `builder ${profile}${f.op === "create" ? " added" : ""}: ${moves.join(", ") || "tree snapshot file rewritten"}`,
    );
  }

  // The binhost's git: the commits it serves.
  for (const c of changes) {
    const m = /-git-([a-z0-9-]+)$/.exec(c.name);
    if (
      !m ||
      c.chain[0] !== "gentoo-infra:binhost:BinhostMirror" ||
      c.type !== "command:local:Command"
    )
      continue;
    const served = (s: StepState | undefined) => {
      const triggers = s?.inputs?.triggers;
      const ref = Array.isArray(triggers)
        ? triggers.find((t): t is string => typeof t === "string" && / refs\/heads\//.test(t))
        : undefined;
      const [commit, head] = ref?.split(" ") ?? [];
      return commit && head ? { commit, branch: head.replace("refs/heads/", "") } : undefined;
    };
    const from = served(c.old);
    const to = served(c.new);
    if (to && (!from || from.commit !== to.commit)) {
      tell(
        c,
        groupOf(c),
        `serves ${m[1]} at ${short(to.commit)} (${to.branch})${from ? `, was ${short(from.commit)}` : ""}`,
      );
    }
  }

  // The install host: machines by MAC, dnsmasq's hosts.
  const dnsmasq = files.find((f) => f.path === "/etc/dnsmasq.conf");
  const hostsBefore = dhcpHosts(dnsmasq?.before);
  const hostsAfter = dhcpHosts(dnsmasq?.after);
  for (const f of files) {
    const m = /\/machines\/((?:[0-9a-f]{2}-){5}[0-9a-f]{2})\/install\.json$/.exec(f.path);
    if (!m?.[1]) continue;
    const mac = m[1].replaceAll("-", ":");
    const hostname = hostsAfter.get(mac) ?? hostsBefore.get(mac);
    const what = f.op === "update" ? "install configuration changed" : VERB[f.op];
    tell(f, groupOf(f.change), `machine ${hostname ? `${hostname} (${mac})` : mac} ${what}`);
  }
  if (dnsmasq && dnsmasq.op === "update") {
    const added = [...hostsAfter.keys()].filter((mac) => !hostsBefore.has(mac)).length;
    const removed = [...hostsBefore.keys()].filter((mac) => !hostsAfter.has(mac)).length;
    const counts = [
      added ? `+${plural(added, "host")}` : "",
      removed ? `-${plural(removed, "host")}` : "",
    ];
    tell(
      dnsmasq,
      groupOf(dnsmasq.change),
      `dnsmasq: ${counts.filter(Boolean).join(", ") || "configuration changed, same hosts"}`,
    );
  }

  // Certificates and CRLs.
  for (const c of changes) {
    if (c.type === "pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate") {
      const verb = { create: "issued", update: "changed", replace: "re-issued", delete: "dropped" }[
        c.op
      ];
      // A machine's certificates: <host>-<hostname>-host-cert, …-puppet-cert.
      const kind = /-(host|puppet)-cert$/.exec(c.name)?.[1];
      tell(c, groupOf(c), `${kind ? `${kind} ` : ""}certificate ${certificateName(c)} ${verb}`);
    } else if (c.type === "pulumi-nodejs:dynamic/gentoo-infra:SignedCrl") {
      const serials = (s: StepState | undefined) =>
        new Map(
          (Array.isArray(s?.inputs?.revocations) ? s.inputs.revocations : [])
            .filter(
              (r): r is { serialNumber: string; reason?: string; certificate?: string } =>
                typeof (r as { serialNumber?: unknown })?.serialNumber === "string",
            )
            .map((r) => [r.serialNumber, r]),
        );
      const before = serials(c.old);
      const revoked = [...serials(c.new).values()].filter((r) => !before.has(r.serialNumber));
      // <rootca>-<kind>-crl-crl: the host CRL, the level1 CRL, …
      const label = c.name
        .replace(/-crl-crl$/, "")
        .split("-")
        .pop();
      const lines = revoked.map(
        (r) =>
          `certificate ${r.certificate ?? `serial ${r.serialNumber.slice(0, 12)}…`} revoked${r.reason ? ` (${r.reason})` : ""}`,
      );
      tell(
        c,
        groupOf(c),
        `${lines.length ? `${lines.join(", ")}; ` : ""}${label} CRL ${c.op === "create" ? "created" : "re-signed"}`,
      );
    }
  }

  // VMs.
  for (const c of changes) {
    if (c.type !== "libvirt:index/domain:Domain" || told.has(c)) continue;
    tell(c, groupOf(c), `VM ${c.name} ${VERB[c.op]}`);
  }

  // Everything else: pushed files by push and destination, then the other resources by type
  // (components are containers: what they hold is said).
  const rest = new Map<string, { group: string; what: string; names: string[] }>();
  const add = (group: string, what: string, name: string) => {
    const key = `${group}\0${what}`;
    const entry = rest.get(key) ?? { group, what, names: [] };
    entry.names.push(name);
    rest.set(key, entry);
  };
  for (const f of files) {
    if (told.has(f)) continue;
    add(groupOf(f.change), `${f.push.replace(/-files$/, "")}: files ${VERB[f.op]}`, f.path);
  }
  for (const c of changes) {
    if (c.type === FILE_PUSH) {
      // A push is said by its files; one whose files stay, by its command if that changed
      // (a push to a replaced VM, by the VM).
      const command = (s: StepState | undefined) => s?.inputs?.afterChange ?? "";
      if (c.op === "update" && !files.some((f) => f.change === c)) {
        const push = c.name.replace(/-files$/, "");
        if (command(c.old) !== command(c.new)) {
          add(groupOf(c), `${push}: command after a change changed`, c.name);
        } else if (c.old?.outputs !== undefined && c.old.outputs.connection === undefined) {
          // Once, after the upgrade that lets refresh read pushed files (adr/0011).
          add(groupOf(c), `${push}: connection kept for refresh, nothing sent`, c.name);
        }
      }
      continue;
    }
    if (told.has(c) || c.type.startsWith("gentoo-infra:")) continue;
    add(groupOf(c), `${shortType(c.type)} ${VERB[c.op]}`, c.name);
  }
  // Other resources by type, then pushed files, each in the order of its words.
  const isFiles = (what: string) => what.includes(": files ");
  const entries = [...rest.values()].sort(
    (a, b) => Number(isFiles(a.what)) - Number(isFiles(b.what)) || compare(a.what, b.what),
  );
  for (const { group, what, names } of entries) {
    say(group, `${what}: ${names.sort().map(code).join(", ")}`);
  }
  return { stateful, groups };
}

/** A certificate of a CA (a SignedCertificate below a CertificateAuthority). */
function isCaCertificate(c: Change): boolean {
  return (
    c.type === "pulumi-nodejs:dynamic/gentoo-infra:SignedCertificate" &&
    c.chain.includes("gentoo-infra:pki:CertificateAuthority")
  );
}

/** A byte-order comparison, the same in every locale. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `tls:index/privateKey:PrivateKey` → `PrivateKey`. */
const shortType = (type: string) => type.split(":").pop() ?? type;

/** The report of one or more environments' previews. */
export function previewReport(previews: readonly EnvironmentPreview[]): PreviewReport {
  const out: string[] = [];
  const allStateful: string[] = [];
  for (const { environment, preview } of previews) {
    const changes = changesOf(preview.steps ?? []);
    if (changes.length === 0) {
      out.push(`## ${environment}: no change`, "");
      continue;
    }
    const { stateful, groups } = describe(changes);
    const verb = changes.length === 1 ? "changes" : "change";
    out.push(`## ${environment}: ${plural(changes.length, "resource")} ${verb}`, "");
    if (stateful.length > 0) {
      out.push(
        "### ⚠ Replaced or deleted, with their state",
        "",
        ...stateful.map((s) => `- ${s}`),
        "",
      );
      allStateful.push(...stateful.map((s) => `${environment}: ${s}`));
    }
    for (const group of [...COMPONENTS.map(([, g]) => g), OTHER]) {
      const lines = groups.get(group);
      if (!lines?.length) continue;
      out.push(`### ${group}`, "", ...lines.map((l) => `- ${l}`), "");
    }
    out.push(
      `<details><summary>Every change (${changes.length})</summary>`,
      "",
      "| change | type | name |",
      "|---|---|---|",
      ...changes.map((c) => `| ${c.op} | ${code(c.type)} | ${code(c.name)} |`).sort(),
      "",
      "</details>",
      "",
    );
  }
  return { markdown: out.join("\n"), stateful: allStateful };
}
