/**
 * One axios: src/acme/transport.ts puts axios's own HTTP adapter on the axios instance acme-client sends
 * through, and the Job's bundle holds one copy of each package, so kube-lego's axios (a dependency in the
 * range acme-client asks for) must be the very one acme-client loads.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { it } from 'node:test';

it('resolves axios to the same package from kube-lego and from acme-client', () => {
  const fromKubeLego = createRequire(import.meta.url).resolve('axios');
  const fromAcmeClient = createRequire(createRequire(import.meta.url).resolve('acme-client')).resolve(
    'axios',
  );
  assert.equal(fromAcmeClient, fromKubeLego);
});
