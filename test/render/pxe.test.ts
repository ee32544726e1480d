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
 * - The install host's nginx.conf: `nginx -t` with a throw-away certificate and temporary
 *   paths (WebDAV, allow/deny and limit_except in their contexts); then the real nginx runs
 *   it on loopback addresses (127.0.0.2, our own process, stopped by its pid) and curl
 *   checks that a machine's report PUT lands in the report directory, that another address
 *   gets 403, that a script is served and that secrets need TLS and the right address.
 * - The netboot switch: `sh -n`, shellcheck, and the script itself run with dash on a
 *   temporary layout, for every combination of report and generation, against
 *   netbootAction (the TypeScript rule). Its units pass `systemd-analyze verify`. Not
 *   proven: that systemd's path unit fires when nginx writes a report (end-to-end tier).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import {
  DEFAULT_INSTALL_HOST_LAYOUT,
  defaultDiskLayout,
  GPT_TYPE_GUIDS,
  type InstallHostLayout,
  machineConfigPath,
  NETBOOT_UNITS,
  netbootAction,
  parseInstallReport,
  REPORT_INBOX,
  REPORT_STORE,
  renderDefaultScript,
  renderDnsmasqConf,
  renderInstallConfig,
  renderInstallHostNginxConf,
  renderInstallReport,
  renderInstallScript,
  renderLocalBootScript,
  renderNetbootSwitchScript,
  renderNetbootTable,
  renderNetbootUnits,
  renderSfdiskScript,
  renderStatusScript,
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

  it("with host records it serves DNS for those names only, and passes dnsmasq --test", (t) => {
    const text = renderDnsmasqConf({
      ...dnsmasqArgs,
      mode: "full",
      hostRecords: { "binhost.example.ch": "10.0.0.10" },
    });
    assert.doesNotMatch(text, /^port=/m);
    assert.match(text, /^no-resolv\nno-hosts\nhost-record=binhost\.example\.ch,10\.0\.0\.10$/m);
    if (!requireTools(t, ["dnsmasq"], APT_HINT)) return;
    const r = run("dnsmasq", ["--test", `--conf-file=${write("dnsmasq-dns.conf", text)}`]);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /syntax check OK/);
  });

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
      rootCertificatePem:
        "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUQ2VydGlmaWNhdGUgb2YgdGhlIHRlc3Q=\n-----END CERTIFICATE-----\n",
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

describe("install host nginx.conf", () => {
  const nginxArgs = { address: "10.0.0.2", network, machines };

  function nginxTest(name: string, mutate: (text: string) => string = (t) => t) {
    const prefix = join(work, name);
    mkdirSync(join(prefix, "logs"), { recursive: true });
    const cert = join(prefix, "server.pem");
    const key = join(prefix, "server.key");
    const made = run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=pxe.example.ch",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
    ]);
    assert.equal(made.status, 0, made.output);
    const layout: InstallHostLayout = {
      ...DEFAULT_INSTALL_HOST_LAYOUT,
      wwwRoot: join(prefix, "www"),
      stateDir: join(prefix, "state"),
      tlsCertificate: cert,
      tlsKey: key,
      logDir: join(prefix, "logs"),
      pidFile: join(prefix, "nginx.pid"),
    };
    mkdirSync(join(prefix, "state", "tmp"), { recursive: true });
    // nginx -t binds the listen addresses: the checked copy listens on a loopback address.
    const text = mutate(renderInstallHostNginxConf({ ...nginxArgs, address: "127.0.0.2", layout }));
    const file = join(prefix, "nginx.conf");
    writeFileSync(file, text);
    return run("nginx", ["-t", "-q", "-c", file, "-p", `${prefix}/`]);
  }

  it("matches its golden file and passes nginx -t", (t) => {
    expectGolden(GOLDEN, "install-host-nginx.conf", renderInstallHostNginxConf(nginxArgs));
    if (!requireTools(t, ["nginx", "openssl"], APT_HINT)) return;
    const r = nginxTest("nginx-ok");
    assert.equal(r.status, 0, r.output);
  });

  it("nginx -t rejects a WebDAV directive in the wrong context, so the check above can fail", (t) => {
    if (!requireTools(t, ["nginx", "openssl"], APT_HINT)) return;
    const r = nginxTest("nginx-broken", (text) =>
      text.replace(
        "  server_tokens off;",
        "  server_tokens off;\n  dav_methods PUT MOVE;\n  listen 80;",
      ),
    );
    assert.notEqual(r.status, 0, r.output);
  });
});

