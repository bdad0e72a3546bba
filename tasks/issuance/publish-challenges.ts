/**
 * Publish challenge responses: hands each challenge's key authorization to whoever answers the CA. In the
 * issuance Job's pod that is the `respond` container, through the directory they share (`challengeDir`;
 * this process then listens on nothing: docs/threat-model.md); run alone, this process starts the HTTP-01
 * responder on the pod's IP itself. In the result, `editInPlace` drives the "Route through the Ingress
 * itself?" gateway (the order names a solver Service to publish an endpoint for) and `selfCheck` the
 * "Self-check wanted?" gateway (`LEGO_SELF_CHECK`).
 */
import { publishToDirectory } from '../../src/acme/challenge-directory.ts';
import { startChallengeResponder } from '../../src/acme/challenge-responder.ts';
import type { CreatedOrder } from '../../src/acme/order.ts';
import type { IssuanceTask } from './services.ts';

/** What "Clean up" withdraws: the published responses, however they were published. */
export interface Publication {
  close(): Promise<void>;
}

/** The `publishChallenges` implementation. */
export const publishChallenges: IssuanceTask = async ({ token, services, output, log }) => {
  const { challenges } = output.createOrder as CreatedOrder;
  let publication: Publication;
  if (services.challengeDir !== undefined) {
    publication = await publishToDirectory(services.challengeDir, challenges);
    log.info({ challenges: challenges.length }, 'challenge responses handed to the respond container');
  } else {
    const responder = await startChallengeResponder({
      host: services.podIp,
      port: services.config.http01Port,
      onRequest: (request) => log.debug({ ...request }, 'challenge request'),
    });
    for (const challenge of challenges) responder.set(challenge.token, challenge.keyAuthorization);
    log.info({ responder: responder.url, challenges: challenges.length }, 'challenge responses published');
    publication = responder;
  }
  return {
    publication,
    published: challenges.length,
    editInPlace: token.solverService !== undefined,
    selfCheck: services.config.selfCheck,
  };
};
