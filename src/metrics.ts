/**
 * The operator's Prometheus metrics (README, "Metrics"), served at `/metrics` by the health server.
 *
 * Decisions:
 * - Each `Metrics` owns a prom-client `Registry` rather than the global default one, so one process (or
 *   one test file) can hold several without name clashes. main.ts makes one per process: it outlives the
 *   Operator, which is stopped and made anew on leadership changes.
 * - Names follow Prometheus' conventions: prefix `kube_lego_`, base units in the name (`_seconds`,
 *   `_timestamp_seconds`), `_total` for counters. The Node process metrics of `collectDefaultMetrics` keep
 *   their conventional `process_` and `nodejs_` names, which dashboards expect.
 * - Cardinality is bounded: labels take values from fixed sets (triggers, the diagram's end events, task
 *   implementations, watches, CamelCase reasons) or one series per managed certificate (namespace and
 *   Secret). Hosts, Ingress names, Job names and messages are never label values: messages carry hosts
 *   and error texts of unbounded variety. A reason that is not a CamelCase word (a Job's termination
 *   message is only as tidy as the Job that wrote it) is counted as `Other`.
 * - The certificate gauges are what this replica's last inspection of each certificate read; they are
 *   dropped when no Ingress claims the certificate any more, and all at once when the operator stops (a
 *   standby replica reports no certificates, so series never come from two replicas).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The watches whose restarts are counted (label `watch`). */
export type WatchName = 'ingress' | 'secret' | 'job';

/** What the load gauges read from the running operator (its `status`). */
export interface OperatorLoad {
  certificates: number;
  running: number;
  queued: number;
  backingOff: number;
  jobsInFlight: number;
  waitingForJobSlot: number;
}

/** A certificate's times, ms since the epoch. */
export interface CertificateTimes {
  notAfter: number;
  renewAt: number;
}

/** A managed certificate as labelled: the namespace and name of its Secret. */
export interface CertificateLabels {
  namespace: string;
  secret: string;
}

/** How an issuance Job ended, as recorded ("Record issuance" or "Record failure"). */
export type IssuanceResult = 'issued' | 'failed';

/** Buckets of the task durations: most tasks are one API request (ms), a few do nothing remote (µs). */
const TASK_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Buckets of the issuance durations, Job creation to Job end: a pod starts in seconds, an order with its
 * self-check takes tens of seconds, and the self-check gives up after
 * `LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME` (5 min by default).
 */
const ISSUANCE_BUCKETS = [1, 2.5, 5, 10, 20, 30, 60, 120, 180, 300, 600];

/** A reason label value: CamelCase words as the policy, the Jobs and the tasks give them; else `Other`. */
const REASON = /^[A-Z][A-Za-z0-9]{0,63}$/;

/** `reason` as a label value: itself when it is a CamelCase word, else `Other` (bounded cardinality). */
export function reasonLabel(reason: string): string {
  return REASON.test(reason) ? reason : 'Other';
}

/** The operator's metrics and their registry. */
export class Metrics {
  /** The registry to expose (text format at `registry.metrics()`, its `contentType`). */
  readonly registry = new Registry();
  readonly #expiry: Gauge<'namespace' | 'secret'>;
  readonly #renewal: Gauge<'namespace' | 'secret'>;
  readonly #attempts: Counter<'reason'>;
  readonly #results: Counter<'result' | 'reason'>;
  readonly #issuanceDuration: Histogram<'result'>;
  readonly #runs: Counter<'trigger' | 'end'>;
  readonly #taskDuration: Histogram<'task'>;
  readonly #taskErrors: Counter<'task'>;
  readonly #watchRestarts: Counter<'watch'>;
  readonly #leader: Gauge;
  /** The label set of each certificate with series, by certificate key, so its series can be removed. */
  readonly #certificates = new Map<string, CertificateLabels>();
  /** The running operator's load; undefined while none runs (a standby, between leaderships). */
  #load: (() => OperatorLoad) | undefined;

