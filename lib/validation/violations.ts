/**
 * Pure validation primitives shared by every component: a violation names the argument,
 * the value received and the fix. Rules return violations; they never throw, so that a
 * component can collect every problem before creating anything.
 *
 * This module does not import `@pulumi/pulumi`; components turn violations into a
 * `pulumi.ResourceError` with {@link assertValid} from `./resource-error`.
 */

/** One problem with one argument. */
export interface Violation {
  /** Dotted path of the argument, e.g. `machines[2].mac` or `profiles.ruby.parent`. */
  readonly argument: string;
  /** The value received (rendered with {@link describeValue}). */
  readonly value: unknown;
  /** What is wrong, as a sentence fragment: "is not a MAC address". */
  readonly problem: string;
  /** How to fix it: "use six colon-separated hex pairs, e.g. 52:54:00:12:34:56". */
  readonly fix: string;
}

/** Shorthand for building a violation. */
export function violation(
  argument: string,
  value: unknown,
  problem: string,
  fix: string,
): Violation {
  return { argument, value, problem, fix };
}

/** Renders a received value for an error message: JSON for data, `undefined` spelled out. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") return JSON.stringify(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(value);
  }
}

/**
 * Formats violations as one message: a heading line, then one line per violation:
 * `- <argument>: <problem> (got <value>); <fix>`.
 */
export function formatViolations(subject: string, violations: readonly Violation[]): string {
  const count = violations.length === 1 ? "1 problem" : `${violations.length} problems`;
  const lines = violations.map(
    (v) => `- ${v.argument}: ${v.problem} (got ${describeValue(v.value)}); ${v.fix}`,
  );
  return [`${subject}: ${count}:`, ...lines].join("\n");
}

/** Thrown by pure functions (outside any resource) when their input is invalid. */
export class ValidationError extends Error {
  constructor(
    subject: string,
    public readonly violations: readonly Violation[],
  ) {
    super(formatViolations(subject, violations));
    this.name = "ValidationError";
  }
}

/** Throws a {@link ValidationError} when `violations` is not empty. */
export function throwIfViolations(subject: string, violations: readonly Violation[]): void {
  if (violations.length > 0) throw new ValidationError(subject, violations);
}

/**
 * True for a value known only later: a `pulumi.Output` (recognised by the marker Pulumi sets
 * on it, so that pure modules need not load Pulumi) or a promise. Its check waits until it
 * resolves; any other object in place of a plain value is a mistake to report now.
 */
export function isLateBound(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { __pulumiOutput?: unknown; then?: unknown };
  return v.__pulumiOutput === true || typeof v.then === "function";
}
