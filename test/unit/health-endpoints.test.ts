/**
 * /healthz answers while the process does, whatever the watches do; /readyz answers 503 naming the watches
 * not connected, as list+watch reports them (before the first list, while reconnecting), else 200; /metrics
 * answers the Prometheus text format when the server is given metrics; anything else is 404. Real HTTP on
 * loopback.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { it, type TestContext } from 'node:test';
import { WatchStates, startHealthServer } from '../../src/health.ts';
import { listWatch, type ListWatchApi } from '../../src/kube/list-watch.ts';
import { Metrics } from '../../src/metrics.ts';

/** Starts a health server on loopback for the test; returns a GET that gives status and body. */
async function serve(t: TestContext, state: WatchStates) {
  const server: Server = await startHealthServer(0, '127.0.0.1', state);
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  return async (path: string): Promise<[number, string]> => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return [response.status, (await response.text()).trim()];
  };
}

/** Resolves once `condition` holds, checking after each turn of the event loop; fails after 2 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

it('answers /healthz 200 while no watch is connected, and 404 elsewhere', async (t) => {
  const watches = new WatchStates();
  watches.track('Ingress');
  const get = await serve(t, watches);
  assert.deepEqual(await get('/readyz'), [503, 'not connected: Ingress watch']);
  assert.deepEqual(await get('/healthz'), [200, 'ok']);
  assert.deepEqual(await get('/metrics'), [404, 'not found']);
});

it('answers /readyz from every tracked watch, naming those not connected', async (t) => {
  const watches = new WatchStates();
  const ingress = watches.track('Ingress');
  const secret = watches.track('Secret');
  const get = await serve(t, watches);
  assert.deepEqual(await get('/readyz'), [503, 'not connected: Ingress watch, Secret watch']);
  ingress(true);
  assert.deepEqual(await get('/readyz'), [503, 'not connected: Secret watch']);
  secret(true);
  assert.deepEqual(await get('/readyz'), [200, 'ok']);
  ingress(false);
  assert.deepEqual(await get('/readyz'), [503, 'not connected: Ingress watch']);
  assert.deepEqual(await get('/healthz'), [200, 'ok']);
});

it('follows a real list+watch: not ready until it connects, not ready while it reconnects', async (t) => {
  let finishList: (() => void) | undefined;
  let dropWatch: ((error: unknown) => void) | undefined;
  let allowReconnect: (() => void) | undefined;
  const reconnectAllowed = new Promise<void>((resolve) => (allowReconnect = resolve));
  let watching = 0;
  const api: ListWatchApi<{ metadata: { uid: string } }> = {
    list: () =>
      new Promise((resolve) => {
        finishList = () => resolve({ items: [], resourceVersion: '1' });
      }),
    async watch(_resourceVersion, _onEvent, onDone) {
      watching += 1;
      dropWatch = onDone;
      // The watch connects when this resolves: the second one only when the test says so.
      if (watching > 1) await reconnectAllowed;
      return () => undefined;
    },
  };
  const watches = new WatchStates();
  const subscription = listWatch(api, {
    initialBackoffMs: 1,
    onConnected: watches.track('Ingress'),
  }).subscribe();
  t.after(() => subscription.unsubscribe());
  const get = await serve(t, watches);

  await until(() => finishList !== undefined, 'the list to start');
  assert.deepEqual(await get('/readyz'), [503, 'not connected: Ingress watch'], 'listing');
  assert.deepEqual(await get('/healthz'), [200, 'ok']);
  finishList!();
  await until(() => watches.disconnectedWatches().length === 0, 'the watch to connect');
  assert.deepEqual(await get('/readyz'), [200, 'ok'], 'watching');

  dropWatch!(new Error('connection reset'));
  await until(() => watching === 2, 'the watch to be tried again');
  assert.deepEqual(await get('/readyz'), [503, 'not connected: Ingress watch'], 'reconnecting');
  assert.deepEqual(await get('/healthz'), [200, 'ok'], 'alive while reconnecting');
  allowReconnect!();
  await until(() => watches.disconnectedWatches().length === 0, 'the watch to reconnect');
  assert.deepEqual(await get('/readyz'), [200, 'ok'], 'watching again');
});

it('answers /metrics with the Prometheus text format, the operator metrics and the process metrics', async (t) => {
  const metrics = new Metrics();
  metrics.setLeader(true);
  const server = await startHealthServer(0, '127.0.0.1', new WatchStates(), metrics.registry);
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.match(text, /^# TYPE kube_lego_leader gauge$/m);
  assert.match(text, /^kube_lego_leader 1$/m);
  assert.match(text, /^kube_lego_runs_queued 0$/m, 'no operator running: nothing queued');
  assert.match(text, /^process_cpu_user_seconds_total /m);
  assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.deepEqual([health.status, (await health.text()).trim()], [200, 'ok'], 'the probes still answer');
});
