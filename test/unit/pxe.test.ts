import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as fc from "fast-check";
import {
  defaultDiskLayout,
  ipv4InRange,
  ipxeBootFile,
  ipxeTftpFiles,
  type Machine,
  macFileName,
  netbootAction,
  normalizeMac,
  renderDnsmasqConf,
  validateDiskLayout,
  validateInventory,
} from "../../lib/pxe/renderers";
import { formatViolations, ValidationError } from "../../lib/validation";
import { arm1, db1, known, machines, network, web1 } from "../support/pxe-fixtures";

const messages = (vs: readonly { argument: string; problem: string; fix: string }[]) =>
  vs.map((v) => `${v.argument}: ${v.problem}; ${v.fix}`);

describe("normalizeMac", () => {
  const table: [unknown, string | undefined][] = [
    ["52:54:00:AB:cd:EF", "52:54:00:ab:cd:ef"],
    ["52-54-00-ab-cd-ef", "52:54:00:ab:cd:ef"],
    ["525400ABCDEF", "52:54:00:ab:cd:ef"],
    ["52:54-00:ab:cd:ef", undefined],
    ["52:54:00:ab:cd", undefined],
    ["52:54:00:ab:cd:eg", undefined],
    ["", undefined],
    [42, undefined],
  ];
  for (const [input, expected] of table) {
    it(`normalizes ${JSON.stringify(input)} to ${expected ?? "undefined"}`, () => {
      assert.equal(normalizeMac(input), expected);
    });
  }

  it("is idempotent and yields lower-case colon form for any 6 bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 6, maxLength: 6 }),
        fc.constantFrom(":", "-", ""),
        fc.boolean(),
        (bytes, sep, upper) => {
          const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0"));
          const text = hex.join(sep);
          const normal = normalizeMac(upper ? text.toUpperCase() : text);
          assert.equal(normal, hex.join(":"));
          assert.equal(normalizeMac(normal), normal);
          assert.equal(macFileName(normal as string), hex.join("-"));
        },
      ),
    );
  });
});

