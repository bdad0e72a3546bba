/**
 * The process host: turns Ingress changes and the periodic schedule into tokens of the lifecycle
 * process, one token per certificate (`spec.tls` entry), and runs them; and turns finished issuance Jobs into
 * "Job finished" tokens, so no run waits for a Job.
 *
 * What the host does and the diagram does not show: mapping Ingresses to tokens (with their problems
 * reported as warnings and Events), the schedule's repetition, and bounding how many runs execute at
 * once. Every decision about a token (deduplicate, inspect, launch, record) is in the diagram. The host
 * also turns the runs' ends into metrics (src/metrics.ts), when it is given them.
 */
import type { V1Ingress, V1Job, V1Secret } from '@kubernetes/client-node';
import type { Observable, Subscription } from 'rxjs';
import type { RenewalInfoCache } from './acme/renewal-info-cache.ts';
import { reportingEvents, type OperatorView } from './view/operator-view.ts';
import type { PolicyVerdict } from './certificate/policy.ts';
import { renewalTime } from './certificate/renewal.ts';
import type { Config } from './config.ts';
import type { Cycle } from './duration.ts';
import { RequestIndex } from './ingress/request-index.ts';
import type { CertificateRequest, IngressProblem } from './ingress/requests.ts';
import type { IssuanceOutcome } from './issuance/job-contract.ts';
import { JobSlots } from './issuance/job-slots.ts';
import type { Cluster } from './kube/cluster.ts';
import { CERTIFICATE_ANNOTATION, finishedJob, type FinishedJob } from './kube/job-watch.ts';
import { SecretCache } from './kube/secret-cache.ts';
import type { WatchEvent } from './kube/list-watch.ts';
import type { Logger } from './log.ts';
import type { CertificateTimes, Metrics } from './metrics.ts';
import type { ProcessDefinition } from './process/definition.ts';
import { Deduplicator } from './process/deduplicator.ts';
import { RunQueue } from './process/run-queue.ts';
import { ProcessRunner, type RunResult, type StartKind } from './process/runner.ts';
import { startSchedule, type Clock, type Schedule } from './process/schedule.ts';
import { lifecycleTasks } from '../tasks/index.ts';
import { verdictInForce } from '../tasks/check-renewal-window.ts';
import type { ClaimedJobSlot } from '../tasks/claim-job-slot.ts';
import type { FoundJob } from '../tasks/find-issuance-job.ts';
import type { LaunchResult } from '../tasks/launch-issuance-job.ts';
import type { LifecycleServices, LifecycleToken } from '../tasks/services.ts';

/**
 * Runs at once; more wait in the queue. A running engine holds about 4 MiB (a heap snapshot in a burst of
 * 200 Ingresses: 64 engines, 84 brokers and 4,400 smqp queues each, 263 MB live), and runs spend most of
 * their time waiting for the API server, so more at once bought no speed but a heap past the operator's.
 */
export const MAX_CONCURRENT_RUNS = 16;

/** The message whose start event an Ingress change starts a run at (else the first message start event). */
export const INGRESS_CHANGED = 'IngressChanged';
/** The message whose start event a deleted or changed certificate Secret starts a run at. */
export const SECRET_CHANGED = 'SecretChanged';

/** The message whose start event a finished issuance Job starts a run at. */
export const JOB_FINISHED = 'JobFinished';

/** The message whose start event a certificate's retry starts a run at, once its back-off has run out. */
export const RETRY_DUE = 'RetryDue';

/** The message whose start event a certificate waiting for a Job slot starts a run at, once it has one. */
export const JOB_SLOT_FREE = 'JobSlotFree';

/**
 * The longest a retry timer is set for: a later retry (a CA's `Retry-After` of days) is checked again then,
 * and finds itself still backing off, since timers of more than about 24.8 days overflow.
 */
const MAX_TIMER_MS = 86_400_000;

/**
 * What started a run, as logged: the Ingress watch, the Secret watch, the Job watch, the periodic check, a
 * check again once an adopted Job has finished (`recheck`), a retry whose back-off has run out, or a Job
 * slot given to a certificate that waited for one (`slot`).
 */