  /** `processMetrics: false` leaves out the Node process metrics (tests that make many registries). */
  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.#expiry = new Gauge({
      name: 'kube_lego_certificate_expiry_timestamp_seconds',
      help: "When the certificate in the Secret expires (its notAfter), as this replica's last check read it",
      labelNames: ['namespace', 'secret'],
      registers,
    });
    this.#renewal = new Gauge({
      name: 'kube_lego_certificate_renewal_timestamp_seconds',
      help: 'When the certificate in the Secret is due for renewal, as the last check read it',
      labelNames: ['namespace', 'secret'],
      registers,
    });
    this.#attempts = new Counter({
      name: 'kube_lego_issuance_attempts_total',
      help: 'Issuance Jobs launched or replaced, by why the certificate needed issuance',
      labelNames: ['reason'],
      registers,
    });
    this.#results = new Counter({
      name: 'kube_lego_issuance_results_total',
      help: "Issuance Jobs' outcomes recorded, by result (issued, failed) and the Job's reason",
      labelNames: ['result', 'reason'],
      registers,
    });
    this.#issuanceDuration = new Histogram({
      name: 'kube_lego_issuance_duration_seconds',
      help: "Time from an issuance Job's creation to its end, by result",
      labelNames: ['result'],
      buckets: ISSUANCE_BUCKETS,
      registers,
    });
    this.#runs = new Counter({
      name: 'kube_lego_runs_total',
      help: 'Runs of the lifecycle diagram, by what started them and the end event they reached',
      labelNames: ['trigger', 'end'],
      registers,
    });
    this.#taskDuration = new Histogram({
      name: 'kube_lego_task_duration_seconds',
      help: "Service tasks' durations, by implementation",
      labelNames: ['task'],
      buckets: TASK_BUCKETS,
      registers,
    });
    this.#taskErrors = new Counter({
      name: 'kube_lego_task_errors_total',
      help: "Service tasks that raised an error (taken by the diagram's error paths), by implementation",
      labelNames: ['task'],
      registers,
    });
    this.#watchRestarts = new Counter({
      name: 'kube_lego_watch_restarts_total',
      help: 'Watches that failed and are tried again, by watch (ingress, secret, job)',
      labelNames: ['watch'],
      registers,
    });
    this.#leader = new Gauge({
      name: 'kube_lego_leader',
      help: '1 while this replica leads (or leader election is off), 0 while it stands by',
      registers,
    });
    const current = () => this.#load?.();
    // Read at scrape time from the operator's own counts: nothing is counted twice.
    const load = (name: string, help: string, read: (load: OperatorLoad) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const now = current();
          this.set(now === undefined ? 0 : read(now));
        },
      });
    load(
      'kube_lego_certificates',
      'Certificates known (spec.tls entries claimed)',
      (now) => now.certificates,
    );
    load('kube_lego_runs_running', 'Runs of the lifecycle diagram executing', (now) => now.running);
    load(
      'kube_lego_runs_queued',
      'Runs of the lifecycle diagram waiting for a run slot',
      (now) => now.queued,
    );
    load(
      'kube_lego_certificates_backing_off',
      'Certificates waiting for the retry of a failed issuance or task',
      (now) => now.backingOff,
    );
    load(
      'kube_lego_issuance_jobs_in_flight',
      'Issuance Jobs running or being launched (at most LEGO_MAX_JOBS_IN_FLIGHT)',
      (now) => now.jobsInFlight,
    );
    load(
      'kube_lego_certificates_waiting_for_job_slot',
      'Certificates waiting for an issuance Job slot (LEGO_MAX_JOBS_IN_FLIGHT)',
      (now) => now.waitingForJobSlot,
    );
  }

  /**
   * Reads the load gauges from `load` from now on; returns what stops that, which does nothing once
   * another operator has taken over (an operator stopped late must not blank its successor's).
   */
  observeOperator(load: () => OperatorLoad): () => void {
    this.#load = load;
    return () => {
      if (this.#load === load) this.#load = undefined;
    };
  }

  /** Whether this replica leads (1) or stands by (0). */
  setLeader(leading: boolean): void {
    this.#leader.set(leading ? 1 : 0);
  }

  /** A watch failed and is tried again. */
  watchRestarted(watch: WatchName): void {
    this.#watchRestarts.inc({ watch });
  }

  /** A run ended: `trigger` is what started it, `end` the end event's name (or `error`). */
  runEnded(trigger: string, end: string): void {
    this.#runs.inc({ trigger, end });
  }

  /** A service task ended after `seconds`, with an error when `failed`. */
  taskEnded(task: string, seconds: number, failed: boolean): void {
    this.#taskDuration.observe({ task }, seconds);
    if (failed) this.#taskErrors.inc({ task });
  }

  /** An issuance Job was launched or replaced, because of `reason` (the policy verdict's). */
  issuanceAttempted(reason: string): void {
    this.#attempts.inc({ reason: reasonLabel(reason) });
  }

  /**
   * An issuance Job's outcome was recorded: `reason` is the Job's (such as `Issued`, `SelfCheckFailed`),
   * `seconds` the time from its creation to its end, when known.
   */
  issuanceRecorded(result: IssuanceResult, reason: string, seconds: number | undefined): void {
    this.#results.inc({ result, reason: reasonLabel(reason) });
    if (seconds !== undefined) this.#issuanceDuration.observe({ result }, seconds);
  }

  /**
   * A check of the certificate `key` read `times`; undefined when it read no certificate of kube-lego's
   * (no Secret, no data, one that does not parse, a foreign Secret): its series are removed.
   */
  certificateChecked(key: string, labels: CertificateLabels, times: CertificateTimes | undefined): void {
    if (times === undefined) return this.forgetCertificate(key);
    this.#certificates.set(key, labels);
    this.#expiry.set(labels, times.notAfter / 1000);
    this.#renewal.set(labels, times.renewAt / 1000);
  }

  /** Removes the series of the certificate `key` (no Ingress claims it any more). */
  forgetCertificate(key: string): void {
    const labels = this.#certificates.get(key);
    if (labels === undefined) return;
    this.#certificates.delete(key);
    this.#expiry.remove(labels);
    this.#renewal.remove(labels);
  }

  /** Removes every certificate's series (the operator stopped: this replica no longer leads). */
  forgetCertificates(): void {
    this.#certificates.clear();
    this.#expiry.reset();
    this.#renewal.reset();
  }
}
