/** `gentoo-infra site-info` (lib/cli/site-info.ts, lib/cli/run.ts): what npm run up prints. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { run } from "../../lib/cli/run";
import { siteInfo } from "../../lib/cli/site-info";

const outputs = {
  servers: {
    binhost: { address: "10.67.0.10", user: "gi-admin", privateKeyOpenssh: "KEY-B\n" },
    pxe: { address: "10.67.0.2", user: "gi-admin", privateKeyOpenssh: "KEY-P\n" },
  },
  urls: { binhost: "https://binhost.example.ch/" },
  caCertificatePem: "CA\n",
};

describe("site-info", () => {
  it("prints commands whose words a shell reads back exactly, whatever the key directory and user hold", () => {
    const keys = "/k dir/$(touch x); 'q'";
    const hostile = {
      servers: { pxe: { address: "10.67.0.2", user: "a`b`", privateKeyOpenssh: "K\n" } },
    };
    const line = siteInfo(hostile, { keys, netns: "gi", stack: "development" })
      .text.split("\n")
      .find((l) => l.includes("ssh:"));
    const command = line?.split("ssh: ")[1] ?? "";
    const words = spawnSync("bash", ["-c", `printf '%s\\0' ${command}`], { encoding: "utf8" });
    assert.deepEqual(words.stdout.split("\0").slice(0, -1), [
      ...["ip", "netns", "exec", "gi", "ssh", "-i"],
      `${keys}/development-pxe`,
      "--",
      "a`b`@10.67.0.2",
    ]);
  });

  it("prints each server's ssh command in the namespace, the URLs and a curl to try the binhost", () => {
    const info = siteInfo(outputs, { keys: "/k", netns: "gi", stack: "development" });
    const lines = info.text.split("\n");
    assert.equal(lines[1], "The development site is up. Guests live in the network namespace gi.");
    assert.ok(
      lines.includes(
        "  pxe          10.67.0.2        ssh: ip netns exec gi ssh -i /k/development-pxe -- gi-admin@10.67.0.2",
      ),
    );
    assert.ok(lines.includes("  binhost      https://binhost.example.ch/"));
    assert.ok(
      lines.includes(
        "  try          ip netns exec gi curl --cacert /k/development-root-ca.pem --resolve binhost.example.ch:443:10.67.0.10 https://binhost.example.ch/crl/",
      ),
    );
    assert.deepEqual(
      info.files.map((f) => [f.path, f.mode]),
      [
        ["/k/development-binhost", 0o600],
        ["/k/development-pxe", 0o600],
        ["/k/development-root-ca.pem", 0o644],
      ],
    );
  });

  it("the command writes the keys (0600) into a 0700 directory, and needs its options", async () => {
    const work = mkdtempSync(join(tmpdir(), "gi-site-info-"));
    after(() => rmSync(work, { recursive: true, force: true }));
    const file = join(work, "outputs.json");
    writeFileSync(file, JSON.stringify(outputs));
    const keys = join(work, "keys");
    let out = "";
    const io = { out: (t: string) => (out += t), err: (t: string) => (out += t) };
    const argv = [
      "site-info",
      "--keys",
      keys,
      "--netns",
      "gi",
      "--stack",
      "dev",
      "--outputs",
      file,
    ];
    assert.equal(await run(argv, io), 0);
    assert.equal(statSync(keys).mode & 0o777, 0o700);
    assert.equal(statSync(join(keys, "dev-pxe")).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(keys, "dev-pxe"), "utf8"), "KEY-P\n");
    assert.match(out, /The dev site is up/);
    assert.equal(await run(["site-info", "--keys", keys], io), 2);
  });
});
