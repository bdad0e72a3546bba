/**
 * Report issuance / Report failure: the Job's outcome as its termination message, which the operator's
 * "Await Job outcome" reads. A failure's reason is named after the step that failed (`SelfCheckFailed`).
 */
import type { IssuedChain } from '../../src/acme/order.ts';
import type { IssuanceOutcome } from '../../src/issuance/job-contract.ts';
import type { RecordedError } from '../../src/process/runner.ts';
import { writeOutcome, type IssuanceTask } from './services.ts';

/** The failure's outcome, from the error a task recorded. */
export function failureOutcome(error: RecordedError | undefined): IssuanceOutcome {
  if (error === undefined)
    return { succeeded: false, reason: 'IssuanceFailed', message: 'failed for an unknown reason' };
  const step = error.implementation.charAt(0).toUpperCase() + error.implementation.slice(1);
  return { succeeded: false, reason: `${step}Failed`, message: `${error.activityName}: ${error.message}` };
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
