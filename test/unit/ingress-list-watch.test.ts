/**
 * List+watch against a scripted API: resumes from the last resourceVersion, re-lists on 410 Gone
 * (reporting what vanished meanwhile), and reconnects after errors with back-off.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstValueFrom, take, toArray } from 'rxjs';
import { listWatch, type ListWatchApi, type WatchEvent } from '../../src/kube/list-watch.ts';

interface Obj {
  metadata: { uid: string; resourceVersion: string };
}
const obj = (uid: string, resourceVersion: string): Obj => ({ metadata: { uid, resourceVersion } });

/** An API whose list answers and watch sessions are scripted by the test. */
function scriptedApi(
  lists: Obj[][],
  sessions: ((emit: (type: string, o: unknown) => void, done: (e: unknown) => void) => void)[],
) {
  const calls: string[] = [];
  let listVersion = 100;
  const api: ListWatchApi<Obj> = {
    async list() {
      calls.push('list');
      return { items: lists.shift() ?? [], resourceVersion: String(listVersion++) };
    },
    async watch(resourceVersion, onEvent, onDone) {
      calls.push(`watch@${resourceVersion}`);
      const session = sessions.shift();
      if (session) setImmediate(() => session(onEvent, onDone));
      return () => calls.push('stop');
    },
  };
  return { api, calls };
}

const summary = (events: WatchEvent<Obj>[]) =>
  events.map((event) => `${event.type} ${event.object.metadata.uid}`);

describe('Ingress list+watch', () => {
  it('lists, then watches from the list resourceVersion, and resumes from the last one seen', async () => {
    const { api, calls } = scriptedApi(
      [[obj('a', '1')]],
      [
        (emit, done) => {
          emit('MODIFIED', obj('a', '105'));
          emit('BOOKMARK', { metadata: { resourceVersion: '110' } });
          done(undefined); // the server closed the watch (timeout): resume, do not re-list
        },
        (emit) => emit('ADDED', obj('b', '111')),
      ],
    );
    const events = await firstValueFrom(listWatch(api, { initialBackoffMs: 1 }).pipe(take(3), toArray()));
    assert.deepEqual(summary(events), ['ADDED a', 'MODIFIED a', 'ADDED b']);
    assert.deepEqual(calls.slice(0, 3), ['list', 'watch@100', 'watch@110']);
  });

  it('re-lists on 410 Gone and reports objects deleted meanwhile', async () => {
    const { api, calls } = scriptedApi(
      [
        [obj('a', '1'), obj('b', '2')],
        [obj('b', '2'), obj('c', '3')],
      ],
      [(emit) => emit('ERROR', { code: 410, reason: 'Expired' }), () => undefined],
    );
    const events = await firstValueFrom(listWatch(api, { initialBackoffMs: 1 }).pipe(take(4), toArray()));
    assert.deepEqual(summary(events), ['ADDED a', 'ADDED b', 'ADDED c', 'DELETED a']);
    assert.deepEqual(calls.slice(0, 3), ['list', 'watch@100', 'stop']);
    assert.equal(calls.filter((call) => call === 'list').length, 2);
  });

  it('reconnects with growing back-off after errors and reports the connection state', async () => {
    const delays: number[] = [];
    const states: boolean[] = [];
    const { api } = scriptedApi(
      [[]],
      [
        (_emit, done) => done(new Error('connection reset')),
        (_emit, done) => done(new Error('connection reset')),
        (emit) => emit('ADDED', obj('z', '120')),
      ],
    );
    const events = await firstValueFrom(
      listWatch(api, {
        initialBackoffMs: 2,
        onRetry: (_error, delay) => delays.push(delay),
        onConnected: (connected) => states.push(connected),
      }).pipe(take(1), toArray()),
    );
    assert.deepEqual(summary(events), ['ADDED z']);
    assert.deepEqual(delays, [2, 2]); // back-off resets once a watch connects, then grows on repeated failure
    assert.equal(states[0], true);
    assert.ok(states.includes(false));
  });
});
