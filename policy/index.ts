/**
 * gentoo-infra's policy pack (CrossGuard): what a pull request's preview must not bring into an
 * environment. Run it with the real engine:
 *
 *   pulumi preview --policy-pack policy        (from the repository root; see docs/pull-requests.md)
 *
 * The checks are pure functions in checks.ts; this file hands them what the engine shows a stack
 * policy, and the secretness of each value, which @pulumi/policy 1.21.0 unwraps before a policy
 * sees it (see secretPathsOf below).
 */
import {
  type EnforcementLevel,
  PolicyPack,
  type PolicyResource,
  type StackValidationPolicy,
} from "@pulumi/policy";
import {
  binhostHttps,
  builderSnapshots,
  type CheckedResource,
  noPlainSecretOutputs,
  oneRootCa,
  pxeHostCertificates,
  rootCaInStack,
  rootCaOffline,
  type Violation,
} from "./checks";

// @pulumi/policy hands policies plain values: a secret arrives as its value. To tell a plain
// output from a secret one, record the secret paths of every property set as it is deserialized
// (the module object is what the pack's server calls, so wrapping its export reaches every call).
// Pinned to @pulumi/policy 1.21.0 (package.json); test/engine/policy.test.ts fails if it stops working.
const deserialize = require("@pulumi/policy/deserialize") as {
  deserializeProperties: (struct: { toJavaScript(): unknown }, proxySecrets: boolean) => object;
};
const SECRET_SIG = [
  "4dabf18193072939515e22adb298388d",
  "1b47061264138c4ac30d75fd1eb44270",
] as const;
const secretPaths = new WeakMap<object, Set<string>>();
const original = deserialize.deserializeProperties;
deserialize.deserializeProperties = (struct, proxySecrets) => {
  const result = original(struct, proxySecrets);
  secretPathsOf(struct.toJavaScript(), [], secretPaths.get(result) ?? new Set<string>(), result);
  return result;
};

/** Adds to `paths` the dotted path of every secret in the raw property value `raw`. */
function secretPathsOf(raw: unknown, path: string[], paths: Set<string>, key: object): void {
  if (raw === null || typeof raw !== "object") return;
  const o = raw as Record<string, unknown>;
  if (o[SECRET_SIG[0]] === SECRET_SIG[1]) {
    paths.add(path.join("."));
    secretPaths.set(key, paths);
    return;
  }
  for (const [k, v] of Object.entries(o)) secretPathsOf(v, [...path, k], paths, key);
}

/** The deserialized properties behind @pulumi/policy's unknown-checking proxy. */
function rawProps(props: object): Record<string, unknown> {
  const target = (props as Record<string, unknown>).__getSpecialProxyTarget;
  return (target ?? props) as Record<string, unknown>;
}

function checked(r: PolicyResource): CheckedResource {
  const props = rawProps(r.props);
  return {
    type: r.type,
    urn: r.urn,
    name: r.name,
    parent: r.parent?.urn,
    props,
    secretPaths: secretPaths.get(props) ?? new Set(),
  };
}

/** A stack policy from a check. */
function policy(
  name: string,
  enforcementLevel: EnforcementLevel,
  description: string,
  check: (resources: readonly CheckedResource[]) => Violation[],
): StackValidationPolicy {
  return {
    name,
    description,
    enforcementLevel,
    validateStack: (args, reportViolation) => {
      for (const v of check(args.resources.map(checked))) reportViolation(v.message, v.urn);
    },
  };
}

new PolicyPack("gentoo-infra", {
  policies: [
    policy(
      "root-ca-offline",
      "mandatory",
      "In staging and production the root CA is not created in the stack: RootCa takes it from the offline root stack (examples/pki-root).",
      rootCaOffline,
    ),
    policy(
      "pxe-host-certificates",
      "mandatory",
      "Every PXE machine has a host certificate from the host sub-CA of the site's RootCa.",
      pxeHostCertificates,
    ),
    policy(
      "no-plain-secret-outputs",
      "mandatory",
      "No private key or passphrase in a plain (non-secret) stack output.",
      noPlainSecretOutputs,
    ),
    policy(
      "binhost-https",
      "mandatory",
      "The binhost answers HTTPS only (port 80: CRLs and a redirect, or off), with a host certificate of the site's CA.",
      binhostHttps,
    ),
    policy(
      "builder-snapshots",
      "mandatory",
      "Every builder builds its environment's tree snapshot: the farm's commits equal its Stack's treeSnapshots.",
      builderSnapshots,
    ),
    policy(
      "root-ca-in-stack",
      "advisory",
      "A root CA created in the stack keeps its private key in the stack's state: a development shortcut.",
      rootCaInStack,
    ),
    policy(
      "one-root-ca",
      "advisory",
      "One RootCa per stack: with more, the certificate policies accept any of them as the site's CA.",
      oneRootCa,
    ),
  ],
});
