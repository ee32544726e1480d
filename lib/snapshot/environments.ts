/**
 * The three environments of a site, in promotion order. Each is one Pulumi stack and builds
 * from one branch of the Gentoo tree clone and of the overlay (see `./git-flow`).
 */
export const ENVIRONMENTS = ["development", "staging", "production"] as const;

/** development | staging | production. */
export type Environment = (typeof ENVIRONMENTS)[number];

/** Whether `value` names an environment. */
export function isEnvironment(value: unknown): value is Environment {
  return typeof value === "string" && (ENVIRONMENTS as readonly string[]).includes(value);
}

/** The environment a promotion from `environment` goes to, or undefined for production. */
export function nextEnvironment(environment: Environment): Environment | undefined {
  return ENVIRONMENTS[ENVIRONMENTS.indexOf(environment) + 1];
}

/** The fix text shared by every "unknown environment" violation. */
export const ENVIRONMENT_FIX = `use one of ${ENVIRONMENTS.join(", ")}`;
