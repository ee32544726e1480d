import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLocalUri, resolveDomainType, serialLogPath } from "../../lib/libvirt/domain-xml";
import {
  libvirtUriViolations,
  validateGuestNetworkArgs,
  validateHypervisorArgs,
  validateVirtualMachineArgs,
} from "../../lib/libvirt/validate";
import { formatViolations } from "../../lib/validation";

describe("libvirt domain type", () => {
  const table: [Parameters<typeof resolveDomainType>[0], string, boolean, string][] = [
    ["kvm", "qemu+ssh://root@kvm1/system", false, "kvm"],
    ["qemu", "qemu:///system", true, "qemu"],
    ["detect", "qemu:///system", true, "kvm"],
    ["detect", "qemu:///system", false, "qemu"],
    ["detect", "qemu+ssh://root@kvm1/system", true, "qemu"],
  ];
  for (const [choice, uri, kvmUsable, expected] of table) {
    it(`${choice} on ${uri} with kvm ${kvmUsable ? "usable" : "unusable"} gives ${expected}`, () => {
      assert.equal(resolveDomainType(choice, { uri, kvmUsable }), expected);
    });
  }

  it("tells local URIs from remote ones", () => {
    assert.equal(isLocalUri("qemu:///system"), true);
    assert.equal(isLocalUri("qemu+ssh://root@host/system"), false);
  });

  it("puts the serial log in the log directory, named after the domain", () => {
    assert.equal(
      serialLogPath("/var/log/libvirt/qemu/", "gi-dev-binhost"),
      "/var/log/libvirt/qemu/gi-dev-binhost-serial.log",
    );
  });
});

