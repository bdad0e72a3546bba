/**
 * A sandbox whose start fails half-way (the ingress router's port taken on purpose, after the control
 * plane and Pebble are up) reports the failing part and leaves nothing behind: every child process it
 * started is gone, in bounded time, and the addresses it claimed are free again.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { eventually } from '../support/cluster-testing.ts';
import { claimAddress } from '../support/loopback.ts';
import { HTTP01_PORT } from '../support/pebble.ts';
import { startSandbox } from '../support/sandbox.ts';

/** Pids of the live processes whose parent is this process. */
function childPids(): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the command (which may hold spaces) start after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(parent) === process.pid && state !== 'Z') children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

function listen(address: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  });
}

test('a start that fails half-way names the failing part and stops every process it started', async () => {
  assert.deepEqual(childPids(), [], 'no child processes before the start');
  const routerAddress = await claimAddress();
  const squatter = await listen(routerAddress.address, HTTP01_PORT);
  const seenChildren = new Set<number>();
  const watcher = setInterval(() => childPids().forEach((pid) => seenChildren.add(pid)), 100);
  const started = Date.now();
  try {
    await assert.rejects(startSandbox({ routerAddress: routerAddress.address }), (error: Error) => {
      assert.match(error.message, /^ingress router: listen EADDRINUSE/);
      assert.ok(error.message.includes(`${routerAddress.address}:${HTTP01_PORT}`), error.message);
      return true;
    });
  } finally {
    clearInterval(watcher);
    squatter.close();
    await routerAddress.release();
  }
  const elapsedMs = Date.now() - started;
  // etcd, kube-apiserver, kube-controller-manager, challtestsrv and Pebble had started before the router failed.
  assert.ok(seenChildren.size >= 5, `the start got half-way: children seen ${[...seenChildren].join(', ')}`);
  assert.ok(elapsedMs < 120_000, `failed and cleaned up in ${elapsedMs} ms`);
  await eventually('every child process gone', async () => childPids().length === 0, 5_000);
});
