/**
 * Starting several servers at once without leaving any behind: when one fails to start, the others may
 * still be starting, and a plain Promise.all would reject before they are known, leaving them running
 * (holding their addresses, keeping the test process alive) behind the error.
 */

/** Something started that can be stopped, in bounded time. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Like Promise.all, but settles only once every part has settled. When one failed, every part that did
 * start is stopped before the first failure is thrown.
 */
export async function allStarted<T extends readonly Stoppable[]>(parts: {
  readonly [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) {
    const running = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    await stopAll(running);
    throw failed.reason;
  }
  return settled.map((result) => (result as PromiseFulfilledResult<Stoppable>).value) as unknown as T;
}

/** Stops `parts`, last started first; every part is stopped even when another's stop fails. */
export async function stopAll(parts: readonly Stoppable[]): Promise<void> {
  const errors: unknown[] = [];
  for (const part of [...parts].reverse()) await part.stop().catch((error: unknown) => errors.push(error));
  if (errors.length > 0) throw new AggregateError(errors, 'some parts did not stop cleanly');
}
