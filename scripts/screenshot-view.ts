/**
 * Makes docs/process-view.png, the README's picture of the process view: runs the process view's end-to-end
 * test (test/e2e/process-view.test.ts), which saves the page once a certificate has been issued.
 *
 * Usage: npm run screenshot
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const result = spawnSync(
  process.execPath,
  [
    'scripts/offline.ts',
    process.execPath,
    '--test',
    '--import',
    './test/support/hang-guard.ts',
    '--test-timeout=300000',
    'test/e2e/process-view.test.ts',
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      KUBE_LEGO_SCREENSHOT: fileURLToPath(new URL('../docs/process-view.png', import.meta.url)),
    },
  },
);
process.exit(result.status ?? 1);