describe("install host nginx at runtime (loopback only)", () => {
  it("takes a machine's report by PUT from its own address only and serves scripts and secrets", async (t) => {
    if (!requireTools(t, ["nginx", "openssl", "curl"], APT_HINT)) return;
    const prefix = join(work, "nginx-run");
    mkdirSync(join(prefix, "logs"), { recursive: true });
    const cert = join(prefix, "server.pem");
    const key = join(prefix, "server.key");
    const made = run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=127.0.0.2",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
    ]);
    assert.equal(made.status, 0, made.output);
    const layout: InstallHostLayout = {
      ...DEFAULT_INSTALL_HOST_LAYOUT,
      wwwRoot: join(prefix, "www"),
      stateDir: join(prefix, "state"),
      tlsCertificate: cert,
      tlsKey: key,
      logDir: join(prefix, "logs"),
      pidFile: join(prefix, "nginx.pid"),
      nginxUser: run("id", ["-un"]).output.trim(),
    };
    for (const dir of ["state/tmp", "state/report", "www/ipxe", "www/secrets/52-54-00-12-34-56"]) {
      mkdirSync(join(prefix, dir), { recursive: true });
    }
    writeFileSync(join(prefix, "www/ipxe/52-54-00-12-34-56.ipxe"), "#!ipxe\nexit\n");
    writeFileSync(join(prefix, "www/secrets/52-54-00-12-34-56/host.key"), "KEY\n");
    const conf = join(prefix, "nginx.conf");
    writeFileSync(
      conf,
      renderInstallHostNginxConf({
        address: "127.0.0.2",
        network: { subnet: "127.0.0.0/8" },
        machines: [{ mac: web1.mac, address: "127.0.0.5" }],
        layout,
      }),
    );
    const nginx = spawn("nginx", ["-c", conf, "-p", `${prefix}/`, "-g", "daemon off;"], {
      stdio: "ignore",
    });
    try {
      const curl = (from: string, ...argv: string[]) =>
        run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface", from, ...argv])
          .output;
      let up = "";
      for (let i = 0; i < 50 && up !== "200"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        up = curl("127.0.0.5", "http://127.0.0.2/ipxe/52-54-00-12-34-56.ipxe");
      }
      assert.equal(up, "200");
      const report = renderInstallReport("success", 1);
      const put = (from: string) =>
        curl(
          from,
          "-X",
          "PUT",
          "--data-binary",
          report,
          "http://127.0.0.2/report/52-54-00-12-34-56",
        );
      assert.equal(put("127.0.0.7"), "403");
      assert.equal(existsSync(join(prefix, "state/report/52-54-00-12-34-56")), false);
      assert.match(put("127.0.0.5"), /^20[14]$/);
      assert.equal(readFileSync(join(prefix, "state/report/52-54-00-12-34-56"), "utf8"), report);
      assert.equal(
        curl("127.0.0.5", "http://127.0.0.2/report/52-54-00-12-34-56"),
        "403",
        "reports cannot be read back",
      );
      assert.equal(curl("127.0.0.5", "http://127.0.0.2/secrets/52-54-00-12-34-56/host.key"), "404");
      assert.equal(
        curl("127.0.0.7", "-k", "https://127.0.0.2/secrets/52-54-00-12-34-56/host.key"),
        "403",
      );
      assert.equal(
        curl("127.0.0.5", "-k", "https://127.0.0.2/secrets/52-54-00-12-34-56/host.key"),
        "200",
      );
    } finally {
      nginx.kill("SIGQUIT");
      await new Promise((resolve) => nginx.once("exit", resolve));
    }
  });
});

