/**
 * Report issuance / Report failure / Report Ingress gone: the Job's outcome as its termination message,
 * which the operator's "Read Job outcome" reads. A failure's reason is named after the step that failed
 * (`SelfCheckFailed`); an Ingress deleted or replaced since the Job started is `IngressGone`.
 */
import type { IssuedChain } from '../../src/acme/order.ts';
import type { IssuanceOutcome } from '../../src/issuance/job-contract.ts';
import type { IngressPresence } from '../../src/kube/ingress-presence.ts';
import type { RecordedError } from '../../src/process/runner.ts';
import { writeOutcome, type IssuanceTask } from './services.ts';

/** The failure's outcome, from the error a task recorded. */
export function failureOutcome(error: RecordedError | undefined): IssuanceOutcome {
  if (error === undefined)
    return { succeeded: false, reason: 'IssuanceFailed', message: 'failed for an unknown reason' };
  const step = error.implementation.charAt(0).toUpperCase() + error.implementation.slice(1);
  return {
    succeeded: false,
    reason: `${step}Failed`,
    message: `${error.activityName}: ${error.message}`,
    // The CA's own time to ask again (its Retry-After), which the operator's back-off honours.
    ...(error.retryAt !== undefined && { retryAt: new Date(error.retryAt).toISOString() }),
  };
}

/** The `reportIssuance` implementation. */
export const reportIssuance: IssuanceTask = async ({ token, services, output }) => {
  const { chain } = output.finalizeOrder as { chain: IssuedChain };
  const outcome: IssuanceOutcome = {
    succeeded: true,
    reason: 'Issued',
    message: `valid until ${chain.notAfter.toISOString()} for ${token.hosts.join(', ')}`,
  };
  await writeOutcome(services.terminationMessagePath, outcome);
  return outcome;
};

/** The `reportFailure` implementation. */
export const reportFailure: IssuanceTask = async ({ services, output, log }) => {
  const outcome = failureOutcome(output.error as RecordedError | undefined);
  log.error({ reason: outcome.reason }, `certificate not issued: ${outcome.message}`);
  await writeOutcome(services.terminationMessagePath, outcome);
  return outcome;
};

/** The `reportIngressGone` implementation: the last Check Ingress's reason, as an `IngressGone` outcome. */
export const reportIngressGone: IssuanceTask = async ({ services, output, log }) => {
  const presence = output.checkIngress as IngressPresence | undefined;
  const outcome: IssuanceOutcome = {
    succeeded: false,
    reason: 'IngressGone',
    message: presence?.present === false ? presence.reason : 'the Ingress is gone',
  };
  log.info({ reason: outcome.reason }, `certificate not issued: ${outcome.message}`);
  await writeOutcome(services.terminationMessagePath, outcome);
  return outcome;
};
