/**
 * HypervisorReachable: a check, run by every preview and up, that a hypervisor's libvirt
 * daemon can be reached (its socket accepts a connection, or its remote port does), before
 * anything is planned on it. Without it, an unreachable hypervisor shows up as one error per
 * resource, worded by the libvirt client ("failed to read ssh known hosts", "dial unix …").
 * A Pulumi dynamic resource, so that `--target` leaves the check of another hypervisor out.
 */
import type { Socket } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { describeEndpoint, type LibvirtEndpoint, libvirtEndpoint } from "./endpoint";

/** Seconds a connection attempt may take. */
export const REACH_TIMEOUT_SECONDS = 10;

/** Inputs of the check. */
interface ReachInputs {
  /** The hypervisor's component name, for the message. */
  readonly hypervisor: string;
  readonly uri: string;
}

/** Resolves once `endpoint` accepts a connection; rejects with the reason otherwise. */
function connectOnce(endpoint: LibvirtEndpoint, timeoutMs: number): Promise<void> {
  const net = require("node:net") as typeof import("node:net");
  return new Promise((resolve, reject) => {
    const socket: Socket =
      endpoint.kind === "unix"
        ? net.createConnection({ path: endpoint.path })
        : net.createConnection({ host: endpoint.host, port: endpoint.port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs / 1000} s`));
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", (error: NodeJS.ErrnoException) => reject(error));
  });
}

/** Why `inputs`' hypervisor cannot be reached, or undefined when it can (or cannot be told). */
async function unreachable(inputs: ReachInputs): Promise<string | undefined> {
  const endpoint = libvirtEndpoint(inputs.uri);
  if (endpoint === undefined) return undefined;
  try {
    await connectOnce(endpoint, REACH_TIMEOUT_SECONDS * 1000);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `Hypervisor "${inputs.hypervisor}" (${inputs.uri}) cannot be reached at ${describeEndpoint(endpoint)}: ${reason}. Nothing on it can be planned or changed; if it is down on purpose, leave its resources out with --target (docs/libvirt.md)`;
  }
}

/** The dynamic provider: `check` connects; nothing else touches the hypervisor. */
export const hypervisorReachableProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: unknown, news: ReachInputs) {
    const reason = await unreachable(news);
    return { inputs: news, failures: reason ? [{ property: "uri", reason }] : [] };
  },
  async diff(_id: string, olds: ReachInputs, news: ReachInputs) {
    return { changes: olds.uri !== news.uri || olds.hypervisor !== news.hypervisor };
  },
  async create(inputs: ReachInputs) {
    return { id: inputs.uri, outs: inputs };
  },
  async update(_id: string, _olds: ReachInputs, news: ReachInputs) {
    return { outs: news };
  },
};

/** The check of one hypervisor (see the module's comment). */
export class HypervisorReachable extends pulumi.dynamic.Resource {
  constructor(
    name: string,
    args: { readonly hypervisor: string; readonly uri: string },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(hypervisorReachableProvider, name, args, opts, "gentoo-infra", "HypervisorReachable");
  }
}
