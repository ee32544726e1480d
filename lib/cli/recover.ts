/**
 * `gentoo-infra recover`: what to run after a `pulumi up` or `destroy` that was killed (SIGKILL,
 * a lost terminal, an out-of-memory kill), before the next one. A killed run leaves:
 * - the stack's lock, held by a process that is gone: every later run refuses to start;
 * - its plugins (language host, providers): the CLI does not stop them, and the command
 *   provider, like every plugin built on Pulumi's Go provider library 3.218, never notices
 *   that its engine is gone;
 * - pending operations in the state: resources whose create, update or delete was under way.
 *   The next `up` forgets a pending create and creates the resource again, so a libvirt
 *   domain, volume, network or pool that libvirt made before the kill would be orphaned, and
 *   the new create fails on its name.
 *
 * The plan is pure ({@link recoveryPlan}, {@link lockVerdict}, {@link leftoverPlugins});
 * {@link recover} carries it out: it stops the leftover plugins, removes what an interrupted
 * create made in libvirt (a half-made object is never adopted: a half-uploaded image looks
 * like a whole one), releases the lock, imports the state without its pending operations and
 * refreshes the resources whose update or delete was interrupted. The next `up` creates what
 * was removed; the next `destroy` deletes what is left. docs/operations.md.
 */
import { spawnSync } from "node:child_process";
import {
  type Dirent,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { hostname, tmpdir } from "node:os";
import path from "node:path";

/** Recovery refused: nothing was done; the message says why and what to do. */
export class RecoveryRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecoveryRefused";
  }
}

/** A resource as `pulumi stack export` writes it (the fields read here). */
export interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly id?: string;
  readonly inputs?: Readonly<Record<string, unknown>>;
  /** `<provider URN>::<provider id>` */
  readonly provider?: string;
}

/** An operation under way when the run stopped. */
export interface PendingOperation {
  readonly resource: StateResource;
  /** `creating`, `updating`, `deleting`, `reading` or `importing`. */
  readonly type: string;
}

/** The `deployment` of `pulumi stack export`. */
export interface Deployment {
  readonly resources?: readonly StateResource[];
  readonly pending_operations?: readonly PendingOperation[];
  readonly [key: string]: unknown;
}

/** A libvirt object that an interrupted create may have made, to remove if it exists. */
export interface LibvirtRemoval {
  readonly urn: string;
  readonly kind: "domain" | "volume" | "network" | "pool";
  readonly name: string;
  /** The pool of a volume. */
  readonly pool?: string;
  /** The hypervisor's libvirt URI (its provider's `uri`). */
  readonly uri: string;
}

/** What recovery does to the pending operations of a stack. */
export interface RecoveryPlan {
  /** Libvirt objects of interrupted creates: removed if they exist, created by the next up. */
  readonly removals: readonly LibvirtRemoval[];
  /** Other interrupted creates (commands, pushes, keys): dropped, made again by the next up. */
  readonly dropped: readonly string[];
  /** Interrupted updates, deletes and reads: refreshed (read back from where they live). */
  readonly refreshed: readonly string[];
}

/** The libvirt resource types whose interrupted create may leave an object behind. */
const LIBVIRT_KINDS: Readonly<Record<string, LibvirtRemoval["kind"]>> = {
  "libvirt:index/domain:Domain": "domain",
  "libvirt:index/volume:Volume": "volume",
  "libvirt:index/cloudInitDisk:CloudInitDisk": "volume",
  "libvirt:index/network:Network": "network",
  "libvirt:index/pool:Pool": "pool",
};

/** A plain string that virsh cannot read as an option (no leading `-`), or undefined. */
const plainString = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" && !value.startsWith("-") ? value : undefined;

/**
 * What to do with each pending operation of `deployment`. Throws one {@link RecoveryRefused} naming
 * every interrupted libvirt create whose name, pool or hypervisor URI the state does not hold
 * in plain text (nothing is done then).
 */
