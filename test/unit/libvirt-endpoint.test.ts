/** Where a libvirt URI's daemon answers (lib/libvirt/endpoint.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeEndpoint, libvirtEndpoint, SYSTEM_SOCKET } from "../../lib/libvirt/endpoint";

describe("libvirtEndpoint", () => {
  it("the local system daemon is its socket; remote transports are their ports", () => {
    assert.deepEqual(libvirtEndpoint("qemu:///system"), { kind: "unix", path: SYSTEM_SOCKET });
    assert.deepEqual(libvirtEndpoint("qemu+ssh://root@kvm2.example.ch/system"), {
      kind: "tcp",
      transport: "ssh",
      host: "kvm2.example.ch",
      port: 22,
    });
    assert.deepEqual(libvirtEndpoint("qemu+ssh://root@10.0.0.2:2222/system"), {
      kind: "tcp",
      transport: "ssh",
      host: "10.0.0.2",
      port: 2222,
    });
    assert.equal(libvirtEndpoint("qemu+tcp://kvm3/system")?.kind, "tcp");
    assert.deepEqual(libvirtEndpoint("qemu+tls://[fd00::2]/system"), {
      kind: "tcp",
      transport: "tls",
      host: "fd00::2",
      port: 16514,
    });
  });

  it("what cannot be told without libvirt is undefined: a session daemon, another transport", () => {
    assert.equal(libvirtEndpoint("qemu:///session"), undefined);
    assert.equal(libvirtEndpoint("qemu+libssh2://root@kvm2/system"), undefined);
    assert.equal(libvirtEndpoint("qemu+ssh:///system"), undefined);
    assert.equal(libvirtEndpoint("not a uri"), undefined);
  });

  it("reads in an error as a path or host:port (transport)", () => {
    assert.equal(describeEndpoint({ kind: "unix", path: SYSTEM_SOCKET }), SYSTEM_SOCKET);
    assert.equal(
      describeEndpoint({ kind: "tcp", transport: "ssh", host: "kvm2", port: 22 }),
      "kvm2:22 (ssh)",
    );
  });
});
