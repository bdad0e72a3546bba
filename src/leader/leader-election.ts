/**
 * Leader election over a `coordination.k8s.io` Lease in `LEGO_NAMESPACE`: of the operator's replicas, one
 * holds the Lease and does the work (watches, schedule, Jobs); the others poll it, ready to take over. The
 * decision of each round is src/leader/lease-decision.ts; this file does the rounds and the Lease I/O.
 *
 * - Every `retryPeriodMs` (1 s) a replica reads the Lease: the holder renews it, the others wait until it
 *   goes unrenewed for `leaseDurationMs` (10 s) by their own clock, or is released, then take it. Writes
 *   carry the Lease's resourceVersion, so of two replicas taking it at once one gets 409 and stays standby.
 * - A holder that cannot renew for `renewDeadlineMs` (7 s, less than the duration: it stops before anyone
 *   else may start) stops leading: the work stops and the replica goes back to standby, without exiting.
 * - `stop({ release: true })` (SIGTERM) writes the Lease free, so a standby takes over at its next round.
 */
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { Clock } from '../process/schedule.ts';
import { leaseAction, type LeaseObservation, type LeaseRecord } from './lease-decision.ts';

/** The Lease as kept in the cluster: read, created, replaced (409 when it changed since it was read). */
export interface LeaseStore {
  read(): Promise<V1Lease | undefined>;
  create(lease: V1Lease): Promise<V1Lease>;
  replace(lease: V1Lease): Promise<V1Lease>;
}

/** How the election runs. */
export interface ElectionSettings {
  /** This replica's identity: unique per process (pod name and a random suffix). */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** The defaults: a killed leader is replaced within about 11 s, a released Lease taken within about 1 s. */
export const DEFAULT_ELECTION: Omit<ElectionSettings, 'identity'> = {
  leaseDurationMs: 10_000,
  renewDeadlineMs: 7_000,
  retryPeriodMs: 1_000,
};

/** What the election tells its owner. */
export interface ElectionCallbacks {
  /** This replica now holds the Lease: start the work. */
  onStartedLeading(): void;
  /** This replica no longer holds the Lease: stop the work at once. */
  onStoppedLeading(): void;
}

const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
};

/**
 * A Lease time as the API server takes it: RFC 3339 with microseconds. client-node types it as a Date but
 * sends a Date with milliseconds, which the API server refuses ("cannot be handled as a Lease"); a string is
 * sent as it is.
 */
function microTime(ms: number): Date {
  return new Date(ms).toISOString().replace(/Z$/, '000Z') as unknown as Date;
}

/** The Lease's fields the decision reads. */
function recordOf(lease: V1Lease | undefined): LeaseRecord | undefined {
  if (lease === undefined) return undefined;
  const renew = lease.spec?.renewTime;
  return {
    holder: lease.spec?.holderIdentity,
    durationMs: (lease.spec?.leaseDurationSeconds ?? 0) * 1000,
    renewTime: renew === undefined ? undefined : new Date(renew).getTime(),
    transitions: lease.spec?.leaseTransitions ?? 0,
  };
}

/** One replica's side of the election. */
export class LeaderElector {
  readonly #store: LeaseStore;
  readonly #settings: ElectionSettings;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #callbacks: ElectionCallbacks;
  #observed: LeaseObservation | undefined;
  #leading = false;
  /** When this replica last renewed (its clock), while leading. */
  #renewedAt = 0;
  #timer: unknown;
  #stopped = false;
  /** The round in progress, so stop() can wait for it. */
  #round: Promise<void> = Promise.resolve();

  /** The Lease's holder as this replica last read it (its own identity while it leads). */
  get holder(): string | undefined {
    return this.#leading ? this.#settings.identity : this.#observed?.holder || undefined;
  }

  constructor(
    store: LeaseStore,
    settings: ElectionSettings,
    clock: Clock,
    log: Logger,
    callbacks: ElectionCallbacks,
  ) {
    this.#store = store;
    this.#settings = settings;
    this.#clock = clock;
    this.#log = log;
    this.#callbacks = callbacks;
  }

