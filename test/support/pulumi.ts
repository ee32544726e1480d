/**
 * Runs a Pulumi program with the real, pinned CLI (docs/toolchain.md) in isolation: every
 * {@link PulumiProgram} gets its own temporary `file://` backend and a random passphrase, so
 * tests never read or write the user's state, and plugins come only from the project's
 * PULUMI_HOME with automatic plugin downloads disabled.
 *
 * ```ts
 * const program = await PulumiProgram.create(t, "test/engine/fixtures/tls-random");
 * try {
 *   await program.setConfig("org", "example");
 *   await program.up();
 *   await program.preview({ expectNoChanges: true });
 *   const outputs = await program.outputs();
 *   await program.destroy();
 * } finally {
 *   await program.cleanup();
 * }
 * ```
 *
 * Callers check the toolchain first with `requireTools(t, ["pulumi"], TOOLCHAIN_HINT)`.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** The repository root. */
export const REPO_ROOT = path.resolve(__dirname, "../..");

/** What to tell a user whose toolchain is missing. */
export const TOOLCHAIN_HINT =
  "run 'npm run setup' (scripts/setup.d/40-toolchain.sh builds the pinned Pulumi CLI and plugins)";

/** The result of one CLI run. */
export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** A failed CLI run: the command, its exit code and both streams. */
export class PulumiCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`pulumi ${args.join(" ")} exited with ${exitCode}:\n${stdout}\n${stderr}`);
    this.name = "PulumiCommandError";
  }
}

/**
 * The environment of the pinned CLI for one isolated backend: the project's PULUMI_HOME and
 * PATH (from scripts/env.sh when run by scripts/test), never the user's backend or passphrase.
 */
export function isolatedEnv(backendDir: string, passphrase: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith("PULUMI_")) delete env[key];
  }
  return {
    ...env,
    PATH: [
      path.join(REPO_ROOT, "node_modules/.bin"),
      path.join(process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache"), "toolchain/bin"),
      process.env.PATH ?? "",
    ].join(path.delimiter),
    PULUMI_HOME:
      process.env.PULUMI_HOME ??
      path.join(process.env.GI_CACHE ?? path.join(REPO_ROOT, ".cache"), "pulumi-home"),
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    // See scripts/env.sh: the language host ignores Pulumi.yaml's tsconfig option.
    PULUMI_NODEJS_TSCONFIG_PATH: path.join(REPO_ROOT, "tsconfig.json"),
    // `npm test` type-checks every program with tsc before the tiers run; ts-node checking
    // them again on every engine run would cost ~20 s each (users keep ts-node's checking).
    PULUMI_NODEJS_TRANSPILE_ONLY: process.env.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true",
  };
}

/** How long one CLI command may run before it is stopped with its plugins. */
const PULUMI_TIMEOUT_MS = 15 * 60 * 1000;

/** `pid` and all its descendants (from `ps`), parents first. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  const ps = spawnSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" });
  for (const line of (ps.stdout ?? "").split("\n")) {
    const [p, parent] = line.trim().split(/\s+/).map(Number);
    if (p && parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), p]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []));
  return tree;
}

/**
 * The processes whose working directory is `dir`: a program's plugins and the local commands
 * they run work in the program's directory.
 */
export function processesWorkingIn(dir: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readlinkSync(`/proc/${entry}/cwd`) === dir;
      } catch {
        return false; // gone
      }
    })
    .map(Number);
}

/** Whether process `pid` is a Pulumi resource provider plugin (`pulumi-resource-<name>`). */
function isProviderPlugin(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("pulumi-resource");
  } catch {
    return false;
  }
}

/** Packages of a plugin's plumbing, left out of {@link goroutineSummary}. */
const PLUMBING =
  /^(google\.golang\.org\/grpc|github\.com\/pulumi\/|github\.com\/golang\/glog|golang\.org\/x\/net)/;

/**
 * The goroutines of a Go stack dump (a plugin's answer to SIGQUIT, as the CLI prints it) that
 * wait inside a provider or a library it uses: each as its state and the (innermost six)
 * calls of packages outside Go's own and the plumbing, innermost first, by the last element of
 * their package path. "" when there is none.
 */
