/**
 * Polling an ACME resource (authorization, order) until it settles.
 *
 * acme-client's own waitForValidStatus waits at least 5 s between reads (measured: a two-name order took
 * 5.1 s against Pebble, where the CA had finished after a few milliseconds). Here the first read comes after
 * {@link DEFAULT_POLL}.initialIntervalMs, each later one after twice as long, up to maxIntervalMs. When the
 * CA's last answer carried `Retry-After` (RFC 8555 §7.4 and §7.5.1), the next read waits at least that long:
 * the CA's word wins over the own schedule, capped by maxRetryAfterMs so that a broken header cannot park a
 * Job for hours.
 */
import { retryAfterMs } from './transport.ts';

/** How to poll the CA while it validates or issues. Milliseconds. */
export interface PollOptions {
  /** Wait before the first poll; default 25. */
  initialIntervalMs?: number;
  /** Longest wait of the own schedule; default 2,000. */
  maxIntervalMs?: number;
  /** Longest wait a `Retry-After` header can ask for; default 60,000. */
  maxRetryAfterMs?: number;
  /** Give up when the resource has not settled after this long; default 180,000. */
  timeoutMs?: number;
}

/** The polling defaults: fast first polls, for a CA (Pebble without sleeps, Let's Encrypt) that is quick. */
export const DEFAULT_POLL: Required<PollOptions> = {
  initialIntervalMs: 25,
  maxIntervalMs: 2_000,
  maxRetryAfterMs: 60_000,
  timeoutMs: 180_000,
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads `read()` until `settled` says the resource has settled, waiting between reads as the module doc
 * says, and returns it. `from.current`, when given, is the resource as last seen: returned at once when
 * settled, else its Retry-After decides the first wait, as does `from.retryAfterMs`. Throws `timeout()` when
 * `poll.timeoutMs` passes first.
 */
export async function pollUntil<T extends object>(
  read: () => Promise<T>,
  settled: (resource: T) => boolean,
  poll: PollOptions,
  timeout: () => Error,
  from: { current?: T; retryAfterMs?: number | undefined } = {},
): Promise<T> {
  const options = { ...DEFAULT_POLL, ...poll };
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.initialIntervalMs;
  let current = from.current;
  let asked = from.retryAfterMs ?? (current && retryAfterMs(current));
  while (current === undefined || !settled(current)) {
    const wait = Math.min(
      Math.max(interval, Math.min(asked ?? 0, options.maxRetryAfterMs)),
      deadline - Date.now(),
    );
    if (wait < 0) throw timeout();
    await sleep(wait);
    current = await read();
    asked = retryAfterMs(current);
    interval = Math.min(interval * 2, options.maxIntervalMs);
  }
  return current;
}
