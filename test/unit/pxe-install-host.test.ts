/**
 * The install host's pure helpers: argument validation (exact messages), the netboot
 * table, install reports (a property: a report is a success exactly when the switch should
 * turn netboot off), the after-change command and the nginx.conf argument checks.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import { buildProfileKey } from "../../lib/binhost/paths";
import {
  DEFAULT_INSTALL_HOST_LAYOUT,
  type InstallHostPlan,
  installHostAfterChange,
  machineConfigPath,
  machineSecretPath,
  netbootAction,
  parseInstallReport,
  REPORT_MESSAGE_MAX,
  renderInstallHostNginxConf,
  renderInstallReport,
  renderNetbootSwitchScript,
  renderNetbootTable,
  renderNetbootUnits,
  renderStatusScript,
  validateBinhostInputs,
  validateInstallHostNginxArgs,
  validateInstallHostPlan,
} from "../../lib/pxe/renderers";
import { formatViolations } from "../../lib/validation";
import { db1, machines, network, web1 } from "../support/pxe-fixtures";
import { assertRefused, hostileTexts } from "../support/refused";

const stage = { url: "https://binhost.example.ch/stages/x.tar.xz", sha512: "ab".repeat(64) };
const cell = { binreposConf: "[x]\nsync-uri = https://binhost.example.ch/x/\n" };
const plan: InstallHostPlan = {
  name: "pxe",
  address: "10.0.0.2",
  dhcpMode: "full",
  efiBinary: undefined,
  ipxeDirectory: undefined,
  network,
  machines: [web1, db1],
  stacks: [
    { name: "web", buildProfiles: ["production/amd64", "staging/amd64"] },
    { name: "db", buildProfiles: ["staging/amd64"] },
  ],
  installers: { amd64: { kernel: "/k", initrd: "/i" } },
  baseDn: "dc=example,dc=ch",
  puppetServer: "puppet.example.ch",
  kernelArguments: undefined,
  clientConfig: { "production/amd64/web": cell, "staging/amd64/db": cell },
  stages: { "production/amd64/web": stage, "staging/amd64/db": stage },
  binhostUrl: "https://binhost.example.ch",
  fileExists: (path) => path === "/k" || path === "/i",
};
const problems = (p: Partial<InstallHostPlan>) =>
  formatViolations("x", validateInstallHostPlan({ ...plan, ...p }))
    .split("\n")
    .slice(1);

describe("validateInstallHostPlan", () => {
  it("accepts a consistent plan", () => {
    assert.deepEqual(validateInstallHostPlan(plan), []);
    for (const ipxeDirectory of ["/usr/lib/ipxe", "/opt/ipxe-1.21/bin/", "/srv/x_y+z"]) {
      assert.deepEqual(validateInstallHostPlan({ ...plan, ipxeDirectory }), [], ipxeDirectory);
    }
  });

  const table: [string, Partial<InstallHostPlan>, string[]][] = [
    [
      "a Stack passed twice",
      { stacks: [...plan.stacks, { name: "db", buildProfiles: [] }] },
      ['- stacks[2]: names a Stack twice (got "db"); pass each Stack once'],
    ],
    [
      "a cell the Stack does not build",
      { machines: [{ ...db1, environment: "production" }] },
      [
        '- machines[0]: is not built: Stack "db" builds staging/amd64 (got "production/amd64/db"); add the environment and arch to the Stack, or pick a cell it builds',
      ],
    ],
    [
      "the install host on the gateway",
      { address: "10.0.0.1" },
      ['- address: is taken by the network (got "10.0.0.1"); use a free host address'],
    ],
    [
      "the install host outside the subnet",
      { address: "192.168.1.2" },
      [
        '- address: is outside the subnet 10.0.0.0/24 (got "192.168.1.2"); use an address inside the network\'s subnet',
      ],
    ],
    [
      "an unknown EFI binary and a kernel argument with a space",
      { efiBinary: "grub", kernelArguments: ["quiet", "a b"] },
      [
        '- efiBinary: is not an iPXE EFI binary (got "grub"); use snponly or ipxe',
        '- kernelArguments[1]: is not one kernel argument (got "a b"); use one word without spaces or quotes, e.g. console=ttyS0,115200',
      ],
    ],
    ...[
      "/usr/lib/ipxe; rm -rf /",
      "/usr/lib/$(id)",
      "/usr/lib/ipxe\nreboot",
      "usr/lib/ipxe",
      "/usr/../etc",
      "/usr/lib/ipxe/.",
      "/usr//lib",
      "/",
      "/usr/lib/i pxe",
      "/usr/lib/'ipxe'",
    ].map((dir): [string, Partial<InstallHostPlan>, string[]] => [
      `an iPXE directory ${JSON.stringify(dir)}`,
      { ipxeDirectory: dir },
      [
        `- ipxeDirectory: is not an absolute path of plain segments (got ${JSON.stringify(dir)}); use e.g. /usr/lib/ipxe: letters, digits and . _ + - between slashes, no . or .. segment`,
      ],
    ]),
    [
      "an iPXE directory that is not a string",
      { ipxeDirectory: 42 },
      [
        "- ipxeDirectory: is not an absolute path of plain segments (got 42); use e.g. /usr/lib/ipxe: letters, digits and . _ + - between slashes, no . or .. segment",
      ],
    ],
    [
      "a missing domain",
      { network: { ...network, domain: undefined } },
      [
        "- domain: is missing (got undefined); give the DNS domain, e.g. example.ch: certificates and Puppet certnames are <hostname>.<domain>",
      ],
    ],
    [
      "an install host name that is no host name, and an FQDN too long for a certificate",
      { name: "PXE_1", machines: [{ ...web1, hostname: "w".repeat(60) }] },
      [
        "- name: is not a host name (got \"PXE_1\"); name the install host with one DNS label (a-z, 0-9, '-'): it is its host name",
        `- machines[0].hostname: makes ${"w".repeat(60)}.example.ch, which is not a DNS name of 64 characters at most (got "${"w".repeat(60)}"); use a shorter host name or domain`,
      ],
    ],
    [
      "a bad base DN",
      { baseDn: "example.ch" },
      [
        '- rootCa.baseDn: is not a valid DN: it has an RDN without "type=value": "example.ch" (got "example.ch"); write it most specific first, e.g. "dc=example,dc=ch" or "O=Example,C=CH"',
      ],
    ],
  ];
  for (const [what, change, expected] of table) {
    it(`names ${what}`, () => assert.deepEqual(problems(change), expected));
  }

  it("reports an installer only for arches of machines whose cell is built", () => {
    assert.deepEqual(problems({ installers: {} }), [
      "- installers.amd64: is missing (got undefined); give the installer kernel and initrd for amd64: a machine of that arch installs with it",
    ]);
    assert.deepEqual(problems({ installers: {}, machines: [{ ...web1, arch: "sparc" }] }), [
      '- machines[0].arch: is not a known arch (got "sparc"); use one of amd64',
    ]);
  });

  it("skips the client configuration and stages while they are not known", () => {
    assert.deepEqual(problems({ clientConfig: undefined, stages: undefined }), []);
  });
});

describe("validateBinhostInputs", () => {
  it("names a missing cell, an empty binrepos.conf, a plain-HTTP or foreign stage and a bad digest", () => {
    assert.deepEqual(
      formatViolations(
        "x",
        validateBinhostInputs(
          machines,
          { "production/amd64/web": { binreposConf: " " }, "staging/amd64/db": cell },
          {
            "production/amd64/web": { url: "http://binhost.example.ch/x", sha512: "x" },
            "staging/amd64/db": {
              url: "https://binhost.example.chx/s.tar.xz",
              sha512: stage.sha512,
            },
          },
          "https://binhost.example.ch",
        ),
      )
        .split("\n")
        .slice(1),
      [
        '- binhost.clientConfig["development/arm64/base"]: is missing (got undefined); serve build profile development/arm64/base from the binhost, or change the machines that use it',
        '- stages["development/arm64/base"]: is missing (got undefined); give the stage tarball machines of development/arm64/base install (URL and SHA-512)',
        '- binhost.clientConfig["production/amd64/web"].binreposConf: is empty (got " "); give the binrepos.conf machines of this build profile use',
        '- stages["production/amd64/web"].url: is not an https:// URL (got "http://binhost.example.ch/x"); give the stage tarball\'s URL on the binhost',
        '- stages["production/amd64/web"].sha512: is not a SHA-512 digest (got "x"); give 128 lower-case hex digits from the stage\'s .DIGESTS',
        `- stages["staging/amd64/db"].url: is not on the binhost https://binhost.example.ch (got "https://binhost.example.chx/s.tar.xz"); install stages from the Stacks' binhost (their binhostUrl)`,
      ],
    );
  });

  it("keys cells as <env>/<arch>/<stack>", () => {
    assert.equal(buildProfileKey(web1), "production/amd64/web");
  });
});

describe("netboot table and reports", () => {
  it("lists each MAC in file-name form with its generation and host name, sorted", () => {
    assert.equal(
      renderNetbootTable(machines),
      [
        "# gentoo-infra: known MACs, their install generation and host name; read by the netboot",
        "# switch and the status command.",
        "# Rendered file: edits are overwritten.",
        "52-54-00-12-34-56 1 web1",
        "52-54-00-ab-cd-ef 2 db1",
        "52-54-00-c0-ff-ee 1 arm1",
        "",
      ].join("\n"),
    );
  });

  it("renders a report with a one-line printable message, cut at 400 characters", () => {
    assert.equal(renderInstallReport("success", 2), "status=success\ngeneration=2\n");
    assert.equal(
      renderInstallReport("failed", 1, "could not fetch x:\nhost unreachable\u0007"),
      "status=failed\ngeneration=1\nmessage=could not fetch x: host unreachable \n",
    );
    const long = renderInstallReport("failed", 1, "é".repeat(500));
    assert.equal(long, `status=failed\ngeneration=1\nmessage=${" ".repeat(REPORT_MESSAGE_MAX)}\n`);
    assert.equal(REPORT_MESSAGE_MAX, 400);
    assert.deepEqual(parseInstallReport(web1.mac, renderInstallReport("success", 4, "x=y")), {
      mac: web1.mac,
      generation: 4,
    });
  });

  const reports: [string, { mac: string; generation: number } | undefined][] = [
    ["status=success\ngeneration=3\n", { mac: web1.mac, generation: 3 }],
    ["generation=3\r\nstatus=success\r\n", { mac: web1.mac, generation: 3 }],
    ["status=failed\ngeneration=3\n", undefined],
    ["status=success\n", undefined],
    ["status=success\ngeneration=0\n", undefined],
    ["status=success\ngeneration=03\n", undefined],
    ["status=success\ngeneration=3\nstatus=failed\n", { mac: web1.mac, generation: 3 }],
    ["", undefined],
  ];
  for (const [text, expected] of reports) {
    it(`reads ${JSON.stringify(text)} as ${JSON.stringify(expected)}`, () =>
      assert.deepEqual(parseInstallReport(web1.mac, text), expected));
  }

  it("property: netboot turns off exactly when the installer reported success of the current generation or later", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom("success", "failed" as const),
        (current, reported, status) => {
          const record = parseInstallReport(
            web1.mac,
            renderInstallReport(status as "success" | "failed", reported),
          );
          const action = netbootAction(
            { ...web1, installGeneration: current },
            record ? [record] : [],
          );
          return (
            action === (status === "success" && reported >= current ? "local-boot" : "install")
          );
        },
      ),
    );
  });
});

describe("install host paths and commands", () => {
  it("places a machine's files under its MAC", () => {
    assert.equal(
      machineConfigPath(DEFAULT_INSTALL_HOST_LAYOUT, db1.mac, "install.json"),
      "/etc/gentoo-infra/pxe/machines/52-54-00-ab-cd-ef/install.json",
    );
    assert.equal(machineSecretPath(db1.mac, "host.key"), "secrets/52-54-00-ab-cd-ef/host.key");
  });

  it("copies iPXE binaries, runs the switch, checks both configurations, then restarts dnsmasq and reloads nginx", () => {
    assert.equal(
      installHostAfterChange(["arm64/snponly.efi", "undionly.kpxe"], "/usr/lib/ipxe"),
      [
        "install -d -m 0755 /srv/tftp",
        "install -D -m 0644 /usr/lib/ipxe/arm64/snponly.efi /srv/tftp/arm64/snponly.efi",
        "install -D -m 0644 /usr/lib/ipxe/undionly.kpxe /srv/tftp/undionly.kpxe",
        "systemctl daemon-reload",
        "systemctl enable gi-pxe-netboot.path",
        "systemctl restart gi-pxe-netboot.path",
        "/usr/local/sbin/gi-pxe-netboot-switch",
        "dnsmasq --test",
        "nginx -t -q",
        "systemctl enable dnsmasq nginx",
        "systemctl restart dnsmasq",
        "systemctl restart nginx",
      ].join(" && "),
    );
  });
});

describe("install host helpers check their own arguments", () => {
  const files = ["arm64/snponly.efi", "undionly.kpxe"];
  const layoutPaths = Object.entries(DEFAULT_INSTALL_HOST_LAYOUT).filter(
    ([field]) => field !== "nginxUser",
  );

  it("installHostAfterChange refuses iPXE files, a directory or a layout that would reach the root shell unquoted", () => {
    for (const value of hostileTexts("undionly.kpxe")) {
      assertRefused(
        () => installHostAfterChange([files[0], value], "/usr/lib/ipxe"),
        "ipxeFiles[1]",
        value,
      );
    }
    for (const value of hostileTexts("/usr/lib/ipxe")) {
      assertRefused(() => installHostAfterChange(files, value), "ipxeDirectory", value);
    }
    for (const [field, valid] of layoutPaths) {
      for (const value of hostileTexts(valid)) {
        assertRefused(
          () =>
            installHostAfterChange(files, "/usr/lib/ipxe", {
              ...DEFAULT_INSTALL_HOST_LAYOUT,
              [field]: value,
            }),
          `layout.${field}`,
          value,
        );
      }
    }
    assert.throws(() => installHostAfterChange(["../undionly.kpxe"], "/usr/lib/ipxe"), {
      name: "ValidationError",
      message:
        'installHostAfterChange: 1 problem:\n- ipxeFiles[0]: is not a plain relative path (got "../undionly.kpxe"); use e.g. arm64/snponly.efi: letters, digits and . _ + - between slashes, no . or .. segment, no leading - or /',
    });
  });

  it("the netboot units, switch and status scripts refuse a layout that is not plain paths and a user name", () => {
    const renderers = { renderNetbootUnits, renderNetbootSwitchScript, renderStatusScript };
    for (const [name, render] of Object.entries(renderers)) {
      for (const [field, valid] of [...layoutPaths, ["nginxUser", "www-data"]]) {
        for (const value of hostileTexts(valid)) {
          assertRefused(
            () => render({ ...DEFAULT_INSTALL_HOST_LAYOUT, [field]: value }),
            `layout.${field}`,
            `${name}: ${value}`,
          );
        }
      }
    }
    assert.throws(
      () =>
        renderNetbootUnits({
          ...DEFAULT_INSTALL_HOST_LAYOUT,
          stateDir: "/var/lib/x\nExecStart=/bin/sh",
        }),
      {
        name: "ValidationError",
        message:
          'renderNetbootUnits: 1 problem:\n- layout.stateDir: is not an absolute path of plain segments (got "/var/lib/x\\nExecStart=/bin/sh"); use e.g. /var/lib/gentoo-infra/pxe: letters, digits and . _ + - between slashes, no . or .. segment',
      },
    );
  });

  it("the netboot table refuses a host name, MAC or generation that would make another field or row", () => {
    for (const value of hostileTexts("web1")) {
      assertRefused(
        () => renderNetbootTable([db1, { ...web1, hostname: value }]),
        "machines[1].hostname",
        value,
      );
    }
    for (const value of ["52:54:00:12:34:56 2 x", "52:54:00:12:34", ""]) {
      assertRefused(() => renderNetbootTable([{ ...web1, mac: value }]), "machines[0].mac", value);
    }
    for (const value of [0, -1, 1.5, Number.NaN, "2 x" as unknown as number]) {
      assertRefused(
        () => renderNetbootTable([{ ...web1, installGeneration: value }]),
        "machines[0].installGeneration",
        value,
      );
    }
  });
});

describe("install host nginx.conf arguments", () => {
  it("names every problem", () => {
    assert.deepEqual(
      formatViolations(
        "nginx",
        validateInstallHostNginxArgs({
          address: "10.0.0",
          network: { subnet: "10.0.0.0/33" },
          machines: [{ mac: "x", address: "10.0.0.300" }],
          layout: { ...DEFAULT_INSTALL_HOST_LAYOUT, wwwRoot: "srv", nginxUser: "Www Data" },
        }),
      )
        .split("\n")
        .slice(1),
      [
        '- address: is not an IPv4 address (got "10.0.0"); use e.g. 10.0.0.2',
        '- network.subnet: is not an IPv4 subnet (got "10.0.0.0/33"); use e.g. 10.0.0.0/24',
        '- machines[0].mac: is not a MAC address (got "x"); use six colon-separated hex pairs, e.g. 52:54:00:12:34:56',
        '- machines[0].address: is not an IPv4 address (got "10.0.0.300"); use e.g. 10.0.0.21',
        '- layout.wwwRoot: is not an absolute path of plain segments (got "srv"); use e.g. /srv/pxe/www: letters, digits and . _ + - between slashes, no . or .. segment',
        '- layout.nginxUser: is not a user name (got "Www Data"); use e.g. www-data',
      ],
    );
  });

  it("lets each machine PUT its report and read its secrets from its own address only", () => {
    const text = renderInstallHostNginxConf({ address: "10.0.0.2", network, machines: [db1] });
    assert.match(
      text,
      /location = \/report\/52-54-00-ab-cd-ef \{\n {6}allow 10\.0\.0\.22;\n {6}deny all;\n/,
    );
    assert.match(
      text,
      /location \/secrets\/52-54-00-ab-cd-ef\/ \{\n {6}allow 10\.0\.0\.22;\n {6}deny all;\n {6}limit_except GET \{ deny all; \}/,
    );
    assert.equal(text.match(/dav_methods PUT;/g)?.length, 1);
  });
});