type Trigger = 'ingress' | 'secret' | 'job' | 'recheck' | 'retry' | 'slot' | 'periodic';

/** Run ends that are routine: logged at debug, not info, so an hourly check of many Ingresses stays quiet. */
const ROUTINE_ENDS = new Set(['valid', 'collapsed']);

/** Run ends after which a certificate's task errors in a row start again from none. */
const GOOD_ENDS = new Set(['valid', 'launched', 'adopted', 'issued']);

/** A finished Job as the Job watch saw it, with its creation time (epoch ms) when the API server gave one. */
type WatchedJob = FinishedJob & { createdAt?: number };

/**
 * The times of the certificate a verdict of "Inspect certificate" read: expiry and renewal; undefined when
 * it read none of kube-lego's (a foreign Secret, none, no data, a certificate that does not parse, a check
 * of the Secret's metadata failing before parsing). The verdict has a renewal time only for a valid
 * certificate; for one found due, expired or for other hosts it is computed as the policy computes it
 * (src/certificate/renewal.ts; the policy is given no ACME renewal window), so an overdue renewal shows as
 * a renewal time in the past rather than as no series.
 */
export function certificateTimes(
  verdict: PolicyVerdict,
  minimumValidityMs: number,
): CertificateTimes | undefined {
  const { notBefore, notAfter } = verdict;
  if (verdict.foreign || notBefore === undefined || notAfter === undefined) return undefined;
  return { notAfter, renewAt: verdict.renewAt ?? renewalTime(notBefore, notAfter, minimumValidityMs) };
}

/** What the operator is built from. */
export interface OperatorParts {
  config: Config;
  log: Logger;
  cluster: Cluster;
  ingressEvents: Observable<WatchEvent<V1Ingress>>;
  /** Changes to the certificate Secrets kube-lego wrote (secret-watch.ts); none when undefined. */
  secretEvents?: Observable<WatchEvent<V1Secret>>;
  /** Changes to the issuance Jobs (job-watch.ts); none when undefined. */
  jobEvents?: Observable<WatchEvent<V1Job>>;
  definition: ProcessDefinition;
  clock: Clock;
  maxConcurrentRuns?: number;
  /**
   * Where runs, tasks, issuances and certificates are counted; none when undefined. It outlives the
   * operator (main.ts makes a new operator on each leadership), so the operator drops its certificate
   * series when it stops.
   */
  metrics?: Metrics;
  /**
   * The CA's renewal windows (ACME Renewal Information); none when `LEGO_RENEWAL_INFO=false`. It outlives
   * the operator as the metrics do, so a replica that leads again keeps the windows it was given.
   */
  renewalInfo?: RenewalInfoCache;
  /** The live process view's record of runs and certificates; none when the view is off. */
  view?: OperatorView;
}

/** The running operator. */
export class Operator {
  readonly #parts: OperatorParts;
  readonly #log: Logger;
  readonly #index: RequestIndex;
  readonly #runner: ProcessRunner<LifecycleServices, LifecycleToken>;
  readonly #queue: RunQueue;
  /** Last problems reported per Ingress uid, so an unchanged problem is not re-reported on every event. */
  readonly #reported = new Map<string, string>();
  readonly #subscriptions: Subscription[] = [];
  /** uids of the finished Jobs a "Job finished" token was sent for (or is held for), till the Job is deleted. */
  readonly #finishedJobs = new Set<string>();
  /** Finished Jobs whose certificate no Ingress claims (yet), by certificate key: Job uid → Job name. */
  readonly #unclaimedJobs = new Map<string, Map<string, WatchedJob>>();
  /** Names of the finished Jobs seen (by name, as runs know them), till the Job is deleted. */
  readonly #finishedNames = new Set<string>();
  /**
   * Jobs a run adopted while they ran, by name → certificate key: the certificate is checked again when the
   * Job finishes. Without it, a Secret deleted after the Job wrote it but before the Job ended would wait
   * for the periodic check (the Job's success says nothing about it).
   */
  readonly #recheck = new Map<string, string>();
  /** The retry timer of each certificate backing off, by key. */
  readonly #retries = new Map<string, unknown>();
  readonly #services: LifecycleServices;
  #schedule: Schedule | undefined;
  /**
   * With metrics: the certificate keys each Ingress's `spec.tls` named at its last event, by uid, so the
   * series of a certificate no Ingress claims any more are dropped as the last claim goes.
   */
  readonly #ingressKeys = new Map<string, string[]>();
  /** Stops the load gauges reading this operator's status. */
  #unobserve: (() => void) | undefined;
  #stopped = false;

