/**
 * Leader election over a `coordination.k8s.io` Lease, the decision part: given the Lease as read, what this
 * replica does next. Pure: the Lease, what this replica saw of it before, and its clock in; an action out.
 *
 * Expiry is judged on this replica's own clock, from when it last saw the Lease change (the holder or its
 * renew time), as client-go does: the holder's clock and ours need not agree, only run at the same rate.
 */

/** The Lease as the election reads it. */
export interface LeaseRecord {
  /** Who holds it; empty or undefined once released. */
  holder: string | undefined;
  /** How long a holder's claim lasts without renewal. */
  durationMs: number;
  /** The holder's last renewal, as the holder wrote it (its clock), epoch ms. */
  renewTime: number | undefined;
  /** How many times it changed hands. */
  transitions: number;
}

/** What this replica last saw of the Lease, and when by its own clock. */
export interface LeaseObservation {
  holder: string | undefined;
  renewTime: number | undefined;
  observedAt: number;
}

/**
 * The next step: `create` the Lease (there is none), `renew` it (ours), `acquire` it (released, or its
 * holder stopped renewing for longer than its duration), or `wait` (another replica holds it).
 */
export type LeaseAction = 'create' | 'renew' | 'acquire' | 'wait';

/** What {@link leaseAction} decided, with the observation to keep for the next round. */
export interface LeaseDecision {
  action: LeaseAction;
  observed: LeaseObservation | undefined;
}

/** Decides the next step of replica `me` at `now` (its clock). */
export function leaseAction(
  lease: LeaseRecord | undefined,
  me: string,
  previous: LeaseObservation | undefined,
  now: number,
): LeaseDecision {
  if (lease === undefined) return { action: 'create', observed: undefined };
  if (lease.holder === me) return { action: 'renew', observed: undefined };
  if (lease.holder === undefined || lease.holder === '') return { action: 'acquire', observed: undefined };
  const changed =
    previous === undefined || previous.holder !== lease.holder || previous.renewTime !== lease.renewTime;
  const observed = changed ? { holder: lease.holder, renewTime: lease.renewTime, observedAt: now } : previous;
  return { action: now - observed.observedAt >= lease.durationMs ? 'acquire' : 'wait', observed };
}
