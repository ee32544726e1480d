/**
 * Validation of {@link GentooBuildFarmArgs}: every problem that can be known before anything
 * is created, collected into one list.
 */

import { buildProfileKey } from "../binhost/paths";
import { validateServerArgs } from "../host/validate";
import { imageSourceViolations, isHypervisor, vmNameViolations } from "../libvirt/validate";
import { ARCH_FIX, isArchName } from "../portage/arch";
import { ENVIRONMENT_FIX, isEnvironment } from "../snapshot/environments";
import { isStack } from "../stack/model";
import { stackDisagreement } from "../stack/stack-validate";
import { isWholeNumber } from "../validation/patterns";
import { isLateBound, type Violation, violation } from "../validation/violations";
import { BUILD_SCRIPT_SETTING_CHECKS, isCloneUrl } from "./build-script-args";
import { builderName } from "./builder-layout";
import {
  type BuildFarmUpload,
  DEFAULT_BUILDER_SIZE,
  DEFAULT_KERNEL_PACKAGES,
  DEFAULT_UPLOAD_ROOT,
  farmBinhostUrl,
  farmOverlayName,
  type GentooBuildFarmArgs,
  imageFor,
  isImageSource,
  networkFor,
  stackOverlayName,
} from "./gentoo-build-farm-args";
import { validateStages } from "./stage-builds";
import { scheduleViolations } from "./systemd-units";

function renamed(vs: readonly Violation[], map: (argument: string) => string): Violation[] {
  return vs.map((v) => ({ ...v, argument: map(v.argument) }));
}

