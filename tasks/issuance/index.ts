/** The implementations the issue-certificate diagram's service tasks can name, by name. */
import { answerChallenges } from './answer-challenges.ts';
import { checkIngress } from './check-ingress.ts';
import { cleanUp } from './clean-up.ts';
import { createOrder } from './create-order.ts';
import { finalizeOrder } from './finalize-order.ts';
import { loadAccount } from './load-account.ts';
import { publishChallenges } from './publish-challenges.ts';
import { publishSolverEndpoint } from './publish-solver-endpoint.ts';
import { reportFailure, reportIngressGone, reportIssuance } from './report.ts';
import { selfCheck } from './self-check.ts';
import type { IssuanceTask } from './services.ts';
import { writeSecret } from './write-secret.ts';

/** Issue-certificate task implementations by the name a diagram gives in `${environment.services.<name>}`. */
export const issuanceTasks: Readonly<Record<string, IssuanceTask>> = {
  checkIngress,
  loadAccount,
  createOrder,
  publishChallenges,
  publishSolverEndpoint,
  selfCheck,
  answerChallenges,
  finalizeOrder,
  writeSecret,
  cleanUp,
  reportIssuance,
  reportFailure,
  reportIngressGone,
};
