/**
 * The operator's logger: pino, JSON for the cluster (`LEGO_LOG_TYPE=json`) or readable lines for
 * people (`text`, kube-lego's default). Fields that could hold key material are redacted whatever
 * a caller passes: account keys and private keys never reach a log line.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Field paths removed from every log line, wherever a caller puts key material. */
export const REDACTED_PATHS = [
  'key',
  'privateKey',
  'accountKey',
  'data',
  'secret.data',
  'token.secret',
  '*.key',
  '*.privateKey',
  '*.accountKey',
  '*.data',
  '*["tls.key"]',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: string;
  type: 'text' | 'json';
  /** Where lines go; stdout when omitted. */
  destination?: DestinationStream;
}

/** Creates the root logger. */
export function createLogger({ level, type, destination }: LoggerOptions): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: undefined };
  if (type === 'json') return destination ? pino(options, destination) : pino(options);
  return pino(
    options,
    pretty({
      destination: destination ?? 1,
      colorize: destination === undefined && process.stdout.isTTY,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      singleLine: true,
      ignore: 'pid,hostname',
    }),
  );
}
