/**
 * An unreachable hypervisor through the real engine (the fixture
 * test/engine/fixtures/hypervisor-unreachable: a Hypervisor and a GuestNetwork on it): the
 * preview fails with one error that names the hypervisor, its URI and the endpoint tried,
 * before anything is planned on it, and an up creates nothing on it. A hypervisor whose port
 * answers passes the check.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { type TestContext, test } from "node:test";
import { PulumiCommandError, PulumiProgram, TOOLCHAIN_HINT } from "../support/pulumi";
import { requireTools } from "../support/tools";

const requireSetup = (t: TestContext) => requireTools(t, ["pulumi"], TOOLCHAIN_HINT);

/** The CLI's output of a command that must fail. */
async function failure(run: Promise<unknown>): Promise<string> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof PulumiCommandError, "the command fails");
  return `${error.stdout}${error.stderr}`;
}

test("an unreachable hypervisor fails the preview and the up with one error naming it", async (t) => {
  if (!requireSetup(t)) return;
  // A closed port on loopback: nothing listens on port 1.
  const uri = "qemu+ssh://root@127.0.0.1:1/system";
  const program = await PulumiProgram.create("test/engine/fixtures/hypervisor-unreachable");
  const server = createServer((socket) => socket.destroy());
  try {
    await program.setConfig("uri", uri);
    const expected = `Hypervisor "kvm2" (${uri}) cannot be reached at 127.0.0.1:1 (ssh): connect ECONNREFUSED 127.0.0.1:1`;

    await t.test("the preview fails with the hypervisor, its URI and the endpoint", async () => {
      const out = await failure(program.preview());
      assert.ok(out.includes(expected), out);
      // One error of ours; none worded by the libvirt client for each resource.
      assert.equal(out.split(expected).length - 1, 1, out);
      assert.doesNotMatch(out, /known hosts|failed to connect/);
    });

    await t.test("an up creates nothing on it", async () => {
      const out = await failure(program.up());
      assert.ok(out.includes(expected), out);
      const state = await program.rawState();
      assert.doesNotMatch(state, /libvirt:index\/network:Network|pulumi:providers:libvirt/);
    });

    await t.test("a hypervisor whose port answers passes the check", async () => {
      // Something listens, but it is no libvirtd: the check lets the libvirt client try, and
      // it is the client that fails (the preview's provider connects).
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address();
      assert.ok(address !== null && typeof address === "object");
      await program.setConfig("uri", `qemu+tcp://127.0.0.1:${address.port}/system`);
      const out = await failure(program.preview());
      assert.doesNotMatch(out, /cannot be reached/);
      assert.match(out, /failed to connect/);
    });
  } finally {
    server.close();
    await program.cleanup({ force: true });
  }
});
