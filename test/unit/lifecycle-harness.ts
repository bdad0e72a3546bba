/** Builds the lifecycle process over the in-memory cluster, as the operator does over the real one. */
import { readFile } from 'node:fs/promises';
import type { RenewalInfoCache } from '../../src/acme/renewal-info-cache.ts';
import { parseConfig, type Config } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { loadDefinition } from '../../src/process/definition.ts';
import { Deduplicator } from '../../src/process/deduplicator.ts';
import { ProcessRunner, type RunRequest, type RunResult } from '../../src/process/runner.ts';
import { lifecycleTasks } from '../../tasks/index.ts';
import type { LifecycleServices, LifecycleToken } from '../../tasks/services.ts';
import type { ManifestRbac } from '../support/manifest-rbac.ts';
import { FakeCluster } from './fake-cluster.ts';
import { finishedJob } from '../../src/kube/job-watch.ts';
import { JobSlots } from '../../src/issuance/job-slots.ts';

/** The lifecycle diagram as shipped. */
export const LIFECYCLE_BPMN = new URL('../../processes/certificate-lifecycle.bpmn', import.meta.url);

/** A logger that drops everything, for tests that do not read logs. */
export const silentLog: Logger = createLogger({ level: 'silent', type: 'json' });

/** The shipped diagram's text. */
export function lifecycleXml(): Promise<string> {
  return readFile(LIFECYCLE_BPMN, 'utf8');
}

/**
 * A runner of the given diagram text over a fake cluster, and its parts. The fake enforces `rbac`
 * (default: manifests/install.yml's) for the operator installed in `config.namespace`; runs log to `log`.
 */
export async function lifecycleHarness(
  xml?: string,
  config: Config = parseConfig({}),
  rbac?: ManifestRbac,
  log: Logger = silentLog,
  renewalInfo?: RenewalInfoCache,
) {
  const cluster = new FakeCluster({ namespace: config.namespace, ...(rbac !== undefined && { rbac }) });
  const deduplicator = new Deduplicator();
  const clock = { now: Date.now() };
  const services: LifecycleServices = {
    config,
    cluster,
    deduplicator,
    now: () => clock.now,
    taskFailures: new Map(),
    jobSlots: new JobSlots(config.maxJobsInFlight),
    ...(renewalInfo !== undefined && { renewalInfo }),
  };
  const definition = await loadDefinition(
    xml ?? (await lifecycleXml()),
    'certificate-lifecycle',
    new Set(Object.keys(lifecycleTasks)),
  );
  const runner = new ProcessRunner<LifecycleServices, LifecycleToken>(
    definition,
    lifecycleTasks,
    services,
    log,
  );
  return { runner, cluster, deduplicator, clock, config, definition };
}

/**
 * What the operator's Job watch passes on to a "Job finished" token about the fake's finished Job: why it
 * was launched, the failures in a row before it, and when it ended.
 */
function finishedFields(cluster: FakeCluster, job: string) {
  const finished = finishedJob(cluster.jobObject(job));
  if (finished === undefined) return {};
  return {
    ...(finished.launchedBecause !== undefined && { launchedBecause: finished.launchedBecause }),
    previousFailures: finished.previousFailures,
    finishedAt: finished.finishedAt,
  };
}

/**
 * Runs a token as the operator does over time: a run that ends "launched" (runs never wait for a Job) is
 * followed, when the fake's Job has finished, by the "Job finished" run the operator's Job watch would
 * start for it. The result is the last run's, with the path and output of both.
 */
export async function runThrough(
  runner: ProcessRunner<LifecycleServices, LifecycleToken>,
  cluster: FakeCluster,
  request: RunRequest<LifecycleToken>,
): Promise<RunResult> {
  const first = await runner.run(request);
  const job = cluster.launches.at(-1);
  if (first.end !== 'launched' || job === undefined) return first;
  if ((cluster.jobObject(job).status?.conditions ?? []).length === 0) return first;
  const second = await runner.run({
    start: 'message',
    message: 'JobFinished',
    token: { ...request.token, job, ...finishedFields(cluster, job) },
    key: request.key,
  });
  return { ...second, path: [...first.path, ...second.path], output: { ...first.output, ...second.output } };
}
