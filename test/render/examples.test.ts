/**
 * Render tier: Portage judges every build profile of every example. Each examples/<name>/stacks.ts
 * (the profile catalog and Stacks the example deploys) is discovered when the tier runs; for every
 * Stack, environment and arch it builds, the overlay, the builder's and the installed machine's
 * configuration are rendered into a Portage prefix over the stand-in for the official tree
 * (standin/gentoo, NOT the real Gentoo tree), and Portage 3.0.83 must:
 * - resolve the profile chain down to the stand-in's `default/linux/<arch>/23.0`,
 * - report no problem (no `!!!` line) while loading make.conf, repos.conf and binrepos.conf,
 * - find a visible ebuild for every package of the Stack,
 * - (builder side, first environment) compute `emerge --pretend @world` with every package of
 *   the Stack in it.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { ArchName, Environment, ProfileCatalog, StackDefinition } from "../../lib";
import { renderBuildProfileFiles, renderOverlayFiles, resolveStack } from "../../lib/stack";
import { requireTools } from "../support/tools";
import {
  createPrefix,
  emerge,
  mergeList,
  portageCheck,
  portageProblems,
  writeFiles,
} from "./portage-harness";

const OVERLAY = "site";
const SETUP_HINT = "run scripts/setup (step 20-python installs Portage into .cache/venv)";
const EXAMPLES = join(__dirname, "..", "..", "examples");
/** Dependencies the stand-in tree's ebuilds pull in (standin/gentoo): no Stack names them. */
const STANDIN_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  "net-misc/openssh": ["sys-libs/zlib"],
};

/** What an example's stacks.ts exports. */
interface ExampleStacks {
  readonly catalog: ProfileCatalog;
  readonly stacks: readonly StackDefinition[];
  readonly arches: readonly ArchName[];
  readonly environments: readonly Environment[];
}

function discoverExamples(): [string, ExampleStacks][] {
  return readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(EXAMPLES, e.name, "stacks.ts")))
    .map((e) => [e.name, require(join(EXAMPLES, e.name, "stacks.ts")) as ExampleStacks]);
}

const examples = discoverExamples();

it("finds the examples that deploy Stacks", () => {
  assert.deepEqual(
    examples.map(([name]) => name),
    ["minimal", "site"],
  );
});

for (const [example, spec] of examples) {
  describe(`examples/${example}: Portage accepts every build profile`, () => {
    for (const definition of spec.stacks) {
      const stack = resolveStack(definition, spec.catalog);
      for (const environment of spec.environments) {
        for (const arch of spec.arches) {
          const profile = `${environment}/${arch}/${stack.name}`;
          it(`loads ${profile} (builder and machine)`, (t) => {
            if (!requireTools(t, ["emerge"], SETUP_HINT)) return;
            for (const side of ["builder", "machine"] as const) {
              const prefix = createPrefix(OVERLAY);
              t.after(prefix.remove);
              writeFiles(
                prefix.overlayLocation,
                renderOverlayFiles(stack, spec.catalog, [arch], OVERLAY),
              );
              const files = renderBuildProfileFiles(stack, {
                environment,
                arch,
                overlayName: OVERLAY,
                binhostUrl: "https://binhost.example.org",
                gentooSyncUri: "https://git.example.org/gentoo.git",
                overlaySyncUri: "https://git.example.org/overlay.git",
                snapshot: { gentoo: "a".repeat(40), overlay: "b".repeat(40) },
                signingKeyFingerprint: "0123456789ABCDEF0123456789ABCDEF01234567",
                gentooMirrors: ["https://distfiles.example.org/gentoo"],
                builderMakeJobs: 2,
                gentooLocation: prefix.gentooLocation,
                overlayLocation: prefix.overlayLocation,
              });
              writeFiles(prefix.dir, files[side]);
              const run = portageCheck(prefix, stack.packages);
              assert.equal(
                run.status,
                0,
                `${side}: portage-check.py failed (signal ${run.signal ?? "none"}):\n${run.stderr}`,
              );
              assert.deepEqual(portageProblems(run.stderr), [], `${side}: Portage problems`);
              const facts = JSON.parse(run.stdout) as {
                profiles: string[];
                packages: Record<string, { bestVisible: string | null }>;
              };
              const official = facts.profiles.filter((p) => p.includes("/repos/gentoo/profiles/"));
              assert.match(
                official.at(-1) ?? "",
                new RegExp(`/default/linux/${arch}/23\\.0$`),
                `${side}: the chain ends at the stand-in's official profile`,
              );
              for (const atom of stack.packages) {
                assert.ok(facts.packages[atom]?.bestVisible, `${side}: ${atom} is visible`);
              }
              // The dependency graph is the same in every environment (only commits and binhost
              // paths differ), so it is computed once per Stack and arch, in development.
              if (side === "builder" && environment === spec.environments[0]) {
                const pretend = emerge(prefix, [
                  "--pretend",
                  "--getbinpkg=n",
                  "--usepkg=n",
                  "@world",
                ]);
                assert.equal(pretend.status, 0, pretend.stdout + pretend.stderr);
                const merged = mergeList(pretend.stdout).map((cpv) =>
                  cpv.replace(/-[0-9][^/]*$/, ""),
                );
                const expected = new Set(
                  stack.packages.flatMap((p) => [p, ...(STANDIN_DEPENDENCIES[p] ?? [])]),
                );
                assert.deepEqual([...merged].sort(), [...expected].sort());
              }
            }
          });
        }
      }
    }
  });
}
