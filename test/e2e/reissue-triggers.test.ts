/**
 * What makes kube-lego reissue a certificate, or refuse to, end to end on the local cluster:
 * - `LEGO_URL` switched to another ACME CA (a second Pebble, with a root of its own): after the operator
 *   restarts with the new settings, every certificate it manages is reissued by the new CA at its first look
 *   (`IssuerChanged`), under a new ACME account for the new directory, and then stays valid;
 * - a certificate Secret another controller manages (cert-manager's annotation, another
 *   `app.kubernetes.io/managed-by`) is never written: no Job, the same data and resourceVersion across
 *   periodic checks, and a `ForeignSecret` Warning Event on the Ingress naming the manager and the fix.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { BatchV1Api, CoreV1Api, type CoreV1Event, type V1Job, type V1Secret } from '@kubernetes/client-node';
import { readSecret, verifyTlsSecret } from '../jobs/issuance-harness.ts';
import { testCertificate } from '../support/certificates.ts';
import { eventually } from '../support/cluster-testing.ts';
import { ordersFor } from '../support/pebble-orders.ts';
import { DEFAULT_PROFILE_ONLY, startPebble, type Pebble } from '../support/pebble.ts';
import type { Sandbox } from '../support/sandbox.ts';
import { ACCOUNT_KEYS } from '../../src/kube/secret-account-store.ts';
import {
  ingressManifest,
  jobFinished,
  jobsOf,
  logEntries,
  networking,
  operatorRuns,
  rolloutRestart,
  validSecret,
  watchJobs,
} from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

/** The periodic check of this file's operator: short, so a test can wait for one to pass. */
const CHECK_INTERVAL = '10s';

/** The DNS names of the leaf certificate of a tls Secret, sorted. */
function sansOf(secret: V1Secret): string[] {
  const leaf = new X509Certificate(Buffer.from(secret.data!['tls.crt']!, 'base64'));
  return (leaf.subjectAltName ?? '')
    .split(', ')
    .map((name) => name.replace(/^DNS:/, ''))
    .sort();
}

/** The issuance Jobs of `certificate` the watch saw and the API lists now (a Job may be too new for the watch). */
async function allJobsOf(
  sandbox: Sandbox,
  seen: { jobs: Map<string, V1Job> },
  certificate: string,
): Promise<V1Job[]> {
  const listed = await sandbox.kube.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: 'kube-lego' });
  const byUid = new Map(jobsOf(seen, certificate).map((job) => [job.metadata!.uid!, job]));
  for (const job of jobsOf(
    { jobs: new Map(listed.items.map((job) => [job.metadata!.uid!, job])) },
    certificate,
  ))
    byUid.set(job.metadata!.uid!, job);
  return [...byUid.values()];
}