export function goroutineSummary(output: string): string {
  const summaries = new Set<string>();
  for (const block of output.split(/\n\s*\n|(?=\n\s*goroutine \d+ )/)) {
    const header = /goroutine \d+ [^[]*\[([^\]]+)\]/.exec(block);
    if (!header) continue;
    const calls = block
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => /^[\w.-]+\.[\w.-]+\/.*\(/.test(line) && !line.startsWith("created by"))
      .map((line) => line.replace(/\([^()]*\)$/, ""))
      .filter((call) => !PLUMBING.test(call))
      .map((call) => call.slice(call.lastIndexOf("/") + 1));
    if (calls.length > 0) summaries.add(`[${header[1]}] ${calls.slice(0, 6).join(" < ")}`);
  }
  if (summaries.size === 0) return "";
  return `\nprovider goroutines at the stop:\n${[...summaries].map((s) => `  ${s}`).join("\n")}`;
}

/** Sends `sig` to each of `pids` that still runs. */
function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/**
 * Runs `pulumi ARGS` in `cwd` with `env` (inside network namespace `netns` when given, so that
 * the command provider reaches guests that exist only there); rejects with
 * {@link PulumiCommandError} on failure. After `timeoutMs` the CLI is stopped with every process
 * under it, so that no provider plugin outlives it (orphaned plugins kept the harness's namespace
 * alive after a timed-out up). Provider plugins are Go programs: each first gets SIGQUIT, which
 * makes it print every goroutine's stack and exit, and the CLI then reports the plugin's output;
 * the error names the waiting goroutines of providers and libraries ({@link goroutineSummary}),
 * so a hang in CI says where it hung.
 */
export function runPulumi(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  netns?: string,
  timeoutMs = PULUMI_TIMEOUT_MS,
): Promise<CliResult> {
  const [file, argv] = netns
    ? ["ip", ["netns", "exec", netns, "pulumi", ...args]]
    : ["pulumi", [...args]];
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const child = spawn(file, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      const tree = child.pid ? processTree(child.pid) : [];
      signal(tree.filter(isProviderPlugin), "SIGQUIT");
      setTimeout(() => signal(tree, "SIGTERM"), 5_000).unref();
      setTimeout(() => signal(tree, "SIGKILL"), 15_000).unref();
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new PulumiCommandError(args, null, "", String(error)));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) resolve({ stdout, stderr });
      else {
        const note = timedOut
          ? `\n(stopped after ${timeoutMs / 1000} s)${goroutineSummary(stdout)}`
          : "";
        reject(new PulumiCommandError(args, code, stdout, `${stderr}${note}`));
      }
    });
  });
}

/** A step the engine started, from the events `pulumi up --json` streams: a `resourcePreEvent`. */
export interface StepStarted {
  /** `create`, `update`, `delete`, `replace`, `create-replacement`, … */
  readonly op: string;
  readonly urn: string;
  readonly type: string;
}

/** What {@link PulumiProgram.killedAt} killed: the step it waited for, and the run's processes. */
export interface KilledRun {
  readonly step: StepStarted;
  /** The CLI and every process under it when it was killed (the CLI first). */
  readonly processes: readonly number[];
  /** The CLI's output until then. */
  readonly output: string;
}

/** Options of {@link PulumiProgram.create}. */
export interface ProgramOptions {
  /**
   * The stack name. `pulumi stack init` writes Pulumi.<stack>.yaml (the passphrase salt) into the
   * program directory and {@link PulumiProgram.cleanup} removes it, so the default is unique per
   * run; a stale file from a crashed run matches the .gitignore pattern Pulumi.engine-*.yaml.
   * @default "engine-<8 random hex digits>"
   */
  readonly stack?: string;
  /**
   * Run every command inside this network namespace (`ip netns exec`).
   * @default none: the caller's namespace
   */
  readonly netns?: string;
}

