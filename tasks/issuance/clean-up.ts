/**
 * Clean up: withdraws the challenge responses, if any were published (the responder stops; in the Job's
 * pod, the `respond` container ends). Runs on success and after a failure.
 */
import type { Publication } from './publish-challenges.ts';
import type { IssuanceTask } from './services.ts';

/** The `cleanUp` implementation. */
export const cleanUp: IssuanceTask = async ({ output }) => {
  const published = output.publishChallenges as { publication: Publication } | undefined;
  await published?.publication.close();
  return { responderClosed: published !== undefined };
};