function builderViolations(name: string, args: GentooBuildFarmArgs): Violation[] {
  const out: Violation[] = [];
  const overlayName = farmOverlayName(args);
  const binhostUrl = farmBinhostUrl(args);
  const builders = Array.isArray(args.builders) ? args.builders : [];
  if (builders.length === 0) {
    out.push(
      violation("builders", args.builders, "names no builder", "give one per build profile"),
    );
  }
  const hypervisors = args.hypervisors ?? {};
  const checkedStacks = new Set<unknown>();
  const profiles = new Map<string, number>();
  const addresses = new Map<string, number>();
  builders.forEach((b, i) => {
    const at = `builders[${i}]`;
    const stackGiven = isStack(b.stack);
    if (!stackGiven) {
      out.push(
        violation(`${at}.stack`, typeof b.stack, "is not a Stack", "pass a Stack component"),
      );
    }
    if (!isEnvironment(b.environment)) {
      out.push(
        violation(`${at}.environment`, b.environment, "is not an environment", ENVIRONMENT_FIX),
      );
    }
    if (!isArchName(b.arch)) {
      out.push(violation(`${at}.arch`, b.arch, "is not a known arch", ARCH_FIX));
    }
    if (stackGiven && isEnvironment(b.environment) && isArchName(b.arch)) {
      const stack = b.stack.resolved.name;
      const key = buildProfileKey({ environment: b.environment, arch: b.arch, stack });
      if (!Object.hasOwn(b.stack.buildProfiles, key)) {
        out.push(
          violation(
            at,
            key,
            `is not a build profile of Stack "${stack}" (it has ${Object.keys(b.stack.buildProfiles).join(", ")})`,
            "add the environment and arch to the Stack's environments and arches",
          ),
        );
      }
      const builders0 = (value: unknown) => ({ at: "builders[0]'s Stack", value });
      out.push(
        ...stackDisagreement(
          `${at}.stack`,
          stack,
          "binhostUrl",
          b.stack.binhostUrl,
          builders0(binhostUrl),
          "give every Stack of one farm the binhost's one URL",
        ),
        ...stackDisagreement(
          `${at}.stack`,
          stack,
          "overlay",
          stackOverlayName(b.stack),
          builders0(overlayName),
          "give every Stack of one farm the same overlayName",
        ),
      );
      // Builders clone the Stack's tree: a URL they cannot fetch is an error now, not at render.
      if (!checkedStacks.has(b.stack)) {
        checkedStacks.add(b.stack);
        for (const [argument, url] of [
          ["gentooSyncUri", b.stack.syncUris.gentoo],
          ["overlaySyncUri", b.stack.syncUris.overlay],
        ] as const) {
          if (!isLateBound(url) && !isCloneUrl(url)) {
            out.push(
              violation(
                `${at}.stack`,
                url,
                `has a ${argument} builders cannot clone: not an https, ssh or git URL`,
                `give Stack "${stack}" an https, ssh or git ${argument}, e.g. https://git.example.ch/gentoo.git`,
              ),
            );
          }
        }
      }
      const label = buildProfileKey({ environment: b.environment, arch: b.arch, stack });
      const child = builderName(name, { environment: b.environment, arch: b.arch, stack });
      if (vmNameViolations(child).length > 0) {
        out.push(
          violation(
            at,
            child,
            "gives a builder name libvirt cannot take",
            "shorten the farm's or the Stack's name: the builder is <farm>-<env>-<arch>-<stack>, 40 characters at most",
          ),
        );
      }
      const first = profiles.get(label);
      if (first !== undefined) {
        out.push(
          violation(
            at,
            label,
            `repeats the build profile of builders[${first}]`,
            "give each build profile one builder",
          ),
        );
      } else profiles.set(label, i);
    }
    const known = typeof b.hypervisor === "string" && Object.hasOwn(hypervisors, b.hypervisor);
    if (!known) {
      out.push(
        violation(
          `${at}.hypervisor`,
          b.hypervisor,
          "is not a key of hypervisors",
          `use one of ${Object.keys(hypervisors).join(", ") || "(none given)"}`,
        ),
      );
    } else if (!isHypervisor(hypervisors[b.hypervisor])) {
      out.push(
        violation(
          `hypervisors.${b.hypervisor}`,
          typeof hypervisors[b.hypervisor],
          "is not a Hypervisor",
          "pass a Hypervisor component",
        ),
      );
    }
    const network = known ? networkFor(args.network, b.hypervisor) : undefined;
    if (known && network === undefined) {
      out.push(
        violation(
          "network",
          Object.keys(args.network ?? {}),
          `has no network for hypervisor "${b.hypervisor}" (${at})`,
          "give one GuestNetwork, or one per hypervisor key",
        ),
      );
    }
    if (network !== undefined) {
      out.push(...renamed(validateServerArgs(b, network.subnet), () => `${at}.address`));
      if (b.address === network.gateway) {
        out.push(
          violation(
            `${at}.address`,
            b.address,
            "is the hypervisor's address on the network",
            "pick another address inside the subnet",
          ),
        );
      }
    }
    const other = addresses.get(b.address);
    if (other !== undefined) {
      out.push(
        violation(
          `${at}.address`,
          b.address,
          `is builders[${other}]'s address too`,
          "give each builder its own address",
        ),
      );
    } else addresses.set(b.address, i);
  });
  return out;
}

