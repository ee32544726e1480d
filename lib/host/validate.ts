/**
 * Pure checks of the host building blocks' arguments (Server, PushedFiles), apart from the
 * components so that the scenario components' validators can run them without loading Pulumi.
 */
import { posix } from "node:path";
import { ipv4InSubnet, isIpv4Address, parseIpv4Subnet } from "../network/ipv4";
import { type Violation, violation } from "../validation/violations";
import type { PushedFile } from "./pushed-files";
import type { ServerArgs } from "./server";

/** Checks a server's arguments; returns every violation. */
export function validateServerArgs(
  args: Pick<ServerArgs, "address" | "hostKey">,
  subnet: string,
): Violation[] {
  if (args.hostKey !== undefined && args.hostKey !== "image" && args.hostKey !== "pinned") {
    return [
      violation("hostKey", args.hostKey, "is not a host key mode", "use image or pinned"),
      ...validateServerArgs({ address: args.address }, subnet),
    ];
  }
  const parsed = parseIpv4Subnet(subnet);
  if (!isIpv4Address(args.address)) {
    return [
      violation(
        "address",
        args.address,
        "is not an IPv4 address",
        "use a dotted quad such as 192.168.150.10",
      ),
    ];
  }
  if (parsed && !ipv4InSubnet(args.address, parsed)) {
    return [
      violation(
        "address",
        args.address,
        `is outside the network's subnet ${subnet}`,
        "pick an address inside the subnet",
      ),
    ];
  }
  return [];
}

/** Checks the files; returns every violation. */
export function validatePushedFiles(
  files: readonly (Pick<PushedFile, "path" | "mode" | "owner"> &
    Partial<Pick<PushedFile, "content" | "localPath">>)[],
): Violation[] {
  const out: Violation[] = [];
  const seen = new Set<string>();
  files.forEach((f, i) => {
    if (f.content !== undefined && f.localPath !== undefined) {
      out.push(
        violation(
          `files[${i}].localPath`,
          f.localPath,
          "is given together with content",
          "give either content or localPath",
        ),
      );
    }
    if (
      !/^\/.*[^/]$/s.test(f.path) ||
      [...f.path].some((c) => c.charCodeAt(0) < 0x20) ||
      f.path.split("/").includes("..") ||
      posix.normalize(f.path) !== f.path
    ) {
      out.push(
        violation(
          `files[${i}].path`,
          f.path,
          "is not an absolute file path",
          "use e.g. /etc/nginx/nginx.conf",
        ),
      );
      return;
    }
    if (seen.has(f.path)) {
      out.push(violation(`files[${i}].path`, f.path, "is pushed twice", "push each file once"));
    }
    seen.add(f.path);
    if (f.mode !== undefined && !/^0?[0-7]{3,4}$/.test(f.mode)) {
      out.push(
        violation(`files[${i}].mode`, f.mode, "is not an octal mode", 'use e.g. "0644" or "0600"'),
      );
    }
    if (f.owner !== undefined && !/^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/.test(f.owner)) {
      out.push(
        violation(`files[${i}].owner`, f.owner, "is not user:group", 'use e.g. "root:root"'),
      );
    }
  });
  return out;
}
