/**
 * The implementations the lifecycle diagram's service tasks can name, by name. A diagram naming any
 * other fails at start (src/process/definition.ts).
 */
import { adoptIssuanceJob } from './adopt-issuance-job.ts';
import { checkRenewalWindow } from './check-renewal-window.ts';
import { claimJobSlot } from './claim-job-slot.ts';
import { deduplicate } from './deduplicate.ts';
import { findIssuanceJob } from './find-issuance-job.ts';
import { inspectCertificate } from './inspect-certificate.ts';
import { launchIssuanceJob } from './launch-issuance-job.ts';
import { readJobOutcome } from './read-job-outcome.ts';
import { recordFailure } from './record-failure.ts';
import { recordForeignSecret } from './record-foreign-secret.ts';
import { recordIssuance } from './record-issuance.ts';
import { replaceIssuanceJob } from './replace-issuance-job.ts';
import { scheduleRetry } from './schedule-retry.ts';
import type { LifecycleTask } from './services.ts';

/** Lifecycle task implementations by the name a diagram gives in `${environment.services.<name>}`. */
export const lifecycleTasks: Readonly<Record<string, LifecycleTask>> = {
  deduplicate,
  inspectCertificate,
  checkRenewalWindow,
  findIssuanceJob,
  adoptIssuanceJob,
  claimJobSlot,
  launchIssuanceJob,
  replaceIssuanceJob,
  scheduleRetry,
  readJobOutcome,
  recordIssuance,
  recordFailure,
  recordForeignSecret,
};