/** A Pulumi program directory bound to a fresh stack on a temporary backend. */
export class PulumiProgram {
  private constructor(
    /** The program directory (holds Pulumi.yaml). */
    readonly dir: string,
    /** The stack name. */
    readonly stack: string,
    /** The temporary backend directory (`PULUMI_BACKEND_URL=file://…`). */
    readonly backendDir: string,
    /** The environment every command of this program runs with. */
    readonly env: NodeJS.ProcessEnv,
    /** The network namespace commands run in, if any. */
    readonly netns?: string,
  ) {}

  /**
   * Makes a temporary backend and initialises the stack of the program in `dir`: relative to
   * the repository root, or absolute (a program copied outside it, e.g. a temporary site
   * repository).
   */
  static async create(dir: string, options: ProgramOptions = {}): Promise<PulumiProgram> {
    const absolute = path.resolve(REPO_ROOT, dir);
    const backendDir = await mkdtemp(path.join(tmpdir(), "gi-pulumi-"));
    const env = isolatedEnv(backendDir, randomBytes(24).toString("hex"));
    const program = new PulumiProgram(
      absolute,
      options.stack ?? `engine-${randomBytes(4).toString("hex")}`,
      backendDir,
      env,
      options.netns,
    );
    await program.run(["stack", "init", program.stack, "--non-interactive"]);
    return program;
  }

  /**
   * Runs `pulumi ARGS` in the program directory with this program's environment; stopped (with
   * its plugins' goroutines in the error, see {@link runPulumi}) after `timeoutMs`.
   */
  run(args: readonly string[], timeoutMs?: number): Promise<CliResult> {
    return runPulumi(args, this.dir, this.env, this.netns, timeoutMs);
  }

  /** `pulumi config set [--secret] KEY VALUE`. */
  async setConfig(key: string, value: string, options: { secret?: boolean } = {}): Promise<void> {
    const secret = options.secret ? ["--secret"] : [];
    await this.run(["config", "set", ...secret, key, value, "--stack", this.stack]);
  }

  /**
   * `pulumi preview`; with `expectNoChanges` the CLI itself fails when anything would change.
   * Returns the CLI output.
   */
  preview(options: { expectNoChanges?: boolean } = {}): Promise<CliResult> {
    const expect = options.expectNoChanges ? ["--expect-no-changes"] : [];
    return this.run(["preview", "--non-interactive", "--diff", ...expect, "--stack", this.stack]);
  }

  /** `pulumi up --yes --skip-preview`; with `expectNoChanges` the CLI fails on any change. */
  up(options: { expectNoChanges?: boolean } = {}): Promise<CliResult> {
    const expect = options.expectNoChanges ? ["--expect-no-changes"] : [];
    return this.run([
      "up",
      "--yes",
      "--skip-preview",
      "--non-interactive",
      ...expect,
      "--stack",
      this.stack,
    ]);
  }

