/**
 * Runs a loaded diagram: one bpmn-engine Engine per token, all from the one parsed source context.
 *
 * Measured on bpmn-engine 25 (docs/architecture.md): an engine per token costs about a MiB while it
 * runs and leaks nothing once it ends, where one long-lived engine collecting instances leaks. The
 * runner also
 * - binds service tasks to tasks/ implementations (the Camunda `expression` form, see definition.ts),
 *   storing each result in `environment.output.<implementation>` for the gateways to read;
 * - starts each run at the start event of its trigger (message or timer), so the diagram's timer says when
 *   the host starts runs, not how long a run waits;
 * - logs every activity (process, activity, key, outcome, duration), and reports each service task's
 *   duration to an optional observer (the host's metrics).
 */
import { EventEmitter } from 'node:events';
import { Engine } from 'bpmn-engine';
import type { Logger } from '../log.ts';
import { elementOverrides, implementationName, type ProcessDefinition } from './definition.ts';

/** What a run offers a task besides the token. */
export interface RunHandle {
  /** Unique per run, for logs. */
  readonly id: string;
  /** Registers work to do when the run ends, however it ends. */
  onEnd(callback: () => void): void;
  /** Aborted when the run is stopped (operator shutdown). */
  readonly signal: AbortSignal;
}

/** What a task implementation is called with. */
export interface TaskContext<Services, Token> {
  token: Token;
  /** Results of the tasks run so far, by implementation name. */
  output: Readonly<Record<string, unknown>>;
  services: Services;
  run: RunHandle;
  log: Logger;
  activity: { id: string; name: string };
}

/** A task implementation: what a service task of the diagram runs. Its result feeds the gateways. */
export type TaskImplementation<Services, Token> = (
  context: TaskContext<Services, Token>,
) => Promise<object | void> | object | void;

/** How a run starts: through the message start event, the timer start event, or a plain start event. */
export type StartKind = 'message' | 'timer' | 'none';

/** One token to run. */
export interface RunRequest<Token> {
  start: StartKind;
  /**
   * For a message run: the name of the message that came (e.g. `SecretChanged`), which picks its start
   * event. Default: the diagram's first message start event.
   */
  message?: string;
  token: Token;
  /** The token's key (the certificate), for logs. */
  key: string;
}

/** How a run ended. */
export interface RunResult {
  /** Name (else id) of the end event reached; "error" when the run failed without one. */
  end: string;
  /** Ids of the activities run, in order of completion. */
  path: string[];
  output: Record<string, unknown>;
  error?: string;
  durationMs: number;
}

/** Errors a task reports for the diagram's error paths: the message becomes the recorded reason. */
export interface RecordedError {
  activityId: string;
  activityName: string;
  /** The implementation that failed, e.g. `selfCheck`. */
  implementation: string;
  message: string;
  /** When the failure said to try again (epoch ms): a CA's `Retry-After` ({@link retryAtOf}). */
  retryAt?: number;
}

/**
 * When the failure `error` (or an error it wraps, through `cause`) says to try again: its `retryAt` (epoch
 * ms), as a CA's `Retry-After` gives it; undefined when none says.
 */
