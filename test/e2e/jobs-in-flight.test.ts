/**
 * Job slots end to end on the local cluster: with `LEGO_MAX_JOBS_IN_FLIGHT=2`, six Ingresses created at
 * once all get valid certificates, the Job watch never sees more than two issuance Jobs active at once, and
 * the certificates past the limit end a run at "waiting for a Job slot", then launch from "Job slot free".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sandbox } from '../support/sandbox.ts';
import {
  ingressManifest,
  jobFinished,
  networking,
  operatorRuns,
  validSecret,
  watchJobs,
} from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

const COUNT = 6;

describe('Jobs in flight, end to end', () => {
  let sandbox: Sandbox;
  sandboxSuite({
    settings: { LEGO_MAX_JOBS_IN_FLIGHT: '2', LEGO_LOG_LEVEL: 'info' },
    setUp: async (started) => {
      sandbox = started;
    },
  });

  it(`issues ${COUNT} certificates created at once, never more than 2 Jobs active`, async () => {
    const jobs = await watchJobs(sandbox.kube);
    let mostActive = 0;
    const counter = setInterval(() => {
      const active = [...jobs.jobs.values()].filter(
        (job) => !jobFinished(job) && job.metadata?.deletionTimestamp === undefined,
      );
      mostActive = Math.max(mostActive, active.length);
    }, 20);
    try {
      const api = networking(sandbox.kube);
      const hosts = Array.from({ length: COUNT }, (_, index) => `slot-${index}.shop.test`);
      await Promise.all(
        hosts.map((host, index) =>
          api.createNamespacedIngress({
            namespace: 'shop',
            body: ingressManifest(`slot-${index}`, [{ secretName: `slot-${index}-tls`, hosts: [host] }]),
          }),
        ),
      );
      for (const [index, host] of hosts.entries()) {
        await validSecret(sandbox, 'shop', `slot-${index}-tls`, [host], 120_000);
      }
    } finally {
      clearInterval(counter);
      jobs.stop();
    }
    assert.ok(mostActive <= 2, `at most 2 Jobs active at once: ${mostActive}`);
    const runs = await Promise.all(
      Array.from({ length: COUNT }, (_, index) => operatorRuns(sandbox, `shop/slot-${index}-tls`)),
    );
    const waited = runs.filter((certificate) =>
      certificate.some((run) => run.end === 'waiting for a Job slot'),
    );
    assert.ok(waited.length >= COUNT - 2, `${waited.length} certificates waited for a slot`);
    for (const certificate of waited) {
      assert.ok(
        certificate.some((run) => run.trigger === 'slot' && run.end === 'launched'),
        `${certificate[0]?.certificate} launched from "Job slot free": ${certificate.map((run) => `${run.trigger}→${run.end}`).join(', ')}`,
      );
    }
  });
});
