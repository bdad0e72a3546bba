/**
 * The issuance Job's name: the same for the same need (so a relaunch adopts the running Job), another for
 * another need, including an Ingress deleted and created again under the same name (another uid), and
 * always a valid label value of at most 63 characters, whatever the Secret's name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuanceJobName } from '../../src/issuance/job-objects.ts';
import { request } from './certificate-request.ts';

/** A label value (and DNS label): the Job's name is one, as the solver Service selects the Job's pod by it. */
const LABEL_VALUE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

describe('issuanceJobName', () => {
  it('names the same Job for the same need', () => {
    assert.equal(issuanceJobName(request(), 'ab12'), issuanceJobName(request(), 'ab12'));
    assert.equal(issuanceJobName(request(), undefined), issuanceJobName(request(), undefined));
  });

  it('is readable: kube-lego-<secret name>-<hash>', () => {
    assert.match(issuanceJobName(request(), undefined), /^kube-lego-shop-tls-[0-9a-f]{10}$/);
  });

  const base = issuanceJobName(request(), undefined);
  const needs: [what: string, name: string][] = [
    [
      'an Ingress deleted and created again under the same name (another uid)',
      issuanceJobName(request({ ingress: { name: 'shop', uid: 'uid-shop-2' } }), undefined),
    ],
    ['other hosts', issuanceJobName(request({ hosts: ['shop.test', 'www.shop.test'] }), undefined)],
    ['a certificate to replace', issuanceJobName(request(), 'ab12')],
    ['another namespace', issuanceJobName(request({ namespace: 'other' }), undefined)],
  ];
  for (const [what, name] of needs) {
    it(`names another Job for ${what}`, () => {
      assert.notEqual(name, base);
    });
  }

  it('stays a label value of at most 63 characters for any Secret name', () => {
    for (const secretName of ['x', 'a.b.c', 'tls-', 'a'.repeat(253), `${'a'.repeat(29)}.${'b'.repeat(40)}`]) {
      const name = issuanceJobName(request({ secretName }), 'ab12');
      assert.ok(name.length <= 63, `${name}: ${name.length} characters`);
      assert.match(name, LABEL_VALUE, secretName);
    }
  });
});