function settingViolations(args: GentooBuildFarmArgs): Violation[] {
  const out: Violation[] = [];
  const builders = Array.isArray(args.builders) ? args.builders : [];
  const upload = isLateBound(args.binhost?.upload)
    ? undefined
    : (args.binhost?.upload as BuildFarmUpload | undefined);
  // The build script's checks of the settings this farm gives every builder's script, run
  // on the plain values (a late-bound one is checked when its script is rendered); the tree
  // and overlay come from the Stacks, which check their names, commits and clone URLs.
  const checks = BUILD_SCRIPT_SETTING_CHECKS;
  const binhostField = (a: string) => `binhost.${a}`;
  if (upload !== undefined) {
    if (!isLateBound(upload.host))
      out.push(...renamed(checks.uploadHost(upload.host), binhostField));
    if (!isLateBound(upload.user))
      out.push(...renamed(checks.uploadUser(upload.user), binhostField));
  }
  out.push(
    ...renamed(
      checks.uploadRootDir(args.binhost?.rootDir ?? DEFAULT_UPLOAD_ROOT),
      () => "binhost.rootDir",
    ),
  );
  if (!isLateBound(args.notifyUrl)) out.push(...checks.notifyUrl(args.notifyUrl));
  out.push(...checks.retentionDays(args.retentionDays));
  out.push(...checks.kernelPackages(args.kernelPackages ?? DEFAULT_KERNEL_PACKAGES));
  const removedUrl = (args.binhost as { url?: unknown } | undefined)?.url;
  if (removedUrl !== undefined) {
    out.push(
      violation(
        "binhost.url",
        removedUrl,
        "is no longer an argument: builders publish to their Stacks' binhostUrl",
        "remove binhost.url; give the binhost's URL to the Stacks (binhostUrl)",
      ),
    );
  }
  const pin = args.binhost?.pinHostname;
  if (pin !== undefined && typeof pin !== "boolean") {
    out.push(violation("binhost.pinHostname", pin, "is not a boolean", "use true or false"));
  }
  const pem = args.binhost?.rootCertificatePem;
  if (
    typeof pem === "string" &&
    !/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/.test(pem)
  ) {
    out.push(
      violation(
        "binhost.rootCertificatePem",
        `${pem.slice(0, 30)}…`,
        "is not one PEM certificate",
        "give the RootCa's rootCertificatePem",
      ),
    );
  }
  if ((args as { snapshots?: unknown }).snapshots !== undefined) {
    out.push(
      violation(
        "snapshots",
        (args as { snapshots?: unknown }).snapshots,
        "is no longer an argument: each builder builds its Stack's tree (stack.treeSources)",
        "remove snapshots; give the commits to the Stacks' treeSnapshots and the clone URLs to their gentooSyncUri and overlaySyncUri",
      ),
    );
  }
  out.push(...scheduleViolations(args.schedule));
  // Upper bounds: what one hypervisor could give a builder (64 TiB, 1 TiB, 256 vCPUs).
  for (const [field, min, max] of [
    ["diskGiB", 10, 65536],
    ["memoryMiB", 512, 1048576],
    ["vcpus", 1, 256],
  ] as const) {
    const value = args[field];
    if (value !== undefined && value !== null && !isWholeNumber(value, min, max)) {
      out.push(
        violation(
          field,
          value,
          `is not a whole number from ${min} to ${max}`,
          `use e.g. ${DEFAULT_BUILDER_SIZE[field]}`,
        ),
      );
    }
  }
  const keys = isImageSource(args.image)
    ? [undefined]
    : [...new Set(builders.map((b) => b.hypervisor))].filter(
        (k) => typeof k === "string" && Object.hasOwn(args.hypervisors ?? {}, k),
      );
  for (const key of keys) {
    const image = key === undefined ? args.image : imageFor(args.image, key);
    if (image === undefined) {
      out.push(
        violation(
          "image",
          Object.keys(args.image ?? {}),
          `has no image for hypervisor "${key}"`,
          "give one ImageSource, or one per hypervisor key",
        ),
      );
      continue;
    }
    for (const v of imageSourceViolations(image)) {
      out.push(
        key === undefined ? v : { ...v, argument: v.argument.replace(/^image/, `image.${key}`) },
      );
    }
  }
  if (args.signingKey?.privateKeyArmored === undefined) {
    out.push(
      violation(
        "signingKey",
        args.signingKey,
        "has no privateKeyArmored",
        "pass rootCa.packageSigningKey (RootCa with packageSigningKey set)",
      ),
    );
  }
  return out;
}

/**
 * Every problem of a build farm's arguments that can be known before anything is created:
 * builders (Stack, environment, arch, build profile, hypervisor, network, address,
 * duplicates), snapshots, the upload account when given as plain values, notification URL,
 * retention, schedule, kernel packages, builder size, signing key and stages.
 */
export function validateGentooBuildFarmArgs(name: string, args: GentooBuildFarmArgs): Violation[] {
  if (args.hypervisors === null || typeof args.hypervisors !== "object") {
    return [
      violation(
        "hypervisors",
        args.hypervisors,
        "is not a map of Hypervisors",
        "give { key: hypervisor }",
      ),
    ];
  }
  return [...builderViolations(name, args), ...settingViolations(args), ...validateStages(args)];
}
