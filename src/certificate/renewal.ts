/**
 * When a certificate is due for renewal. Pure: times in, time out.
 *
 * kube-lego renewed with less than `LEGO_MINIMUM_VALIDITY` (720h) left. Certificates now come in many
 * lifetimes (Let's Encrypt: 6-day `shortlived`, 45-day `tlsserver`, 90 days moving to 64 and 45), and a
 * fixed 30 days would reissue a 6-day certificate on every check and hit the CA's duplicate-certificate
 * limit. So the renewal lead time scales with the lifetime.
 */

const DAY = 86_400_000;

/** How long before notAfter renewal starts, for a certificate of the given lifetime. */
export function renewBeforeMs(lifetimeMs: number, minimumValidityMs: number): number {
  if (lifetimeMs < 10 * DAY) return lifetimeMs / 2;
  return Math.min(minimumValidityMs, lifetimeMs / 3);
}

/** The instant (ms since the epoch) from which a certificate valid from notBefore to notAfter is renewed. */
export function renewalTime(notBefore: number, notAfter: number, minimumValidityMs: number): number {
  return notAfter - renewBeforeMs(notAfter - notBefore, minimumValidityMs);
}
