/** Durations as users write them: Go's `time.ParseDuration` form, ISO 8601 durations and BPMN cycles. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseCycle, parseGoDuration, parseIsoDuration } from '../../src/duration.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseGoDuration', () => {
  const good: [string, number][] = [
    ['720h', 720 * HOUR],
    ['1h30m', HOUR + 30 * MINUTE],
    ['2.5s', 2500],
    ['300ms', 300],
    ['0', 0],
    ['0s', 0],
    ['30s', 30 * SECOND],
    ['5m', 5 * MINUTE],
    ['1h0m0s', HOUR],
    ['1.5h', 90 * MINUTE],
    ['.5s', 500],
    ['1.s', 1000],
    ['1000us', 1],
    ['1000µs', 1], // U+00B5 micro sign
    ['1000μs', 1], // U+03BC Greek mu
    ['1000000ns', 1],
    ['1m1m', 2 * MINUTE],
    [' 8h ', 8 * HOUR],
  ];
  for (const [text, ms] of good) {
    it(`reads ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.equal(parseGoDuration(text), ms);
    });
  }

  const bad = ['', ' ', '5', 'h', '1d', '-1h', '1h 30m', '1H', 'PT1H', '1h30', 'h1', '1.5.5s', 'abc', '+'];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.equal(parseGoDuration(text), undefined);
    });
  }
});

describe('formatDuration', () => {
  const table: [number, string][] = [
    [0, '0s'],
    [720 * HOUR, '720h'],
    [HOUR + 30 * MINUTE, '1h30m'],
    [30 * SECOND, '30s'],
    [HOUR + SECOND, '1h1s'],
    [1500, '1s500ms'],
    [300, '300ms'],
    [-90 * MINUTE, '-1h30m'],
    [1000.4, '1s'],
    [1999.6, '2s'],
    [0.4, '0ms'],
  ];
  for (const [ms, text] of table) {
    it(`formats ${ms} ms as ${text}`, () => {
      assert.equal(formatDuration(ms), text);
    });
  }

  it('round-trips what it prints through parseGoDuration', () => {
    for (const ms of [720 * HOUR, 8 * HOUR, 90 * MINUTE, 1500, 300, HOUR + SECOND]) {
      assert.equal(parseGoDuration(formatDuration(ms)), ms);
    }
  });
});

describe('parseIsoDuration', () => {
  const good: [string, number][] = [
    ['PT1H', HOUR],
    ['PT10M', 10 * MINUTE],
    ['PT30S', 30 * SECOND],
    ['PT0.5S', 500],
    ['PT1.5H', 90 * MINUTE],
    ['P1D', DAY],
    ['P1W', 7 * DAY],
    ['P1DT12H', 36 * HOUR],
    ['PT1H30M15S', HOUR + 30 * MINUTE + 15 * SECOND],
    ['PT0S', 0],
    [' PT8H ', 8 * HOUR],
  ];
  for (const [text, ms] of good) {
    it(`reads ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.equal(parseIsoDuration(text), ms);
    });
  }

  const bad = ['', 'P', 'PT', 'P1DT', 'P1Y', 'P1M', 'P1Y2M', '1h', 'PT1', 'T1H', 'pt1h', 'PT1H30', 'PT-1H'];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.equal(parseIsoDuration(text), undefined);
    });
  }
});

describe('parseCycle', () => {
  const good: [string, { intervalMs: number; repetitions: number | undefined }][] = [
    ['R/PT1H', { intervalMs: HOUR, repetitions: undefined }],
    ['R5/PT10M', { intervalMs: 10 * MINUTE, repetitions: 5 }],
    ['PT1H', { intervalMs: HOUR, repetitions: undefined }],
    ['R/P1D', { intervalMs: DAY, repetitions: undefined }],
    ['R1/PT30S', { intervalMs: 30 * SECOND, repetitions: 1 }],
    [' R/PT8H ', { intervalMs: 8 * HOUR, repetitions: undefined }],
  ];
  for (const [text, cycle] of good) {
    it(`reads ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseCycle(text), cycle);
    });
  }

  const bad = [
    '',
    'R',
    'R/',
    'R/P',
    'R/PT',
    'R/PT0S', // a zero interval would spin
    'PT0S',
    'R/1h', // a Go duration is not an ISO 8601 one
    '1h',
    'X/PT1H',
    'R-1/PT1H',
    'Rx/PT1H',
    'R/P1M', // months have no fixed length
    'R/2025-01-01T00:00:00Z/PT1H', // start dates are not supported
    'R/PT1H/2025-01-01T00:00:00Z',
  ];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.equal(parseCycle(text), undefined);
    });
  }
});
