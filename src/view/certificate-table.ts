/**
 * The certificates as a table for people at a terminal (`kube-lego status`): readable columns, the state
 * coloured only when asked (a TTY). Pure: rows in, text out.
 */
import type { CertificateStatus } from './certificate-status.ts';

/** The columns, in order. */
export const COLUMNS = [
  'CERTIFICATE',
  'HOSTS',
  'NOT AFTER',
  'RENEWAL',
  'STATE',
  'INGRESS',
  'LAST EVENT',
] as const;

const COLOURS: Record<CertificateStatus['state'], string> = {
  valid: '\u001b[32m',
  renewing: '\u001b[33m',
  pending: '\u001b[33m',
  backingOff: '\u001b[31m',
  failed: '\u001b[31m',
  foreign: '\u001b[35m',
};
const RESET = '\u001b[0m';

const time = (ms: number | undefined) =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');

/** The table of `rows`; `colour` colours the state (ANSI). The last column is cut to `lastEventWidth`. */
export function formatTable(
  rows: readonly (CertificateStatus & { stateText: string })[],
  options: { colour?: boolean; lastEventWidth?: number } = {},
): string {
  const width = options.lastEventWidth ?? 60;
  const cells = rows.map((row) => {
    const event =
      row.lastEvent === undefined
        ? '-'
        : `${row.lastEvent.reason}: ${row.lastEvent.message}`.replace(/\s+/g, ' ');
    return [
      row.certificate,
      row.hosts.join(','),
      time(row.notAfter),
      time(row.renewAt),
      row.stateText,
      row.ingress,
      event.length > width ? `${event.slice(0, width - 1)}…` : event,
    ];
  });
  const widths = COLUMNS.map((title, column) =>
    Math.max(title.length, ...cells.map((cell) => cell[column]!.length)),
  );
  const line = (values: readonly string[], state?: CertificateStatus['state']) =>
    values
      .map((value, column) => {
        const padded = column === values.length - 1 ? value : value.padEnd(widths[column]!);
        return column === 4 && state !== undefined && options.colour
          ? `${COLOURS[state]}${padded}${RESET}`
          : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(COLUMNS), ...cells.map((cell, i) => line(cell, rows[i]!.state))].join('\n') + '\n';
}
