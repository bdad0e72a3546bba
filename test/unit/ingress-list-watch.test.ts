/**
 * List+watch against a scripted API: resumes from the last resourceVersion, re-lists on 410 Gone
 * (reporting what vanished meanwhile), reports the connection state, and reconnects after errors with
 * exponential back-off: initialBackoffMs, doubled after each further failure up to maxBackoffMs, and back
 * to initialBackoffMs once a watch connects. The back-off runs on node:test's mock timers, so the delays
 * checked are the ones the code schedules, whatever the machine's speed.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
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

/**
 * How one watch attempt goes: `refused` rejects before connecting, `drops` connects then fails, `connects`
 * connects and stays open.
 */
type Attempt = 'refused' | 'drops' | 'connects';

/**
 * Runs list+watch on mock time against watches that go as `attempts` say, jumping from one timer to the
 * next. Returns the delays reported to onRetry and the mock time between successive watch attempts.
 */
async function backOff(
  t: TestContext,
  attempts: Attempt[],
  options: { initialBackoffMs: number; maxBackoffMs: number },
): Promise<{ delays: number[]; gaps: number[] }> {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const startedAt: number[] = [];
  const script = [...attempts];
  const api: ListWatchApi<Obj> = {
    async list() {
      return { items: [], resourceVersion: '100' };
    },
    async watch(_resourceVersion, _onEvent, onDone) {
      startedAt.push(Date.now());
      const attempt = script.shift();
      if (attempt === 'refused') throw new Error('connect ECONNREFUSED');
      if (attempt === 'drops') setImmediate(() => onDone(new Error('connection reset')));
      return () => undefined;
    },
  };
  const delays: number[] = [];
  const subscription = listWatch(api, {
    ...options,
    onRetry: (_error, delay) => delays.push(delay),
  }).subscribe();
  t.after(() => subscription.unsubscribe());
  // Let each attempt and its failure happen (promises, setImmediate), then fire the retry timer it set.
  for (let jumps = 0; startedAt.length < attempts.length; jumps += 1) {
    if (jumps > attempts.length) assert.fail(`${startedAt.length} of ${attempts.length} attempts made`);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    t.mock.timers.runAll();
  }
  const gaps = startedAt.slice(1).map((time, index) => time - startedAt[index]!);
  return { delays, gaps };
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

  it('reports connected when a watch starts, disconnected when it drops or is unsubscribed', async () => {
    const states: boolean[] = [];
    const { api } = scriptedApi(
      [[]],
      [(_emit, done) => done(new Error('connection reset')), (emit) => emit('ADDED', obj('z', '120'))],
    );
    const events = await firstValueFrom(
      listWatch(api, { initialBackoffMs: 1, onConnected: (connected) => states.push(connected) }).pipe(
        take(1),
        toArray(),
      ),
    );
    assert.deepEqual(summary(events), ['ADDED z']);
    // connected, dropped, reconnected, unsubscribed by take(1)
    assert.deepEqual(states, [true, false, true, false]);
  });

  it('waits initialBackoffMs after a failed attempt, twice as long after each further one, at most maxBackoffMs', async (t) => {
    const { delays, gaps } = await backOff(t, [...Array<Attempt>(6).fill('refused'), 'connects'], {
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
    });
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]); // 800 * 2 is capped at 1000
    assert.deepEqual(gaps, delays, 'the attempts are as far apart as the delays reported');
  });

  it('starts again from initialBackoffMs once a watch has connected', async (t) => {
    const { delays, gaps } = await backOff(t, ['refused', 'refused', 'drops', 'connects'], {
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
    });
    // Without the reset the third delay would be 400.
    assert.deepEqual(delays, [100, 200, 100]);
    assert.deepEqual(gaps, delays, 'the attempts are as far apart as the delays reported');
  });
});
