/** From one annotated Ingress to its certificate requests and its problems. */
import assert from 'node:assert/strict';
import { request } from './certificate-request.ts';
import { describe, it } from 'node:test';
import type { V1Ingress, V1IngressTLS } from '@kubernetes/client-node';
import {
  annotationState,
  hostProblem,
  requestsOfIngress,
  type CertificateRequest,
  type IngressProblem,
  type RequestSettings,
} from '../../src/ingress/requests.ts';

const ANNOTATION = 'kubernetes.io/tls-acme';

const SETTINGS: RequestSettings = {
  annotation: ANNOTATION,
  supportedClasses: ['nginx', 'gce'],
  defaultClass: 'nginx',
  supportedProviders: ['nginx', 'gce'],
  defaultProvider: 'nginx',
};

interface IngressOptions {
  annotations?: Record<string, string>;
  ingressClassName?: string;
  tls?: V1IngressTLS[];
}

/** The Ingress shop/shop, annotated "true" unless annotations are given. */
function ingress({
  annotations = { [ANNOTATION]: 'true' },
  ingressClassName,
  tls = [{ secretName: 'shop-tls', hosts: ['shop.test'] }],
}: IngressOptions = {}): V1Ingress {
  return {
    metadata: { namespace: 'shop', name: 'shop', uid: 'uid-shop', annotations },
    spec: { ...(ingressClassName === undefined ? {} : { ingressClassName }), tls },
  };
}

/** A problem of shop/shop. */
function problem(reason: string, message: string): IngressProblem {
  return { namespace: 'shop', ingress: 'shop', uid: 'uid-shop', reason, message };
}

const manyHosts = Array.from({ length: 101 }, (_, index) => `h${index}.shop.test`);
const classFix = 'use one of nginx, gce or add it to LEGO_SUPPORTED_INGRESS_CLASS';

