/**
 * What the live process view knows of a running operator: where its runs stand on the lifecycle diagram
 * (src/view/process-activity.ts) and the status of its certificates (src/view/certificate-book.ts). The
 * operator reports each run's end, each Job's end and each certificate no Ingress claims any more; the
 * runner reports its tokens' moves.
 */
import type { CertificateRequest } from '../ingress/requests.ts';
import type { Cluster } from '../kube/cluster.ts';
import type { ActivityEvent, RunResult } from '../process/runner.ts';
import { verdictInForce } from '../../tasks/check-renewal-window.ts';
import { CertificateBook } from './certificate-book.ts';
import type { RunFacts } from './certificate-status.ts';
import { ProcessActivity } from './process-activity.ts';

/** What a certificate waits for after "launched" or "adopted": till "Job finished". */
const ISSUANCE_JOB = 'its issuance Job';

/** What a certificate waits for after "waiting for a Job slot": till "Job slot free". */
const JOB_SLOT = 'a Job slot';

/** The ends at which a certificate waits, and for what. */
const WAITING_ENDS: Readonly<Record<string, string>> = {
  launched: ISSUANCE_JOB,
  adopted: ISSUANCE_JOB,
  'waiting for a Job slot': JOB_SLOT,
};

/** The run's facts for the certificate book, from its end and its tasks' results. */
export function runFacts(result: RunResult): RunFacts {
  const { output } = result;
  const verdict = verdictInForce(output);
  const failure = output.recordFailure as { reason: string; message: string; retryAt?: string } | undefined;
  const retry = (output.scheduleRetry as { retryAt?: string } | undefined)?.retryAt ?? failure?.retryAt;
  const retryAt = retry === undefined ? undefined : Date.parse(retry);
  return {
    end: result.end,
    ...(verdict !== undefined && {
      verdict: {
        valid: verdict.valid,
        reason: verdict.reason,
        message: verdict.message,
        ...(verdict.notAfter !== undefined && { notAfter: verdict.notAfter }),
        ...(verdict.renewAt !== undefined && { renewAt: verdict.renewAt }),
      },
    }),
    ...(retryAt !== undefined && !Number.isNaN(retryAt) && { retryAt }),
    ...(failure !== undefined && { failure: { reason: failure.reason, message: failure.message } }),
  };
}

/** The operator's side of the process view. */
export class OperatorView {
  readonly lifecycle: ProcessActivity;
  readonly certificates: CertificateBook;

  constructor(process: string, now: () => number) {
    this.lifecycle = new ProcessActivity(process, now);
    this.certificates = new CertificateBook(now);
  }

  /** The runner's report of a token's move (a boundary event listening beside its task is no place to stand). */
  readonly activity = (event: ActivityEvent): void => {
    if (event.type !== 'bpmn:BoundaryEvent') this.lifecycle.activity(event);
  };

  /** A run of `request` ended. */
  runEnded(request: CertificateRequest, result: RunResult): void {
    const facts = runFacts(result);
    const endElement = result.path.at(-1) ?? result.end;
    const reason = facts.failure?.reason ?? facts.verdict?.reason;
    this.lifecycle.runEnded(request.key, endElement, reason);
    const awaited = WAITING_ENDS[result.end];
    if (awaited !== undefined) this.lifecycle.wait(request.key, endElement, awaited);
    // A slot is waited for until a run of the certificate gets past it (or finds nothing to issue).
    else if (this.lifecycle.waitingFor(request.key) === JOB_SLOT) this.lifecycle.stopWaiting(request.key);
    this.certificates.runEnded(
      {
        namespace: request.namespace,
        secret: request.secretName,
        hosts: request.hosts,
        ingress: `${request.namespace}/${request.ingress.name}`,
      },
      facts,
    );
  }

  /** The issuance Job of `certificate` ended: it no longer waits. */
  jobFinished(certificate: string): void {
    this.lifecycle.stopWaiting(certificate);
  }

  /**
   * The operator stopped (it no longer leads): nothing stands or waits here any more, and the certificates
   * are the next leader's to show. The runs that ended stay in the last hour's counts.
   */
  clear(): void {
    this.lifecycle.clear();
    this.certificates.clear();
  }

  /** No Ingress claims `certificate` any more. */
  forget(certificate: string): void {
    this.lifecycle.stopWaiting(certificate);
    this.certificates.forget(certificate);
  }
}

/** `cluster`, telling the view of every Event it records (the last one on each Ingress is shown). */
export function reportingEvents(cluster: Cluster, view: OperatorView): Cluster {
  return new Proxy(cluster, {
    get(target, property) {
      if (property === 'recordEvent') {
        const recordEvent: Cluster['recordEvent'] = async (about, type, reason, message) => {
          await target.recordEvent(about, type, reason, message);
          view.certificates.eventRecorded(`${about.namespace}/${about.name}`, { type, reason, message });
        };
        return recordEvent;
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
