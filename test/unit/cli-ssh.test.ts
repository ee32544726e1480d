/**
 * The CLI's remote commands take what they run on and where from the stack's outputs: values
 * in them stay data (lib/cli/ssh.ts, lib/cli/build-status.ts; docs/reliability.md, the audit).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { builderStatusCommand } from "../../lib/cli/build-status";
import { sshRun } from "../../lib/cli/ssh";
import { requireTools } from "../support/tools";

describe("the CLI's remote commands keep output values as data", () => {
  it("the build status command quotes the service and the status file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gi-status-"));
    try {
      const probe = path.join(dir, "probe");
      const command = builderStatusCommand({
        serviceName: `x.service; touch ${probe}`,
        statusFile: `/nonexistent/$(touch ${probe}).json`,
      });
      const r = spawnSync("bash", ["-c", command], { encoding: "utf8", cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(existsSync(probe), false, "nothing from the outputs ran");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ssh never reads the destination (user@address) as an option", async (t) => {
    if (!requireTools(t, ["ssh"], "apt install openssh-client")) return;
    const dir = mkdtempSync(path.join(tmpdir(), "gi-ssh-"));
    try {
      const probe = path.join(dir, "probe");
      const r = await sshRun(
        // A closed loopback port would do; a user that ssh would read as -o ProxyCommand=…
        { user: `-oProxyCommand=touch ${probe}`, address: "127.0.0.1", privateKeyOpenssh: "x" },
        "true",
        { timeoutMs: 20_000 },
      );
      assert.notEqual(r.code, 0, "nothing to log in to");
      // Read as an option, the ProxyCommand would run `touch <probe>@127.0.0.1`.
      assert.deepEqual(readdirSync(dir), [], `ssh ran the ProxyCommand: ${r.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
