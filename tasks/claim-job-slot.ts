/**
 * Claim Job slot: before a Job is launched or replaced, one of the `LEGO_MAX_JOBS_IN_FLIGHT` slots
 * (src/issuance/job-slots.ts). Without one the run ends at "waiting for a Job slot", and the host sends
 * the certificate "Job slot free" when its turn comes. `claimed` drives the "Job slot free?" gateway.
 */
import type { LifecycleTask } from './services.ts';

/** Result of {@link claimJobSlot}. */
export interface ClaimedJobSlot {
  claimed: boolean;
  /** Jobs in flight after the claim, claims included. */
  inFlight: number;
  /** Certificates waiting for a slot after the claim. */
  waiting: number;
}

/** The `claimJobSlot` implementation. */
export const claimJobSlot: LifecycleTask = ({ token, services, log }): ClaimedJobSlot => {
  const { jobSlots } = services;
  const claimed = jobSlots.claim(token.key, services.now());
  if (!claimed) {
    log.info(
      { secret: token.key, inFlight: jobSlots.inFlight, waiting: jobSlots.waiting },
      `${jobSlots.inFlight} issuance Jobs in flight (LEGO_MAX_JOBS_IN_FLIGHT=${services.config.maxJobsInFlight}): waiting for a Job slot`,
    );
  }
  return { claimed, inFlight: jobSlots.inFlight, waiting: jobSlots.waiting };
};