describe('reissue triggers, end to end', () => {
  let sandbox: Sandbox;
  let jobs: Awaited<ReturnType<typeof watchJobs>>;
  /** Pebbles a test started besides the sandbox's: stopped in after(). */
  const pebbles: Pebble[] = [];

  /** Whether a test or the set-up failed: then the operator's and every component's logs are printed. */
  sandboxSuite({
    settings: { LEGO_CHECK_INTERVAL: CHECK_INTERVAL, LEGO_JOB_TTL: '3s' },
    namespaces: ['foreign', 'shop'],
    setUp: async (started) => {
      sandbox = started;
      jobs = await watchJobs(started.kube);
    },
    cleanUp: async () => {
      jobs?.stop();
      await Promise.all(pebbles.map((pebble) => pebble.stop()));
    },
    moreLogs: () => pebbles.map((pebble) => `--- second pebble\n${pebble.logs().slice(-3000)}`).join('\n'),
  });

  it('leaves a Secret another controller manages untouched, with a ForeignSecret Warning naming it and the fix', async () => {
    const core = sandbox.kube.makeApiClient(CoreV1Api);
    const namespace = 'foreign';
    const now = Date.now();
    const foreign = [
      {
        name: 'cm-tls',
        hosts: ['cm.foreign.test'],
        metadata: { annotations: { 'cert-manager.io/certificate-name': 'shop' } },
        manager: 'the Secret is managed by cert-manager (annotation cert-manager.io/certificate-name)',
      },
      {
        name: 'helm-tls',
        hosts: ['helm.foreign.test'],
        metadata: { labels: { 'app.kubernetes.io/managed-by': 'someone-else' } },
        manager: 'the Secret is managed by someone-else (label app.kubernetes.io/managed-by=someone-else)',
      },
    ];
    // Each holds a certificate for its hosts that kube-lego would reissue if the Secret were its own (its
    // issuer is not recorded: IssuerUnknown).
    const created = new Map<string, V1Secret>();
    for (const { name, hosts, metadata } of foreign) {
      const { crt, key } = testCertificate({
        hosts,
        notBefore: new Date(now - 3_600_000),
        notAfter: new Date(now + 60 * 86_400_000),
      });
      const secret = await core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name, ...metadata },
          type: 'kubernetes.io/tls',
          data: {
            'tls.crt': Buffer.from(crt).toString('base64'),
            'tls.key': Buffer.from(key).toString('base64'),
          },
        },
      });
      created.set(name, secret);
    }
    // A third entry, a Secret of kube-lego's: evidence that the Ingress was served and Jobs are seen.
    const since = Date.now();
    const ingress = await networking(sandbox.kube).createNamespacedIngress({
      namespace,
      body: ingressManifest('shop', [
        ...foreign.map(({ name, hosts }) => ({ secretName: name, hosts })),
        { secretName: 'own-tls', hosts: ['own.foreign.test'] },
      ]),
    });
    await validSecret(sandbox, namespace, 'own-tls', ['own.foreign.test']);
    assert.ok(jobsOf(jobs, `${namespace}/own-tls`).length >= 1, 'the Job of own-tls was seen');

    // The operator looked at each foreign Secret when the Ingress came, and again at a periodic check.
    const runs = await eventually(
      'a run from the Ingress and a periodic run of each foreign Secret since the Ingress was created',
      async () => {
        const found = new Map<string, Awaited<ReturnType<typeof operatorRuns>>>();
        for (const { name } of foreign) {
          const seen = (await operatorRuns(sandbox, `${namespace}/${name}`)).filter(
            (run) => run.startedAt >= since,
          );
          if (!seen.some((run) => run.trigger === 'ingress')) return false;
          if (!seen.some((run) => run.trigger === 'periodic')) return false;
          found.set(name, seen);
        }
        return found;
      },
      90_000,
    );

    const events = (await core.listNamespacedEvent({ namespace })).items.filter(
      (event: CoreV1Event) =>
        event.involvedObject.kind === 'Ingress' &&
        event.involvedObject.uid === ingress.metadata!.uid &&
        event.reason === 'ForeignSecret',
    );
    for (const { name, manager } of foreign) {
      const certificate = `${namespace}/${name}`;
      const ends = runs.get(name)!.map((run) => `${run.trigger}:${run.end}`);
      assert.ok(
        ends.every((end) => end.endsWith(':foreign') || end.endsWith(':collapsed')),
        `${certificate}: every run ends foreign (or collapsed into another): ${ends.join(', ')}`,
      );
      assert.deepEqual(
        (await allJobsOf(sandbox, jobs, certificate)).map((job) => job.metadata!.name),
        [],
        `${certificate}: no issuance Job`,
      );
      const after = await readSecret(sandbox.kube, namespace, name);
      const before = created.get(name)!;
      assert.deepEqual(after?.data, before.data, `${certificate}: the same data`);
      assert.equal(
        after?.metadata?.resourceVersion,
        before.metadata?.resourceVersion,
        `${certificate}: the Secret was not written`,
      );
      const warnings = events.filter((event) => event.message?.includes(`for Secret ${name} `));
      const foreignRuns = runs.get(name)!.filter((run) => run.end === 'foreign').length;
      assert.ok(
        warnings.length >= foreignRuns && foreignRuns >= 2,
        `${certificate}: a ForeignSecret Event for each of its ${foreignRuns} runs that ended foreign, found ${warnings.length}`,
      );
      for (const event of warnings) {
        assert.equal(event.type, 'Warning');
        assert.equal(
          event.message,
          `certificate for Secret ${name} not issued: ${manager}, and kube-lego does not write over ` +
            `another controller's Secret; remove the kubernetes.io/tls-acme annotation from Ingress shop ` +
            `or name another secretName`,
        );
      }
    }
  });

  it('reissues every certificate from the new CA when LEGO_URL is switched, with a new account', async () => {
    const core = sandbox.kube.makeApiClient(CoreV1Api);
    const api = networking(sandbox.kube);
    const entries = [
      { ingress: 'alpha', secretName: 'alpha-tls', hosts: ['alpha.shop.test', 'www.alpha.shop.test'] },
      { ingress: 'alpha', secretName: 'alpha-api-tls', hosts: ['api.alpha.shop.test'] },
      { ingress: 'beta', secretName: 'beta-tls', hosts: ['beta.shop.test'] },
    ];
    for (const name of ['alpha', 'beta']) {
      await api.createNamespacedIngress({
        namespace: 'shop',
        body: ingressManifest(
          name,
          entries.filter((entry) => entry.ingress === name),
        ),
      });
    }
    await Promise.all(entries.map((entry) => validSecret(sandbox, 'shop', entry.secretName, entry.hosts)));

    // Every certificate kube-lego manages (those of other tests too), by namespace/name, with its hosts.
    const managed = new Map<string, { namespace: string; name: string; hosts: string[]; secret: V1Secret }>();
    for (const secret of (
      await core.listSecretForAllNamespaces({ labelSelector: 'app.kubernetes.io/managed-by=kube-lego' })
    ).items) {
      if (secret.type !== 'kubernetes.io/tls') continue;
      const { namespace, name } = secret.metadata as { namespace: string; name: string };
      managed.set(`${namespace}/${name}`, { namespace, name, hosts: sansOf(secret), secret });
    }
    for (const { secretName } of entries) assert.ok(managed.has(`shop/${secretName}`), `shop/${secretName}`);
    // A Job still running could write a certificate of the first CA later: start from finished Jobs only.
    await eventually('every issuance Job finished', async () =>
      [...managed.keys()].every((key) => jobsOf(jobs, key).every(jobFinished)),
    );
    const jobsBefore = new Set([...jobs.jobs.keys()]);
    const jobNamesBefore = new Set([...jobs.jobs.values()].map((job) => job.metadata!.name!));
    const oldRoot = await sandbox.pebble.issuingRootPem();
    for (const [key, { secret }] of managed) {
      assert.equal(
        secret.metadata?.annotations?.['kube-lego.io/issuer-url'],
        sandbox.pebble.directoryUrl,
        `${key} issued by the sandbox's Pebble`,
      );
    }
    const accountBefore = await core.readNamespacedSecret({
      namespace: 'kube-lego',
      name: 'kube-lego-account',
    });

    // A second CA, validating through the same router.
    const other = await startPebble({
      challengeAddress: sandbox.pebble.challengeAddress,
      authzReuse: false,
      retryAfterSeconds: 1,
      profiles: DEFAULT_PROFILE_ONLY,
    });
    pebbles.push(other);
    assert.notEqual(other.directoryUrl, sandbox.pebble.directoryUrl);
    const newRoot = await other.issuingRootPem();

    const configMap = await core.readNamespacedConfigMap({ namespace: 'kube-lego', name: 'kube-lego' });
    configMap.data = { ...configMap.data, LEGO_URL: other.directoryUrl, LEGO_CA_BUNDLE: other.caCertPem };
    await core.replaceNamespacedConfigMap({ namespace: 'kube-lego', name: 'kube-lego', body: configMap });
    const pod = await rolloutRestart(sandbox);

    const readyAt = Date.now();
    const reissued = new Map<string, V1Secret>();
    await eventually(
      'every managed certificate reissued by the second Pebble',
      async () => {
        for (const [key, { namespace, name, hosts }] of managed) {
          if (reissued.has(key)) continue;
          const secret = await readSecret(sandbox.kube, namespace, name);
          if (secret?.metadata?.annotations?.['kube-lego.io/issuer-url'] !== other.directoryUrl) return false;
          try {
            verifyTlsSecret(secret, newRoot, hosts);
          } catch {
            return false;
          }
          reissued.set(key, secret);
        }
        return true;
      },
      120_000,
    );
    process.stderr.write(
      `every certificate reissued ${Date.now() - readyAt} ms after the new operator was ready\n`,
    );
    // Settled: after its issuance, a periodic check of each certificate found it valid (the annotation the
    // Job wrote matches LEGO_URL: nothing is reissued again).
    await eventually(
      'a periodic run ending valid after each reissue',
      async () => {
        for (const key of managed.keys()) {
          const runs = await operatorRuns(sandbox, key, pod);
          const issued = runs.find((run) => run.end === 'issued');
          if (issued === undefined) return false;
          const check = runs.find(
            (run) => run.trigger === 'periodic' && run.startedAt >= issued.endedAt && run.end === 'valid',
          );
          if (check === undefined) return false;
        }
        return true;
      },
      90_000,
    );

    for (const key of managed.keys()) {
      const runs = await operatorRuns(sandbox, key, pod);
      process.stderr.write(`${key}: ${runs.map((run) => `${run.trigger}:${run.end}`).join(', ')}\n`);
    }
    const entriesLogged = logEntries(sandbox, pod);
    for (const [key, { namespace, name, hosts, secret: before }] of managed) {
      const secret = (await readSecret(sandbox.kube, namespace, name))!;
      verifyTlsSecret(secret, newRoot, hosts);
      assert.throws(() => verifyTlsSecret(secret, oldRoot, hosts), `${key} no longer chains to the first CA`);
      assert.equal(secret.metadata?.uid, before.metadata?.uid, `${key} reissued in place`);

      // The first look of the new operator at it (its initial Ingress list, or the periodic check) launched
      // its reissue, and the run its Job's end started recorded it issued.
      const runs = await operatorRuns(sandbox, key, pod);
      const described = runs.map((run) => `${run.trigger}:${run.end}`).join(', ');
      // (Runs of Jobs' ends only record; an old Job still kept by its TTL may be recorded again after the restart.)
      const first = runs.find((run) => run.end !== 'collapsed' && run.trigger !== 'job');
      assert.equal(first?.end, 'launched', `${key}: the new operator's first run reissues: ${described}`);
      assert.ok(
        runs.some((run) => run.trigger === 'job' && run.end === 'issued' && run.startedAt >= first!.endedAt),
        `${key}: its Job's end recorded it issued: ${described}`,
      );
      const reasons = entriesLogged.filter(
        (entry) =>
          entry['certificate'] === key && String(entry['msg']).startsWith('certificate needs issuance'),
      );
      assert.deepEqual(
        reasons.map((entry) => entry['reason']),
        ['IssuerChanged'],
        `${key}: the new operator logged one reason to issue, IssuerChanged`,
      );
      assert.equal(
        reasons[0]!['msg'],
        `certificate needs issuance: the certificate was issued through ${sandbox.pebble.directoryUrl}, ` +
          `LEGO_URL is ${other.directoryUrl}`,
      );

      // One Job since the switch, ordering from the new directory.
      const launched = (await allJobsOf(sandbox, jobs, key)).filter(
        (job) => !jobsBefore.has(job.metadata!.uid!),
      );
      assert.equal(launched.length, 1, `${key}: one Job since the switch`);
      // Named after the certificate it replaces: not the finished Job of the first CA, which it would adopt.
      assert.ok(!jobNamesBefore.has(launched[0]!.metadata!.name!), `${key}: a Job of its own`);
      const env = launched[0]!.spec!.template.spec!.containers[0]!.env ?? [];
      assert.equal(env.find((variable) => variable.name === 'LEGO_URL')?.value, other.directoryUrl);
    }

    // The account Secret holds a new account, registered at the second Pebble, which ordered every certificate.
    const account = await core.readNamespacedSecret({ namespace: 'kube-lego', name: 'kube-lego-account' });
    const decoded = (secret: V1Secret, key: string) =>
      Buffer.from(secret.data?.[key] ?? '', 'base64').toString();
    assert.equal(decoded(accountBefore, ACCOUNT_KEYS.directory), sandbox.pebble.directoryUrl);
    assert.equal(decoded(account, ACCOUNT_KEYS.directory), other.directoryUrl);
    assert.equal(
      new URL(decoded(account, ACCOUNT_KEYS.url)).origin,
      new URL(other.directoryUrl).origin,
      'the account URL is the second Pebble`s',
    );
    assert.notEqual(
      decoded(account, ACCOUNT_KEYS.key),
      decoded(accountBefore, ACCOUNT_KEYS.key),
      'a new account key',
    );
    for (const [key, { hosts }] of managed) {
      const orders = await ordersFor({ kube: sandbox.kube, caPem: other.caCertPem }, hosts);
      assert.ok(
        orders.some((order) => order.status === 'valid'),
        `${key}: a valid order of the new account at the second Pebble: ${JSON.stringify(orders)}`,
      );
    }
  });
});
