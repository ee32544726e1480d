/**
 * examples/site's stack configuration (examples/site/site-config.ts): defaults when a key is
 * absent, one error naming each config key, and the committed Pulumi.<environment>.yaml files
 * pass the same check. Not proven here: that the program plans what the files say (the engine
 * tier, test/engine/site-environments.test.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
  DEFAULT_HYPERVISORS,
  DEFAULT_MACHINES,
  readSiteConfig,
  validateSiteConfig,
} from "../../examples/site/site-config";
import { environments, stacks } from "../../examples/site/stacks";

/** examples/site's plan with its default subnet, as index.ts builds it. */
const STACKS = {
  environment: "development",
  stacks: stacks.map((s) => s.name),
  network: { subnet: "10.20.0.0/24", dhcpRange: { start: "10.20.0.100", end: "10.20.0.199" } },
  address: (host: number) => `10.20.0.${host}`,
};
const SITE = path.resolve(__dirname, "../../examples/site");

describe("examples/site stack configuration", () => {
  it("applies the defaults when no key is set (a fresh stack)", () => {
    const none = { hypervisors: undefined, arm64Hypervisor: undefined, machines: undefined };
    assert.deepEqual(readSiteConfig(none, STACKS), {
      hypervisors: DEFAULT_HYPERVISORS,
      arm64Hypervisor: "hv1",
      machines: DEFAULT_MACHINES,
    });
  });

  it("puts arm64 builders on the last hypervisor unless arm64Hypervisor names one", () => {
    const hypervisors = { kvm1: "qemu:///system", kvm2: "qemu+ssh://root@kvm2/system" };
    const input = { hypervisors, arm64Hypervisor: undefined, machines: undefined };
    assert.equal(readSiteConfig(input, STACKS).arm64Hypervisor, "kvm2");
    assert.equal(
      readSiteConfig({ ...input, arm64Hypervisor: "kvm1" }, STACKS).arm64Hypervisor,
      "kvm1",
    );
  });

  it("refuses every wrong value in one error naming the config key", () => {
    const input = {
      hypervisors: { kvm1: "kvm1.example.ch", Kvm2: "qemu:///system" },
      arm64Hypervisor: "kvm3",
      machines: {
        web1: { mac: "52:54:00:20:00:33", host: 51, stack: "rails", firmware: "uefi" },
        web2: { mac: "52-54-00-20-00-33", host: 51, stack: "rail", firmware: "efi", disk: "sda" },
        mail1: { mac: 525400200036, host: 10, stack: "linux", firmware: "bios" },
      },
    };
    assert.throws(() => readSiteConfig(input, STACKS), {
      name: "ValidationError",
      message: [
        "examples/site stack configuration: 10 problems:",
        '- site:hypervisors.kvm1: is not a libvirt URI (got "kvm1.example.ch"); use e.g. qemu:///system or qemu+ssh://root@host/system',
        '- site:hypervisors.Kvm2: is not a hypervisor name (got "Kvm2"); use a DNS label, e.g. kvm1',
        '- site:arm64Hypervisor: is not one of site:hypervisors (got "kvm3"); use kvm1, Kvm2',
        '- site:machines.web2.disk: is not a machine field (got "sda"); use mac, host, stack, firmware',
        "- site:machines.mail1.host: is not a machine's host number (got 10); use 50 to 99 (the nth address of the subnet; servers sit below, DHCP above)",
        // The rest as the install host's own validateMachines says it, on the config's keys.
        '- site:machines.web2.mac: duplicates site:machines.web1.mac (got "52-54-00-20-00-33"); give each machine its own MAC address',
        '- site:machines.web2.stack: is not a known Stack (got "rail"); use one of linux, ruby, rails',
        '- site:machines.web2.host: duplicates site:machines.web1.host (got "10.20.0.51"); give each machine its own address',
        '- site:machines.web2.firmware: is not a firmware kind (got "efi"); use bios or uefi',
        "- site:machines.mail1.mac: is not a MAC address (got 525400200036); use six colon-separated hex pairs, e.g. 52:54:00:12:34:56",
      ].join("\n"),
    });
  });

  it("refuses a machines or hypervisors value that is not a map, or an empty one", () => {
    for (const machines of [[], {}, "web1", null]) {
      const v = validateSiteConfig(
        { hypervisors: undefined, arm64Hypervisor: undefined, machines },
        STACKS,
      );
      assert.deepEqual(
        v.map((x) => `${x.argument}: ${x.problem}`),
        ["site:machines: is not a map of hostname to machine"],
      );
    }
    const v = validateSiteConfig(
      { hypervisors: {}, arm64Hypervisor: undefined, machines: undefined },
      STACKS,
    );
    assert.deepEqual(
      v.map((x) => `${x.argument}: ${x.problem}`),
      ["site:hypervisors: is not a map of hypervisor name to libvirt URI"],
    );
  });

  for (const environment of environments) {
    it(`accepts the committed Pulumi.${environment}.yaml`, () => {
      const file = parse(readFileSync(path.join(SITE, `Pulumi.${environment}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
      };
      const input = {
        hypervisors: file.config["site:hypervisors"],
        arm64Hypervisor: file.config["site:arm64Hypervisor"],
        machines: file.config["site:machines"],
      };
      assert.deepEqual(validateSiteConfig(input, STACKS), []);
      assert.ok(input.hypervisors && input.machines, "it sets hypervisors and machines");
      assert.equal(
        typeof file.config["site:rootStack"],
        environment === "development" ? "undefined" : "string",
        "staging and production name the offline root stack; development does not",
      );
    });
  }
});