export function recoveryPlan(deployment: Deployment): RecoveryPlan {
  const providers = new Map(
    (deployment.resources ?? [])
      .filter((r) => r.type.startsWith("pulumi:providers:"))
      .map((r) => [`${r.urn}::${r.id}`, r]),
  );
  const removals: LibvirtRemoval[] = [];
  const dropped: string[] = [];
  const refreshed: string[] = [];
  const problems: string[] = [];
  for (const { resource, type } of deployment.pending_operations ?? []) {
    if (type !== "creating") {
      refreshed.push(resource.urn);
      continue;
    }
    const kind = LIBVIRT_KINDS[resource.type];
    if (!kind) {
      dropped.push(resource.urn);
      continue;
    }
    const name = plainString(resource.inputs?.name);
    const pool = plainString(resource.inputs?.pool);
    const uri = plainString(
      resource.provider ? providers.get(resource.provider)?.inputs?.uri : undefined,
    );
    if (!name || !uri || (kind === "volume" && !pool)) {
      problems.push(
        `${resource.urn}: the state holds no plain ${[!name && "name", kind === "volume" && !pool && "pool", !uri && "provider uri"].filter(Boolean).join(", ")}; remove what libvirt made of it by hand, then run recover again`,
      );
      continue;
    }
    removals.push({ urn: resource.urn, kind, name, uri, ...(kind === "volume" ? { pool } : {}) });
  }
  if (problems.length > 0) {
    throw new RecoveryRefused(
      `cannot plan the removal of ${problems.length} interrupted libvirt create(s):\n${problems.map((p) => `  ${p}`).join("\n")}`,
    );
  }
  return { removals, dropped, refreshed };
}

/** `deployment` without pending operations, as `pulumi stack import` takes it back. */
export function withoutPendingOperations(deployment: Deployment): Deployment {
  const { pending_operations: _, ...rest } = deployment;
  return rest;
}

/** The virsh commands (arguments after `-c <uri>`) that remove `r`, in order. */
export function removalCommands(r: LibvirtRemoval): readonly (readonly string[])[] {
  switch (r.kind) {
    case "domain":
      // A running domain is stopped first; its NVRAM (UEFI) goes with it.
      return [
        ["destroy", r.name],
        ["undefine", "--nvram", r.name],
      ];
    case "volume":
      return [["vol-delete", "--pool", r.pool ?? "", r.name]];
    case "network":
      return [
        ["net-destroy", r.name],
        ["net-undefine", r.name],
      ];
    case "pool":
      // pool-delete removes the pool's directory; it is empty, as nothing could be made in it.
      return [
        ["pool-destroy", r.name],
        ["pool-delete", r.name],
        ["pool-undefine", r.name],
      ];
  }
}

/** The virsh command that tells whether `r` exists (exit 0). */
export function existsCommand(r: LibvirtRemoval): readonly string[] {
  switch (r.kind) {
    case "domain":
      return ["dominfo", r.name];
    case "volume":
      return ["vol-info", "--pool", r.pool ?? "", r.name];
    case "network":
      return ["net-info", r.name];
    case "pool":
      return ["pool-info", r.name];
  }
}

/** A lock file of a `file://` backend. */
export interface StackLock {
  readonly pid: number;
  readonly hostname: string;
  readonly timestamp?: string;
}

/**
 * Whether the run holding `lock` is gone: only a process of this host can be known gone (no
 * live process with that pid runs pulumi). Otherwise the reason to leave the lock alone.
 */
export function lockVerdict(
  lock: StackLock,
  here: { readonly hostname: string; readonly runsPulumi: (pid: number) => boolean },
): { readonly stale: true } | { readonly stale: false; readonly why: string } {
  if (lock.hostname !== here.hostname) {
    return {
      stale: false,
      why: `the stack is locked by pid ${lock.pid} on host ${lock.hostname} (since ${lock.timestamp ?? "?"}): recover only releases a lock of this host; when that run is known to be gone, run \`pulumi cancel\` and then recover`,
    };
  }
  if (here.runsPulumi(lock.pid)) {
    return {
      stale: false,
      why: `pulumi (pid ${lock.pid}) still runs on this stack: wait for it, or stop it, then run recover`,
    };
  }
  return { stale: true };
}

