/** The policy pack (policy/) as the engine-tier tests run it with `--policy-pack`. */
import path from "node:path";
import { REPO_ROOT } from "./pulumi";

/** The pack's directory (compiled to policy/bin by setup step 47-policy). */
export const POLICY_PACK = path.join(REPO_ROOT, "policy");

/**
 * The violations the CLI reports in a non-JSON preview's Policies section, one
 * `"<level> <policy>"` per "- [level]  policy  (…)" line, sorted.
 */
export function policyViolations(output: string): string[] {
  return [...output.matchAll(/^\s+- \[(mandatory|advisory)\]\s+(\S+)\s/gm)]
    .map((m) => `${m[1]} ${m[2]}`)
    .sort();
}
