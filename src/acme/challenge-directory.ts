/**
 * HTTP-01 responses handed from the issuance Job's `issue` container to its `respond` container through a
 * directory they share (an in-memory emptyDir), so that the process that answers the internet holds no
 * ServiceAccount token and nothing secret (docs/threat-model.md):
 *
 * - the issuer writes one file per token, named by the token and holding its key authorization (both are
 *   public: the CA fetches them over plain HTTP), each written whole then renamed into place, and at the
 *   end a `.done` file;
 * - the responder reads the directory as soon as it changes (inotify, through `fs.watch`) and every `pollMs`
 *   should a change go unnoticed, publishes what it finds on the in-memory responder
 *   (src/acme/challenge-responder.ts: it never serves from the file system, and only base64url names are
 *   read), and stops once `.done` appears, so the Job's pod completes when the issuer does;
 * - the issuer beats a heartbeat (`.alive`, rewritten every 2 s) from its start and writes `.done` however it
 *   ends; an issuer that dies without a word (killed, out of memory) stops beating, and the responder fails
 *   after `staleMs`, so the pod (and the Job) fails instead of running until its deadline.
 */
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startChallengeResponder, type ChallengeResponderOptions } from './challenge-responder.ts';

/** The file whose presence ends the responder. */
export const DONE_FILE = '.done';

/** The issuer's heartbeat: rewritten every {@link HEARTBEAT_MS} while it lives. */
export const HEARTBEAT_FILE = '.alive';

/** How often the issuer beats. */
export const HEARTBEAT_MS = 2_000;

/** Starts the issuer's heartbeat in `dir`, every `everyMs`; the result stops it. */
export function startHeartbeat(dir: string, everyMs = HEARTBEAT_MS): () => void {
  const beat = () => void writeFile(join(dir, HEARTBEAT_FILE), String(Date.now())).catch(() => {});
  beat();
  const timer = setInterval(beat, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Tells the responder the issuer is done, whatever the outcome: it stops. */
export async function markDone(dir: string): Promise<void> {
  await writeFile(join(dir, DONE_FILE), '');
}

/** A token name as published: base64url characters only (RFC 8555 §8.3), so never a path. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

/** One challenge response. */
export interface PublishedChallenge {
  token: string;
  keyAuthorization: string;
}

/** The issuer's side: what it published, withdrawn by `close`. */
export interface DirectoryPublication {
  /** Removes the token files and writes `.done`: the responder stops. */
  close(): Promise<void>;
}

/** Writes each challenge's response into `dir` (the issuer's side). */
export async function publishToDirectory(
  dir: string,
  challenges: readonly PublishedChallenge[],
): Promise<DirectoryPublication> {
  for (const { token, keyAuthorization } of challenges) {
    if (!TOKEN.test(token)) throw new Error(`${JSON.stringify(token)} is not an ACME token`);
    const partial = join(dir, `.${token}.${randomBytes(4).toString('hex')}`);
    await writeFile(partial, keyAuthorization, { mode: 0o644 });
    await rename(partial, join(dir, token));
  }
  return {
    async close() {
      for (const { token } of challenges) await rm(join(dir, token), { force: true });
      await markDone(dir);
    },
  };
}

/** Options of {@link serveChallengeDirectory}. */
export interface DirectoryResponderOptions extends ChallengeResponderOptions {
  /** The shared directory. */
  dir: string;
  /** How often to read it when it has not changed. Default 100 ms. */
  pollMs?: number;
  /** Called once the responder listens, with its base URL (port 0 picks a free port). */
  onListening?: (url: string) => void;
  /** How long the issuer's heartbeat may stop before the responder gives up on it and fails. Default 30 s. */
  staleMs?: number;
  /**
   * How long the first heartbeat may take: the issuer loads more than the responder before it beats, and on
   * a node starting many pods at once that can take a while. Default 5 minutes.
   */
  startupMs?: number;
}

/**
 * The responder's side: serves the responses found in `dir` on `host`:`port` until `.done` appears (or
 * `signal` aborts); resolves once it has stopped.
 */
export async function serveChallengeDirectory(
  options: DirectoryResponderOptions,
  signal?: AbortSignal,
): Promise<void> {
  const responder = await startChallengeResponder(options);
  options.onListening?.(responder.url);
  const published = new Map<string, string>();
  const staleMs = options.staleMs ?? 30_000;
  const startupMs = options.startupMs ?? 300_000;
  const started = Date.now();
  const changes = watchForChanges(options.dir);
  try {
    while (!signal?.aborted) {
      const names = await readdir(options.dir);
      if (names.includes(DONE_FILE)) return;
      const beat = await stat(join(options.dir, HEARTBEAT_FILE)).then(
        (file) => file.mtimeMs,
        () => undefined,
      );
      const silentMs = Date.now() - (beat ?? started);
      if (silentMs > (beat === undefined ? startupMs : staleMs)) {
        throw new Error(
          beat === undefined
            ? `the issue container never started its heartbeat within ${startupMs / 1000} s`
            : `the issue container stopped without finishing: no heartbeat for ${staleMs / 1000} s`,
        );
      }
      const tokens = new Set(names.filter((name) => TOKEN.test(name)));
      for (const token of tokens) {
        if (published.has(token)) continue;
        const keyAuthorization = await readFile(join(options.dir, token), 'utf8').catch(() => undefined);
        if (keyAuthorization === undefined) continue;
        responder.set(token, keyAuthorization);
        published.set(token, keyAuthorization);
      }
      for (const token of published.keys()) {
        if (tokens.has(token)) continue;
        responder.remove(token);
        published.delete(token);
      }
      await changes.next(options.pollMs ?? 100);
    }
  } finally {
    changes.close();
    await responder.close();
  }
}

/**
 * Changes to `dir`: `next(ms)` resolves at its next change, or after `ms` at the latest. A response the
 * issuer publishes is served within a millisecond instead of up to a poll later, which the issuer's
 * self-check, asking at once, would otherwise find missing and wait its back-off for (measured: 200 ms of
 * each issuance). Without inotify (`fs.watch` fails, e.g. out of watches) it is the poll alone.
 */
function watchForChanges(dir: string): { next(ms: number): Promise<void>; close(): void } {
  let changed = false;
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, () => {
      changed = true;
      wake?.();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  return {
    next: (ms) =>
      new Promise<void>((resolve) => {
        if (changed) {
          changed = false;
          resolve();
          return;
        }
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          changed = false;
          resolve();
        }
        wake = done;
      }),
    close: () => watcher?.close(),
  };
}
