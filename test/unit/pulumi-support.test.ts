import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isIsoReadbackRace } from "../support/pulumi";

// The diagnostics of a failed up, as the pinned CLI printed them in a CI run (URN shortened).
const readbackRace = `
Diagnostics:
  libvirt:index:CloudInitDisk (binhost-cloudinit):
    error:   sdk-v2/provider2.go:572: sdk.helper_schema: error while retrieving remote ISO: error initializing ISO reader: corrupted-image: EOF: provider=libvirt@0.5.4
    error: 1 error occurred:
    	* creating urn:pulumi:bf-4d97::minimal::libvirt:index/cloudInitDisk:CloudInitDisk::binhost-cloudinit: 1 error occurred:
    	* error while retrieving remote ISO: error initializing ISO reader: corrupted-image: EOF

  pulumi:pulumi:Stack (minimal-bf-4d97):
    error: update failed
`;

describe("test support: the libvirt cloud-init read-back race", () => {
  it("is recognised when it is the only error of the up", () => {
    assert.equal(isIsoReadbackRace(readbackRace), true);
  });

  it("is not recognised beside another resource's error", () => {
    const other = readbackRace.replace(
      "  pulumi:pulumi:Stack",
      "  libvirt:index:Domain (binhost):\n    error: domain did not start\n\n  pulumi:pulumi:Stack",
    );
    assert.equal(isIsoReadbackRace(other), false);
  });

  it("is not recognised in an up that failed for another reason, or showed no error", () => {
    assert.equal(
      isIsoReadbackRace(
        readbackRace.replace(/error while retrieving remote ISO/g, "error creating volume"),
      ),
      false,
    );
    assert.equal(
      isIsoReadbackRace("Diagnostics:\n  pulumi:pulumi:Stack (x):\n    error: update failed\n"),
      false,
    );
    assert.equal(isIsoReadbackRace(""), false);
  });
});
