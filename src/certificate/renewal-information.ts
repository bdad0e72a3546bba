/**
 * ACME Renewal Information (RFC 9773) decisions. Pure: a window, an identifier and times in, times out.
 *
 * - When to renew inside the CA's suggested window: at a point of it chosen per certificate, uniformly
 *   spread over the window (RFC 9773 §4.2, so a CA's many certificates do not all come back at once), and
 *   deterministic (a hash of the certificate identifier), so a restart or another replica picks the same
 *   point instead of drawing again. A window whose end has passed (the CA moved it into the past: a
 *   revoked or mis-issued certificate) means at once.
 * - When to ask the CA again: at its `Retry-After`, kept between 1 minute and 1 day (Let's Encrypt's
 *   integration guide), twice a day when it gave none; after an error, in an hour, or in 6 hours when the
 *   CA answered that it will not say (a 4xx: a certificate it does not know).
 */
import { createHash } from 'node:crypto';
import { renewalTime } from './renewal.ts';

/** The CA's suggested renewal window, ms since the epoch. */
export interface RenewalWindow {
  start: number;
  end: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long to wait before asking again when the CA's answer had no `Retry-After`: twice a day. */
export const RENEWAL_INFO_INTERVAL_MS = 12 * HOUR;
/** The bounds a `Retry-After` is kept within. */
export const RENEWAL_INFO_MIN_INTERVAL_MS = MINUTE;
export const RENEWAL_INFO_MAX_INTERVAL_MS = DAY;
/** The wait after a failed ask (no answer, a 5xx). */
export const RENEWAL_INFO_ERROR_INTERVAL_MS = HOUR;
/** The wait after the CA refused to say (a 4xx). */
export const RENEWAL_INFO_REFUSED_INTERVAL_MS = 6 * HOUR;

/** A number in [0, 1) fixed by the certificate identifier. */
function fractionOf(certificateId: string): number {
  return createHash('sha256').update(certificateId).digest().readUIntBE(0, 6) / 2 ** 48;
}

/**
 * When to renew a certificate inside the CA's window: its fixed point of the window, or `now` when the
 * window has ended (at once).
 */
export function renewalTimeInWindow(window: RenewalWindow, certificateId: string, now: number): number {
  if (window.end <= now) return now;
  return Math.floor(window.start + fractionOf(certificateId) * (window.end - window.start));
}

/**
 * The CA's renewal time as followed: later than the lifetime rule if the CA says so, but never past half
 * that rule's margin before expiry, so a window a CA got wrong cannot let the certificate run out.
 */
export function followedCaRenewalTime(
  caRenewAt: number,
  notBefore: number,
  notAfter: number,
  minimumValidityMs: number,
): number {
  const byLifetime = renewalTime(notBefore, notAfter, minimumValidityMs);
  return Math.min(caRenewAt, notAfter - (notAfter - byLifetime) / 2);
}

/** What the last ask of the CA gave, for {@link nextRenewalInfoAsk}. */
export type RenewalInfoAsked =
  { answered: true; retryAfterMs?: number } | { answered: false; status?: number; retryAfterMs?: number };

/** When to ask the CA about a certificate again, after the ask at `now`. */
export function nextRenewalInfoAsk(now: number, asked: RenewalInfoAsked): number {
  if (!asked.answered) {
    const refused = asked.status !== undefined && asked.status >= 400 && asked.status < 500;
    const wait = refused ? RENEWAL_INFO_REFUSED_INTERVAL_MS : RENEWAL_INFO_ERROR_INTERVAL_MS;
    return now + Math.max(wait, asked.retryAfterMs ?? 0);
  }
  if (asked.retryAfterMs === undefined) return now + RENEWAL_INFO_INTERVAL_MS;
  return (
    now + Math.min(RENEWAL_INFO_MAX_INTERVAL_MS, Math.max(RENEWAL_INFO_MIN_INTERVAL_MS, asked.retryAfterMs))
  );
}
