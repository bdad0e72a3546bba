/**
 * Errors of the ACME steps. acme-client reports a CA's refusal as a plain Error whose message is the CA's
 * problem detail; the steps wrap it in an {@link AcmeError} that says which step failed for which hosts, so
 * the message read in a Job's termination message or an Event stands on its own.
 */

/** The ACME steps that can fail, as named in the issuance diagram. */
export type AcmeStep = 'account' | 'createOrder' | 'answerChallenges' | 'selfCheck' | 'finalizeOrder';

/** A failed ACME step: which step, for which hosts, and why (the CA's own words where it gave any). */
export class AcmeError extends Error {
  /** The step that failed. */
  readonly step: AcmeStep;
  /** The hosts of the certificate being issued. */
  readonly hosts: readonly string[];

  constructor(step: AcmeStep, hosts: readonly string[], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AcmeError';
    this.step = step;
    this.hosts = hosts;
  }
}

/** The message of a thrown value; for acme-client's errors, the CA's problem detail. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
