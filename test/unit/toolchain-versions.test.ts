/**
 * toolchain/versions.env is the one place where the Pulumi toolchain's versions change
 * (docs/toolchain.md): package.json and the Go wrapper modules must agree with it. This reads
 * files only; test/engine/pulumi-cli.test.ts checks the built binaries.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

const root = path.resolve(__dirname, "../..");
const read = (file: string): string => readFileSync(path.join(root, file), "utf8");

/** KEY=VALUE lines of a shell env file, comments and blank lines skipped. */
function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** The version a go.mod requires of `module` (direct or indirect). */
function goRequire(goMod: string, module: string): string | undefined {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(goMod)?.[1];
}

const versions = parseEnv(read("toolchain/versions.env"));
const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };

describe("toolchain versions", () => {
  it("pins exactly the CLI and the four provider plugins", () => {
    assert.deepEqual(Object.keys(versions).sort(), [
      "COMMAND_VERSION",
      "LIBVIRT_VERSION",
      "PULUMI_VERSION",
      "RANDOM_VERSION",
      "TLS_VERSION",
    ]);
  });

  it("pins package.json's Node SDKs at the versions of versions.env", () => {
    assert.deepEqual(
      {
        "@pulumi/pulumi": pkg.dependencies["@pulumi/pulumi"],
        "@pulumi/tls": pkg.dependencies["@pulumi/tls"],
        "@pulumi/random": pkg.dependencies["@pulumi/random"],
        "@pulumi/command": pkg.dependencies["@pulumi/command"],
      },
      {
        "@pulumi/pulumi": versions.PULUMI_VERSION,
        "@pulumi/tls": versions.TLS_VERSION,
        "@pulumi/random": versions.RANDOM_VERSION,
        "@pulumi/command": versions.COMMAND_VERSION,
      },
    );
  });

  it("keeps @pulumi/libvirt out of package.json (npm here answers 404; setup provides it)", () => {
    assert.equal(pkg.dependencies["@pulumi/libvirt"], undefined);
  });

  it("builds the CLI and its SDK generator from pkg/v3 at PULUMI_VERSION", () => {
    const goMod = read("toolchain/cli/go.mod");
    assert.equal(
      goRequire(goMod, "github.com/pulumi/pulumi/pkg/v3"),
      `v${versions.PULUMI_VERSION}`,
    );
    assert.equal(
      goRequire(goMod, "github.com/pulumi/pulumi/sdk/v3"),
      `v${versions.PULUMI_VERSION}`,
    );
  });

  it("copies each upstream non-local replace into the wrapper modules", () => {
    const clipboard =
      "replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e";
    const sdkFork =
      "replace github.com/hashicorp/terraform-plugin-sdk/v2 => github.com/pulumi/terraform-plugin-sdk/v2 v2.0.0-20250923233607-7f1981c8674a";
    assert.ok(read("toolchain/cli/go.mod").includes(clipboard));
    for (const provider of ["tls", "random", "libvirt"]) {
      const goMod = read(`toolchain/${provider}/go.mod`);
      assert.ok(goMod.includes(sdkFork), `${provider}: terraform-plugin-sdk fork`);
      assert.ok(goMod.includes(clipboard), `${provider}: clipboard`);
    }
    assert.ok(
      read("toolchain/language-nodejs/go.mod").includes(
        "replace golang.org/x/text => golang.org/x/text v0.3.6",
      ),
    );
  });
});
