/** Text the CLI prints for promotion results and tree snapshots. Pure. */
import type { PromotionResult, RepositoryPromotion } from "../snapshot/promote-options";
import type { TreeSnapshot } from "../snapshot/tree-snapshot";

const short = (commit: string | undefined): string => (commit ?? "").slice(0, 12);

/** One line per repository, after a heading that says whether it was a dry run. */
export function formatPromotion(result: PromotionResult, remote: string): string {
  const heading = result.dryRun
    ? `dry run of promote ${result.from} to ${result.to}: no branch moved`
    : `promote ${result.from} to ${result.to}`;
  return [heading, ...result.repositories.map((r) => formatRepository(r, result.dryRun, remote))]
    .join("\n")
    .concat("\n");
}

function formatRepository(r: RepositoryPromotion, dryRun: boolean, remote: string): string {
  const { branch, before, after } = r.target;
  const verb = (done: string, planned: string) => (dryRun ? planned : done);
  const count = `${r.commits.length} commit${r.commits.length === 1 ? "" : "s"}`;
  let line: string;
  switch (r.action) {
    case "fast-forward":
      line = `${verb("fast-forwarded", "would fast-forward")} ${branch} ${short(before)}..${short(after)} to ${r.source.branch} (${count})`;
      break;
    case "create":
      line = `${verb("started", "would start")} ${branch} at ${short(after)} from ${r.source.branch}`;
      break;
    case "cherry-pick":
      line = `${verb("cherry-picked", "would cherry-pick")} ${count} onto ${branch} ${short(before)}..${short(after)}`;
      break;
    case "unchanged":
      line = `unchanged ${branch} at ${short(before)}`;
      break;
  }
  return `${r.path}: ${line}${r.pushed ? `; pushed to ${remote}` : ""}`;
}

/** The environment, then one line per repository: name, branch, commit, date. */
export function formatSnapshot(snapshot: TreeSnapshot): string {
  const rows = (["gentoo", "overlay"] as const).map((name) => {
    const s = snapshot[name];
    return `${name.padEnd(8)}${s.branch}  ${s.commit}  ${s.date}`;
  });
  return [snapshot.environment, ...rows].join("\n").concat("\n");
}
