/**
 * Render tier for the install host: golden files reviewed as text, then the real tools.
 * - `dnsmasq --test` parses both dnsmasq.conf modes (option syntax, tags, ranges). It does
 *   not prove runtime behaviour: which client gets which boot file, that proxy mode stays
 *   silent for unknown MACs, or that TFTP serves the files (the end-to-end tier boots VMs).
 * - `sfdisk` (util-linux) writes each rendered partition script to a sparse image file and
 *   `sfdisk --json` reads the table back: names, GPT types and sizes as rendered. It does
 *   not format filesystems or prove that the machine's real disk is large enough.
 * - iPXE scripts and the install JSON have no offline judge here: they are golden text,
 *   and the end-to-end issue boots them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  defaultDiskLayout,
  GPT_TYPE_GUIDS,
  renderDefaultScript,
  renderDnsmasqConf,
  renderInstallConfig,
  renderInstallScript,
  renderLocalBootScript,
  renderSfdiskScript,
} from "../../lib/pxe/renderers";
import { expectGolden } from "../support/golden-files";
import { arm1, db1, machines, network, web1 } from "../support/pxe-fixtures";
import { requireTools } from "../support/tools";

const GOLDEN = join(__dirname, "golden", "pxe");
const APT_HINT = "run scripts/setup (step 30-apt installs it from scripts/apt-packages.txt)";
const work = mkdtempSync(join(tmpdir(), "gi-render-pxe-"));
after(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: readonly string[], input?: string) {
  const r = spawnSync(cmd, args, { encoding: "utf8", input });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function write(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

const dnsmasqArgs = {
  interface: "eth1",
  network,
  machines,
  httpBaseUrl: "http://10.0.0.2",
} as const;
const endpoint = { baseUrl: "http://10.0.0.2" };

describe("dnsmasq.conf", () => {
  for (const mode of ["full", "proxy"] as const) {
    it(`${mode} mode matches its golden file and passes dnsmasq --test`, (t) => {
      const text = renderDnsmasqConf({ ...dnsmasqArgs, mode });
      expectGolden(GOLDEN, `dnsmasq-${mode}.conf`, text);
      if (!requireTools(t, ["dnsmasq"], APT_HINT)) return;
      const r = run("dnsmasq", ["--test", `--conf-file=${write(`dnsmasq-${mode}.conf`, text)}`]);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /syntax check OK/);
    });
  }

  it("dnsmasq --test rejects a broken line, so the check above can fail", (t) => {
    if (!requireTools(t, ["dnsmasq"], APT_HINT)) return;
    const broken = `${renderDnsmasqConf({ ...dnsmasqArgs, mode: "proxy" })}pxe-service=tag:!ipxe,NoSuchArch,"x",x.efi\n`;
    const r = run("dnsmasq", ["--test", `--conf-file=${write("dnsmasq-broken.conf", broken)}`]);
    assert.notEqual(r.status, 0, r.output);
  });
});

describe("iPXE scripts", () => {
  it("match their golden files", () => {
    expectGolden(GOLDEN, "web1-install.ipxe", renderInstallScript(web1, endpoint));
    expectGolden(
      GOLDEN,
      "db1-install.ipxe",
      renderInstallScript(db1, { ...endpoint, kernelArguments: ["console=ttyS0,115200"] }),
    );
    expectGolden(GOLDEN, "web1-local-boot.ipxe", renderLocalBootScript(web1));
    expectGolden(GOLDEN, "db1-local-boot.ipxe", renderLocalBootScript(db1));
    expectGolden(GOLDEN, "default.ipxe", renderDefaultScript());
  });
});

describe("install configuration", () => {
  it("matches its golden file", () => {
    const json = renderInstallConfig({
      machine: web1,
      network,
      installHostUrl: "http://10.0.0.2",
      stage: {
        url: "https://binhost.example.ch/stages/production/amd64/stage4-amd64-web-20261122T030000Z.tar.xz",
        sha512: "ab".repeat(64),
      },
      binreposConf:
        "[production-amd64-web]\npriority = 10\nsync-uri = https://binhost.example.ch/production/amd64/web/\nverify-signature = true\n",
      certificates: [
        {
          url: "https://pxe.example.ch/secrets/web1/ca.pem",
          path: "/etc/ssl/gentoo-infra/ca.pem",
          mode: "0644",
        },
        {
          url: "https://pxe.example.ch/secrets/web1/host.pem",
          path: "/etc/ssl/gentoo-infra/host.pem",
          mode: "0644",
        },
        {
          url: "https://pxe.example.ch/secrets/web1/host.key",
          path: "/etc/ssl/gentoo-infra/host.key",
          mode: "0600",
        },
      ],
      puppet: {
        server: "puppet.example.ch",
        environment: "production",
        certname: "web1.example.ch",
        autosignToken: "Zq3vR8kL1mN5pT7wX9yB2cD4",
      },
    });
    expectGolden(GOLDEN, "web1-install.json", json);
    assert.equal(JSON.parse(json).version, 1);
  });
});

describe("partition scripts", () => {
  const layouts = {
    "web1-uefi": web1.disk,
    "db1-bios": db1.disk,
    "arm1-three-partitions": arm1.disk,
  };
  for (const [name, layout] of Object.entries(layouts)) {
    it(`${name}: sfdisk writes the rendered GPT to a 32 GiB image and reads it back`, (t) => {
      const script = renderSfdiskScript(layout);
      expectGolden(GOLDEN, `${name}.sfdisk`, script);
      if (!requireTools(t, ["sfdisk"], APT_HINT)) return;
      const image = join(work, `${name}.img`);
      assert.equal(run("truncate", ["-s", "32G", image]).status, 0);
      // The script's "device:" header is informative; sfdisk writes to the image it is given.
      const w = run("sfdisk", ["--quiet", image], script);
      assert.equal(w.status, 0, w.output);
      const r = run("sfdisk", ["--json", image]);
      assert.equal(r.status, 0, r.output);
      const table = JSON.parse(r.output).partitiontable;
      assert.equal(table.label, "gpt");
      assert.deepEqual(
        table.partitions.map((p: { name: string; type: string; size: number }, i: number) => ({
          name: p.name,
          type: p.type,
          sizeMiB:
            layout.partitions[i].sizeMiB === undefined
              ? undefined
              : (p.size * table.sectorsize) / 2 ** 20,
        })),
        layout.partitions.map((p) => ({
          name: p.label,
          type: GPT_TYPE_GUIDS[p.type],
          sizeMiB: p.sizeMiB,
        })),
      );
    });
  }

  it("a layout larger than the disk does not read back as rendered, so the size check can fail", (t) => {
    if (!requireTools(t, ["sfdisk"], APT_HINT)) return;
    // sfdisk silently shrinks a last partition that does not fit; only the read-back sizes show it.
    const image = join(work, "small.img");
    assert.equal(run("truncate", ["-s", "1G", image]).status, 0);
    const layout = {
      ...defaultDiskLayout("uefi", "/dev/vda"),
      partitions: [
        {
          label: "big",
          type: "linux" as const,
          sizeMiB: 4096,
          filesystem: "ext4" as const,
          mountpoint: "/",
        },
      ],
    };
    const w = run("sfdisk", ["--quiet", image], renderSfdiskScript(layout));
    const table = JSON.parse(run("sfdisk", ["--json", image]).output).partitiontable;
    assert.ok(w.status !== 0 || (table.partitions[0].size * table.sectorsize) / 2 ** 20 < 4096);
  });
});
