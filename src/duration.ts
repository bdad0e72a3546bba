/**
 * Durations as users write them: Go's `time.ParseDuration` form (`720h`, `1h30m`, `30s`), used by
 * kube-lego's `LEGO_*` variables, and the ISO 8601 forms that BPMN timers carry (`PT1H`, `R/PT1H`).
 * All results are milliseconds.
 */

const goUnits: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu: Go accepts both
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration such as `720h`, `1h30m` or `2.5s`; returns undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const value = text.trim();
  if (value === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < value.length) {
    part.lastIndex = index;
    const match = part.exec(value);
    if (!match) return undefined;
    total += Number(match[1]) * goUnits[match[2]!]!;
    index = part.lastIndex;
  }
  return index === 0 ? undefined : total;
}

/** Formats milliseconds the way Go prints a duration, coarsely (`720h0m0s` becomes `720h`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  // Whole milliseconds first, so a fraction neither prints as a trailing `0ms` nor rounds up to `1000ms`.
  let rest = Math.round(Math.abs(ms));
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const whole = Math.floor(rest / size);
    if (whole > 0) parts.push(`${whole}${unit}`);
    rest -= whole * size;
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return (ms < 0 ? '-' : '') + parts.join('');
}

/**
 * Parses an ISO 8601 duration (`PT1H`, `P1D`, `PT0.5S`). Years and months are refused: their length
 * depends on the calendar, and a certificate check cycle never needs them.
 */
export function parseIsoDuration(text: string): number | undefined {
  const match =
    /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      text.trim(),
    );
  if (!match || text.trim() === 'P' || text.trim().endsWith('T')) return undefined;
  const [, weeks, days, hours, minutes, seconds] = match.map((group) => Number(group ?? 0));
  return (
    (weeks ?? 0) * 604_800_000 +
    (days ?? 0) * 86_400_000 +
    (hours ?? 0) * 3_600_000 +
    (minutes ?? 0) * 60_000 +
    (seconds ?? 0) * 1000
  );
}

/** A repeating interval: every `intervalMs`, `repetitions` times (undefined: for ever). */
export interface Cycle {
  intervalMs: number;
  repetitions: number | undefined;
}

/**
 * Parses a BPMN `timeCycle`: `R/PT1H` (for ever), `R5/PT10M` (five times), or a bare duration
 * (`PT1H`, taken as for ever). Start and end dates in the cycle are not supported.
 */
export function parseCycle(text: string): Cycle | undefined {
  const match = /^R(\d*)\/(P[^/]+)$/.exec(text.trim());
  const intervalMs = parseIsoDuration(match ? match[2]! : text);
  if (intervalMs === undefined || intervalMs <= 0) return undefined;
  const repetitions = match && match[1] !== '' ? Number(match[1]) : undefined;
  return { intervalMs, repetitions };
}
