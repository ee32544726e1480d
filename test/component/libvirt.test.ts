/**
 * The libvirt building blocks and the Server/PushedFiles pair under mocks: exact children,
 * names and inputs. Not proven here: that libvirt accepts them (the libvirt tier does).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
  installMocks,
  isSecret,
  outputValue,
  type Registered,
  registeredUnder,
} from "../support/mocks";
import { FILE_PUSH, pushedFiles } from "../support/pushes";

installMocks("development");

import type * as HostModule from "../../lib/host";
import type * as LibvirtModule from "../../lib/libvirt";
import { derivedMac } from "../../lib/network/mac";

const { GuestNetwork, Hypervisor, VirtualMachine } =
  require("../../lib/libvirt") as typeof LibvirtModule;
const { PushedFiles, Server } = require("../../lib/host") as typeof HostModule;

// Shared by several tests (their own registrations are not asserted).
const hv = new Hypervisor("local", { domainType: "qemu" });
const site = new Hypervisor("site", { domainType: "qemu" });
const lan = new GuestNetwork("lan", { hypervisor: site, subnet: "192.168.150.0/24" });

const names = (list: { type: string; name: string }[]) =>
  list.map((r) => `${r.type} ${r.name}`).sort();
/** The exact set is the contract; registration order is not. */
const assertSameSet = (actual: string[], expected: string[]) =>
  assert.deepEqual([...actual].sort(), [...expected].sort());
const inputsOf = (list: Registered[], type: string, name: string) => {
  const found = list.find((r) => r.type === type && r.name === name);
  assert.ok(found, `${type} ${name} was not registered`);
  return found.inputs;
};

describe("GuestNetwork", () => {
  it("is IPv4 only without libvirt's dnsmasq by default", async () => {
    new GuestNetwork("v4only", { hypervisor: site, subnet: "192.168.160.0/24" });
    const net = inputsOf(
      await registeredUnder("v4only"),
      "libvirt:index/network:Network",
      "v4only",
    );
    assert.deepEqual(net.addresses, ["192.168.160.0/24"]);
    assert.deepEqual(net.dns, { enabled: false });
    assert.deepEqual(net.dhcp, { enabled: false });
  });

  it("advertises an IPv6 prefix through libvirt's dnsmasq (DNS on, DHCP still off)", async () => {
    new GuestNetwork("dual", {
      hypervisor: site,
      subnet: "192.168.161.0/24",
      ipv6Prefix: "fd00:67:69:161::/64",
    });
    const net = inputsOf(await registeredUnder("dual"), "libvirt:index/network:Network", "dual");
    assert.deepEqual(net.addresses, ["192.168.161.0/24", "fd00:67:69:161::/64"]);
    assert.deepEqual(net.dns, { enabled: true });
    assert.deepEqual(net.dhcp, { enabled: false });
  });

  it("passes each mode to libvirt: isolated as none, nat and route as they are", async () => {
    for (const [mode, libvirtMode] of [
      ["isolated", "none"],
      ["nat", "nat"],
      ["route", "route"],
    ] as const) {
      const name = `mode-${mode}`;
      new GuestNetwork(name, { hypervisor: site, subnet: "10.252.1.0/24", mode });
      const net = inputsOf(await registeredUnder(name), "libvirt:index/network:Network", name);
      assert.equal(net.mode, libvirtMode, mode);
    }
  });

  it("rejects a bad subnet and a prefix that is not a /64 with one error, creating nothing", async () => {
    for (const ipv6Prefix of ["fd00:67:69:161::/48", "fd00:67:69:161::1/64", "192.168.1.0/24"]) {
      assert.throws(
        () => new GuestNetwork("badnet", { hypervisor: site, subnet: "10.0.0.0/33", ipv6Prefix }),
        (e: Error) => {
          assert.equal(
            e.message.replace(/^.*?GuestNetwork/s, "GuestNetwork"),
            `GuestNetwork "badnet": 2 problems:\n- subnet: is not an IPv4 subnet in CIDR form (got "10.0.0.0/33"); use e.g. 192.168.150.0/24\n- ipv6Prefix: is not an IPv6 /64 prefix in CIDR form (got "${ipv6Prefix}"); use e.g. fd00:67:69:150::/64 (a unique local prefix, its network address)`,
          );
          return true;
        },
      );
    }
    assertSameSet(names(await registeredUnder("badnet")), [
      "gentoo-infra:libvirt:GuestNetwork badnet",
      "gentoo-infra:libvirt:GuestNetwork badnet",
      "gentoo-infra:libvirt:GuestNetwork badnet",
    ]);
  });

  it("rejects a mode or a DHCP choice it does not know, creating nothing", async () => {
    assert.throws(
      () =>
        new GuestNetwork("oddnet", {
          hypervisor: site,
          subnet: "192.168.162.0/24",
          mode: "bridge" as "nat",
          dhcp: "on" as "off",
        }),
      (e: Error) => {
        assert.equal(
          e.message.replace(/^.*?GuestNetwork/s, "GuestNetwork"),
          'GuestNetwork "oddnet": 2 problems:\n- mode: is not a network mode (got "bridge"); use isolated, nat or route\n- dhcp: is not a DHCP choice (got "on"); use off or libvirt',
        );
        return true;
      },
    );
    assertSameSet(names(await registeredUnder("oddnet")), [
      "gentoo-infra:libvirt:GuestNetwork oddnet",
    ]);
  });
});

