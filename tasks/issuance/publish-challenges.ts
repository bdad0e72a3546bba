/**
 * Publish challenge responses: starts the HTTP-01 responder on the pod's IP and publishes each challenge's
 * key authorization. `selfCheck` in the result drives the "Self-check wanted?" gateway (`LEGO_SELF_CHECK`).
 */
import { startChallengeResponder } from '../../src/acme/challenge-responder.ts';
import type { CreatedOrder } from '../../src/acme/order.ts';
import type { IssuanceTask } from './services.ts';

/** The `publishChallenges` implementation. */
export const publishChallenges: IssuanceTask = async ({ services, output, log }) => {
  const { challenges } = output.createOrder as CreatedOrder;
  const responder = await startChallengeResponder({
    host: services.podIp,
    port: services.config.http01Port,
    onRequest: (request) => log.debug({ ...request }, 'challenge request'),
  });
  for (const challenge of challenges) responder.set(challenge.token, challenge.keyAuthorization);
  log.info({ responder: responder.url, challenges: challenges.length }, 'challenge responses published');
  return { responder, published: challenges.length, selfCheck: services.config.selfCheck };
};
