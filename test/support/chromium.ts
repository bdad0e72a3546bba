/**
 * Debian's Chromium, for the browser test of the process view (driven by puppeteer-core, which downloads
 * no browser of its own). {@link ensureChromium} installs it with apt-get when it is missing, as root, with
 * apt's progress on stderr: scripts/offline.ts calls it before leaving the network, as it builds the Go
 * programs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian's package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Installs Chromium unless it is there; returns its path. Throws, naming the fix, when it cannot. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${CHROMIUM} is missing and this is not root: install it with 'sudo apt-get install chromium'`,
    );
  }
  process.stderr.write("chromium: not installed; installing Debian's package (apt-get), once\n");
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
    const run = spawnSync('apt-get', args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (run.status !== 0)
      throw new Error(`apt-get ${args.join(' ')} failed (exit ${run.status ?? run.error?.message})`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, yet ${CHROMIUM} is missing`);
  return CHROMIUM;
}
