/**
 * Pure means pure (docs/adr/0008-pure-modules.md): a module under lib/ that renders,
 * validates, plans or computes does not load `@pulumi/pulumi` or a provider SDK at runtime,
 * directly or through another module. Only the modules that define resources do.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const ROOT = path.resolve(__dirname, "../..");

/**
 * The modules that define resources (components, dynamic providers) and the Pulumi-side
 * wrapper of validation: the only ones that may load a `@pulumi/*` package. Exact: a module
 * that no longer loads Pulumi leaves the list.
 */
const RESOURCE_MODULES = [
  "lib/binhost/binhost-mirror.ts",
  "lib/buildfarm/gentoo-build-farm.ts",
  "lib/host/file-push.ts",
  "lib/host/pushed-files.ts",
  "lib/host/server.ts",
  "lib/libvirt/hypervisor-check.ts",
  "lib/libvirt/hypervisor.ts",
  "lib/libvirt/network.ts",
  "lib/libvirt/virtual-machine.ts",
  "lib/pki/certificate-authority.ts",
  "lib/pki/certificate.ts",
  "lib/pki/package-signing-key.ts",
  "lib/pki/revocation-list.ts",
  "lib/pki/root-authority.ts",
  "lib/pki/root-ca.ts",
  "lib/pki/signed-certificate.ts",
  "lib/pki/signed-crl.ts",
  "lib/pxe/pxe-install-host.ts",
  "lib/stack/stack.ts",
  "lib/validation/resource-error.ts",
];

/**
 * Not loaded: the barrels (`index.ts`, exports only: each loads what it re-exports, and
 * lib/index.ts is the library with its components) and lib/cli/main.ts, which runs the CLI
 * when loaded and imports only ./run, which is loaded.
 */
function checkedModules(dir = path.join(ROOT, "lib")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return checkedModules(full);
    if (!e.name.endsWith(".ts") || e.name === "index.ts") return [];
    const rel = path.relative(ROOT, full).split(path.sep).join("/");
    return rel === "lib/cli/main.ts" ? [] : [rel];
  });
}

/** Each module's chain to a @pulumi package (null for none), from a fresh Node process. */
function pulumiChains(modules: readonly string[]): Record<string, string[] | null> {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "test/support/pulumi-loads.ts", ...modules],
    { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

describe("pure modules", () => {
  it("only the resource modules under lib/ load a @pulumi package at runtime", () => {
    const modules = checkedModules();
    const chains = pulumiChains(modules);
    const loaders = modules.filter((m) => chains[m] !== null);
    const impure = loaders
      .filter((m) => !RESOURCE_MODULES.includes(m))
      .map((m) => `${m} -> ${chains[m]?.join(" -> ")}`);
    assert.deepEqual(
      impure,
      [],
      "a pure module must not load Pulumi: import the pure module (not a barrel or a component), or use `import type`",
    );
    assert.deepEqual(loaders.sort(), [...RESOURCE_MODULES].sort());
  });
});