/** A process as /proc shows it. */
export interface ProcessInfo {
  readonly pid: number;
  /** Its arguments, the program first. */
  readonly argv: readonly string[];
  /** Its working directory. */
  readonly cwd: string;
  /** Its parent's pid. */
  readonly ppid: number;
  /** Its process group. */
  readonly pgid: number;
}

const ENGINE_ADDRESS = /^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/;

/**
 * The engine address a Pulumi plugin process was started with (`pulumi-language-*` and
 * `pulumi-resource-*` take it as an argument, the Node.js program and its dynamic providers
 * after `--engine` or as their last argument), or undefined for any other process.
 */
export function pluginEngine(p: ProcessInfo): string | undefined {
  const program = p.argv.slice(0, 2).map((a) => path.basename(a));
  const isPlugin =
    program.some((a) => /^pulumi-(language|resource|analyzer)-/.test(a)) ||
    p.argv.some((a) => a.includes("/@pulumi/pulumi/cmd/"));
  if (!isPlugin) return undefined;
  const flag = p.argv.indexOf("--engine");
  if (flag >= 0 && ENGINE_ADDRESS.test(p.argv[flag + 1] ?? "")) return p.argv[flag + 1];
  return p.argv.find((a) => ENGINE_ADDRESS.test(a));
}

/**
 * The plugin processes of a run that is gone, started in the site's directory `siteDir` for an
 * engine that no longer answers (`engineAnswers`), and every process under them or in a process
 * group one of them leads (the commands a provider was running: when its engine went, the
 * provider killed the shell of a command, whose own children live on in its group), parents
 * first. A plugin of a run that is still going has a live
 * engine and is left alone.
 */
export function leftoverPlugins(
  processes: readonly ProcessInfo[],
  siteDir: string,
  engineAnswers: ReadonlySet<string>,
): readonly ProcessInfo[] {
  const found = processes.filter((p) => {
    const engine = pluginEngine(p);
    return engine !== undefined && p.cwd === siteDir && !engineAnswers.has(engine);
  });
  const pids = new Set(found.map((p) => p.pid));
  for (let i = 0; i < found.length; i++) {
    for (const child of processes) {
      const leader = found[i]?.pid;
      if ((child.ppid === leader || child.pgid === leader) && !pids.has(child.pid)) {
        pids.add(child.pid);
        found.push(child);
      }
    }
  }
  return found;
}

/** Options of {@link recover}. */
export interface RecoverOptions {
  /** The stack. */
  readonly stack: string;
  /** The site's directory (its Pulumi.yaml). */
  readonly dir: string;
  /** The Pulumi CLI to run (scripts/pulumi for the default site). @default "pulumi" */
  readonly pulumi?: string;
  /** Say what would be done, and do nothing. */
  readonly dryRun?: boolean;
  /** Where progress goes, a line at a time. */
  readonly say: (line: string) => void;
}

/** What {@link recover} did. */
export interface RecoverResult {
  readonly lockReleased: boolean;
  readonly stoppedPlugins: readonly number[];
  readonly removed: readonly LibvirtRemoval[];
  readonly plan: RecoveryPlan;
}

/** Runs a command; throws with its output when it fails. */
function runOrThrow(
  command: string,
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): string {
  const r = spawnSync(command, [...args], {
    encoding: "utf8",
    cwd: options.cwd,
    input: options.input,
    maxBuffer: 512 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(
      `${path.basename(command)} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout || "").trim()}`,
    );
  }
  return r.stdout;
}

/** Every process of this network namespace, from /proc (those that vanish meanwhile left out). */
function processes(): ProcessInfo[] {
  const ownNet = readlinkSync("/proc/self/ns/net");
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) !== ownNet) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      // stat: "pid (comm) state ppid ...", comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [, ppid, pgid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      found.push({
        pid: Number(entry),
        argv,
        cwd: readlinkSync(`/proc/${entry}/cwd`),
        ppid: Number(ppid),
        pgid: Number(pgid),
      });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** Whether something accepts TCP connections at `address` (host:port) within a second. */
