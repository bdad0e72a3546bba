/**
 * Runs a command with no network but loopback, so "tests and the demo connect only to 127.0.0.0/8" is a
 * guarantee, not a hope: first the Go programs the tests need are built (that needs the Go module proxy)
 * and Debian's Chromium is installed if missing (apt-get), then the command runs in a new network namespace that has only `lo` (`unshare -n`, as root).
 *
 * Where a network namespace cannot be made (not root, no unshare), the command runs as it is, after a line
 * saying so; with CI=true that is an error instead.
 *
 * Usage: node scripts/offline.ts <command> [args...]
 */
import { spawnSync } from 'node:child_process';
import { ensureBinaries } from '../test/support/binaries.ts';
import { ensureChromium } from '../test/support/chromium.ts';

const command = process.argv.slice(2);
if (command.length === 0) {
  process.stderr.write('usage: node scripts/offline.ts <command> [args...]\n');
  process.exit(2);
}

await ensureBinaries([
  'pebble',
  'pebble-challtestsrv',
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'traefik',
]);
// The process view's browser test drives Debian's Chromium: installed now, while the network is there.
ensureChromium();

const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
if (probe.status !== 0) {
  const why = probe.error ? probe.error.message : `unshare -n exited with ${probe.status}`;
  if (process.env.CI === 'true') {
    process.stderr.write(`offline: cannot make a network namespace (${why}); CI requires one\n`);
    process.exit(1);
  }
  process.stderr.write(
    `offline: cannot make a network namespace (${why}); running with the machine's network\n`,
  );
  const direct = spawnSync(command[0]!, command.slice(1), { stdio: 'inherit' });
  process.exit(direct.status ?? 1);
}

process.stderr.write('offline: running in a network namespace with only the loopback interface\n');
const result = spawnSync(
  'unshare',
  ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'offline', ...command],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
