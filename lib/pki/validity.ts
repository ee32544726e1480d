/**
 * Validity, renewal and CRL timing. Times are milliseconds since the epoch or ISO 8601
 * strings; every function takes `now` so that tests pin it. The default lifetimes and renewal
 * windows of CAs, leaves and CRLs are here, where components and validators both read them.
 * Pure: no `@pulumi/pulumi`.
 */

import type { CaLevel } from "./profiles";

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

/** Minutes notBefore is set in the past so that a client with a slow clock accepts a new certificate. */
export const DEFAULT_BACKDATE_MINUTES = 5;

/** Default validity of a CA certificate by level, days. */
export const CA_VALIDITY_DAYS: Readonly<Record<CaLevel, number>> = {
  root: 7300,
  level1: 3650,
  level2: 1825,
};

/** Default renewal window of a CA certificate by level, days. */
export const CA_RENEW_BEFORE_DAYS: Readonly<Record<CaLevel, number>> = {
  root: 365,
  level1: 180,
  level2: 90,
};

/** Default validity of an end-entity certificate, days. */
export const LEAF_VALIDITY_DAYS = 365;

/** Default renewal window of an end-entity certificate, days. */
export const LEAF_RENEW_BEFORE_DAYS = 30;

/** Default days from thisUpdate to nextUpdate of a CRL of an online CA. */
export const CRL_VALIDITY_DAYS = 7;

/** Default days before nextUpdate at which a CRL of an online CA is re-signed. */
export const CRL_REFRESH_BEFORE_DAYS = 3;

/** The validity window of a certificate signed at `nowMs`. */
export interface ValidityWindow {
  /** notBefore, truncated to whole seconds (X.509 times have no fractions). */
  readonly notBefore: Date;
  /** notAfter, truncated to whole seconds. */
  readonly notAfter: Date;
}

/**
 * notBefore = now - backdateMinutes; notAfter = now + validityDays, but never after
 * `issuerNotAfter` (a certificate cannot be valid longer than its issuer's certificate).
 */
export function validityWindow(
  nowMs: number,
  validityDays: number,
  backdateMinutes: number,
  issuerNotAfter?: Date,
): ValidityWindow {
  const second = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
  let notAfterMs = nowMs + validityDays * DAY_MS;
  if (issuerNotAfter !== undefined) notAfterMs = Math.min(notAfterMs, issuerNotAfter.getTime());
  return { notBefore: second(nowMs - backdateMinutes * 60_000), notAfter: second(notAfterMs) };
}

/** Whether a certificate expiring at `notAfter` is inside its renewal window at `nowMs`. */
export function needsRenewal(
  notAfter: string | Date,
  renewBeforeDays: number,
  nowMs: number,
): boolean {
  const end = new Date(notAfter).getTime();
  if (Number.isNaN(end)) return true;
  return nowMs >= end - renewBeforeDays * DAY_MS;
}

/** thisUpdate and nextUpdate of a CRL signed at `nowMs`. */
export function crlWindow(
  nowMs: number,
  validityDays: number,
): { thisUpdate: Date; nextUpdate: Date } {
  const second = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
  return { thisUpdate: second(nowMs), nextUpdate: second(nowMs + validityDays * DAY_MS) };
}

/** Whether a CRL whose nextUpdate is `nextUpdate` must be re-signed at `nowMs`. */
export function crlNeedsRefresh(
  nextUpdate: string | Date,
  refreshBeforeDays: number,
  nowMs: number,
): boolean {
  return needsRenewal(nextUpdate, refreshBeforeDays, nowMs);
}

/** Whole hours from `nowMs` until `until`; negative once it has passed. */
export function hoursUntil(until: string | Date, nowMs: number): number {
  return Math.floor((new Date(until).getTime() - nowMs) / 3_600_000);
}
