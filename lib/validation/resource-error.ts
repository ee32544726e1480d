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
  // hideStack: the message names argument, value and fix; a stack trace (and Pulumi's dump of
  // the half-built resource that comes with it) would only bury it.
  throw new pulumi.ResourceError(formatViolations(subject, violations), resource, true);
}
