/**
 * Render tier for cloud-init documents: golden files reviewed as text, then Debian's
 * cloud-init (22.4):
 * - `cloud-init schema --config-file` validates user-data against cloud-init's JSON schema
 *   (module keys and types). It does not run the modules: no user is created, no file
 *   written. A deliberately broken document must fail it.
 * - PyYAML (cloud-init's own YAML reader, YAML 1.1) loads the documents and must read back
 *   exactly the data we rendered, catching YAML 1.1 surprises (sexagesimal MACs, yes/no).
 * - cloud-init 22.4 has no network-config schema command, so `cloud-init devel net-convert`
 *   parses the v2 document with cloud-init's network-state code and renders systemd-networkd
 *   files, which must carry the address, MAC match, gateway and DNS. That proves cloud-init
 *   understands it, not that a guest's interface comes up.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import {
  renderNetworkConfig,
  renderUserData,
  type StaticNetworkArgs,
  type UserDataArgs,
} from "../../lib/cloud-init";
import { expectGolden } from "../support/golden-files";
import { requireTools } from "../support/tools";

const GOLDEN = join(__dirname, "golden", "cloud-init");
const APT_HINT = "run scripts/setup (step 30-apt installs it from scripts/apt-packages.txt)";
const work = mkdtempSync(join(tmpdir(), "gi-render-cloud-init-"));
after(() => rmSync(work, { recursive: true, force: true }));

const userData: UserDataArgs = {
  hostname: "builder1",
  fqdn: "builder1.example.ch",
  users: [
    {
      name: "ops",
      sshAuthorizedKeys: [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example.ch",
      ],
      sudo: "ALL=(ALL) NOPASSWD:ALL",
      groups: ["wheel"],
    },
  ],
  writeFiles: [
    {
      path: "/etc/gentoo-infra/build.env",
      content: "ON=yes\nMAC=52:54:00:12:34:56\n# a comment line\n",
    },
    {
      path: "/usr/local/libexec/gentoo-infra/build",
      content: "#!/bin/bash\nexit 0\n",
      permissions: "0755",
    },
    {
      path: "/etc/gentoo-infra/upload_ed25519",
      content: "key material",
      permissions: "0600",
      owner: "root:root",
    },
  ],
  packages: ["rsync", "git"],
  runcmd: [
    ["systemctl", "enable", "--now", "gentoo-infra-build-production-amd64-web.timer"],
    "echo ready > /run/gentoo-infra-ready",
  ],
};

const network: StaticNetworkArgs = {
  mac: "52:54:00:12:34:56",
  address: "10.0.0.5/24",
  gateway: "10.0.0.1",
  dnsServers: ["10.0.0.1"],
  searchDomains: ["example.ch"],
};

function run(cmd: string, argv: readonly string[]) {
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** cloud-init's own Python (from its shebang): the one that has PyYAML. */
function cloudInitPython(): string {
  const path = run("sh", ["-c", "command -v cloud-init"]).output.trim();
  return readFileSync(path, "utf8")
    .split("\n")[0]
    .replace(/^#!\s*/, "")
    .split(" ")[0];
}

/** Loads `file` with PyYAML's safe_load (as cloud-init does) and returns it as JSON data. */
function pyyaml(file: string): unknown {
  const r = run(cloudInitPython(), [
    "-c",
    "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
    file,
  ]);
  assert.equal(r.status, 0, r.output);
  return JSON.parse(r.output);
}

describe("cloud-init user-data", () => {
  const text = renderUserData(userData);
  const file = join(work, "user-data");
  writeFileSync(file, text);

  it("matches its golden file", () => {
    expectGolden(GOLDEN, "user-data.yaml", text);
  });

  it("is valid for cloud-init schema and reads back identically with PyYAML", (t) => {
    if (!requireTools(t, ["cloud-init"], APT_HINT)) return;
    const r = run("cloud-init", ["schema", "--config-file", file]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /Valid cloud-config/);
    assert.deepEqual(pyyaml(file), parse(text, { version: "1.1" }));
  });

  it("cloud-init schema rejects a broken document, so the check above can fail", (t) => {
    if (!requireTools(t, ["cloud-init"], APT_HINT)) return;
    const broken = join(work, "broken");
    writeFileSync(broken, text.replace('permissions: "0600"', "permissions: 600\n    mode: x"));
    const r = run("cloud-init", ["schema", "--config-file", broken]);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /permissions: 600 is not of type 'string'/);
  });
});

describe("cloud-init user-data with a pinned SSH host key", () => {
  // Not a real key: the schema checks the ssh_keys module's keys and types, not the key.
  const text = renderUserData({
    hostname: "binhost",
    users: userData.users,
    runcmd: ["systemctl enable --now nginx"],
    hostKey: {
      ed25519Private:
        "-----BEGIN OPENSSH PRIVATE KEY-----\nTEST-ONLY-NOT-A-KEY\n-----END OPENSSH PRIVATE KEY-----\n",
      ed25519Public:
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
    },
  });
  const file = join(work, "user-data-host-key");
  writeFileSync(file, text);

  it("matches its golden file", () => {
    expectGolden(GOLDEN, "user-data-host-key.yaml", text);
  });

  it("is valid for cloud-init schema and reads back identically with PyYAML", (t) => {
    if (!requireTools(t, ["cloud-init"], APT_HINT)) return;
    const r = run("cloud-init", ["schema", "--config-file", file]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /Valid cloud-config/);
    assert.deepEqual(pyyaml(file), parse(text, { version: "1.1" }));
  });

  it("cloud-init schema rejects an unknown key type, so the check above can fail", (t) => {
    if (!requireTools(t, ["cloud-init"], APT_HINT)) return;
    const broken = join(work, "broken-host-key");
    writeFileSync(broken, text.replace("ed25519_public:", "ed448_public:"));
    const r = run("cloud-init", ["schema", "--config-file", broken]);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /ssh_keys/);
  });
});

describe("cloud-init network-config v2", () => {
  const text = renderNetworkConfig(network);
  const file = join(work, "network-config");
  writeFileSync(file, text);

  it("matches its golden file", () => {
    expectGolden(GOLDEN, "network-config.yaml", text);
  });

  it("is understood by cloud-init's network code and reads back identically with PyYAML", (t) => {
    if (!requireTools(t, ["cloud-init"], APT_HINT)) return;
    assert.deepEqual(pyyaml(file), parse(text));
    const out = join(work, "networkd");
    mkdirSync(out, { recursive: true });
    const r = run("cloud-init", [
      "devel",
      "net-convert",
      "-p",
      file,
      "-k",
      "yaml",
      "-d",
      out,
      "-D",
      "debian",
      "-O",
      "networkd",
    ]);
    assert.equal(r.status, 0, r.output);
    const files = readdirSync(join(out, "etc/systemd/network"));
    assert.deepEqual(files, ["10-cloud-init-eth0.network"]);
    const networkd = readFileSync(join(out, "etc/systemd/network", files[0]), "utf8");
    for (const line of [
      "Address=10.0.0.5/24",
      "MACAddress=52:54:00:12:34:56",
      "Name=eth0",
      "Gateway=10.0.0.1",
      "DNS=10.0.0.1",
      "Domains=example.ch",
    ]) {
      assert.ok(networkd.split("\n").includes(line), `${line} missing from:\n${networkd}`);
    }
  });
});
