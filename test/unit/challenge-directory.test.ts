/**
 * The hand-over of challenge responses between the issuance Job's two containers through a shared
 * directory: what the issuer writes, the responder serves over HTTP as soon as it is written; what the issuer
 * withdraws is answered 404 again; its `.done` stops the responder; only base64url names are ever served.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import {
  publishToDirectory,
  serveChallengeDirectory,
  startHeartbeat,
} from '../../src/acme/challenge-directory.ts';

/** Resolves when `url` answers `status`, polling; fails after 5 s. */
async function answers(url: string, status: number): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const response = await fetch(url).catch(() => undefined);
    if (response?.status === status) return response.text();
    if (Date.now() > deadline) assert.fail(`${url} did not answer ${status} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A responder serving `dir` on loopback; `base` is its challenge path once it listens. */
async function responder(dir: string, options: { pollMs: number; onRequest?: () => void }) {
  let listening: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => (listening = resolve));
  const serving = serveChallengeDirectory({
    dir,
    host: '127.0.0.1',
    port: 0,
    ...options,
    onListening: (at) => listening(at),
  });
  return { serving, base: `${await url}/.well-known/acme-challenge` };
}

it('serves what the issuer writes, and stops when the issuer is done', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-challenges-'));
  let requests = 0;
  const { serving, base } = await responder(dir, { pollMs: 20, onRequest: () => (requests += 1) });
  await answers(`${base}/token-a`, 404);
  const publication = await publishToDirectory(dir, [
    { token: 'token-a', keyAuthorization: 'token-a.thumbprint' },
    { token: 'token_B-2', keyAuthorization: 'token_B-2.thumbprint' },
  ]);
  assert.equal(await answers(`${base}/token-a`, 200), 'token-a.thumbprint');
  assert.equal(await answers(`${base}/token_B-2`, 200), 'token_B-2.thumbprint');
  // A file whose name is not a token (written by mistake, or a partial write) is never served.
  await writeFile(join(dir, 'not.a.token'), 'secret');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await answers(`${base}/not.a.token`, 404);
  await publication.close();
  await serving;
  assert.deepEqual(
    (await readdir(dir)).sort(),
    ['.done', 'not.a.token'],
    'the tokens withdrawn, .done written',
  );
  assert.ok(requests >= 4);
  await assert.rejects(fetch(`${base}/token-a`), 'the responder has stopped listening');
});

it('sees a response and the end the moment the issuer writes them, not a poll later', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-challenges-'));
  // A poll of a minute: within the 5 s `answers` waits, only the directory's change notice can wake it.
  const { serving, base } = await responder(dir, { pollMs: 60_000 });
  await answers(`${base}/token-a`, 404);
  const publication = await publishToDirectory(dir, [
    { token: 'token-a', keyAuthorization: 'token-a.thumbprint' },
  ]);
  assert.equal(await answers(`${base}/token-a`, 200), 'token-a.thumbprint');
  await publication.close();
  await serving;
});

it('refuses to publish a token that is not base64url (it could name a path)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-challenges-'));
  await assert.rejects(
    publishToDirectory(dir, [{ token: '../escape', keyAuthorization: 'x' }]),
    /"..\/escape" is not an ACME token/,
  );
  assert.deepEqual(await readdir(dir), []);
});

it('fails when the issuer stops beating without a word (killed), and not while it beats', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-challenges-'));
  const stopBeating = startHeartbeat(dir, 50);
  let settled = false;
  const serving = serveChallengeDirectory({ dir, host: '127.0.0.1', port: 0, pollMs: 20, staleMs: 300 });
  serving.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(settled, false, 'still serving while the heartbeat goes on, past several stale periods');
  const stoppedAt = Date.now();
  stopBeating();
  await assert.rejects(serving, /the issue container stopped without finishing: no heartbeat for 0.3 s/);
  const tookMs = Date.now() - stoppedAt;
  assert.ok(tookMs >= 200 && tookMs < 2_000, `gave up ${tookMs} ms after the last beat`);
});

it('gives the issuer its start-up time for the first beat, and fails when it never beats', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-challenges-'));
  const startedAt = Date.now();
  await assert.rejects(
    serveChallengeDirectory({ dir, host: '127.0.0.1', port: 0, pollMs: 20, staleMs: 50, startupMs: 400 }),
    /the issue container never started its heartbeat within 0.4 s/,
  );
  assert.ok(Date.now() - startedAt >= 400, 'not before the start-up time, though the stale time is shorter');
});
