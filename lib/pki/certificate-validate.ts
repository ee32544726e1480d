/**
 * The pure check of a Certificate's arguments, apart from the component so that the
 * scenario components' validators (BinhostMirror) can run it without loading Pulumi.
 */
import type { Violation } from "../validation/violations";
import type { CertificateArgs } from "./certificate";
import { validateBase, validateCertificateSpec, validateDays } from "./validate";

/** Validates {@link CertificateArgs}; returns every violation. */
export function validateCertificateArgs(args: CertificateArgs): Violation[] {
  return [
    ...validateBase(args.baseDn, undefined),
    ...validateCertificateSpec("", args),
    ...validateDays("backdateMinutes", args.backdateMinutes, 0),
  ];
}