  constructor(parts: OperatorParts) {
    this.#parts = parts;
    this.#log = parts.log;
    const { config } = parts;
    this.#index = new RequestIndex({
      annotation: config.kubeAnnotation,
      supportedClasses: config.supportedIngressClasses,
      defaultClass: config.defaultIngressClass,
      supportedProviders: config.supportedIngressProviders,
      defaultProvider: config.defaultIngressProvider,
    });
    const services: LifecycleServices = {
      config,
      cluster: parts.view === undefined ? parts.cluster : reportingEvents(parts.cluster, parts.view),
      deduplicator: new Deduplicator(),
      now: () => parts.clock.now(),
      taskFailures: new Map(),
      jobSlots: new JobSlots(config.maxJobsInFlight),
      ...(parts.renewalInfo !== undefined && { renewalInfo: parts.renewalInfo }),
      ...(parts.secretEvents !== undefined && { secretCache: new SecretCache() }),
    };
    this.#services = services;
    this.#runner = new ProcessRunner(parts.definition, lifecycleTasks, services, parts.log, {
      onTaskEnd: (task, seconds, failed) => this.#metrics?.taskEnded(task, seconds, failed),
      ...(parts.view !== undefined && { onActivity: parts.view.activity }),
    });
    this.#queue = new RunQueue(parts.maxConcurrentRuns ?? MAX_CONCURRENT_RUNS);
  }

  /** The check cycle in force: LEGO_CHECK_INTERVAL when set, else the diagram's timer. */
  get cycle(): Cycle | undefined {
    return this.#parts.config.checkInterval ?? this.#parts.definition.timerCycle;
  }

  /** Certificates known, runs executing and runs queued. */
  get status(): {
    certificates: number;
    running: number;
    queued: number;
    backingOff: number;
    jobsInFlight: number;
    waitingForJobSlot: number;
    nextCheck: number | undefined;
  } {
    return {
      certificates: this.#index.size,
      running: this.#queue.running,
      queued: this.#queue.pending,
      backingOff: this.#retries.size,
      jobsInFlight: this.#services.jobSlots.inFlight,
      waitingForJobSlot: this.#services.jobSlots.waiting,
      nextCheck: this.#schedule?.next,
    };
  }

  /** The metrics to record into: none once stopped, so a run ending late writes nothing after the stop. */
  get #metrics(): Metrics | undefined {
    return this.#stopped ? undefined : this.#parts.metrics;
  }

  /** Starts watching Ingresses and the periodic schedule. */
  start(): void {
    this.#unobserve = this.#parts.metrics?.observeOperator(() => this.status);
    this.#subscriptions.push(
      this.#parts.ingressEvents.subscribe({
        next: (event) => this.#onIngressEvent(event),
        error: (error: Error) => this.#log.error({ error: error.message }, 'Ingress watch ended'),
      }),
    );
    this.#watchSecrets();
    this.#watchJobs();
    const cycle = this.cycle;
    if (cycle === undefined) {
      this.#log.warn(
        'the diagram has no timer start event and LEGO_CHECK_INTERVAL is not set: no periodic check',
      );
      return;
    }
    this.#schedule = startSchedule(cycle, this.#parts.clock, () => this.periodicCheck());
    this.#log.info(
      {
        intervalMs: cycle.intervalMs,
        from: this.#parts.config.checkInterval ? 'LEGO_CHECK_INTERVAL' : 'diagram',
      },
      'periodic check scheduled',
    );
  }

  /** Queues one timer-started token per known certificate. */
  periodicCheck(): void {
    let count = 0;
    for (const request of this.#index.requests()) {
      this.#enqueue('periodic', request);
      count += 1;
    }
    this.#log.info({ certificates: count }, 'periodic check');
  }

  /** Resolves when no run is executing or queued (tests and benchmarks). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** Stops watching, the schedule and every run. */
  async stop(): Promise<void> {
    // Before the first await: a successor started meanwhile (a new leadership) keeps its own series.
    this.#stopped = true;
    this.#unobserve?.();
    this.#parts.metrics?.forgetCertificates();
    this.#parts.view?.clear();
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    this.#schedule?.stop();
    for (const timer of this.#retries.values()) this.#parts.clock.clearTimeout(timer);
    this.#retries.clear();
    await this.#runner.stop();
  }

  #onIngressEvent({ type, object }: WatchEvent<V1Ingress>): void {
    const uid = object.metadata?.uid ?? '';
    if (type === 'DELETED') {
      this.#reported.delete(uid);
      for (const promoted of this.#index.remove(uid)) this.#enqueue('ingress', promoted);
      this.#releaseKeys(uid, undefined);
      return;
    }
    const { requests, problems } = this.#index.upsert(object);
    this.#releaseKeys(uid, object);
    this.#report(uid, problems);
    for (const request of requests) {
      this.#enqueue('ingress', request);
      this.#claimJobs(request);
    }
  }

  /**
   * Subscribes to the issuance Jobs when the diagram has a "Job finished" start event. A Job whose
   * Complete or Failed condition is True sends one token for its certificate (annotation
   * `kube-lego.io/certificate`), once per Job uid while this process lives: later events of the same Job
   * (the TTL controller, a re-list) send nothing. A Job that finished while the operator was down comes in
   * the initial list and is recorded then. A finished Job whose certificate no Ingress claims is held (a
   * debug line) until an Ingress claims it, as after a restart the Jobs' list may come before the
   * Ingresses', or the Job is deleted.
   */
  #watchJobs(): void {
    const { jobEvents, definition } = this.#parts;
    if (jobEvents === undefined) return;
    const records = definition.messageStarts.has(JOB_FINISHED);
    if (!records) {
      this.#log.warn(
        `the diagram has no message start event for message ${JOB_FINISHED}: finished issuance Jobs are not recorded`,
      );
    }
    this.#subscriptions.push(
      jobEvents.subscribe({
        next: (event) => {
          this.#countJobSlot(event);
          if (!records) return;
          const { type, object } = event;
          const uid = object.metadata?.uid ?? '';
          if (type === 'DELETED') {
            this.#finishedJobs.delete(uid);
            this.#finishedNames.delete(object.metadata?.name ?? '');
            this.#recheck.delete(object.metadata?.name ?? '');
            for (const [key, jobs] of this.#unclaimedJobs) {
              if (jobs.delete(uid) && jobs.size === 0) this.#unclaimedJobs.delete(key);
            }
            return;
          }
          const seen = finishedJob(object);
          if (seen === undefined || this.#finishedJobs.has(seen.uid)) return;
          const created = object.metadata?.creationTimestamp;
          const finished: WatchedJob =
            created === undefined ? seen : { ...seen, createdAt: new Date(created).getTime() };
          this.#finishedJobs.add(finished.uid);
          this.#finishedNames.add(finished.name);
          this.#parts.view?.jobFinished(finished.certificate);
          this.#recheckAfter(finished.name);
          // Recorded before a restart (or by the leader before this replica took over): not news.
          if (finished.outcomeRecorded) return;
          const request = this.#index.winner(finished.certificate);
          if (request !== undefined) {
            this.#enqueue('job', request, finished);
            return;
          }
          this.#log.debug(
            { certificate: finished.certificate, job: finished.name },
            'issuance Job finished for a certificate no Ingress claims (yet): held',
          );
          const held = this.#unclaimedJobs.get(finished.certificate) ?? new Map<string, WatchedJob>();
          held.set(finished.uid, finished);
          this.#unclaimedJobs.set(finished.certificate, held);
        },
        error: (error: Error) => this.#log.error({ error: error.message }, 'issuance Job watch ended'),
      }),
    );
  }

  /**
   * Keeps the Job slots' count of Jobs in flight: an issuance Job not finished takes its certificate's
   * slot; one finished or deleted frees it, for the certificates waiting.
   */
  #countJobSlot({ type, object }: WatchEvent<V1Job>): void {
    const uid = object.metadata?.uid ?? '';
    const certificate = object.metadata?.annotations?.[CERTIFICATE_ANNOTATION];
    const slots = this.#services.jobSlots;
    if (type === 'DELETED' || certificate === undefined || finishedJob(object) !== undefined) {
      this.#giveSlots(slots.jobEnded(uid, this.#parts.clock.now()));
    } else {
      slots.jobRunning(uid, certificate);
    }
  }

  /** Sends "Job slot free" to each certificate given a slot; one no Ingress claims any more gives it back. */
  #giveSlots(certificates: string[]): void {
    for (const certificate of certificates) {
      const request = this.#index.winner(certificate);
      if (request === undefined) {
        this.#giveSlots(this.#services.jobSlots.forget(certificate, this.#parts.clock.now()));
      } else {
        this.#enqueue('slot', request);
      }
    }
  }

  /** Queues the check again of the certificate whose run adopted Job `name` while it ran, if any. */
  #recheckAfter(name: string): void {
    const key = this.#recheck.get(name);
    if (key === undefined) return;
    this.#recheck.delete(name);
    const request = this.#index.winner(key);
    if (request !== undefined) this.#enqueue('recheck', request);
  }

  /** Sends the held "Job finished" tokens of a certificate an Ingress now claims. */
  #claimJobs(request: CertificateRequest): void {
    const held = this.#unclaimedJobs.get(request.key);
    if (held === undefined) return;
    this.#unclaimedJobs.delete(request.key);
    for (const job of held.values()) this.#enqueue('job', request, job);
  }

  /**
   * Subscribes to the certificate Secrets' changes: each one updates the Secret cache "Inspect certificate"
   * reads first, and, when the diagram has a start event for them, a Secret deleted or changed by someone
   * (its data edited, the garbage collector taking it with a deleted Ingress) starts a run for the
   * certificate that claims it. ADDED events are the initial list and the Jobs' own writes, which the
   * Ingress watch and the Jobs' outcomes already cover.
   */
  #watchSecrets(): void {
    const { secretEvents, definition } = this.#parts;
    if (secretEvents === undefined) return;
    const cache = this.#services.secretCache;
    const triggers = definition.messageStarts.has(SECRET_CHANGED);
    if (!triggers) {
      this.#log.warn(
        `the diagram has no message start event for message ${SECRET_CHANGED}: a deleted or changed certificate Secret waits for the periodic check`,
      );
    }
    this.#subscriptions.push(
      secretEvents.subscribe({
        next: (event) => {
          cache?.update(event);
          const { type, object } = event;
          if (type === 'ADDED' || !triggers) return;
          const request = this.#index.winner(`${object.metadata?.namespace}/${object.metadata?.name}`);
          if (request !== undefined) this.#enqueue('secret', request);
        },
        error: (error: Error) => this.#log.error({ error: error.message }, 'Secret watch ended'),
      }),
    );
  }

  #report(uid: string, problems: IngressProblem[]): void {
    const signature = problems.map((problem) => `${problem.reason}:${problem.message}`).join('\n');
    if (this.#reported.get(uid) === signature) return;
    if (signature === '') this.#reported.delete(uid);
    else this.#reported.set(uid, signature);
    for (const problem of problems) {
      this.#log.warn(
        { ingress: `${problem.namespace}/${problem.ingress}`, reason: problem.reason },
        `Ingress ${problem.namespace}/${problem.ingress}: ${problem.message}`,
      );
      void this.#parts.cluster.recordEvent(
        {
          kind: 'Ingress',
          apiVersion: 'networking.k8s.io/v1',
          namespace: problem.namespace,
          name: problem.ingress,
          uid: problem.uid,
        },
        'Warning',
        problem.reason,
        problem.message,
      );
    }
  }

  #enqueue(trigger: Trigger, token: CertificateRequest, job?: WatchedJob): void {
    const start: StartKind = trigger === 'periodic' ? 'timer' : 'message';
    const messages: Record<Trigger, string | undefined> = {
      secret: SECRET_CHANGED,
      job: JOB_FINISHED,
      retry: this.#parts.definition.messageStarts.has(RETRY_DUE) ? RETRY_DUE : INGRESS_CHANGED,
      slot: this.#parts.definition.messageStarts.has(JOB_SLOT_FREE) ? JOB_SLOT_FREE : INGRESS_CHANGED,
      ingress: INGRESS_CHANGED,
      recheck: INGRESS_CHANGED,
      periodic: undefined,
    };
    const wanted = messages[trigger];
    const message =
      wanted !== undefined && this.#parts.definition.messageStarts.has(wanted) ? wanted : undefined;
    this.#queue.push(async () => {
      // The request is read when the run starts, not when it was queued: by then every Ingress of a list
      // (reported in one go) is indexed, so the claim on a Secret goes to the oldest Ingress whatever order
      // they came in, after a restart as before it; a token of an Ingress since deleted runs for no one.
      await Promise.resolve();
      const current = this.#index.winner(token.key);
      if (current === undefined) {
        this.#forget(token.key);
        if (job !== undefined) {
          this.#log.debug(
            { certificate: token.key, job: job.name },
            'issuance Job finished for a certificate no Ingress claims any more: dropped',
          );
        }
        return;
      }
      const result = await this.#runner.run({
        start,
        message,
        token:
          job === undefined
            ? current
            : {
                ...current,
                job: job.name,
                ...(job.launchedBecause !== undefined && { launchedBecause: job.launchedBecause }),
                previousFailures: job.previousFailures,
                finishedAt: job.finishedAt,
              },
        key: current.key,
      });
      this.#logResult(trigger, current, result);
      this.#afterRun(current.key, result);
      this.#measure(trigger, current, result, job);
      // A run cut short by stop() is not news: the view shows the next leader's runs.
      if (!this.#stopped) this.#parts.view?.runEnded(current, result);
    });
  }

  /**
   * What a run's end tells the metrics: the run, by trigger and end event; the certificate's times, when
   * "Inspect certificate" read them; an issuance attempt, when a Job was launched (not adopted: another
   * run or replica launched it) or replaced; a Job's outcome and duration, once "Record issuance" or
   * "Record failure" recorded it (so a Job is counted once, however often it is seen finished).
   */
  #measure(
    trigger: Trigger,
    request: CertificateRequest,
    result: RunResult,
    job: WatchedJob | undefined,
  ): void {
    const metrics = this.#metrics;
    if (metrics === undefined) return;
    metrics.runEnded(trigger, result.end);
    const { output } = result;
    const verdict = verdictInForce(output);
    if (verdict !== undefined) {
      const labels = { namespace: request.namespace, secret: request.secretName };
      metrics.certificateChecked(
        request.key,
        labels,
        certificateTimes(verdict, this.#parts.config.minimumValidityMs),
      );
    }
    const launched = output.launchIssuanceJob as LaunchResult | undefined;
    if ((launched !== undefined && !launched.adopted) || output.replaceIssuanceJob !== undefined) {
      metrics.issuanceAttempted(verdict?.reason ?? 'Unknown');
    }
    const outcome = output.readJobOutcome as IssuanceOutcome | undefined;
    const recorded =
      output.recordIssuance !== undefined
        ? 'issued'
        : output.recordFailure !== undefined
          ? 'failed'
          : undefined;
    if (job !== undefined && outcome !== undefined && recorded !== undefined) {
      const seconds =
        job.createdAt === undefined || job.finishedAt < job.createdAt
          ? undefined
          : (job.finishedAt - job.createdAt) / 1000;
      metrics.issuanceRecorded(recorded, outcome.reason, seconds);
    }
  }

  /** Drops what the metrics and the process view hold of a certificate no Ingress claims. */
  #forget(key: string): void {
    this.#metrics?.forgetCertificate(key);
    this.#parts.view?.forget(key);
    this.#giveSlots(this.#services.jobSlots.forget(key, this.#parts.clock.now()));
  }

  /**
   * With metrics or the view: drops the certificate series of the keys Ingress `uid` named before this event that no
   * Ingress claims now (the Ingress deleted, a `spec.tls` entry or the annotation removed), and notes the
   * keys it names now (`namespace/secretName`, as src/ingress/requests.ts keys a request).
   */
  #releaseKeys(uid: string, ingress: V1Ingress | undefined): void {
    if (this.#metrics === undefined && this.#parts.view === undefined) return;
    for (const key of this.#ingressKeys.get(uid) ?? []) {
      if (this.#index.winner(key) === undefined) this.#forget(key);
    }
    const namespace = ingress?.metadata?.namespace;
    const keys = (ingress?.spec?.tls ?? []).flatMap(({ secretName }) =>
      secretName ? [`${namespace}/${secretName}`] : [],
    );
    if (keys.length === 0) this.#ingressKeys.delete(uid);
    else this.#ingressKeys.set(uid, keys);
  }

  /**
   * What a run's end asks of the host: a retry at the time "Record failure" or "Schedule retry" gave; a
   * check again when the running Job it found or adopted ends, and once a Job's issuance is recorded; a
   * fresh count of task errors after a good end.
   */
  #afterRun(key: string, result: RunResult): void {
    if (GOOD_ENDS.has(result.end)) this.#services.taskFailures.delete(key);
    // A slot claimed for a Job this run did not create (it ended on an error, or adopted a Job created
    // meanwhile) goes back at once, and claims that lapsed are handed on.
    const { output } = result;
    const slots = this.#services.jobSlots;
    const now = this.#parts.clock.now();
    const claimed = (output.claimJobSlot as ClaimedJobSlot | undefined)?.claimed === true;
    const created =
      (output.launchIssuanceJob as LaunchResult | undefined)?.adopted === false ||
      output.replaceIssuanceJob !== undefined;
    this.#giveSlots(claimed && !created ? slots.release(key, now) : slots.due(now));
    if (result.end === 'issued') {
      // The Secret the Job wrote is inspected at once, not at the next periodic check: its expiry and
      // renewal times are known (metrics) and a Job that reported success for a bad Secret is caught.
      const request = this.#index.winner(key);
      if (request !== undefined) this.#enqueue('recheck', request);
    }
    const retry = (result.output.recordFailure ?? result.output.scheduleRetry) as
      { retryAt?: string } | undefined;
    if (result.end !== 'error' && retry?.retryAt !== undefined) {
      this.#scheduleRetry(key, Date.parse(retry.retryAt));
    }
    const found = result.output.findIssuanceJob as FoundJob | undefined;
    const launched = result.output.launchIssuanceJob as LaunchResult | undefined;
    const running =
      launched?.running === true ? launched.jobName : found?.running ? found.jobName : undefined;
    if (result.end !== 'error' && running !== undefined) {
      this.#recheck.set(running, key);
      if (this.#finishedNames.has(running)) this.#recheckAfter(running);
    }
  }

  /** Sends the certificate's "Retry due" token at `at` (replacing a retry set before). */
  #scheduleRetry(key: string, at: number): void {
    const { clock } = this.#parts;
    const previous = this.#retries.get(key);
    if (previous !== undefined) clock.clearTimeout(previous);
    const delay = Math.min(Math.max(at - clock.now(), 0), MAX_TIMER_MS);
    const timer = clock.setTimeout(() => {
      this.#retries.delete(key);
      const request = this.#index.winner(key);
      if (request !== undefined) this.#enqueue('retry', request);
    }, delay);
    this.#retries.set(key, timer);
  }

  #logResult(trigger: Trigger, token: CertificateRequest, result: RunResult): void {
    const fields = {
      certificate: token.key,
      trigger,
      end: result.end,
      durationMs: Math.round(result.durationMs),
    };
    if (ROUTINE_ENDS.has(result.end)) this.#log.debug(fields, `${token.key}: ${result.end}`);
    else this.#log.info(fields, `${token.key}: ${result.end}`);
  }
}
