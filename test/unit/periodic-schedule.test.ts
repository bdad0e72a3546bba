/** The host's repeating schedule, on a fake clock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSchedule } from '../../src/process/schedule.ts';
import { FakeClock } from './fake-clock.ts';

const HOUR = 3_600_000;

describe('periodic schedule', () => {
  it('ticks every interval, for ever with R/', () => {
    const clock = new FakeClock();
    const ticks: number[] = [];
    const start = clock.now();
    startSchedule({ intervalMs: HOUR, repetitions: undefined }, clock, () => ticks.push(clock.now() - start));
    clock.advance(HOUR - 1);
    assert.deepEqual(ticks, []);
    clock.advance(1);
    assert.deepEqual(ticks, [HOUR]);
    clock.advance(4 * HOUR);
    assert.deepEqual(
      ticks,
      [1, 2, 3, 4, 5].map((n) => n * HOUR),
    );
  });

  it('stops after n repetitions with Rn/', () => {
    const clock = new FakeClock();
    let ticks = 0;
    const schedule = startSchedule({ intervalMs: 60_000, repetitions: 3 }, clock, () => ticks++);
    clock.advance(10 * 60_000);
    assert.equal(ticks, 3);
    assert.equal(schedule.next, undefined);
    assert.equal(clock.pending, 0);
  });

  it('keeps ticks on the grid when a tick is slow', () => {
    const clock = new FakeClock();
    const start = clock.now();
    const ticks: number[] = [];
    startSchedule({ intervalMs: HOUR, repetitions: undefined }, clock, () => {
      ticks.push(clock.now() - start);
      clock.advance(10 * 60_000); // the tick itself takes ten minutes
    });
    clock.advance(3 * HOUR);
    assert.deepEqual(ticks, [HOUR, 2 * HOUR, 3 * HOUR]);
  });

  it('reports the next tick and stops on request', () => {
    const clock = new FakeClock();
    let ticks = 0;
    const schedule = startSchedule({ intervalMs: HOUR, repetitions: undefined }, clock, () => ticks++);
    assert.equal(schedule.next, clock.now() + HOUR);
    schedule.stop();
    clock.advance(5 * HOUR);
    assert.equal(ticks, 0);
  });
});
