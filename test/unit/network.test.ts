/** IPv4 helpers of lib/network/ipv4.ts (ipaddr.js underneath). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { firstHostAddress, hostAddress, parseIpv4Subnet } from "../../lib/network/ipv4";

const subnet = (cidr: string) => {
  const parsed = parseIpv4Subnet(cidr);
  assert.ok(parsed, cidr);
  return parsed;
};

describe("IPv4 subnets and host addresses", () => {
  it("parses a subnet given by any of its addresses", () => {
    assert.deepEqual(parseIpv4Subnet("10.20.30.40/16"), {
      network: "10.20.0.0",
      prefixLength: 16,
      netmask: "255.255.0.0",
      broadcast: "10.20.255.255",
    });
    for (const bad of ["10.0.0.0/33", "10.0.0/24", "fd00::/64", "10.0.0.0", 24, undefined]) {
      assert.equal(parseIpv4Subnet(bad), undefined, String(bad));
    }
  });

  it("numbers host addresses from the network address, across octets", () => {
    assert.equal(firstHostAddress(subnet("192.168.150.0/24")), "192.168.150.1");
    assert.equal(hostAddress(subnet("192.168.150.0/24"), 10), "192.168.150.10");
    assert.equal(hostAddress(subnet("10.20.0.0/16"), 300), "10.20.1.44");
    assert.equal(hostAddress(subnet("10.20.0.0/16"), 65534), "10.20.255.254");
    assert.equal(hostAddress(subnet("172.16.4.0/22"), 1000), "172.16.7.232");
  });

  it("refuses the network and broadcast addresses and anything outside", () => {
    for (const [cidr, n] of [
      ["192.168.150.0/24", 0],
      ["192.168.150.0/24", 255],
      ["192.168.150.0/24", 256],
      ["192.168.150.0/24", -1],
      ["192.168.150.0/24", 1.5],
      ["10.0.0.0/30", 3],
    ] as const) {
      assert.throws(() => hostAddress(subnet(cidr), n), {
        name: "RangeError",
        message: `${cidr} has no host address number ${n}`,
      });
    }
    assert.equal(hostAddress(subnet("10.0.0.0/30"), 2), "10.0.0.2");
  });
});