describe("Hypervisor", () => {
  it("creates a provider for its URI and a directory pool named by the stack", async () => {
    const hv = new Hypervisor("kvm1", { uri: "qemu+ssh://root@kvm1/system", domainType: "qemu" });
    const made = await registeredUnder("kvm1");
    assertSameSet(names(made), [
      "gentoo-infra:libvirt:Hypervisor kvm1",
      "pulumi-nodejs:dynamic/gentoo-infra:HypervisorReachable kvm1-reachable",
      "pulumi:providers:libvirt kvm1",
      "libvirt:index/pool:Pool kvm1-pool",
    ]);

    assert.equal(
      inputsOf(made, "pulumi:providers:libvirt", "kvm1").uri,
      "qemu+ssh://root@kvm1/system",
    );
    assert.deepEqual(inputsOf(made, "libvirt:index/pool:Pool", "kvm1-pool"), {
      name: "gi-development",
      type: "dir",
      target: { path: "/var/lib/libvirt/images/gi-development" },
    });
    assert.equal(hv.objectName("binhost"), "gi-development-binhost");
    assert.equal(hv.domainType, "qemu");
  });

  it("uses an existing pool without creating one", async () => {
    const hv = new Hypervisor("kvm2", { pool: { existing: "default" }, domainType: "kvm" });
    assertSameSet(names(await registeredUnder("kvm2")), [
      "gentoo-infra:libvirt:Hypervisor kvm2",
      "pulumi-nodejs:dynamic/gentoo-infra:HypervisorReachable kvm2-reachable",
      "pulumi:providers:libvirt kvm2",
    ]);
    assert.equal(await outputValue(hv.poolName), "default");
  });

  it("rejects bad arguments with one error and creates nothing", async () => {
    assert.throws(
      () => new Hypervisor("bad", { uri: "kvm1", namePrefix: "X" }),
      /Hypervisor "bad": 2 problems:\n- uri: .*\n- namePrefix: /,
    );
    assertSameSet(names(await registeredUnder("bad")), ["gentoo-infra:libvirt:Hypervisor bad"]);
  });
});

describe("VirtualMachine", () => {
  it("layers its disk over a copied image, attaches cloud-init and writes the serial console to a file", async () => {
    const vm = new VirtualMachine("web", {
      hypervisor: hv,
      image: { path: "/srv/images/gentoo.qcow2" },
      diskGiB: 20,
      memoryMiB: 2048,
      vcpus: 2,
      userData: "#cloud-config\n",
      networks: [{ networkName: "lan", mac: "52:54:00:00:00:01" }],
    });
    const made = await registeredUnder("web");
    assertSameSet(names(made), [
      "gentoo-infra:libvirt:VirtualMachine web",
      "libvirt:index/volume:Volume web-image",
      "libvirt:index/volume:Volume web-disk",
      "libvirt:index/cloudInitDisk:CloudInitDisk web-cloudinit",
      "libvirt:index/domain:Domain web",
    ]);
    assert.deepEqual(inputsOf(made, "libvirt:index/volume:Volume", "web-image"), {
      name: "gi-development-web-image.qcow2",
      pool: "gi-development",
      source: "/srv/images/gentoo.qcow2",
      format: "qcow2",
    });
    assert.deepEqual(inputsOf(made, "libvirt:index/volume:Volume", "web-disk"), {
      name: "gi-development-web-disk.qcow2",
      pool: "gi-development",
      format: "qcow2",
      size: 20 * 1024 ** 3,
      baseVolumeId: "web-image-id",
    });
    const domain = inputsOf(made, "libvirt:index/domain:Domain", "web");
    assert.equal(domain.type, "qemu");
    assert.equal(domain.memory, 2048);
    assert.equal(domain.vcpu, 2);
    assert.equal(domain.cloudinit, "web-cloudinit-id");
    assert.deepEqual(domain.disks, [{ volumeId: "web-disk-id" }]);
    assert.deepEqual(domain.networkInterfaces, [{ networkName: "lan", mac: "52:54:00:00:00:01" }]);
    assert.deepEqual(domain.bootDevices, [{ devs: ["hd"] }]);
    assert.equal(domain.firmware, undefined);
    assert.match(String((domain.xml as { xslt: string }).xslt), /gi-development-web-serial\.log/);
    assert.equal(vm.serialLogPath, "/var/log/libvirt/qemu/gi-development-web-serial.log");
    for (const r of made.filter((r) => r.type.startsWith("libvirt:")))
      assert.match(String(r.provider), /pulumi:providers:libvirt::local::local-id$/);
  });

  it("boots a blank UEFI disk from the network first, without image or cloud-init", async () => {
    new VirtualMachine("blank", {
      hypervisor: hv,
      diskGiB: 8,
      firmware: "uefi",
      boot: "network",
      networks: [{ networkId: "net-id", mac: "52:54:00:00:00:02" }],
    });
    const made = await registeredUnder("blank");
    assertSameSet(names(made), [
      "gentoo-infra:libvirt:VirtualMachine blank",
      "libvirt:index/volume:Volume blank-disk",
      "libvirt:index/domain:Domain blank",
    ]);
    assert.equal(
      inputsOf(made, "libvirt:index/volume:Volume", "blank-disk").baseVolumeId,
      undefined,
    );
    const domain = inputsOf(made, "libvirt:index/domain:Domain", "blank");
    assert.deepEqual(domain.bootDevices, [{ devs: ["network", "hd"] }]);
    assert.equal(domain.firmware, "/usr/share/OVMF/OVMF_CODE_4M.fd");
    assert.deepEqual(domain.nvram, {
      file: "/var/lib/libvirt/qemu/nvram/gi-development-blank_VARS.fd",
      template: "/usr/share/OVMF/OVMF_VARS_4M.fd",
    });
    assert.equal(domain.cloudinit, undefined);
  });
});

