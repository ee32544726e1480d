/**
 * The checks of gentoo-infra's policy pack (index.ts), as pure functions over what a preview
 * shows a policy: each resource's type, URN, name, parent and properties (a component's
 * registered outputs, a custom resource's inputs), with Pulumi's unknown-value sentinels kept and
 * the paths of secret values listed. No import of @pulumi/*: test/unit/policy-checks.test.ts
 * runs them on plain data, test/engine/policy.test.ts through the real engine.
 *
 * The components register plain outputs for these checks (RootCa: intermediate, rootMode,
 * subCaDns; Certificate: kind, subjectDn, issuerDn; PxeInstallHost: machines; BinhostMirror:
 * http, certificate; GentooBuildFarm: builders[].environment/stack/snapshot; Stack:
 * treeSnapshots). docs/pull-requests.md, "Policies", says what each guards.
 */

/** One resource as a policy sees it. */
export interface CheckedResource {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  /** The parent's URN, if any. */
  readonly parent?: string | undefined;
  /** Inputs (custom resources) or registered outputs (components); unknowns as sentinels. */
  readonly props: Readonly<Record<string, unknown>>;
  /** Dotted paths of the values in `props` that are secrets ("privateKeyPems", "a.b"). */
  readonly secretPaths: ReadonlySet<string>;
}

/** One violation: a message and the resource it is about. */
export interface Violation {
  readonly message: string;
  readonly urn?: string;
}

/** The resource types the checks read. */
export const TYPES = {
  stack: "pulumi:pulumi:Stack",
  rootCa: "gentoo-infra:pki:RootCa",
  rootAuthority: "gentoo-infra:pki:RootAuthority",
  certificate: "gentoo-infra:pki:Certificate",
  pxeInstallHost: "gentoo-infra:pxe:PxeInstallHost",
  binhostMirror: "gentoo-infra:binhost:BinhostMirror",
  buildFarm: "gentoo-infra:buildfarm:GentooBuildFarm",
  gentooStack: "gentoo-infra:stack:Stack",
} as const;

/** The environments whose root CA must be offline. */
export const GUARDED_ENVIRONMENTS: readonly string[] = ["staging", "production"];
const ENVIRONMENTS = ["development", "staging", "production"];