/** `text` as a literal inside a RegExp. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("netboot switch", () => {
  const script = renderNetbootSwitchScript();
  const units = renderNetbootUnits();

  const status = renderStatusScript();

  it("script, status command and units match their golden files", () => {
    expectGolden(GOLDEN, "gi-pxe-netboot-switch", script);
    expectGolden(GOLDEN, "gi-pxe-status", status);
    expectGolden(GOLDEN, NETBOOT_UNITS.path, units.path);
    expectGolden(GOLDEN, NETBOOT_UNITS.service, units.service);
  });

  it("gi-pxe-status passes sh -n and shellcheck", (t) => {
    const file = write("gi-pxe-status", status);
    const syntax = run("sh", ["-n", file]);
    assert.equal(syntax.status, 0, syntax.output);
    if (!requireTools(t, ["shellcheck"], APT_HINT)) return;
    const lint = run("shellcheck", ["--shell=sh", "--severity=style", file]);
    assert.equal(lint.status, 0, lint.output);
  });

  it("gi-pxe-netboot-switch is Python 3 that compiles, with every placeholder filled", () => {
    assert.ok(script.startsWith("#!/usr/bin/python3\n"));
    assert.doesNotMatch(script, /@[A-Z_]+@/);
    assert.match(script, /^CONF = "\/etc\/gentoo-infra\/pxe"$/m);
    const file = write("gi-pxe-netboot-switch", script);
    const compiled = run("python3", [
      "-c",
      "import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])",
      file,
    ]);
    assert.equal(compiled.status, 0, compiled.output);
    const broken = write("switch-broken", script.replace("def put(", "def put(("));
    assert.notEqual(
      run("python3", ["-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", broken]).status,
      0,
      "the check above can fail",
    );
  });

  it("units pass systemd-analyze verify with the switch script at ExecStart, without warnings", (t) => {
    if (!requireTools(t, ["systemd-analyze"], APT_HINT)) return;
    const root = join(work, "systemd-root");
    const unitDir = join(root, "etc/systemd/system");
    mkdirSync(unitDir, { recursive: true });
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
    const exec = join(root, DEFAULT_INSTALL_HOST_LAYOUT.switchScript);
    mkdirSync(dirname(exec), { recursive: true });
    writeFileSync(exec, script);
    chmodSync(exec, 0o755);
    const verify = (path: string, service: string) => {
      writeFileSync(join(unitDir, NETBOOT_UNITS.path), path);
      writeFileSync(join(unitDir, NETBOOT_UNITS.service), service);
      return run("systemd-analyze", [
        "verify",
        `--root=${root}`,
        `/etc/systemd/system/${NETBOOT_UNITS.path}`,
        `/etc/systemd/system/${NETBOOT_UNITS.service}`,
      ]);
    };
    const ok = verify(units.path, units.service);
    assert.equal(ok.status, 0, ok.output);
    assert.equal(ok.output, "");
    const broken = verify(
      units.path.replace("DirectoryNotEmpty=", "DirectoryNotEmpt="),
      units.service.replace(DEFAULT_INSTALL_HOST_LAYOUT.switchScript, "/usr/local/sbin/missing"),
    );
    assert.match(
      broken.output,
      /Unknown key 'DirectoryNotEmpt'|Unknown key name 'DirectoryNotEmpt'/,
    );
    assert.match(broken.output, /missing is not executable/);
  });

  it("run by python3, serves each MAC what netbootAction decides, for every report and generation", (t) => {
    // dash runs the status command.
    if (!requireTools(t, ["dash"], APT_HINT)) return;
    const root = join(work, "switch-run");
    const user = run("id", ["-un"]).output.trim();
    const layout: InstallHostLayout = {
      ...DEFAULT_INSTALL_HOST_LAYOUT,
      wwwRoot: join(root, "www"),
      configDir: join(root, "etc"),
      stateDir: join(root, "state"),
      nginxUser: user,
    };
    const file = join(root, "switch");
    const python3Path = run("sh", ["-c", "command -v python3"]).output.trim();
    const statusFile = join(work, "switch-run-status");
    writeFileSync(statusFile, renderStatusScript(layout));
    const reports: Record<string, string | undefined> = {
      none: undefined,
      "success-1": renderInstallReport("success", 1),
      "success-2": renderInstallReport("success", 2),
      "failed-2": renderInstallReport(
        "failed",
        2,
        "could not fetch https://binhost/s.tar.xz: host unreachable or connection refused",
      ),
      "success-2-message": renderInstallReport("success", 2, "installed web1.example.ch in 9.1 s"),
      "hostile-message": "status=fa\u001b[2Jiled\ngeneration=1\nmessage=\u001b[31mred\u0007 text\n",
      garbage: "status=success\ngeneration=two\n",
    };
    const known = [web1, db1, arm1];
    const seed = (generations: number[]) => {
      rmSync(root, { recursive: true, force: true });
      mkdirSync(join(layout.configDir), { recursive: true });
      writeFileSync(file, renderNetbootSwitchScript(layout));
      const ms = known.map((m, i) => ({ ...m, installGeneration: generations[i] }));
      writeFileSync(join(layout.configDir, "netboot.tsv"), renderNetbootTable(ms));
      writeFileSync(join(layout.configDir, "ca.pem"), "CA\n");
      writeFileSync(join(layout.configDir, "puppet-ca.pem"), "PUPPET CA\n");
      for (const m of ms) {
        for (const f of [
          "install.ipxe",
          "local.ipxe",
          "install.json",
          "host.pem",
          "host.key",
          "puppet.pem",
          "puppet.key",
        ]) {
          const path = machineConfigPath(layout, m.mac, f);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, `${f} of ${m.hostname}\n`);
        }
      }
      return ms;
    };
    for (const [label, report] of Object.entries(reports)) {
      for (const generation of [1, 2]) {
        const ms = seed([generation, 1, 3]);
        mkdirSync(join(layout.stateDir, REPORT_INBOX), { recursive: true });
        if (report !== undefined) {
          writeFileSync(join(layout.stateDir, REPORT_INBOX, "52-54-00-12-34-56"), report);
        }
        // A MAC that is no longer known: its files must leave the web root.
        mkdirSync(join(layout.wwwRoot, "secrets", "52-54-00-00-00-99"), { recursive: true });
        mkdirSync(join(layout.wwwRoot, "ipxe"), { recursive: true });
        writeFileSync(join(layout.wwwRoot, "ipxe", "52-54-00-00-00-99.ipxe"), "old\n");
        writeFileSync(join(layout.wwwRoot, "ipxe", "default.ipxe"), "default\n");
        // With nothing but python3 on the PATH: no cmp, install, mv or sed per file.
        const alone = spawnSync(python3Path, [file], {
          encoding: "utf8",
          env: { PATH: "/nonexistent" },
        });
        const r = { status: alone.status, output: `${alone.stdout}${alone.stderr}` };
        assert.equal(r.status, 0, `${label}/${generation}: ${r.output}`);
        // The report left the inbox (the path unit starts the switch while it is not empty).
        assert.deepEqual(readdirSync(join(layout.stateDir, REPORT_INBOX)), []);
        if (report !== undefined) {
          assert.equal(
            readFileSync(join(layout.stateDir, REPORT_STORE, "52-54-00-12-34-56"), "utf8"),
            report,
          );
        }
        const records = report === undefined ? [] : [parseInstallReport(web1.mac, report)];
        const m = ms[0] as (typeof ms)[number];
        const expected = netbootAction(
          m,
          records.filter((x) => x !== undefined),
        );
        const served = readFileSync(join(layout.wwwRoot, "ipxe", "52-54-00-12-34-56.ipxe"), "utf8");
        const secrets = join(layout.wwwRoot, "secrets", "52-54-00-12-34-56");
        const configPath = join(layout.wwwRoot, "install", "52-54-00-12-34-56.json");
        // A second run (another machine's report) replaces nothing: machines may be
        // fetching these files right now; and no temporary file is left.
        const inode = (f: string) => statSync(f).ino;
        const servedPath = join(layout.wwwRoot, "ipxe", "52-54-00-12-34-56.ipxe");
        const before = inode(servedPath);
        assert.equal(run("python3", [file]).status, 0);
        assert.equal(inode(servedPath), before, `${label}/${generation}: the script was rewritten`);
        assert.equal(run("find", [layout.wwwRoot, "-name", "*.tmp"]).output, "");
        // Two runs at once (a report and a push) both succeed: the switch takes a lock.
        const both = spawnSync(
          "sh",
          ["-c", `python3 ${file} & python3 ${file} & wait %1 && wait %2`],
          {
            encoding: "utf8",
          },
        );
        assert.equal(both.status, 0, `${label}/${generation}: ${both.stderr}`);
        if (expected === "install") {
          assert.equal(served, "install.ipxe of web1\n", `${label}/${generation}`);
          const key = join(secrets, "host.key");
          const keyInode = inode(key);
          assert.equal(run("python3", [file]).status, 0);
          assert.equal(inode(key), keyInode, "secrets are not rewritten");
          assert.equal(readFileSync(join(secrets, "host.key"), "utf8"), "host.key of web1\n");
          assert.equal(readFileSync(join(secrets, "ca.pem"), "utf8"), "CA\n");
          assert.equal(readFileSync(configPath, "utf8"), "install.json of web1\n");
        } else {
          assert.equal(served, "local.ipxe of web1\n", `${label}/${generation}`);
          assert.equal(existsSync(secrets), false);
          assert.equal(existsSync(configPath), false);
        }
        // The machines without reports install.
        assert.equal(
          readFileSync(join(layout.wwwRoot, "ipxe", "52-54-00-ab-cd-ef.ipxe"), "utf8"),
          "install.ipxe of db1\n",
        );
        assert.equal(existsSync(join(layout.wwwRoot, "ipxe", "52-54-00-00-00-99.ipxe")), false);
        assert.equal(existsSync(join(layout.wwwRoot, "secrets", "52-54-00-00-00-99")), false);
        assert.equal(
          readFileSync(join(layout.wwwRoot, "ipxe", "default.ipxe"), "utf8"),
          "default\n",
        );
        // The status command: a row per known machine, what its netboot serves, its last report.
        const st = run("dash", [statusFile]);
        assert.equal(st.status, 0, `${label}/${generation}: ${st.output}`);
        const rows = st.output.trimEnd().split("\n");
        assert.match(rows[0] ?? "", /^MAC +HOST +GENERATION +NETBOOT +LAST REPORT$/);
        assert.equal(rows.length, 4, st.output);
        const row = rows.find((r) => r.startsWith("52-54-00-12-34-56")) ?? "";
        const netboot = expected === "install" ? "install" : "local";
        const cells = row.split(/ {2,}/);
        assert.deepEqual(cells.slice(0, 4), [
          "52-54-00-12-34-56",
          "web1",
          `${generation}`,
          netboot,
        ]);
        const last = cells.slice(4).join("  ");
        if (report === undefined) assert.equal(last, "none");
        else {
          const fields = new Map(
            report.split("\n").map((l) => [l.split("=")[0], l.slice(l.indexOf("=") + 1)]),
          );
          const when = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;
          const printable = (x = "") => x.slice(0, 20).replace(/[^A-Za-z0-9]/g, "?");
          const expectedLast = new RegExp(
            `^${literal(printable(fields.get("status")))} \\(generation ${literal(
              /^\d+$/.test(fields.get("generation") ?? "") ? (fields.get("generation") ?? "") : "?",
            )}, ${when}\\)${
              fields.has("message")
                ? `: ${literal((fields.get("message") ?? "").replace(/[^\x20-\x7e]/g, " "))}`
                : ""
            }$`,
          );
          assert.match(last, expectedLast, `${label}/${generation}`);
          assert.doesNotMatch(
            st.output,
            /[^\x20-\x7e\n]/,
            "no control characters reach the terminal",
          );
        }
        assert.match(
          rows.find((r) => r.startsWith("52-54-00-ab-cd-ef")) ?? "",
          /^52-54-00-ab-cd-ef +db1 +1 +install +none$/,
        );
        // A report still in the inbox (the switch has not run yet) is the newest one.
        writeFileSync(
          join(layout.stateDir, REPORT_INBOX, "52-54-00-ab-cd-ef"),
          renderInstallReport("failed", 1, "no DHCP lease on eth0"),
        );
        assert.match(
          run("dash", [statusFile, "-H"]).output,
          /^52-54-00-ab-cd-ef +db1 +1 +install +failed \(generation 1, [^)]+\): no DHCP lease on eth0$/m,
        );
      }
    }
    // The switch takes its lock: while another process holds it for 1 s, a run waits (the
    // test of two runs at once above passes without the lock unless the race hits).
    const lock = join(layout.stateDir, "switch.lock");
    const held = spawnSync(
      "sh",
      [
        "-c",
        `flock ${lock} sleep 1 & sleep 0.2; a=$(date +%s%N); python3 ${file}; b=$(date +%s%N); wait; echo $(((b - a) / 1000000))`,
      ],
      { encoding: "utf8" },
    );
    assert.equal(held.status, 0, held.stderr);
    assert.ok(
      Number(held.stdout.trim()) >= 500,
      `the switch did not wait for the lock (${held.stdout.trim()} ms)`,
    );
  });
});
