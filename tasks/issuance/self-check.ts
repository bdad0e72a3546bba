/**
 * Self-check challenge URLs: fetches each host's challenge URL the way the CA will, through the public
 * route, retrying with exponential back-off (`LEGO_EXPONENTIAL_BACKOFF_*`), before the CA is asked to
 * validate (kube-lego's `_selftest`). A failure names the host and what came back.
 */
import type { CreatedOrder } from '../../src/acme/order.ts';
import { dnsResolver, selfCheck as checkHosts } from '../../src/acme/self-check.ts';
import type { IssuanceTask } from './services.ts';

/** The `selfCheck` implementation. */
export const selfCheck: IssuanceTask = async ({ services, output, run, log }) => {
  const { config } = services;
  const { challenges } = output.createOrder as CreatedOrder;
  await checkHosts(
    challenges.map(({ host, token, keyAuthorization }) => ({ host, token, keyAuthorization })),
    {
      backoff: {
        initialIntervalMs: config.backoffInitialIntervalMs,
        multiplier: config.backoffMultiplier,
        maxElapsedMs: config.backoffMaxElapsedMs,
      },
      port: config.selfCheckPort,
      ...(config.selfCheckDns !== undefined && { resolve: dnsResolver(config.selfCheckDns) }),
      signal: run.signal,
      onRetry: (failure, attempt, waitMs) =>
        log.info(
          { host: failure.host, attempt, waitMs, outcome: failure.outcome },
          'self-check not yet answered',
        ),
    },
  );
  return { checked: challenges.length };
};
