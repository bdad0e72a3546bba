/**
 * Publish solver endpoint: edited in place, the challenge path of the user's Ingress leads to a Service of
 * that Ingress's namespace without a selector; this task gives it the Job pod's address as its endpoint
 * (src/kube/solver-endpoint.ts). The gateway "Route through the Ingress itself?" sends only such orders here.
 */
import type { IssuanceTask } from './services.ts';

/** The `publishSolverEndpoint` implementation. */
export const publishSolverEndpoint: IssuanceTask = async ({ token, services, log }) => {
  const service = token.solverService!;
  await services.solverEndpoint.publish(token.namespace, service);
  log.info({ service: `${token.namespace}/${service}` }, 'endpoint of the in-place solver Service published');
  return { service };
};