function answers(address: string): Promise<boolean> {
  const at = address.lastIndexOf(":");
  const host = address.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}

/**
 * Whether process `pid` runs: it exists and is not a zombie (a process that ended and waits for
 * its parent, or for an init that may never reap it, to read its status).
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Stops `pids`: SIGTERM, then SIGKILL for those still there after 5 s. */
async function stop(pids: readonly number[]): Promise<void> {
  for (const pid of pids) if (isRunning(pid)) process.kill(pid, "SIGTERM");
  for (let i = 0; i < 50 && pids.some(isRunning); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const pid of pids) if (isRunning(pid)) process.kill(pid, "SIGKILL");
}

/** Every file under `dir` (none if it does not exist), at most `depth` directories down. */
function filesUnder(dir: string, depth: number): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return depth > 0 ? filesUnder(full, depth - 1) : [];
    return e.isFile() ? [full] : [];
  });
}

/**
 * Whether `file` of a `file://` backend belongs to `stack`: its checkpoint and backup
 * (`stacks/[<project>/]<stack>.json…`), its history (`history/<project>/<stack>/…`) and its
 * lock (`locks/…/<stack>/…`).
 */
export function isStackFile(file: string, stack: string): boolean {
  const parts = file.split(path.sep);
  const base = parts.at(-1) ?? "";
  const area = parts.findLastIndex((p) => p === "stacks" || p === "history" || p === "locks");
  if (area < 0) return false;
  if (parts[area] === "stacks") return base.startsWith(`${stack}.json`);
  return parts.slice(area + 1, -1).includes(stack);
}

/**
 * Whether the text of a fileblob sidecar (`<file>.attrs`, the attributes the `file://` backend
 * keeps beside each file) is damaged: empty or not JSON. The backend writes a sidecar by
 * truncating it and then writing it, so a kill between the two leaves it empty, and every
 * later read of its file fails ("failed to load checkpoint: EOF"). Without a sidecar the
 * backend takes default attributes.
 */
export function isDamagedSidecar(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value !== "object" || value === null;
  } catch {
    return true;
  }
}