export function retryAtOf(error: unknown): number | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < 10; depth += 1) {
    if (typeof current !== 'object' || current === null) return undefined;
    const retryAt = (current as { retryAt?: unknown }).retryAt;
    if (typeof retryAt === 'number') return retryAt;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Result fields whose names suggest key material; never logged. */
const SECRET_FIELD = /key|secret|token|password|pem|authorization/i;

/**
 * What of a task's result goes into a log line: its top-level strings, numbers and booleans, except fields
 * whose names suggest key material. Results may hold clients, servers and keys; none of that is logged.
 */
export function loggableResult(result: object): Record<string, string | number | boolean> {
  const fields: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(result)) {
    if (SECRET_FIELD.test(name)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      fields[name] = value;
  }
  return fields;
}

interface ActivityApi {
  id: string;
  type: string;
  name?: string;
  content?: { error?: { message?: string } };
}

/** What a runner reports besides its logs. */
export interface RunnerOptions {
  /**
   * Called as each service task ends: its implementation name, how long it took (seconds), and whether it
   * raised an error. For metrics: an error it throws is logged, and the run goes on.
   */
  onTaskEnd?(implementation: string, seconds: number, failed: boolean): void;
  /**
   * Called as a run's token enters and leaves each element of the diagram, for a live view of where runs
   * stand. An error it throws is logged, and the run goes on.
   */
  onActivity?(event: ActivityEvent): void;
}

/** A run's token entering or leaving an element of the diagram. */
export interface ActivityEvent {
  /** The run's id. */
  run: string;
  /** The run's key (the certificate). */
  key: string;
  /** The element's id in the diagram. */
  element: string;
  /** Its BPMN type, e.g. `bpmn:ServiceTask`; a `bpmn:BoundaryEvent` is entered as its task starts. */
  type: string;
  phase: 'enter' | 'leave';
}

let runCounter = 0;

const kFlags = Symbol.for('flags');
const kEventDefinitions = Symbol.for('eventDefinitions');

const ignore = () => undefined;
/**
 * bpmn-engine's default logger creates a `debug` instance (with a TTY check) for every element of every
 * engine; with an engine per token that was a large share of a run's time. The runner logs activities
 * itself, so the engine's own logging is switched off.
 */
const silentEngineLogger = () => ({ debug: ignore, warn: ignore, error: ignore });

/** Runs tokens through one diagram with one set of implementations. */
export class ProcessRunner<Services, Token> {
  readonly definition: ProcessDefinition;
  readonly #implementations: Readonly<Record<string, TaskImplementation<Services, Token>>>;
  readonly #services: Services;
  readonly #log: Logger;
  readonly #onTaskEnd: RunnerOptions['onTaskEnd'];
  readonly #onActivity: RunnerOptions['onActivity'];
  readonly #engines = new Set<{ engine: Engine; abort: AbortController }>();

  constructor(
    definition: ProcessDefinition,
    implementations: Readonly<Record<string, TaskImplementation<Services, Token>>>,
    services: Services,
    log: Logger,
    options: RunnerOptions = {},
  ) {
    this.definition = definition;
    this.#implementations = implementations;
    this.#services = services;
    this.#log = log.child({ process: definition.name });
    this.#onTaskEnd = options.onTaskEnd;
    this.#onActivity = options.onActivity;
  }

  /** Runs currently executing (including those parked at a wait). */
  get running(): number {
    return this.#engines.size;
  }

  /** Runs one token to its end. Never rejects: failures come back as the result. */
  async run(request: RunRequest<Token>): Promise<RunResult> {
    const started = performance.now();
    const abort = new AbortController();
    const endCallbacks: (() => void)[] = [];
    const handle: RunHandle = {
      id: `run-${++runCounter}`,
      onEnd: (callback) => endCallbacks.push(callback),
      signal: abort.signal,
    };
    const log = this.#log.child({ run: handle.id, certificate: request.key });
    const output: Record<string, unknown> = {};
    const path: string[] = [];
    let end: string | undefined;
    let error: string | undefined;

    const listener = new EventEmitter();
    listener.on('activity.end', (api: ActivityApi) => {
      path.push(api.id);
      if (api.type === 'bpmn:EndEvent') end = api.name ?? api.id;
      // Service tasks log their own line, with implementation, duration and outcome.
      if (api.type !== 'bpmn:ServiceTask')
        log.debug({ activity: api.id, type: api.type }, `${api.name ?? api.id} done`);
    });
    listener.on('activity.error', (api: ActivityApi) => {
      error = api.content?.error?.message ?? 'failed';
    });
    const onActivity = this.#onActivity;
    if (onActivity !== undefined) {
      const report = (phase: ActivityEvent['phase']) => (api: ActivityApi) => {
        try {
          onActivity({ run: handle.id, key: request.key, element: api.id, type: api.type, phase });
        } catch (failure) {
          log.warn({ activity: api.id, error: (failure as Error).message }, 'activity observer failed');
        }
      };
      listener.on('activity.enter', report('enter'));
      listener.on('activity.leave', report('leave'));
    }

    const engine = new Engine({
      name: `${this.definition.name} ${handle.id}`,
      sourceContext: this.definition.sourceContext,
      Logger: silentEngineLogger,
      variables: { token: request.token },
      elements: elementOverrides,
      // Both extensions only rewire activities as they load; they return no per-activity extension object.
      extensions: {
        kubeLegoStart: this.#startSelector(request.start, request.message) as never,
        kubeLegoServices: this.#serviceBinder(request.token, output, handle, log) as never,
      },
    });
    const entry = { engine, abort };
    this.#engines.add(entry);
    try {
      const ended = engine.waitFor('end');
      await engine.execute({ listener, settings: { enableDummyService: false } });
      await ended;
    } catch (failure) {
      error = (failure as Error).message;
    } finally {
      this.#engines.delete(entry);
      for (const callback of endCallbacks) callback();
    }
    const result: RunResult = {
      end: end ?? 'error',
      path,
      output,
      durationMs: performance.now() - started,
      ...(end === undefined && { error: error ?? 'the run ended without reaching an end event' }),
    };
    if (result.error !== undefined) log.error({ end: result.end, error: result.error }, 'run failed');
    return result;
  }

  /** Stops every run (operator shutdown); their tasks see their signal aborted. */
  async stop(): Promise<void> {
    const entries = [...this.#engines];
    for (const { abort } of entries) abort.abort();
    await Promise.all(entries.map(({ engine }) => engine.stop()));
  }

  /**
   * The bpmn-engine extension that starts the run at one start event: the message start (of its message,
   * when named) for a message run, the timer start for a periodic one, every start event for a plain run. bpmn-engine would otherwise start
   * all start events, let the first to fire win, and "shake" every path from the others to discard them
   * later: two thirds of a run's cost (docs/architecture.md). The chosen start event loses its event
   * definition so it completes at once (the host has already decided that its message came or its timer
   * fired); the others are no start events for this run. Both flags are bpmn-elements' registered symbols.
   */
  #startSelector(start: StartKind, message: string | undefined) {
    const chosen =
      start === 'message'
        ? message === undefined
          ? this.definition.messageStartId
          : this.definition.messageStarts.get(message)
        : start === 'timer'
          ? this.definition.timerStartId
          : undefined;
    if (start !== 'none' && chosen === undefined) {
      const what =
        start === 'message' && message !== undefined
          ? `message start event for ${message}`
          : `${start} start event`;
      throw new Error(`${this.definition.name} has no ${what}`);
    }
    return (activity: { type: string; id: string } & Record<symbol, unknown>) => {
      if (activity.type !== 'bpmn:StartEvent' || chosen === undefined) return undefined;
      if (activity.id === chosen) {
        activity[kEventDefinitions] = undefined;
        return undefined;
      }
      const flags = activity[kFlags] as { isStart: boolean } | undefined;
      if (flags === undefined)
        throw new Error('bpmn-elements no longer keeps Symbol.for("flags") on activities');
      flags.isStart = false;
      return undefined;
    };
  }

  /** The bpmn-engine extension that makes each service task call its tasks/ implementation. */
  #serviceBinder(token: Token, output: Record<string, unknown>, run: RunHandle, log: Logger) {
    const implementations = this.#implementations;
    const services = this.#services;
    const onTaskEnd = this.#onTaskEnd;
    /** Tells the observer that task `name` ended; its own error must not leave the run without an answer. */
    const reportEnd = (name: string, durationMs: number, failed: boolean) => {
      try {
        onTaskEnd?.(name, durationMs / 1000, failed);
      } catch (error) {
        log.warn({ implementation: name, error: (error as Error).message }, 'task observer failed');
      }
    };
    return (activity: { type: string; id: string; name?: string; behaviour: Record<string, unknown> }) => {
      if (activity.type !== 'bpmn:ServiceTask') return undefined;
      const name = implementationName(activity.behaviour)!;
      const implementation = implementations[name]!;
      const activityInfo = { id: activity.id, name: activity.name ?? activity.id };
      activity.behaviour.Service = function BoundService(this: { execute: unknown }) {
        this.execute = (_message: unknown, callback: (error: Error | null, result?: unknown) => void) => {
          const started = performance.now();
          const environment = (activity as unknown as { environment: { output: Record<string, unknown> } })
            .environment;
          Promise.resolve()
            .then(() => implementation({ token, output, services, run, log, activity: activityInfo }))
            .then(
              (result) => {
                const value = result ?? {};
                output[name] = value;
                environment.output[name] = value;
                const durationMs = performance.now() - started;
                reportEnd(name, durationMs, false);
                log.debug(
                  {
                    activity: activity.id,
                    implementation: name,
                    durationMs,
                    outcome: loggableResult(value),
                  },
                  `${activityInfo.name}: done`,
                );
                callback(null, value);
              },
              (failure: Error) => {
                const retryAt = retryAtOf(failure);
                const recorded: RecordedError = {
                  activityId: activityInfo.id,
                  activityName: activityInfo.name,
                  implementation: name,
                  message: failure.message,
                  ...(retryAt !== undefined && { retryAt }),
                };
                output.error = recorded;
                environment.output.error = recorded;
                const durationMs = performance.now() - started;
                reportEnd(name, durationMs, true);
                log.warn(
                  {
                    activity: activity.id,
                    implementation: name,
                    durationMs,
                    error: failure.message,
                  },
                  `${activityInfo.name}: failed`,
                );
                callback(failure);
              },
            );
        };
      };
      return undefined;
    };
  }
}
