/**
 * Renders /etc/portage/binrepos.conf (portage(5) "binrepos.conf") and the world file.
 * Pure: no Pulumi, no I/O.
 */
import { iniValue, lines } from "./syntax";

/** One binary package repository (a binhost path). */
export interface BinaryRepository {
  /** Section name; also names the download cache `/var/cache/binhost/<name>`. */
  readonly name: string;
  /** Higher wins when two repositories offer the same package. */
  readonly priority: number;
  /** URL of the directory holding `Packages` (the build profile's binhost path). */
  readonly syncUri: string;
  /** A comment line above the section (no leading `#`). */
  readonly comment: string;
}

/**
 * binrepos.conf: one section per repository, whole-line comments only (Portage's parser
 * has no inline comments), `verify-signature = true` on every repository.
 */
export function renderBinreposConf(comment: string, repos: readonly BinaryRepository[]): string {
  const body = repos.flatMap((repo) => [
    "",
    `# ${repo.comment}`,
    `[${repo.name}]`,
    `priority = ${repo.priority}`,
    `sync-uri = ${iniValue(repo.syncUri)}`,
    "verify-signature = true",
  ]);
  return lines([`# ${comment}`, ...body]);
}

/**
 * /var/lib/portage/world (the `@selected` set): one atom per line, sorted, no comments
 * (Portage rewrites this file and would drop them).
 */
export function renderWorldFile(atoms: readonly string[]): string {
  const unique = [...new Set(atoms)].sort();
  return unique.length === 0 ? "" : lines(unique);
}
