/** /healthz follows the Ingress watch's connection, /readyz the first list; anything else is 404. Real HTTP on loopback. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { startHealthServer } from '../../src/health.ts';

it('answers /healthz and /readyz from the watch state', async () => {
  const state = { connected: false, synced: false };
  const server = await startHealthServer(0, '127.0.0.1', {
    watchConnected: () => state.connected,
    synced: () => state.synced,
  });
  const port = (server.address() as { port: number }).port;
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return [response.status, (await response.text()).trim()];
  };
  try {
    assert.deepEqual(await get('/healthz'), [503, 'Ingress watch not connected']);
    assert.deepEqual(await get('/readyz'), [503, 'Ingresses not listed yet']);
    state.connected = true;
    state.synced = true;
    assert.deepEqual(await get('/healthz'), [200, 'ok']);
    assert.deepEqual(await get('/readyz'), [200, 'ok']);
    assert.deepEqual(await get('/metrics'), [404, 'not found']);
  } finally {
    server.close();
  }
});
