/**
 * Leader election between replicas on one Lease, on a fake clock and an in-memory Lease store that refuses
 * stale writes (409) as the API server does: one leader at a time; a killed leader replaced after the
 * Lease's duration; a released Lease taken within a retry period; a leader that cannot renew stops before
 * another may start; two replicas racing for a free Lease, one wins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Lease } from '@kubernetes/client-node';
import { createLogger } from '../../src/log.ts';
import { DEFAULT_ELECTION, LeaderElector, type LeaseStore } from '../../src/leader/leader-election.ts';
import { FakeClock } from './fake-clock.ts';

const silent = createLogger({ level: 'silent', type: 'json' });

/** A Lease store like the API server's: writes carry the resourceVersion read, or fail with 409. */
class MemoryLeaseStore implements LeaseStore {
  lease: V1Lease | undefined;
  version = 0;
  failing: Error | undefined;
  async read() {
    if (this.failing) throw this.failing;
    return this.lease === undefined ? undefined : structuredClone(this.lease);
  }
  async create(lease: V1Lease) {
    if (this.failing) throw this.failing;
    if (this.lease !== undefined) throw Object.assign(new Error('exists'), { code: 409 });
    return this.#store(lease);
  }
  async replace(lease: V1Lease) {
    if (this.failing) throw this.failing;
    if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      throw Object.assign(new Error('conflict'), { code: 409 });
    }
    return this.#store(lease);
  }
  #store(lease: V1Lease) {
    this.version += 1;
    this.lease = {
      ...structuredClone(lease),
      metadata: { ...lease.metadata, resourceVersion: String(this.version) },
    };
    return structuredClone(this.lease);
  }
}

/** A replica: its elector and what it was told. */
function replica(store: LeaseStore, clock: FakeClock, identity: string) {
  const told: string[] = [];
  const elector = new LeaderElector(store, { ...DEFAULT_ELECTION, identity }, clock, silent, {
    onStartedLeading: () => told.push(`started at ${clock.now()}`),
    onStoppedLeading: () => told.push(`stopped at ${clock.now()}`),
  });
  return { elector, told };
}

/** Moves the fake clock by `ms` in 100 ms steps, letting the rounds' promises settle at each step. */
async function elapse(clock: FakeClock, ms: number): Promise<void> {
  for (let step = 0; step < ms; step += 100) {
    clock.advance(100);
    for (let flush = 0; flush < 10; flush += 1) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('leader election', () => {
  it('makes one replica leader and keeps the other standby while the leader renews', async () => {
    const [store, clock] = [new MemoryLeaseStore(), new FakeClock(0)];
    const a = replica(store, clock, 'a');
    const b = replica(store, clock, 'b');
    a.elector.start();
    await elapse(clock, 500);
    b.elector.start();
    await elapse(clock, 60_000);
    assert.deepEqual([a.elector.leading, b.elector.leading], [true, false]);
    assert.deepEqual(b.told, []);
    assert.equal(store.lease?.spec?.holderIdentity, 'a');
    assert.equal(store.lease?.spec?.leaseTransitions, 0);
  });

  it('replaces a killed leader after the Lease duration, and not before', async () => {
    const [store, clock] = [new MemoryLeaseStore(), new FakeClock(0)];
    const a = replica(store, clock, 'a');
    const b = replica(store, clock, 'b');
    a.elector.start();
    b.elector.start();
    await elapse(clock, 5_000);
    const killedAt = clock.now();
    await a.elector.stop({ release: false }); // SIGKILL: no release; its rounds stop
    await elapse(clock, 9_000);
    assert.equal(b.elector.leading, false, 'not within the Lease duration');
    await elapse(clock, 3_000);
    assert.equal(b.elector.leading, true);
    const tookOver = Number(b.told[0]!.replace('started at ', '')) - killedAt;
    assert.ok(tookOver >= 10_000 && tookOver <= 12_000, `took over ${tookOver} ms after the kill`);
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
  });

  it('hands over within a retry period when the leader releases the Lease (SIGTERM)', async () => {
    const [store, clock] = [new MemoryLeaseStore(), new FakeClock(0)];
    const a = replica(store, clock, 'a');
    const b = replica(store, clock, 'b');
    a.elector.start();
    b.elector.start();
    await elapse(clock, 3_000);
    const releasedAt = clock.now();
    await a.elector.stop({ release: true });
    assert.equal(store.lease?.spec?.holderIdentity, '');
    await elapse(clock, 1_100);
    assert.equal(b.elector.leading, true);
    assert.ok(Number(b.told[0]!.replace('started at ', '')) - releasedAt <= 1_100);
    assert.deepEqual(a.told, ['started at 100', `stopped at ${releasedAt}`]);
  });

  it('stops leading when it cannot renew for the renew deadline, before the Lease could pass to another', async () => {
    const [store, clock] = [new MemoryLeaseStore(), new FakeClock(0)];
    const a = replica(store, clock, 'a');
    a.elector.start();
    await elapse(clock, 2_000);
    const lastRenew = new Date(store.lease!.spec!.renewTime!).getTime();
    store.failing = new Error('connect ECONNREFUSED');
    await elapse(clock, 6_000);
    assert.equal(a.elector.leading, true, 'still within the renew deadline');
    await elapse(clock, 2_000);
    assert.equal(a.elector.leading, false);
    const stoppedAt = Number(a.told[1]!.replace('stopped at ', ''));
    assert.ok(stoppedAt - lastRenew < DEFAULT_ELECTION.leaseDurationMs, 'stopped before the Lease expired');
    // The API server is back: the Lease expired meanwhile, and a replica takes it again.
    store.failing = undefined;
    await elapse(clock, 12_000);
    assert.equal(a.elector.leading, true);
    await a.elector.stop({ release: false });
  });

  it('lets one of two replicas racing for a free Lease win; the other gets 409 and stays standby', async () => {
    const [store, clock] = [new MemoryLeaseStore(), new FakeClock(0)];
    const a = replica(store, clock, 'a');
    const b = replica(store, clock, 'b');
    a.elector.start();
    b.elector.start();
    await elapse(clock, 30_000);
    assert.equal([a.elector.leading, b.elector.leading].filter(Boolean).length, 1);
    assert.deepEqual([...a.told, ...b.told], ['started at 100']);
  });
});