describe("libvirt validation", () => {
  it("names every problem of a hypervisor's arguments", () => {
    const text = formatViolations(
      "Hypervisor",
      validateHypervisorArgs({
        uri: "kvm1",
        domainType: "xen" as "kvm",
        namePrefix: "Dev_1",
        pool: { path: "images" },
        logDirectory: "logs",
      }),
    );
    assert.equal(
      text,
      [
        "Hypervisor: 5 problems:",
        '- uri: is not a libvirt URI (got "kvm1"); use e.g. qemu:///system or qemu+ssh://root@host/system',
        '- domainType: is not a domain type (got "xen"); use kvm, qemu or detect',
        '- namePrefix: is not a valid name prefix (got "Dev_1"); use 1 to 40 lower-case letters, digits or hyphens, starting with a letter',
        '- pool.path: is not an absolute path (got "images"); use an absolute directory path on the hypervisor',
        '- logDirectory: is not an absolute path (got "logs"); use an absolute directory path on the hypervisor',
      ].join("\n"),
    );
  });

  it("accepts a libvirt URI with the SSH parameters the clients read, in any order", () => {
    const key = "/work/.cache/kvm2/client/id_ed25519";
    const known = "/work/.cache/kvm2/client/known_hosts";
    for (const uri of [
      "qemu:///system",
      "qemu:///session",
      "qemu+ssh://root@kvm2/system",
      "qemu+ssh://root@kvm2:2222/system",
      "qemu+tls://kvm2.example.ch/system",
      `qemu+ssh://root@10.255.254.2/system?keyfile=${key}&knownhosts=${known}&command=/usr/local/bin/ssh`,
      `qemu+ssh://root@10.255.254.2/system?command=/usr/local/bin/ssh&knownhosts=${known}&keyfile=${key}`,
      "qemu+ssh://root@kvm2/system?sshauth=agent,privkey",
    ]) {
      assert.deepEqual(libvirtUriViolations(uri), [], uri);
    }
  });

  it("refuses a libvirt URI that turns off host-key checks, or carries what no client reads", () => {
    const lines = (uri: unknown) => formatViolations("Hypervisor", libvirtUriViolations(uri));
    assert.match(
      lines("qemu+ssh://root@kvm2/system?no_verify=0"),
      /has no_verify, which turns off/,
    );
    assert.match(
      lines("qemu+ssh://root@kvm2/system?socket=/tmp/sock"),
      /has the parameter "socket", which gentoo-infra does not pass on.*use only keyfile, knownhosts, command, sshauth/,
    );
    assert.match(
      lines("qemu+ssh://root@kvm2/system?keyfile=id_ed25519"),
      /has a keyfile that is not an absolute path/,
    );
    for (const bad of [
      "kvm1",
      "qemu+ssh://root@kvm2/system#x",
      "qemu+ssh://root:pw@kvm2/system",
      "qemu+ssh://root@kvm2/system/x",
      "qemu+ssh://root@kvm2/system?keyfile=/a b",
      "qemu+ssh://root@kvm2/system?keyfile=/a;reboot",
      "qemu+carrier-pigeon://kvm2/system",
      42,
    ]) {
      assert.match(lines(bad), /is not a libvirt URI|is not an absolute path/, String(bad));
    }
  });

  it("accepts a guest network's arguments, with or without their options", () => {
    assert.deepEqual(validateGuestNetworkArgs({ subnet: "192.168.150.0/24" }), []);
    assert.deepEqual(
      validateGuestNetworkArgs({
        subnet: "10.20.0.0/16",
        mode: "nat",
        dhcp: "libvirt",
        ipv6Prefix: "fd00:67:69:150::/64",
      }),
      [],
    );
  });

  it("names every problem of a guest network's arguments (mode and dhcp were taken as off)", () => {
    const text = formatViolations(
      "GuestNetwork",
      validateGuestNetworkArgs({
        subnet: "192.168.150.0/33",
        mode: "bridge" as "nat",
        dhcp: "on" as "off",
        ipv6Prefix: "fd00:67:69:150::1/64",
      }),
    );
    assert.equal(
      text,
      [
        "GuestNetwork: 4 problems:",
        '- subnet: is not an IPv4 subnet in CIDR form (got "192.168.150.0/33"); use e.g. 192.168.150.0/24',
        '- mode: is not a network mode (got "bridge"); use isolated, nat or route',
        '- dhcp: is not a DHCP choice (got "on"); use off or libvirt',
        '- ipv6Prefix: is not an IPv6 /64 prefix in CIDR form (got "fd00:67:69:150::1/64"); use e.g. fd00:67:69:150::/64 (a unique local prefix, its network address)',
      ].join("\n"),
    );
  });

  it("accepts a complete VM", () => {
    assert.deepEqual(
      validateVirtualMachineArgs("web1", {
        diskGiB: 10,
        image: { path: "/srv/images/gentoo.qcow2" },
        networks: [{ networkName: "lan", mac: "52:54:00:00:00:01" }],
      }),
      [],
    );
  });

  it("names every problem of a VM's arguments", () => {
    const text = formatViolations(
      "VirtualMachine",
      validateVirtualMachineArgs("Web_1", {
        diskGiB: 0.5,
        memoryMiB: 128,
        vcpus: 0,
        firmware: "coreboot",
        boot: "floppy",
        networks: [
          { networkName: "lan", mac: "52:54:00:00:00:01" },
          { networkName: "lan", networkId: "x", mac: "52:54:00:00:00:01" },
          { mac: "52-54-00-00-00-02" },
        ],
      }),
    );
    assert.equal(
      text,
      [
        "VirtualMachine: 11 problems:",
        '- name: is not a valid VM name (got "Web_1"); use 1 to 40 lower-case letters, digits or hyphens, starting with a letter',
        "- diskGiB: is not a whole number of GiB between 1 and 4096 (got 0.5); give the disk size in GiB, e.g. 20",
        "- memoryMiB: is not a whole number of MiB from 256 to 1048576 (got 128); give memory in MiB, e.g. 2048",
        "- vcpus: is not a whole number between 1 and 256 (got 0); give the number of virtual CPUs, e.g. 2",
        '- firmware: is not a firmware (got "coreboot"); use bios or uefi',
        '- boot: is not a boot mode (got "floppy"); use disk or network',
        '- image: is missing, so the disk is blank and cannot boot (got undefined); give an image, or set boot: "network" for a machine that installs itself',
        '- networks[1]: must name exactly one network (got {"networkName":"lan","networkId":"x","mac":"52:54:00:00:00:01"}); give networkName or networkId',
        '- networks[1].mac: is used by another interface of this VM (got "52:54:00:00:00:01"); give each interface its own MAC',
        '- networks[2]: must name exactly one network (got {"mac":"52-54-00-00-00-02"}); give networkName or networkId',
      ].join("\n") +
        "\n" +
        '- networks[2].mac: is not a lower-case colon-separated MAC address (got "52-54-00-00-00-02"); use e.g. 52:54:00:12:34:56',
    );
  });
});
