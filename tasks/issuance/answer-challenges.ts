/** Answer challenges: tells the CA the responses are published and waits until it has validated them. */
import type { Client } from 'acme-client';
import { answerChallenges as answer, type CreatedOrder } from '../../src/acme/order.ts';
import type { IssuanceTask } from './services.ts';

/** The `answerChallenges` implementation. */
export const answerChallenges: IssuanceTask = async ({ output, log }) => {
  const { client } = output.loadAccount as { client: Client };
  const { challenges } = output.createOrder as CreatedOrder;
  await answer(client, challenges);
  log.info({ hosts: challenges.map((challenge) => challenge.host) }, 'challenges validated');
  return { validated: challenges.length };
};
