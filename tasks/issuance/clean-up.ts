/** Clean up: stops the challenge responder, if one was started. Runs on success and after a failure. */
import type { ChallengeResponder } from '../../src/acme/challenge-responder.ts';
import type { IssuanceTask } from './services.ts';

/** The `cleanUp` implementation. */
export const cleanUp: IssuanceTask = async ({ output }) => {
  const published = output.publishChallenges as { responder: ChallengeResponder } | undefined;
  await published?.responder.close();
  return { responderClosed: published !== undefined };
};
