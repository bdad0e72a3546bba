/**
 * Check renewal window: for a certificate "Inspect certificate" found valid, asks the CA for its renewal
 * window (ACME Renewal Information, RFC 9773) when the CA's last answer's `Retry-After` has passed, and says
 * whether the certificate's point of the window has come (`due`, for the "In the CA's renewal window?"
 * gateway). A window the CA moved into the past (a revoked certificate) is due at once, with reason
 * `RenewalWindow`. Without a window (the CA offers none, `LEGO_RENEWAL_INFO=false`, a certificate of
 * another directory) the lifetime rule "Inspect certificate" applied stands.
 */
import type { PolicyVerdict } from '../src/certificate/policy.ts';
import { followedCaRenewalTime } from '../src/certificate/renewal-information.ts';
import type { LifecycleTask } from './services.ts';

/** Result of {@link checkRenewalWindow}. */
export interface RenewalWindowCheck {
  due: boolean;
  /** The verdict in force from here on: the inspection's, with the CA's renewal time or reason. */
  verdict: PolicyVerdict;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The verdict a run acts on: the one "Check renewal window" gave when it ran, else the inspection's. The
 * tasks after it (the Job's reason and name, "Record issuance", the metrics) read this.
 */
export function verdictInForce(output: Readonly<Record<string, unknown>>): PolicyVerdict | undefined {
  return (
    (output.checkRenewalWindow as RenewalWindowCheck | undefined)?.verdict ??
    (output.inspectCertificate as PolicyVerdict | undefined)
  );
}

/** The `checkRenewalWindow` implementation. */
export const checkRenewalWindow: LifecycleTask = async ({
  services,
  output,
  log,
}): Promise<RenewalWindowCheck> => {
  const verdict = output.inspectCertificate as PolicyVerdict;
  const { renewalInfo } = services;
  if (renewalInfo === undefined || verdict.certificateId === undefined) return { due: false, verdict };
  const now = services.now();
  const lookup = await renewalInfo.refresh(verdict.certificateId, now);
  if (lookup.error !== undefined) {
    log.warn(
      { certificateId: verdict.certificateId, error: lookup.error },
      `could not ask the CA for the renewal window (asking again later); ${lookup.renewal === undefined ? 'the lifetime rule stays' : 'the last window it gave stays'}`,
    );
  }
  if (lookup.renewal === undefined) return { due: false, verdict };
  // Bounded as "Inspect certificate" bounds it: never past half the lifetime rule's margin before expiry.
  const renewal = {
    ...lookup.renewal,
    renewAt: followedCaRenewalTime(
      lookup.renewal.renewAt,
      verdict.notBefore!,
      verdict.notAfter!,
      services.config.minimumValidityMs,
    ),
  };
  const window = `${iso(renewal.window.start)} to ${iso(renewal.window.end)}`;
  const explained = renewal.explanationUrl === undefined ? '' : ` (see ${renewal.explanationUrl})`;
  if (now >= renewal.renewAt) {
    return {
      due: true,
      verdict: {
        ...verdict,
        valid: false,
        reason: 'RenewalWindow',
        message: `the CA's renewal window is ${window}${explained}; renewal was due at ${iso(renewal.renewAt)}, it expires at ${iso(verdict.notAfter!)}`,
        renewAt: renewal.renewAt,
      },
    };
  }
  if (lookup.asked) log.debug({ window, renewAt: iso(renewal.renewAt) }, "the CA's renewal window");
  return {
    due: false,
    verdict: {
      ...verdict,
      renewAt: renewal.renewAt,
      message: `valid until ${iso(verdict.notAfter!)}, renewal from ${iso(renewal.renewAt)} (the CA's renewal window ${window})`,
    },
  };
};
