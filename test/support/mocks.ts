/**
 * A recorder for `pulumi.runtime.setMocks`: every registered resource with its type, name,
 * inputs and parent, so component tests can assert exact children. Call {@link installMocks}
 * before importing any module that creates resources.
 */
import * as pulumi from "@pulumi/pulumi";

/** One registered resource. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly provider: string | undefined;
}

/** Everything registered so far, in order. */
export const registered: Registered[] = [];

/** Installs recording mocks (project gentoo-infra, stack `stack`, preview mode). */
export function installMocks(stack = "development"): void {
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          provider: args.provider,
        });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "tls:index/privateKey:PrivateKey") {
          state.publicKeyOpenssh = `ssh-ed25519 AAAAC3Nza${Buffer.from(args.name).toString("base64").replace(/=/g, "")} ${args.name}`;
          state.privateKeyOpenssh = `-----BEGIN OPENSSH PRIVATE KEY-----${args.name}`;
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "gentoo-infra",
    stack,
    true,
  );
}

/**
 * Resolves once every registration started so far has reached the mocks: the SDK's own queue of
 * outstanding RPCs drained, no fixed sleep. `runtime.waitForRPCs` is internal to
 * @pulumi/pulumi (it is what the SDK awaits before it disconnects), hence the cast; an SDK
 * without it fails here loudly rather than letting a test read a half-registered tree.
 */
export async function settled(): Promise<void> {
  const wait = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (typeof wait !== "function") {
    throw new Error("@pulumi/pulumi has no runtime.waitForRPCs: update test/support/mocks.ts");
  }
  await wait();
}

/** Registrations since `mark`, once pending registrations have reached the mocks. */
export async function registeredSince(mark: number): Promise<Registered[]> {
  await settled();
  return registered.slice(mark);
}

/** The value of an Output (rejects if an apply threw). */
export function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}

/** Whether an Output is secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}

/**
 * The resources named `name` or `name-…` (a component and the children named after it),
 * once pending registrations have reached the mocks, sorted by type and name:
 * registration order is not part of a component's contract.
 */
export async function registeredUnder(name: string): Promise<Registered[]> {
  await settled();
  return registered
    .filter((r) => r.name === name || r.name.startsWith(`${name}-`))
    .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
}
