/**
 * Entry point of the issuance Job's `respond` container (bundled as `dist/respond.mjs` by `npm run build`): the one part of the Job
 * reachable from outside. It answers HTTP-01 challenges on `POD_IP`:`LEGO_HTTP01_PORT` with the responses
 * the `issue` container writes into `LEGO_CHALLENGE_DIR`, and ends when that container is done. It reads no
 * other setting, holds no ServiceAccount token and no key (docs/threat-model.md). Exit status 0 when done,
 * 2 when misconfigured, 1 on any other failure.
 */
import { serveChallengeDirectory } from '../src/acme/challenge-directory.ts';

/** A required environment variable, or exit 2 naming it. */
function required(name: string): string {
  const value = process.env[name]?.trim();
  if (value) return value;
  process.stderr.write(`kube-lego respond: ${name} is not set: the issuance Job's manifest sets it\n`);
  process.exit(2);
}

const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
const port = Number(required('LEGO_HTTP01_PORT'));
serveChallengeDirectory(
  {
    dir: required('LEGO_CHALLENGE_DIR'),
    host: required('POD_IP'),
    port,
    onRequest: (request) =>
      process.stdout.write(`${JSON.stringify({ time: Date.now(), msg: 'challenge request', ...request })}\n`),
  },
  stop.signal,
).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`kube-lego respond: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
