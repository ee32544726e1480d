/**
 * Run by test/unit/pure-modules.test.ts in a process of its own (`node --import tsx`): loads
 * every module named on the command line (paths relative to the working directory) and
 * prints one JSON object: for each module, the chain of modules through which it loads a
 * package under node_modules/@pulumi/ at runtime, or null when it loads none. Node records
 * on a module every module it required, cached ones included (`module.children`), so one
 * process answers for all of them in any load order. `import type` leaves no require.
 */
import path from "node:path";

const PULUMI = `${path.sep}node_modules${path.sep}@pulumi${path.sep}`;

/** The first chain from `id` to a @pulumi package, through our own modules only. */
function pulumiChain(id: string, seen = new Set<string>()): string[] | null {
  const loaded = require.cache[id];
  if (!loaded || seen.has(id)) return null;
  seen.add(id);
  for (const child of loaded.children) {
    const at = child.id.indexOf(PULUMI);
    if (at >= 0) return [child.id.slice(at + PULUMI.length - "@pulumi/".length)];
    if (child.id.includes(`${path.sep}node_modules${path.sep}`)) continue;
    const rest = pulumiChain(child.id, seen);
    if (rest) return [path.relative(process.cwd(), child.id), ...rest];
  }
  return null;
}

const modules = process.argv.slice(2);
for (const m of modules) require(path.resolve(m));
const chains = Object.fromEntries(modules.map((m) => [m, pulumiChain(path.resolve(m))]));
process.stdout.write(`${JSON.stringify(chains)}\n`);