describe("validateInventory", () => {
  it("accepts the fixture inventory", () => {
    assert.deepEqual(validateInventory(machines, network, known), []);
  });

  it("names every problem of a bad inventory in one list, in machine order", () => {
    const bad: Machine[] = [
      web1,
      { ...db1, mac: "52:54:00:12:34:56", address: "10.0.0.21", hostname: "web1" },
      {
        ...arm1,
        mac: "52:54:00:zz:00:01",
        environment: "qa",
        arch: "sparc",
        stack: "mail",
        address: "10.0.1.5",
      },
      { ...web1, mac: "52:54:00:00:00:04", hostname: "Web_4", address: "10.0.0.150" },
      {
        ...web1,
        mac: "52:54:00:00:00:05",
        hostname: "arm5",
        arch: "arm64",
        firmware: "bios",
        address: "10.0.0.255",
        disk: defaultDiskLayout("bios", "/dev/vda"),
      },
    ];
    assert.deepEqual(messages(validateInventory(bad, network, known)), [
      "machines[1].mac: duplicates machines[0].mac; give each machine its own MAC address",
      "machines[1].hostname: duplicates machines[0].hostname; give each machine its own host name",
      "machines[1].address: duplicates machines[0].address; give each machine its own address",
      "machines[2].mac: is not a MAC address; use six colon-separated hex pairs, e.g. 52:54:00:12:34:56",
      "machines[2].environment: is not a known environment; use one of development, staging, production",
      "machines[2].arch: is not a known arch; use one of amd64, x86, arm64",
      "machines[2].stack: is not a known Stack; use one of base, web, db",
      "machines[2].address: is outside the subnet 10.0.0.0/24; use an address inside the subnet",
      "machines[3].hostname: is not a host name; use one DNS label: a-z, 0-9 and '-', at most 63 characters",
      "machines[3].address: is inside the DHCP range 10.0.0.100-10.0.0.199; use an address outside the DHCP range",
      "machines[4].address: is the network or broadcast address of 10.0.0.0/24; use a host address",
      "machines[4].firmware: has no iPXE binary for arch arm64; use one of bios/amd64, bios/x86, uefi/amd64, uefi/arm64 (firmware/arch)",
    ]);
  });

  it("refuses MACs no network card has: multicast, broadcast, all zeros", () => {
    const bad = [
      "01:00:5e:00:00:01",
      "ff:ff:ff:ff:ff:ff",
      "00:00:00:00:00:00",
      "33-33-00-00-00-01",
    ];
    assert.deepEqual(
      messages(
        validateInventory(
          bad.map((mac, i) => ({ ...web1, mac, hostname: `w${i}`, address: `10.0.0.${21 + i}` })),
          network,
          known,
        ),
      ),
      [
        "machines[0].mac: is a multicast or broadcast MAC (odd first octet), which no network card has; use a unicast MAC (even first octet), e.g. 52:54:00:12:34:56",
        "machines[1].mac: is a multicast or broadcast MAC (odd first octet), which no network card has; use a unicast MAC (even first octet), e.g. 52:54:00:12:34:56",
        "machines[2].mac: is the all-zero MAC, which no network card has; use six colon-separated hex pairs, e.g. 52:54:00:12:34:56",
        "machines[3].mac: is a multicast or broadcast MAC (odd first octet), which no network card has; use a unicast MAC (even first octet), e.g. 52:54:00:12:34:56",
      ],
    );
  });

  it("refuses a DHCP range or gateway on the network or broadcast address", () => {
    const vs = validateInventory([], {
      ...network,
      gateway: "10.0.0.0",
      dhcpRange: { start: "10.0.0.100", end: "10.0.0.255" },
    });
    assert.deepEqual(messages(vs), [
      "network.gateway: is the network or broadcast address of 10.0.0.0/24; use a host address",
      "network.dhcpRange.end: is the network or broadcast address of 10.0.0.0/24; use a host address",
    ]);
  });

  it("formats one error naming argument, value and fix for each problem", () => {
    const vs = validateInventory([{ ...web1, mac: "nope" }], network, known);
    assert.equal(
      formatViolations('PxeInstallHost "pxe"', vs),
      'PxeInstallHost "pxe": 1 problem:\n- machines[0].mac: is not a MAC address (got "nope"); use six colon-separated hex pairs, e.g. 52:54:00:12:34:56',
    );
  });

  it("checks the network: subnet, gateway, DHCP range order", () => {
    const vs = validateInventory([], {
      subnet: "10.0.0.0/33",
      gateway: "10.0.1.1",
      dhcpRange: { start: "10.0.0.200", end: "10.0.0.100" },
    });
    assert.deepEqual(messages(vs), [
      "network.subnet: is not an IPv4 subnet; use CIDR notation, e.g. 10.0.0.0/24",
      "network.dhcpRange: starts after it ends; give the lower address as start",
    ]);
    assert.deepEqual(
      messages(validateInventory([], { ...network, gateway: "10.0.1.1", dnsServers: ["dns"] })),
      [
        "network.gateway: is outside the subnet 10.0.0.0/24; use an address inside the subnet",
        "network.dnsServers[0]: is not an IPv4 address; use dotted-quad form, e.g. 10.0.0.1",
      ],
    );
  });

  it("skips membership checks when no known names are given", () => {
    assert.deepEqual(validateInventory([{ ...web1, stack: "anything" }], network), []);
  });

  it("rejects an address equal to the gateway", () => {
    assert.deepEqual(
      messages(validateInventory([{ ...web1, address: "10.0.0.1" }], network, known)),
      ["machines[0].address: is the gateway's address; use another address"],
    );
  });

  it("accepted inventories never share a MAC, address or host name, and never use the DHCP range", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const machineArb = fc.record({
      last: octet,
      mac: fc.integer({ min: 0, max: 7 }),
      host: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(
      fc.property(fc.array(machineArb, { maxLength: 8 }), (specs) => {
        const ms: Machine[] = specs.map((s) => ({
          ...web1,
          mac: `52:54:00:00:00:0${s.mac}`,
          hostname: `host${s.host}`,
          address: `10.0.0.${s.last}`,
        }));
        if (validateInventory(ms, network, known).length > 0) return;
        const unique = (xs: string[]) => new Set(xs).size === xs.length;
        assert.ok(unique(ms.map((m) => normalizeMac(m.mac) as string)));
        assert.ok(unique(ms.map((m) => m.address)));
        assert.ok(unique(ms.map((m) => m.hostname)));
        for (const m of ms)
          assert.ok(!ipv4InRange(m.address, network.dhcpRange.start, network.dhcpRange.end));
      }),
    );
  });
});

describe("validateDiskLayout", () => {
  it("accepts the default layouts for their firmware", () => {
    assert.deepEqual(validateDiskLayout(defaultDiskLayout("uefi", "/dev/vda"), "uefi", "disk"), []);
    assert.deepEqual(validateDiskLayout(defaultDiskLayout("bios", "/dev/sda"), "bios", "disk"), []);
  });

  it("rejects a UEFI machine without an EFI system partition", () => {
    assert.deepEqual(
      messages(validateDiskLayout(defaultDiskLayout("bios", "/dev/sda"), "uefi", "disk")),
      [
        "disk.partitions: has 0 efi partitions for uefi firmware; add exactly one partition of type efi",
      ],
    );
  });

  it("names every problem of a bad layout", () => {
    const vs = validateDiskLayout(
      {
        device: "sda",
        partitions: [
          { label: "efi", type: "efi", filesystem: "ext4", mountpoint: "/efi" },
          { label: "efi", type: "swap", sizeMiB: 0, filesystem: "swap", mountpoint: "/swap" },
          { label: "data", type: "linux", sizeMiB: 10, filesystem: "xfs", mountpoint: "/efi" },
          { label: "tail", type: "linux", filesystem: "ext4" },
        ],
      },
      "uefi",
      "machines[0].disk",
    );
    assert.deepEqual(messages(vs), [
      "machines[0].disk.device: is not a block device path; use e.g. /dev/sda",
      "machines[0].disk.partitions[0].sizeMiB: is missing on a partition that is not the last; give a size in MiB; only the last partition may fill the rest of the disk",
      "machines[0].disk.partitions[0].filesystem: is not vfat on an EFI system partition; use vfat",
      "machines[0].disk.partitions[1].label: duplicates machines[0].disk.partitions[0].label; give each partition its own label",
      "machines[0].disk.partitions[1].sizeMiB: is not a positive whole number; give a size in MiB, e.g. 512",
      "machines[0].disk.partitions[1].mountpoint: is set on a partition with filesystem swap; remove the mountpoint, or choose a filesystem",
      "machines[0].disk.partitions[2].mountpoint: duplicates machines[0].disk.partitions[0].mountpoint; mount each path once",
      "machines[0].disk.partitions[3].mountpoint: is missing for a ext4 filesystem; give an absolute path, e.g. /var",
      "machines[0].disk.partitions: has no root partition; mount one partition at /",
    ]);
  });
});

describe("netbootAction", () => {
  it("installs until the current generation is recorded, then boots locally", () => {
    assert.equal(netbootAction(web1, []), "install");
    assert.equal(netbootAction(web1, [{ mac: "52-54-00-12-34-56", generation: 1 }]), "local-boot");
    assert.equal(netbootAction(db1, [{ mac: db1.mac, generation: 1 }]), "install");
    assert.equal(netbootAction(db1, [{ mac: db1.mac, generation: 2 }]), "local-boot");
    assert.equal(netbootAction(web1, [{ mac: db1.mac, generation: 9 }]), "install");
  });

  it("never reinstalls a machine once its generation is recorded, whatever else is recorded", () => {
    const record = fc.record({
      mac: fc.constantFrom(web1.mac, db1.mac, arm1.mac),
      generation: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(
      fc.property(fc.array(record), fc.integer({ min: 1, max: 5 }), (records, generation) => {
        const m = { ...web1, installGeneration: generation };
        const after = [...records, { mac: m.mac, generation }];
        assert.equal(netbootAction(m, after), "local-boot");
        assert.equal(
          netbootAction(
            {
              ...m,
              installGeneration: Math.max(generation, ...after.map((r) => r.generation)) + 1,
            },
            after,
          ),
          "install",
        );
      }),
    );
  });
});

describe("iPXE binaries", () => {
  it("chooses the binary by firmware and arch", () => {
    assert.equal(ipxeBootFile("bios", "amd64"), "undionly.kpxe");
    assert.equal(ipxeBootFile("bios", "x86"), "undionly.kpxe");
    assert.equal(ipxeBootFile("uefi", "amd64"), "snponly.efi");
    assert.equal(ipxeBootFile("uefi", "amd64", "ipxe"), "ipxe.efi");
    assert.equal(ipxeBootFile("uefi", "arm64"), "arm64/snponly.efi");
    assert.deepEqual(ipxeTftpFiles(machines), [
      "arm64/snponly.efi",
      "snponly.efi",
      "undionly.kpxe",
    ]);
  });
});

describe("renderDnsmasqConf", () => {
  const base = { interface: "eth1", network, machines, httpBaseUrl: "http://10.0.0.2" } as const;

  it("ignores unknown MACs in proxy mode and serves them the default script in full mode", () => {
    const proxy = renderDnsmasqConf({ ...base, mode: "proxy" });
    const full = renderDnsmasqConf({ ...base, mode: "full" });
    assert.ok(proxy.includes("\ndhcp-ignore=tag:!known\n"));
    assert.ok(!proxy.includes("default.ipxe"));
    assert.ok(!full.includes("dhcp-ignore"));
    assert.ok(full.includes("\ndhcp-boot=tag:ipxe,tag:!known,http://10.0.0.2/ipxe/default.ipxe\n"));
  });

  it("never hands an iPXE client an iPXE binary (no chainload loop)", () => {
    for (const mode of ["full", "proxy"] as const) {
      const lines = renderDnsmasqConf({ ...base, mode }).split("\n");
      const binaries = lines.filter((l) => /\.(kpxe|efi)$/.test(l));
      // BIOS, x86-64 and arm64 UEFI over TFTP; full mode also x86-64 UEFI HTTP boot.
      assert.equal(binaries.length, mode === "full" ? 4 : 3);
      for (const l of binaries) assert.match(l, /tag:!ipxe,/);
      for (const l of lines.filter((l) => l.includes("http://") && !binaries.includes(l)))
        assert.match(l, /^dhcp-boot=tag:ipxe,/);
      if (mode === "full") {
        assert.ok(
          lines.includes(
            "dhcp-boot=tag:!ipxe,tag:efi-x86-64-http,http://10.0.0.2/ipxe/snponly.efi",
          ),
          "UEFI HTTP boot clients get iPXE over HTTP",
        );
      }
    }
  });

  it("throws one ValidationError naming every bad argument", () => {
    assert.throws(
      () =>
        renderDnsmasqConf({
          ...base,
          mode: "relay" as "full",
          interface: "eth 1",
          httpBaseUrl: "https://x",
          machines: [web1, web1],
        }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.deepEqual(messages(e.violations), [
          "mode: is not a DHCP mode; use full or proxy",
          "interface: is not a network interface name; use e.g. eth1",
          "httpBaseUrl: is not a plain http:// URL; use e.g. http://10.0.0.2 (iPXE fetches over HTTP)",
          "machines[1].mac: duplicates machines[0].mac; give each machine its own MAC address",
          "machines[1].hostname: duplicates machines[0].hostname; give each machine its own host name",
          "machines[1].address: duplicates machines[0].address; give each machine its own address",
        ]);
        return true;
      },
    );
  });
});
