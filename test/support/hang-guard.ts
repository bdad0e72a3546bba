/**
 * Preloaded into every test file's process (`node --test --import ./test/support/hang-guard.ts`): a file
 * whose tests and hooks are over but whose process would not end (a server, a watch, a child process left
 * open) fails after {@link GRACE_MS} with the handles that kept it alive, instead of hanging the whole run.
 *
 * Why not node's `--test-force-exit`: it exits the moment the last test ends, before the file's report has
 * been written to the runner; measured here, one file reported 66 to 114 of its 114 tests from run to run,
 * and the runner counted the missing ones nowhere, not even as failed.
 */
import { after } from 'node:test';

/** How long a file's process may live on after its last test and hook; KUBE_LEGO_HANG_GRACE_MS for tests. */
const GRACE_MS = Number(process.env['KUBE_LEGO_HANG_GRACE_MS'] ?? 60_000);

after(() => {
  // Unref'd: the timer itself keeps nothing alive, so a file that ends cleanly ends at once.
  setTimeout(() => {
    process.stderr.write(
      `hang guard: ${process.argv[1]} still running ${GRACE_MS / 1000} s after its last test, kept alive by: ` +
        `${process.getActiveResourcesInfo().join(', ')}\n`,
    );
    process.exit(1);
  }, GRACE_MS).unref();
});