/** Whether `value` is one of Pulumi's unknown-value sentinels (a preview's "[unknown]"). */
export function isUnknown(value: unknown): boolean {
  return typeof value === "string" && UNKNOWN_SENTINELS.has(value);
}
const UNKNOWN_SENTINELS = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** The Pulumi stack name in a URN (`urn:pulumi:<stack>::<project>::…`). */
export function stackNameOf(urn: string): string | undefined {
  return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" && !isUnknown(v) ? v : undefined;
const record = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
const ofType = (resources: readonly CheckedResource[], type: string) =>
  resources.filter((r) => r.type === type);

/**
 * The environment of a RootCa: its stack's name when that names an environment (examples/site
 * picks the environment by stack name), else its `intermediate`.
 */
function environmentsOf(rootCa: CheckedResource): string[] {
  return [stackNameOf(rootCa.urn), str(rootCa.props.intermediate)].filter(
    (e): e is string => e !== undefined && ENVIRONMENTS.includes(e),
  );
}

/**
 * Mandatory: in staging and production a RootCa takes its root and level 1 from the offline
 * root stack (root mode "offline"); no root CA (RootAuthority) is created beside it.
 */
export function rootCaOffline(resources: readonly CheckedResource[]): Violation[] {
  const out: Violation[] = [];
  const rootCas = ofType(resources, TYPES.rootCa);
  const guarded = rootCas.flatMap((ca) =>
    environmentsOf(ca).filter((e) => GUARDED_ENVIRONMENTS.includes(e)),
  );
  for (const ca of rootCas) {
    const env = environmentsOf(ca).find((e) => GUARDED_ENVIRONMENTS.includes(e));
    if (env && ca.props.rootMode === "in-stack") {
      out.push({
        urn: ca.urn,
        message: `RootCa "${ca.name}" creates its root CA in this ${env} stack (root mode "in-stack"): in staging and production the root is offline, in its own stack (examples/pki-root); give root: { mode: "offline", ... } from a StackReference to it`,
      });
    }
  }
  if (guarded.length > 0) {
    for (const root of ofType(resources, TYPES.rootAuthority)) {
      if (root.parent && rootCas.some((ca) => ca.urn === root.parent)) continue; // reported above
      out.push({
        urn: root.urn,
        message: `RootAuthority "${root.name}" creates a root CA in a ${guarded[0]} stack: the offline root belongs in its own stack (examples/pki-root)`,
      });
    }
  }
  return out;
}

/** Advisory: a RootCa that creates its root in the stack (a development shortcut). */
export function rootCaInStack(resources: readonly CheckedResource[]): Violation[] {
  return ofType(resources, TYPES.rootCa)
    .filter((ca) => ca.props.rootMode === "in-stack")
    .filter((ca) => !environmentsOf(ca).some((e) => GUARDED_ENVIRONMENTS.includes(e)))
    .map((ca) => ({
      urn: ca.urn,
      message: `RootCa "${ca.name}" creates its root CA in this stack: its private key is in this stack's state. Fine for development; staging and production refuse it`,
    }));
}

/** The host sub-CA DNs of the stack's RootCas (the site's CA). */
function hostCaDns(resources: readonly CheckedResource[]): Set<string> {
  return new Set(
    ofType(resources, TYPES.rootCa)
      .map((ca) => str(record(ca.props.subCaDns)?.host))
      .filter((dn): dn is string => dn !== undefined),
  );
}

/**
 * What is wrong with `cert` as a host certificate of the site's CA (`hostCas`), or undefined.
 * An issuer that is unknown in the preview is not judged.
 */
function hostCertificateProblem(
  cert: CheckedResource | undefined,
  hostCas: ReadonlySet<string>,
): string | undefined {
  if (!cert) return "has no host certificate";
  if (cert.type !== TYPES.certificate) return `has ${cert.type} ${cert.name}, not a Certificate`;
  if (cert.props.kind !== "host")
    return `has a ${String(cert.props.kind)} certificate, not kind host`;
  const issuer = cert.props.issuerDn;
  if (isUnknown(issuer)) return undefined;
  if (typeof issuer !== "string") return "has a certificate that names no issuer";
  if (hostCas.size === 0) return "has a certificate, but this stack has no RootCa";
  if (!hostCas.has(issuer)) {
    return `has a certificate issued by "${issuer}", not by the site's host CA (${[...hostCas].join(", ")})`;
  }
  return undefined;
}

/** Mandatory: every PXE machine has a host certificate from the host sub-CA of the site's RootCa. */
export function pxeHostCertificates(resources: readonly CheckedResource[]): Violation[] {
  const hostCas = hostCaDns(resources);
  const out: Violation[] = [];
  for (const pxe of ofType(resources, TYPES.pxeInstallHost)) {
    const machines = pxe.props.machines;
    if (!Array.isArray(machines)) continue;
    for (const hostname of machines.filter((m): m is string => str(m) !== undefined)) {
      const cert = resources.find(
        (r) => r.parent === pxe.urn && r.name === `${pxe.name}-${hostname}-host`,
      );
      const problem = hostCertificateProblem(cert, hostCas);
      if (problem) {
        out.push({
          urn: cert?.urn ?? pxe.urn,
          message: `PxeInstallHost "${pxe.name}" machine ${hostname} ${problem}`,
        });
      }
    }
  }
  return out;
}

/** Matches output names that hold keys or passwords. */
const SECRET_NAME = /private.?key|passphrase|password|token/i;
/** Matches values that are private keys (PEM, OpenSSH, OpenPGP). */
const SECRET_VALUE = /-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----/;

/**
 * Mandatory: no stack output that is a private key or passphrase (by its name or its value)
 * is plain: it must be a secret (`pulumi.secret`, or an output the provider marks secret).
 */
export function noPlainSecretOutputs(resources: readonly CheckedResource[]): Violation[] {
  const out: Violation[] = [];
  for (const stack of ofType(resources, TYPES.stack).filter((s) => !s.parent)) {
    const walk = (value: unknown, path: string[]): void => {
      const dotted = path.join(".");
      if (path.length > 0 && stack.secretPaths.has(dotted)) return;
      const named = path.some((p) => SECRET_NAME.test(p));
      if (typeof value === "string") {
        // An unknown value's secretness does not reach the pack (the SDK sends an unknown secret
        // as a plain unknown): it is judged in the first preview that knows it (after an up).
        if (isUnknown(value)) return;
        if (path.length > 0 && (SECRET_VALUE.test(value) || (named && value !== ""))) {
          const what = SECRET_VALUE.test(value)
            ? "holds a private key"
            : "is named like a key or passphrase";
          out.push({
            urn: stack.urn,
            message: `stack output ${dotted} ${what} and is not a secret: wrap it in pulumi.secret() (or export the public part only)`,
          });
        }
        return;
      }
      const entries = Array.isArray(value)
        ? value.map((v, i) => [String(i), v] as const)
        : Object.entries(record(value) ?? {});
      for (const [k, v] of entries) walk(v, [...path, k]);
    };
    walk(stack.props, []);
  }
  return out;
}

/**
 * Mandatory: the binhost answers HTTPS only (port 80 serves CRLs and redirects, or is off) with a
 * host certificate of the site's CA.
 */
export function binhostHttps(resources: readonly CheckedResource[]): Violation[] {
  const hostCas = hostCaDns(resources);
  const out: Violation[] = [];
  for (const b of ofType(resources, TYPES.binhostMirror)) {
    const url = str(b.props.url);
    if (url !== undefined && !url.startsWith("https://")) {
      out.push({ urn: b.urn, message: `BinhostMirror "${b.name}" serves ${url}, not https://` });
    }
    const http = str(b.props.http);
    if (http !== undefined && http !== "redirect" && http !== "off") {
      out.push({
        urn: b.urn,
        message: `BinhostMirror "${b.name}" answers plain HTTP (http: "${http}"): only "redirect" (CRLs, and a redirect to HTTPS) or "off"`,
      });
    }
    const certUrn = str(b.props.certificate);
    if (b.props.certificate !== undefined && !isUnknown(b.props.certificate)) {
      const problem = hostCertificateProblem(
        resources.find((r) => r.urn === certUrn),
        hostCas,
      );
      if (problem) out.push({ urn: b.urn, message: `BinhostMirror "${b.name}" ${problem}` });
    } else if (b.props.certificate === undefined) {
      out.push({ urn: b.urn, message: `BinhostMirror "${b.name}" has no TLS certificate` });
    }
  }
  return out;
}

/**
 * Mandatory: every builder builds its environment's tree snapshot: the commits the farm gives it
 * equal its Stack's treeSnapshots for that environment (where both are known in the preview).
 */
export function builderSnapshots(resources: readonly CheckedResource[]): Violation[] {
  const out: Violation[] = [];
  for (const farm of ofType(resources, TYPES.buildFarm)) {
    for (const [label, value] of Object.entries(record(farm.props.builders) ?? {})) {
      const b = record(value);
      const env = str(b?.environment);
      const stack = resources.find((r) => r.urn === str(b?.stack));
      const have = record(b?.snapshot);
      if (!env || !stack || !have) continue;
      const want = record(record(stack.props.treeSnapshots)?.[env]);
      if (!want) {
        out.push({
          urn: farm.urn,
          message: `GentooBuildFarm "${farm.name}" builder ${label}: Stack "${stack.name}" has no tree snapshot for ${env}`,
        });
        continue;
      }
      for (const repo of ["gentoo", "overlay"]) {
        const [h, w] = [str(have[repo]), str(want[repo])];
        if (h !== undefined && w !== undefined && h !== w) {
          out.push({
            urn: farm.urn,
            message: `GentooBuildFarm "${farm.name}" builder ${label} builds ${repo} ${h}, but Stack "${stack.name}" has ${w} for ${env}: pass the same readTreeSnapshot() result to both`,
          });
        }
      }
    }
  }
  return out;
}

/**
 * Advisory: one RootCa per stack. With more, "the site's CA" is ambiguous and the mandatory
 * checks accept a certificate from any of them.
 */
export function oneRootCa(resources: readonly CheckedResource[]): Violation[] {
  const cas = ofType(resources, TYPES.rootCa);
  if (cas.length < 2) return [];
  return [
    {
      message: `this stack has ${cas.length} RootCas (${cas.map((c) => c.name).join(", ")}): a site has one; host certificates from any of them pass the certificate policies`,
    },
  ];
}