  /** Whether this replica holds the Lease. */
  get leading(): boolean {
    return this.#leading;
  }

  /** Starts the rounds: the first at once, then every retry period. */
  start(): void {
    this.#schedule(0);
  }

  /**
   * Stops the rounds; with `release`, a holder writes the Lease free first, so a standby takes over at its
   * next round instead of after the Lease's duration. Never throws: a failed release only costs the wait.
   */
  async stop({ release }: { release: boolean }): Promise<void> {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    await this.#round;
    if (!this.#leading) return;
    this.#lose('stopped');
    if (!release) return;
    try {
      const lease = await this.#store.read();
      if (lease?.spec?.holderIdentity !== this.#settings.identity) return;
      await this.#store.replace({
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(this.#clock.now()),
          acquireTime: microTime(new Date(lease.spec?.acquireTime ?? this.#clock.now()).getTime()),
        },
      });
      this.#log.info({ lease: lease.metadata?.name }, 'leader Lease released');
    } catch (error) {
      this.#log.warn({ error: (error as Error).message }, 'could not release the leader Lease');
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#round = this.#runRound().finally(() => this.#schedule(this.#settings.retryPeriodMs));
    }, delayMs);
  }

  async #runRound(): Promise<void> {
    const now = this.#clock.now();
    try {
      const lease = await this.#store.read();
      const decision = leaseAction(recordOf(lease), this.#settings.identity, this.#observed, now);
      this.#observed = decision.observed;
      switch (decision.action) {
        case 'create':
          await this.#store.create(this.#claim(undefined, now));
          return this.#win(now, 'created');
        case 'acquire':
          await this.#store.replace(this.#claim(lease, now));
          return this.#win(now, `taken over from ${lease?.spec?.holderIdentity || 'nobody (released)'}`);
        case 'renew':
          await this.#store.replace({
            ...lease!,
            spec: {
              ...lease!.spec,
              renewTime: microTime(now),
              // Read back from the server, it may be a Date again: resent as microseconds too.
              acquireTime: microTime(new Date(lease!.spec?.acquireTime ?? now).getTime()),
              leaseDurationSeconds: this.#settings.leaseDurationMs / 1000,
            },
          });
          this.#renewedAt = now;
          if (!this.#leading) this.#win(now, 'held already (this replica restarted its election)');
          return;
        case 'wait':
          if (this.#leading) this.#lose(`held by ${lease?.spec?.holderIdentity}`);
          return;
      }
    } catch (error) {
      if (statusOf(error) === 409) {
        // Another replica wrote the Lease since it was read: it won this round.
        if (this.#leading) this.#lose('changed by another replica');
        return;
      }
      this.#log.warn(
        { error: (error as Error).message },
        'leader election: the Lease could not be read or written',
      );
      if (this.#leading && now - this.#renewedAt >= this.#settings.renewDeadlineMs) {
        this.#lose(`not renewed for ${Math.round((now - this.#renewedAt) / 1000)} s`);
      }
    }
  }

  /** The Lease claimed by this replica at `now`: created, or taken from `lease`. */
  #claim(lease: V1Lease | undefined, now: number): V1Lease {
    const at = microTime(now);
    return {
      ...lease,
      metadata: lease?.metadata ?? {},
      spec: {
        ...lease?.spec,
        holderIdentity: this.#settings.identity,
        leaseDurationSeconds: this.#settings.leaseDurationMs / 1000,
        acquireTime: at,
        renewTime: at,
        leaseTransitions: (lease?.spec?.leaseTransitions ?? -1) + 1,
      },
    };
  }

  #win(now: number, how: string): void {
    this.#renewedAt = now;
    if (this.#leading || this.#stopped) return;
    this.#leading = true;
    this.#log.info({ identity: this.#settings.identity }, `leading: the leader Lease is ours (${how})`);
    this.#callbacks.onStartedLeading();
  }

  #lose(why: string): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#log.warn({ identity: this.#settings.identity }, `no longer leading: ${why}`);
    this.#callbacks.onStoppedLeading();
  }
}
