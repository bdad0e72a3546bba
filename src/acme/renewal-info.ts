/**
 * Asks the CA for a certificate's renewal window (RFC 9773): the directory's `renewalInfo` URL, then an
 * unauthenticated `GET <renewalInfo>/<certificate identifier>`. The operator asks this itself (the Jobs
 * only order): it is one small GET per certificate and day or so, without the account key.
 *
 * The directory is read once and again after a day (a CA may add ARI); a directory without `renewalInfo`
 * means the CA offers none, and the lifetime rule (src/certificate/renewal.ts) stays. The CA is trusted as
 * the Jobs trust it: the system's authorities plus `LEGO_CA_BUNDLE`.
 */
import { rootCertificates } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { RenewalWindow } from '../certificate/renewal-information.ts';

/** What the CA said of a certificate. */
export interface RenewalInfoAnswer {
  window: RenewalWindow;
  /** Its `Retry-After`, in ms, when it sent one. */
  retryAfterMs?: number;
  /** A page for people on why the window is where it is (a revocation notice, say), when the CA gave one. */
  explanationUrl?: string;
}

/** A failed ask: the HTTP status when the CA answered, and its `Retry-After`. */
export class RenewalInfoError extends Error {
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, status?: number, retryAfterMs?: number) {
    super(message);
    this.name = 'RenewalInfoError';
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Asks one CA about its certificates. */
export interface RenewalInfoSource {
  /** The CA's window for the certificate; undefined when the CA offers no renewal information. */
  ask(certificateId: string): Promise<RenewalInfoAnswer | undefined>;
}

/** Options of {@link caRenewalInfo}. */
export interface CaRenewalInfoOptions {
  /** `LEGO_URL`. */
  directoryUrl: string;
  /** `LEGO_CA_BUNDLE`: more authorities to trust besides the system's. */
  caPem?: string;
  /** ms a request may take; 10 s by default. */
  timeoutMs?: number;
  /** ms since the epoch; a fake in tests. */
  now?: () => number;
}

const DIRECTORY_TTL_MS = 86_400_000;

/** Reads a `Retry-After` header (seconds or an HTTP date) as ms from now. */
function retryAfterOf(response: IncomingMessage, now: number): number | undefined {
  const value = response.headers['retry-after'];
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The CA's renewal information, asked over HTTPS. */
export function caRenewalInfo(options: CaRenewalInfoOptions): RenewalInfoSource {
  const now = options.now ?? Date.now;
  const timeout = options.timeoutMs ?? 10_000;
  const ca = options.caPem === undefined ? undefined : [...rootCertificates, options.caPem];
  let directory: { renewalInfo: string | undefined; readAt: number } | undefined;

  const get = (url: string) =>
    new Promise<{ status: number; body: string; retryAfterMs: number | undefined }>((resolve, reject) => {
      const send = url.startsWith('https:') ? httpsRequest : httpRequest;
      const request = send(
        url,
        {
          method: 'GET',
          timeout,
          headers: { 'user-agent': 'kube-lego', accept: 'application/json' },
          ...(ca !== undefined && { ca }),
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            if (body.length < 65_536) body += chunk;
          });
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body, retryAfterMs: retryAfterOf(response, now()) }),
          );
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeout} ms`)));
      request.on('error', (error) => reject(new RenewalInfoError(`GET ${url} failed: ${error.message}`)));
      request.end();
    });

  const renewalInfoUrl = async (): Promise<string | undefined> => {
    if (directory !== undefined && now() - directory.readAt < DIRECTORY_TTL_MS) return directory.renewalInfo;
    const { status, body, retryAfterMs } = await get(options.directoryUrl);
    if (status !== 200) {
      throw new RenewalInfoError(
        `the ACME directory ${options.directoryUrl} answered ${status}`,
        status,
        retryAfterMs,
      );
    }
    const parsed = JSON.parse(body) as { renewalInfo?: unknown };
    directory = {
      renewalInfo:
        typeof parsed.renewalInfo === 'string' ? parsed.renewalInfo.replace(/\/+$/, '') : undefined,
      readAt: now(),
    };
    return directory.renewalInfo;
  };

  return {
    async ask(certificateId) {
      const base = await renewalInfoUrl();
      if (base === undefined) return undefined;
      const url = `${base}/${certificateId}`;
      const { status, body, retryAfterMs } = await get(url);
      if (status !== 200) {
        throw new RenewalInfoError(
          `GET ${url} answered ${status}: ${body.slice(0, 200)}`,
          status,
          retryAfterMs,
        );
      }
      const parsed = JSON.parse(body) as {
        suggestedWindow?: { start?: unknown; end?: unknown };
        explanationURL?: unknown;
      };
      const start = Date.parse(String(parsed.suggestedWindow?.start));
      const end = Date.parse(String(parsed.suggestedWindow?.end));
      if (Number.isNaN(start) || Number.isNaN(end) || end <= start) {
        throw new RenewalInfoError(
          `GET ${url} gave no usable suggestedWindow: ${body.slice(0, 200)}`,
          status,
          retryAfterMs,
        );
      }
      return {
        window: { start, end },
        ...(retryAfterMs !== undefined && { retryAfterMs }),
        ...(typeof parsed.explanationURL === 'string' && { explanationUrl: parsed.explanationURL }),
      };
    },
  };
}
