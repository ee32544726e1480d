import { createHash } from "node:crypto";
import { type Violation, violation } from "../validation/violations";

/**
 * MAC addresses: one canonical form (lower-case, colon separated) for comparison and
 * dnsmasq, a hyphen form for file names in URLs, and the MACs derived for our own VMs.
 */

const SEPARATED =
  /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;
const BARE = /^[0-9a-f]{12}$/i;

/**
 * Normalizes a MAC address to lower-case colon form (`52:54:00:ab:cd:ef`). Accepts colon or
 * hyphen separated pairs (one separator throughout) and 12 bare hex digits; returns
 * undefined for anything else.
 */
export function normalizeMac(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const separated = SEPARATED.exec(value);
  if (separated) {
    return [1, 3, 4, 5, 6, 7]
      .map((i) => separated[i])
      .join(":")
      .toLowerCase();
  }
  if (BARE.test(value)) return (value.match(/../g) ?? []).join(":").toLowerCase();
  return undefined;
}

/** The hyphen form used in file names (`52-54-00-ab-cd-ef`); `mac` must be valid. */
export function macFileName(mac: string): string {
  const normal = normalizeMac(mac);
  if (normal === undefined) throw new Error(`not a MAC address: ${JSON.stringify(mac)}`);
  return normal.replaceAll(":", "-");
}

/** A dnsmasq tag naming one machine (`mac-525400abcdef`); `mac` must be valid. */
export function macTag(mac: string): string {
  return `mac-${macFileName(mac).replaceAll("-", "")}`;
}

/** The fix text shared by every malformed-MAC violation. */
const MAC_FIX = "use six colon-separated hex pairs, e.g. 52:54:00:12:34:56";

/**
 * The one check of a machine's MAC, shared by every component: a MAC (see
 * {@link normalizeMac}) that a network card can have, i.e. unicast (even first octet) and
 * not all zeros. Returns the violation at `at`, or undefined.
 */
export function macViolation(at: string, value: unknown): Violation | undefined {
  const mac = normalizeMac(value);
  if (mac === undefined) return violation(at, value, "is not a MAC address", MAC_FIX);
  if (mac === "00:00:00:00:00:00") {
    return violation(at, value, "is the all-zero MAC, which no network card has", MAC_FIX);
  }
  if (Number.parseInt(mac.slice(0, 2), 16) % 2 === 1) {
    return violation(
      at,
      value,
      "is a multicast or broadcast MAC (odd first octet), which no network card has",
      "use a unicast MAC (even first octet), e.g. 52:54:00:12:34:56",
    );
  }
  return undefined;
}

/**
 * A stable, locally administered MAC for a VM of ours, derived from its libvirt name
 * (QEMU's 52:54:00 prefix, then three bytes of SHA-256), so that cloud-init can match the
 * interface by MAC before the domain exists, and the MAC never changes between runs.
 */
export function derivedMac(seed: string): string {
  const hash = createHash("sha256").update(seed).digest();
  const tail = [hash[0], hash[1], hash[2]].map((b) => (b ?? 0).toString(16).padStart(2, "0"));
  return ["52", "54", "00", ...tail].join(":");
}