describe('requestsOfIngress', () => {
  const table: [
    name: string,
    ingress: V1Ingress,
    expected: { requests: CertificateRequest[]; problems: IngressProblem[] },
  ][] = [
    // The annotation.
    ['annotation "true": on', ingress(), { requests: [request()], problems: [] }],
    [
      'annotation "True": on',
      ingress({ annotations: { [ANNOTATION]: 'True' } }),
      { requests: [request()], problems: [] },
    ],
    [
      'annotation " true ": on',
      ingress({ annotations: { [ANNOTATION]: ' true ' } }),
      { requests: [request()], problems: [] },
    ],
    [
      'annotation "false": nothing',
      ingress({ annotations: { [ANNOTATION]: 'false' } }),
      { requests: [], problems: [] },
    ],
    ['no annotation: nothing', ingress({ annotations: {} }), { requests: [], problems: [] }],
    [
      'no annotations at all: nothing',
      { metadata: { namespace: 'shop', name: 'shop' }, spec: {} },
      { requests: [], problems: [] },
    ],
    [
      'annotation "yes": BadAnnotation naming the fix',
      ingress({ annotations: { [ANNOTATION]: 'yes' } }),
      {
        requests: [],
        problems: [
          problem('BadAnnotation', 'annotation kubernetes.io/tls-acme="yes": set it to "true" or "false"'),
        ],
      },
    ],
    [
      "another instance's annotation: nothing",
      ingress({ annotations: { 'example.com/tls-acme': 'true' } }),
      { requests: [], problems: [] },
    ],
    // The ingress class.
    [
      'unsupported class in the annotation: UnsupportedIngressClass',
      ingress({ annotations: { [ANNOTATION]: 'true', 'kubernetes.io/ingress.class': 'traefik' } }),
      {
        requests: [],
        problems: [
          problem('UnsupportedIngressClass', `ingress class "traefik" is not supported: ${classFix}`),
        ],
      },
    ],
    [
      'unsupported class in spec.ingressClassName: UnsupportedIngressClass',
      ingress({ ingressClassName: 'haproxy' }),
      {
        requests: [],
        problems: [
          problem('UnsupportedIngressClass', `ingress class "haproxy" is not supported: ${classFix}`),
        ],
      },
    ],
    [
      'class from the annotation',
      ingress({ annotations: { [ANNOTATION]: 'true', 'kubernetes.io/ingress.class': 'gce' } }),
      { requests: [request({ ingressClass: 'gce', ingressClassFrom: 'annotation' })], problems: [] },
    ],
    [
      'class from spec.ingressClassName',
      ingress({ ingressClassName: 'gce' }),
      { requests: [request({ ingressClass: 'gce', ingressClassFrom: 'field' })], problems: [] },
    ],
    [
      'the annotation wins over spec.ingressClassName',
      ingress({
        annotations: { [ANNOTATION]: 'true', 'kubernetes.io/ingress.class': 'gce' },
        ingressClassName: 'haproxy',
      }),
      { requests: [request({ ingressClass: 'gce', ingressClassFrom: 'annotation' })], problems: [] },
    ],
    [
      'an empty class annotation names no class: the field rules',
      ingress({
        annotations: { [ANNOTATION]: 'true', 'kubernetes.io/ingress.class': '' },
        ingressClassName: 'gce',
      }),
      { requests: [request({ ingressClass: 'gce', ingressClassFrom: 'field' })], problems: [] },
    ],
    ['neither: the default class', ingress(), { requests: [request()], problems: [] }],
    // The provider.
    [
      'provider from the annotation (gce: edited in place by default)',
      ingress({ annotations: { [ANNOTATION]: 'true', 'kubernetes.io/ingress.provider': 'gce' } }),
      { requests: [request({ provider: 'gce', editInPlace: true })], problems: [] },
    ],
    // Edit-in-place.
    [
      'edit-in-place asked for on an nginx Ingress',
      ingress({ annotations: { [ANNOTATION]: 'true', 'kube-lego.io/edit-in-place': 'True' } }),
      { requests: [request({ editInPlace: true })], problems: [] },
    ],
    [
      'edit-in-place turned off for a gce Ingress',
      ingress({
        annotations: {
          [ANNOTATION]: 'true',
          'kubernetes.io/ingress.provider': 'gce',
          'kube-lego.io/edit-in-place': 'false',
        },
      }),
      { requests: [request({ provider: 'gce' })], problems: [] },
    ],
    [
      'edit-in-place "yes": BadAnnotation naming the fix',
      ingress({ annotations: { [ANNOTATION]: 'true', 'kube-lego.io/edit-in-place': 'yes' } }),
      {
        requests: [],
        problems: [
          problem(
            'BadAnnotation',
            'annotation kube-lego.io/edit-in-place="yes": set it to "true" or "false"',
          ),
        ],
      },
    ],
    [
      'unsupported provider: UnsupportedIngressProvider',
      ingress({ annotations: { [ANNOTATION]: 'true', 'kubernetes.io/ingress.provider': 'traefik' } }),
      {
        requests: [],
        problems: [
          problem(
            'UnsupportedIngressProvider',
            'ingress provider "traefik" is not supported: use one of nginx, gce',
          ),
        ],
      },
    ],
    // The tls entries.
    ['no tls entries: nothing', ingress({ tls: [] }), { requests: [], problems: [] }],
    [
      'entry without secretName: MissingSecretName',
      ingress({ tls: [{ hosts: ['shop.test'] }] }),
      {
        requests: [],
        problems: [
          problem(
            'MissingSecretName',
            'spec.tls[0] has no secretName: name the Secret to keep the certificate in',
          ),
        ],
      },
    ],
    [
      'entry without hosts: MissingHosts',
      ingress({ tls: [{ secretName: 'shop-tls' }] }),
      {
        requests: [],
        problems: [
          problem('MissingHosts', 'spec.tls[0] (secret shop-tls) has no hosts: list the hosts to certify'),
        ],
      },
    ],
    [
      'entry with an empty host list: MissingHosts',
      ingress({ tls: [{ secretName: 'shop-tls', hosts: [] }] }),
      {
        requests: [],
        problems: [
          problem('MissingHosts', 'spec.tls[0] (secret shop-tls) has no hosts: list the hosts to certify'),
        ],
      },
    ],
    [
      'wildcard: BadHost, the entry skipped whole',
      ingress({ tls: [{ secretName: 'shop-tls', hosts: ['shop.test', '*.shop.test'] }] }),
      {
        requests: [],
        problems: [
          problem(
            'BadHost',
            'spec.tls[0] (secret shop-tls): "*.shop.test" is a wildcard, which HTTP-01 cannot validate: ' +
              'list the hosts instead',
          ),
        ],
      },
    ],
    [
      'IPv4 address: BadHost',
      ingress({ tls: [{ secretName: 'shop-tls', hosts: ['192.0.2.10'] }] }),
      {
        requests: [],
        problems: [
          problem('BadHost', 'spec.tls[0] (secret shop-tls): "192.0.2.10" is an IP address: use a DNS name'),
        ],
      },
    ],
    [
      'IPv6 address: BadHost',
      ingress({ tls: [{ secretName: 'shop-tls', hosts: ['2001:db8::1'] }] }),
      {
        requests: [],
        problems: [
          problem('BadHost', 'spec.tls[0] (secret shop-tls): "2001:db8::1" is an IP address: use a DNS name'),
        ],
      },
    ],
    [
      'not a DNS name: BadHost, each bad host named',
      ingress({ tls: [{ secretName: 'shop-tls', hosts: ['shop_test.example', '-shop.test'] }] }),
      {
        requests: [],
        problems: [
          problem(
            'BadHost',
            'spec.tls[0] (secret shop-tls): "-shop.test" is not a valid DNS name; ' +
              '"shop_test.example" is not a valid DNS name',
          ),
        ],
      },
    ],
    [
      '101 hosts: TooManyHosts',
      ingress({ tls: [{ secretName: 'shop-tls', hosts: manyHosts }] }),
      {
        requests: [],
        problems: [
          problem(
            'TooManyHosts',
            "spec.tls[0] (secret shop-tls) has 101 hosts, more than the CA's 100: " +
              'split it into several tls entries',
          ),
        ],
      },
    ],
    [
      '100 hosts: one request',
      ingress({ tls: [{ secretName: 'shop-tls', hosts: manyHosts.slice(0, 100) }] }),
      { requests: [request({ hosts: manyHosts.slice(0, 100).sort() })], problems: [] },
    ],
    [
      '101 hosts that are 100 once normalized: one request',
      ingress({ tls: [{ secretName: 'shop-tls', hosts: [...manyHosts.slice(0, 100), 'H0.SHOP.TEST.'] }] }),
      { requests: [request({ hosts: manyHosts.slice(0, 100).sort() })], problems: [] },
    ],
    [
      'hosts normalized: lower case, no trailing dot, no duplicates, sorted',
      ingress({
        tls: [
          { secretName: 'shop-tls', hosts: ['WWW.Shop.Test.', 'shop.test', 'Shop.Test', 'api.shop.test'] },
        ],
      }),
      { requests: [request({ hosts: ['api.shop.test', 'shop.test', 'www.shop.test'] })], problems: [] },
    ],
    [
      'two entries: two requests keyed namespace/secretName',
      ingress({
        tls: [
          { secretName: 'mysql-tls', hosts: ['phpmyadmin.example.com', 'mysql.example.com'] },
          { secretName: 'postgres-tls', hosts: ['postgres.example.com'] },
        ],
      }),
      {
        requests: [
          request({
            key: 'shop/mysql-tls',
            secretName: 'mysql-tls',
            hosts: ['mysql.example.com', 'phpmyadmin.example.com'],
          }),
          request({ key: 'shop/postgres-tls', secretName: 'postgres-tls', hosts: ['postgres.example.com'] }),
        ],
        problems: [],
      },
    ],
    [
      'a bad entry does not stop a good one',
      ingress({
        tls: [
          { secretName: 'wild-tls', hosts: ['*.shop.test'] },
          { hosts: ['shop.test'] },
          { secretName: 'shop-tls', hosts: ['shop.test'] },
        ],
      }),
      {
        requests: [request()],
        problems: [
          problem(
            'BadHost',
            'spec.tls[0] (secret wild-tls): "*.shop.test" is a wildcard, which HTTP-01 cannot validate: ' +
              'list the hosts instead',
          ),
          problem(
            'MissingSecretName',
            'spec.tls[1] has no secretName: name the Secret to keep the certificate in',
          ),
        ],
      },
    ],
    [
      'two entries naming one Secret with the same hosts: one request',
      ingress({
        tls: [
          { secretName: 'shop-tls', hosts: ['shop.test'] },
          { secretName: 'shop-tls', hosts: ['SHOP.test.'] },
        ],
      }),
      { requests: [request()], problems: [] },
    ],
    [
      'two entries naming one Secret with other hosts: the first keeps it',
      ingress({
        tls: [
          { secretName: 'shop-tls', hosts: ['shop.test'] },
          { secretName: 'shop-tls', hosts: ['www.shop.test'] },
        ],
      }),
      {
        requests: [request()],
        problems: [
          problem(
            'SecretConflict',
            'spec.tls[1] names Secret shop-tls, which an earlier tls entry uses for hosts shop.test: ' +
              'use another secretName or merge the entries',
          ),
        ],
      },
    ],
  ];
  for (const [name, subject, expected] of table) {
    it(name, () => {
      assert.deepEqual(requestsOfIngress(subject, SETTINGS), expected);
    });
  }

  it('takes the default class and provider from the settings', () => {
    const settings = { ...SETTINGS, defaultClass: 'gce', defaultProvider: 'gce' };
    assert.deepEqual(requestsOfIngress(ingress(), settings).requests, [
      request({ ingressClass: 'gce', provider: 'gce', editInPlace: true }),
    ]);
  });

  it('reads the annotation the settings name', () => {
    const settings = { ...SETTINGS, annotation: 'example.com/tls-acme' };
    assert.deepEqual(requestsOfIngress(ingress(), settings), { requests: [], problems: [] });
    const annotated = ingress({ annotations: { 'example.com/tls-acme': 'true' } });
    assert.deepEqual(requestsOfIngress(annotated, settings).requests, [request()]);
  });

  it('keys requests by namespace, and uses "default" for an Ingress without one', () => {
    const subject = ingress();
    delete subject.metadata!.namespace;
    const [only] = requestsOfIngress(subject, SETTINGS).requests;
    assert.equal(only?.key, 'default/shop-tls');
    assert.equal(only?.namespace, 'default');
  });
});

