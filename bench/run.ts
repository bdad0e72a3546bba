/**
 * `npm run bench`: every benchmark, each printing its figures. Run through scripts/offline.ts (loopback
 * only) with --expose-gc, as the npm script does.
 */
import { benchAwaitingJobs } from './awaiting-jobs.ts';
import { benchBurst } from './burst.ts';
import { benchEndToEnd } from './e2e.ts';
import { benchEngine } from './engine.ts';
import { benchFailover } from './failover.ts';
import { benchIssuance } from './issuance.ts';

await benchEngine();
await benchAwaitingJobs();
await benchIssuance();
await benchEndToEnd();
await benchBurst();
await benchFailover();