  /**
   * Starts `pulumi up` (or `destroy`) and kills the CLI with SIGKILL, and nothing else, `afterMs`
   * after the engine starts a step for which `when` holds (its events, streamed by `--json`), as
   * an out-of-memory kill or a lost machine would. The engine announces a step before it records
   * it as pending and calls the provider: a kill at once may find neither done. Fails if the run
   * ends first or no such step starts within `timeoutMs`.
   */
  async killedAt(
    command: "up" | "destroy",
    when: (step: StepStarted) => boolean,
    options: { afterMs?: number; timeoutMs?: number } = {},
  ): Promise<KilledRun> {
    const timeoutMs = options.timeoutMs ?? 10 * 60 * 1000;
    const argv = [command, "--json", "--yes", "--skip-preview", "--non-interactive"];
    argv.push("--stack", this.stack);
    const [file, fileArgs] = this.netns
      ? ["ip", ["netns", "exec", this.netns, "pulumi", ...argv]]
      : ["pulumi", argv];
    const child = spawn(file, fileArgs, {
      cwd: this.dir,
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    return new Promise<KilledRun>((resolve, reject) => {
      let pending = "";
      let killed: { step: StepStarted; processes: number[] } | undefined;
      let seen = false; // the step to kill at started
      let closed = false;
      const timer = setTimeout(() => {
        if (child.pid) signal(processTree(child.pid), "SIGKILL");
      }, timeoutMs);
      child.stderr.on("data", (b: Buffer) => output.push(b.toString("utf8")));
      child.stdout.on("data", (b: Buffer) => {
        output.push(b.toString("utf8"));
        pending += b.toString("utf8");
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          if (seen || !line.includes('"resourcePreEvent"')) continue;
          let step: StepStarted | undefined;
          try {
            step = (JSON.parse(line) as { resourcePreEvent?: { metadata?: StepStarted } })
              .resourcePreEvent?.metadata;
          } catch {
            continue;
          }
          if (step && when(step) && child.pid) {
            const pid = child.pid;
            const chosen = step;
            setTimeout(() => {
              if (closed) return;
              killed = { step: chosen, processes: processTree(pid) };
              signal([pid], "SIGKILL");
            }, options.afterMs ?? 0);
            seen = true;
          }
        }
      });
      child.on("close", () => {
        closed = true;
        clearTimeout(timer);
        if (killed) resolve({ ...killed, output: output.join("") });
        else {
          reject(
            new Error(
              `pulumi ${command} ended before ${seen ? "it was killed" : "the step to kill it at"}:\n${output.join("").slice(-4000)}`,
            ),
          );
        }
      });
    });
  }

  /**
   * `gentoo-infra recover` (lib/cli/recover.ts) of this stack, where the program runs (its
   * network namespace): its output.
   */
  recover(options: { dryRun?: boolean } = {}): string {
    const argv = [
      path.join(REPO_ROOT, "scripts/gentoo-infra"),
      ...["recover", "--stack", this.stack, "--dir", this.dir],
      ...(options.dryRun ? ["--dry-run"] : []),
    ];
    const [file, args] = this.netns
      ? ["ip", ["netns", "exec", this.netns, ...argv]]
      : [argv[0] as string, argv.slice(1)];
    const r = spawnSync(file, args, { cwd: this.dir, env: this.env, encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`gentoo-infra recover exited ${r.status}: ${r.stdout}${r.stderr}`);
    }
    return r.stdout;
  }

  /** The stack's state as `pulumi stack export` writes it (secrets as ciphertext). */
  async exported(): Promise<{
    resources?: { urn: string; type: string; id?: string; inputs?: Record<string, unknown> }[];
    pending_operations?: unknown[];
  }> {
    const { stdout } = await this.run(["stack", "export", "--stack", this.stack]);
    return (JSON.parse(stdout) as { deployment: never }).deployment;
  }

  /** The stack outputs; secrets in plain text only with `showSecrets`. */
  async outputs(options: { showSecrets?: boolean } = {}): Promise<Record<string, unknown>> {
    const show = options.showSecrets ? ["--show-secrets"] : [];
    const { stdout } = await this.run([
      "stack",
      "output",
      "--json",
      ...show,
      "--stack",
      this.stack,
    ]);
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  /** The raw checkpoint files of the backend, as stored (secrets encrypted). */
  async rawState(): Promise<string> {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.name.endsWith(".json")) files.push(await readFile(full, "utf8"));
      }
    };
    await walk(path.join(this.backendDir, ".pulumi", "stacks"));
    return files.join("\n");
  }

  /** `pulumi destroy --yes`. */
  destroy(): Promise<CliResult> {
    return this.run([
      "destroy",
      "--yes",
      "--skip-preview",
      "--non-interactive",
      "--stack",
      this.stack,
    ]);
  }

  /**
   * Removes the stack (`pulumi stack rm --yes`, which fails while resources remain, and deletes
   * Pulumi.<stack>.yaml) and the temporary backend. With `force`, also when resources remain
   * (after a failed test; nothing real is left behind by tls and random).
   */
  async cleanup(options: { force?: boolean } = {}): Promise<void> {
    try {
      const force = options.force ? ["--force"] : [];
      await this.run(["stack", "rm", "--yes", ...force, "--stack", this.stack]);
    } finally {
      await rm(this.backendDir, { recursive: true, force: true });
    }
  }
}