describe('annotationState', () => {
  const table: [value: string | undefined, state: ReturnType<typeof annotationState>][] = [
    ['true', 'on'],
    ['TRUE', 'on'],
    [' true ', 'on'],
    ['false', 'off'],
    ['False', 'off'],
    ['', 'off'],
    [undefined, 'off'],
    ['yes', 'malformed'],
    ['1', 'malformed'],
    ['truee', 'malformed'],
  ];
  for (const [value, state] of table) {
    it(`${JSON.stringify(value)} is ${state}`, () => {
      const annotations: Record<string, string> = value === undefined ? {} : { [ANNOTATION]: value };
      assert.equal(annotationState(ingress({ annotations }), ANNOTATION), state);
    });
  }
});

describe('hostProblem', () => {
  const table: [host: string, problem: string | undefined][] = [
    ['shop.test', undefined],
    ['a-b.c-d.example', undefined],
    ['xn--bcher-kva.example', undefined],
    [`${'a'.repeat(63)}.test`, undefined],
    ['*.shop.test', '"*.shop.test" is a wildcard, which HTTP-01 cannot validate: list the hosts instead'],
    ['10.0.0.1', '"10.0.0.1" is an IP address: use a DNS name'],
    ['::1', '"::1" is an IP address: use a DNS name'],
    ['localhost', '"localhost" is not a valid DNS name'],
    [`${'a'.repeat(64)}.test`, `"${'a'.repeat(64)}.test" is not a valid DNS name`],
    ['shop..test', '"shop..test" is not a valid DNS name'],
    ['shop-.test', '"shop-.test" is not a valid DNS name'],
    ['shop test.example', '"shop test.example" is not a valid DNS name'],
  ];
  for (const [host, expected] of table) {
    it(`${JSON.stringify(host)}: ${expected ?? 'fine'}`, () => {
      assert.equal(hostProblem(host), expected);
    });
  }

  it('refuses a name longer than 253 characters', () => {
    const long = Array.from({ length: 5 }, () => 'a'.repeat(50)).join('.') + '.test';
    assert.equal(long.length, 259);
    assert.equal(hostProblem(long), `"${long}" is not a valid DNS name`);
  });
});
