/**
 * scripts/pulumi runs the pinned CLI with the project's PULUMI_HOME, whose plugins are exactly the
 * pinned provider plugins (toolchain/versions.env). Does not prove the plugins work: the other
 * engine tests do.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { isolatedEnv, REPO_ROOT, TOOLCHAIN_HINT } from "../support/pulumi";
import { requireTools } from "../support/tools";

const versions = Object.fromEntries(
  readFileSync(path.join(REPO_ROOT, "toolchain/versions.env"), "utf8")
    .split("\n")
    .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1], m[2]]),
) as Record<string, string>;

// The backend and passphrase are set, so scripts/pulumi creates nothing under .state/.
const env = isolatedEnv("/nonexistent-backend", "unused");
const pulumi = (...args: string[]): string =>
  execFileSync(path.join(REPO_ROOT, "scripts/pulumi"), args, {
    cwd: REPO_ROOT,
    env,
    encoding: "utf8",
  });

test("scripts/pulumi version prints the pinned CLI version", (t) => {
  if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return;
  assert.equal(pulumi("version").trim(), `v${versions.PULUMI_VERSION}`);
});

test("scripts/pulumi plugin ls lists exactly the pinned provider plugins", (t) => {
  if (!requireTools(t, ["pulumi"], TOOLCHAIN_HINT)) return;
  const plugins = JSON.parse(pulumi("plugin", "ls", "--json")) as {
    name: string;
    kind: string;
    version: string;
  }[];
  assert.deepEqual(plugins.map((p) => `${p.kind} ${p.name} ${p.version}`).sort(), [
    `resource command ${versions.COMMAND_VERSION}`,
    `resource libvirt ${versions.LIBVIRT_VERSION}`,
    `resource random ${versions.RANDOM_VERSION}`,
    `resource tls ${versions.TLS_VERSION}`,
  ]);
});
