/**
 * The issuance Job's pod keeps the internet-facing part apart from the part that holds the token
 * (docs/threat-model.md): `respond` is the only container with a port and has no ServiceAccount token and
 * no Secret, reading the challenge responses from a read-only in-memory directory; `issue` has the token and
 * no port; both run locked down.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseConfig } from '../../src/config.ts';
import { CHALLENGE_DIR, issuanceJobName, issuanceObjects } from '../../src/issuance/job-objects.ts';
import { request } from './certificate-request.ts';

const config = parseConfig({ LEGO_NAMESPACE: 'kube-lego' });
const pod = issuanceObjects(request(), issuanceJobName(request(), undefined), config).job.spec!.template
  .spec!;
const container = (name: string) => pod.containers.find((each) => each.name === name)!;
const TOKEN_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

it('mounts the ServiceAccount token into `issue` alone', () => {
  assert.equal(pod.automountServiceAccountToken, false, 'no token in every container');
  const mounts = (name: string) => (container(name).volumeMounts ?? []).map((mount) => mount.mountPath);
  assert.ok(mounts('issue').includes(TOKEN_DIR));
  assert.ok(!mounts('respond').includes(TOKEN_DIR));
  const tokenVolume = pod.volumes!.find((volume) => volume.name === 'kube-api-access')!;
  assert.ok(tokenVolume.projected?.sources?.some((source) => source.serviceAccountToken !== undefined));
});

it('gives `respond` the only port, the responses read-only, and no Secret or setting beyond its own', () => {
  assert.deepEqual(
    pod.containers.map((each) => [each.name, (each.ports ?? []).map((port) => port.name)]),
    [
      ['issue', []],
      ['respond', ['http01']],
    ],
  );
  const respond = container('respond');
  assert.deepEqual(respond.volumeMounts, [{ name: 'challenges', mountPath: CHALLENGE_DIR, readOnly: true }]);
  assert.deepEqual(
    (respond.env ?? []).map((entry) => entry.name),
    ['POD_IP', 'LEGO_HTTP01_PORT', 'LEGO_CHALLENGE_DIR'],
  );
  assert.equal(respond.envFrom, undefined);
  const challenges = pod.volumes!.find((volume) => volume.name === 'challenges')!;
  assert.equal(challenges.emptyDir?.medium, 'Memory');
});

it('runs both containers non-root, read-only, without privileges', () => {
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  for (const each of pod.containers) {
    assert.deepEqual(each.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  }
});
