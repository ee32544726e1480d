import * as pulumi from "@pulumi/pulumi";
import { formatViolations, type Violation } from "./violations";

/**
 * Throws one `pulumi.ResourceError` that names every violation, attached to `resource`
 * (a component under construction, before it has created any child).
 */
export function assertValid(
  resource: pulumi.Resource,
  subject: string,
  violations: readonly Violation[],
): void {
  if (violations.length === 0) return;
  throw new pulumi.ResourceError(formatViolations(subject, violations), resource);
}