describe("Server and PushedFiles", () => {
  it("gives a server a static address, a derived MAC and an admin key kept secret", async () => {
    const server = new Server("binhost", {
      hypervisor: site,
      network: lan,
      address: "192.168.150.10",
      image: { volumeId: "base-id" },
    });
    const made = await registeredUnder("binhost");
    assertSameSet(names(made), [
      "gentoo-infra:host:Server binhost",
      "tls:index/privateKey:PrivateKey binhost-ssh-key",
      "gentoo-infra:libvirt:VirtualMachine binhost",
      "libvirt:index/volume:Volume binhost-disk",
      "libvirt:index/cloudInitDisk:CloudInitDisk binhost-cloudinit",
      "libvirt:index/domain:Domain binhost",
      "command:remote:Command binhost-ready",
    ]);
    const ready = inputsOf(made, "command:remote:Command", "binhost-ready");
    assert.match(String(ready.create), /sudo cloud-init status --wait --long/);
    assert.deepEqual(ready.triggers, ["binhost-id"]);
    const mac = derivedMac("gi-development-binhost");
    assert.equal(server.mac, mac);
    assert.equal(
      inputsOf(made, "tls:index/privateKey:PrivateKey", "binhost-ssh-key").algorithm,
      "ED25519",
    );
    const cloudinit = inputsOf(
      made,
      "libvirt:index/cloudInitDisk:CloudInitDisk",
      "binhost-cloudinit",
    );
    assert.match(String(cloudinit.userData), /ssh-ed25519 AAAAC3Nza[A-Za-z0-9+/]+ binhost-ssh-key/);
    assert.match(String(cloudinit.userData), /gi-admin/);
    assert.match(String(cloudinit.networkConfig), new RegExp(`macaddress: "?${mac}"?\n`));
    assert.match(String(cloudinit.networkConfig), /192\.168\.150\.10\/24/);
    assert.match(String(cloudinit.networkConfig), /192\.168\.150\.1\b/);
    assert.deepEqual(inputsOf(made, "libvirt:index/domain:Domain", "binhost").networkInterfaces, [
      { networkId: "lan-id", mac },
    ]);
    assert.equal(await isSecret(server.connection), true);
    const connection = await outputValue(server.connection);
    assert.equal(connection.host, "192.168.150.10");
    assert.equal(connection.user, "gi-admin");
  });

  it("pins an ED25519 host key on request, exposes its public key and keeps the user-data secret", async () => {
    const server = new Server("pinned", {
      hypervisor: site,
      network: lan,
      address: "192.168.150.13",
      image: { volumeId: "base-id" },
      hostKey: "pinned",
    });
    const made = await registeredUnder("pinned");
    assertSameSet(names(made), [
      "gentoo-infra:host:Server pinned",
      "tls:index/privateKey:PrivateKey pinned-ssh-key",
      "tls:index/privateKey:PrivateKey pinned-host-key",
      "gentoo-infra:libvirt:VirtualMachine pinned",
      "libvirt:index/volume:Volume pinned-disk",
      "libvirt:index/cloudInitDisk:CloudInitDisk pinned-cloudinit",
      "libvirt:index/domain:Domain pinned",
      "command:remote:Command pinned-ready",
    ]);
    assert.deepEqual(inputsOf(made, "tls:index/privateKey:PrivateKey", "pinned-host-key"), {
      algorithm: "ED25519",
    });
    const userData = inputsOf(made, "libvirt:index/cloudInitDisk:CloudInitDisk", "pinned-cloudinit")
      .userData as Record<string, unknown>;
    assert.equal(userData["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
    assert.match(
      String(userData.value),
      /ssh_keys:\n {2}ed25519_private: "?-----BEGIN OPENSSH PRIVATE KEY-----pinned-host-key"?\n {2}ed25519_public: ssh-ed25519 AAAAC3Nza[A-Za-z0-9+/]+ pinned-host-key\n/,
    );
    assert.ok(server.hostPublicKey && server.hostKey);
    assert.match(
      await outputValue(server.hostPublicKey),
      /^ssh-ed25519 AAAAC3Nza\S+ pinned-host-key$/,
    );
  });

  it("leaves the host keys to the image by default: no host key, plain user-data", async () => {
    const server = new Server("imagekeys", {
      hypervisor: site,
      network: lan,
      address: "192.168.150.14",
      image: { volumeId: "base-id" },
    });
    const made = await registeredUnder("imagekeys");
    assert.equal(server.hostKey, undefined);
    assert.equal(server.hostPublicKey, undefined);
    const userData = inputsOf(
      made,
      "libvirt:index/cloudInitDisk:CloudInitDisk",
      "imagekeys-cloudinit",
    ).userData;
    assert.equal(typeof userData, "string");
    assert.doesNotMatch(String(userData), /ssh_keys/);
  });

  it("rejects an address outside the network's subnet before creating anything", async () => {
    assert.throws(
      () =>
        new Server("x", {
          hypervisor: hv,
          network: lan,
          address: "10.0.0.5",
          image: { volumeId: "b" },
        }),
      /Server "x": 1 problem:\n- address: is outside the network's subnet 192.168.150.0\/24 \(got "10.0.0.5"\); pick an address inside the subnet/,
    );
    assertSameSet(names(await registeredUnder("x")), ["gentoo-infra:host:Server x"]);
  });

  it("pushes every file in one FilePush whose manifest names each file by destination", async () => {
    const server = new Server("pxe", {
      hypervisor: site,
      network: lan,
      address: "192.168.150.11",
      image: { volumeId: "b" },
    });
    const key = pulumi.secret("-----BEGIN PRIVATE KEY-----");
    const files = new PushedFiles("pxe-config", {
      server,
      files: [
        { path: "/etc/dnsmasq.conf", content: "port=0\n" },
        { path: "/etc/ssl/private/pxe.key", content: key, mode: "0600" },
      ],
      afterChange: "systemctl restart dnsmasq",
    });
    const made = await registeredUnder("pxe-config");
    assertSameSet(names(made), [
      "gentoo-infra:host:PushedFiles pxe-config",
      "pulumi-nodejs:dynamic/gentoo-infra:FilePush pxe-config",
    ]);
    const push = inputsOf(made, FILE_PUSH, "pxe-config");
    const sshKey = await outputValue(server.sshKey.privateKeyOpenssh);
    // A secret's fingerprint is an HMAC under the server's SSH key: shown, telling nothing.
    assert.deepEqual(pushedFiles(made, "pxe-config", { hmacKey: sshKey }), {
      "/etc/dnsmasq.conf": { content: "port=0\n", mode: "0644", owner: "root:root", secret: false },
      "/etc/ssl/private/pxe.key": {
        content: "-----BEGIN PRIVATE KEY-----",
        mode: "0600",
        owner: "root:root",
        secret: true,
      },
    });
    assert.equal(await isSecret(files.push.files), false, "the manifest is shown in previews");
    // The VM's domain id: a replaced VM gets every file again.
    assert.equal(push.vmId, "pxe-id");
    assert.equal(push.afterChange, "systemctl restart dnsmasq");
    const other = new PushedFiles("pxe-config2", {
      server,
      files: [
        { path: "/etc/dnsmasq.conf", content: "port=53\n" },
        { path: "/etc/ssl/private/pxe.key", content: key, mode: "0600" },
      ],
    });
    assert.notEqual(await outputValue(other.contentHash), await outputValue(files.contentHash));
    // The files are a set: the same files in another order are the same push.
    const reordered = new PushedFiles("pxe-config3", {
      server,
      files: [
        { path: "/etc/ssl/private/pxe.key", content: key, mode: "0600" },
        { path: "/etc/dnsmasq.conf", content: "port=0\n" },
      ],
    });
    assert.equal(await outputValue(reordered.contentHash), await outputValue(files.contentHash));
  });
});