/** Carries out the recovery of a killed run of `options.stack` (see the module comment). */
export async function recover(options: RecoverOptions): Promise<RecoverResult> {
  const { stack, dir, say } = options;
  const pulumi = options.pulumi ?? "pulumi";
  const cli = (args: readonly string[], input?: string) =>
    runOrThrow(pulumi, [...args, "--stack", stack], { cwd: dir, input });
  const who = JSON.parse(runOrThrow(pulumi, ["whoami", "--json"], { cwd: dir })) as {
    url?: string;
  };
  const backend = who.url?.startsWith("file://")
    ? path.join(new URL(who.url).pathname, ".pulumi")
    : undefined;
  const stackFiles = backend
    ? ["stacks", "history", "locks"].flatMap((area) =>
        filesUnder(path.join(backend, area), 4).filter((f) => isStackFile(f, stack)),
      )
    : [];

  // The lock first: while a run goes on, nothing is touched. Only a file:// backend's lock is
  // read, and released only when its process is known gone.
  let staleLock = false;
  for (const file of stackFiles.filter(
    (f) => f.endsWith(".json") && f.includes(`${path.sep}locks${path.sep}`),
  )) {
    const lock = JSON.parse(readFileSync(file, "utf8")) as StackLock;
    const verdict = lockVerdict(lock, {
      hostname: hostname(),
      runsPulumi: (pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, "utf8").trim().startsWith("pulumi");
        } catch {
          return false;
        }
      },
    });
    if (!verdict.stale) throw new RecoveryRefused(verdict.why);
    say(`release: the lock of pid ${lock.pid} (gone; taken ${lock.timestamp ?? "?"})`);
    staleLock = true;
  }

  // Sidecars a kill cut short: the state cannot be read until they go.
  const damaged = stackFiles.filter(
    (f) => f.endsWith(".attrs") && isDamagedSidecar(readFileSync(f, "utf8")),
  );
  for (const f of damaged) say(`repair: remove ${f} (empty or cut short by the kill)`);
  if (damaged.length > 0 && options.dryRun) {
    say("dry run: nothing done; the state can be read once the damaged sidecars are gone");
    return {
      lockReleased: false,
      stoppedPlugins: [],
      removed: [],
      plan: { removals: [], dropped: [], refreshed: [] },
    };
  }
  for (const f of damaged) rmSync(f);

  const exported = JSON.parse(cli(["stack", "export"])) as {
    version: number;
    deployment: Deployment;
  };
  const plan = recoveryPlan(exported.deployment);

  const all = processes();
  const engines = new Set<string>();
  for (const engine of new Set(all.map(pluginEngine).filter((e) => e !== undefined))) {
    if (await answers(engine)) engines.add(engine);
  }
  const leftovers = leftoverPlugins(all, path.resolve(dir), engines);
  for (const p of leftovers) {
    const engine = pluginEngine(p);
    say(
      `stop: pid ${p.pid} ${path.basename(p.argv[0] ?? "?")} (${engine ? `its engine ${engine} is gone` : `of a plugin's process group`})`,
    );
  }
  for (const r of plan.removals) {
    say(`remove if libvirt has it: ${r.kind} ${r.name} on ${r.uri} (create interrupted)`);
  }
  for (const urn of plan.dropped) say(`drop: ${urn} (create interrupted; the next up makes it)`);
  for (const urn of plan.refreshed) say(`refresh: ${urn} (update or delete interrupted)`);
  const removed: LibvirtRemoval[] = [];
  if (options.dryRun) {
    say("dry run: nothing done");
    return { lockReleased: false, stoppedPlugins: [], removed, plan };
  }

  // Plugins first: a provider that still runs could go on creating what is removed below.
  await stop(leftovers.map((p) => p.pid));
  for (const r of plan.removals) {
    const virsh = (args: readonly string[]) =>
      spawnSync("virsh", ["-q", "-c", r.uri, ...args], { encoding: "utf8" });
    if (virsh(existsCommand(r)).status !== 0) continue;
    for (const args of removalCommands(r)) {
      const result = virsh(args);
      // A domain or network that does not run cannot be stopped: not an error.
      if (result.status !== 0 && !/^(destroy|net-destroy|pool-destroy)$/.test(args[0] ?? "")) {
        throw new Error(`virsh -c ${r.uri} ${args.join(" ")} failed: ${result.stderr.trim()}`);
      }
    }
    removed.push(r);
    say(`removed: ${r.kind} ${r.name}`);
  }
  if (staleLock) {
    cli(["cancel", "--yes"]);
    say("lock released");
  }
  const pending = exported.deployment.pending_operations ?? [];
  if (pending.length > 0) {
    // The state without its pending operations, through a private file (the export holds
    // secrets only as ciphertext).
    const tmp = mkdtempSync(path.join(tmpdir(), "gi-recover-"));
    try {
      const file = path.join(tmp, "state.json");
      writeFileSync(
        file,
        JSON.stringify({ ...exported, deployment: withoutPendingOperations(exported.deployment) }),
        { mode: 0o600 },
      );
      cli(["stack", "import", "--file", file]);
      say(`state imported without its ${pending.length} pending operation(s)`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (plan.refreshed.length > 0) {
    cli([
      "refresh",
      "--yes",
      "--skip-preview",
      "--non-interactive",
      ...plan.refreshed.flatMap((urn) => ["--target", urn]),
    ]);
  }
  const nothing =
    damaged.length === 0 && !staleLock && leftovers.length === 0 && pending.length === 0;
  say(`${nothing ? "nothing to recover" : "done"}; next: pulumi up (or destroy) of stack ${stack}`);
  return {
    lockReleased: staleLock,
    stoppedPlugins: leftovers.map((p) => p.pid),
    removed,
    plan,
  };
}
