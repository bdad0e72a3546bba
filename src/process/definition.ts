/**
 * A BPMN diagram loaded once and checked against the task implementations, shared by every run.
 *
 * Service tasks bind to implementations the way Camunda Modeler writes them,
 * `camunda:expression="${environment.services.name}"`, or bpmn-engine's own
 * `implementation="${environment.services.name}"`. A diagram naming an implementation that tasks/ does
 * not provide fails here, at start, naming the element and the missing name.
 */
import BpmnModdle from 'bpmn-moddle';
import camundaSchema from 'camunda-bpmn-moddle/resources/camunda.json' with { type: 'json' };
import * as Elements from 'bpmn-elements';
import serializer, { TypeResolver } from 'moddle-context-serializer';
import { parseCycle, type Cycle } from '../duration.ts';

/** The moddle schemas a diagram is read with: BPMN plus Camunda's extensions. */
export const moddleOptions = { camunda: camundaSchema };

const kCounters = Symbol.for('counters');

/**
 * A sequence flow that does not propagate a discard. bpmn-elements runs "dead path elimination": every
 * element behind a flow a gateway did not take goes through a full discard run, which on the lifecycle
 * diagram's valid path was 16 discard runs for 6 real ones, most of a run's cost (docs/architecture.md).
 * Only joins of parallel and inclusive gateways need those discards, and diagrams with such joins are
 * refused at load (below), so the discard is only counted.
 */
function QuietSequenceFlow(this: Record<symbol, { discard: number }>, ...args: unknown[]) {
  (Elements.SequenceFlow as unknown as (...a: unknown[]) => void).apply(this, args);
}
QuietSequenceFlow.prototype = Object.create(
  (Elements.SequenceFlow as unknown as { prototype: object }).prototype,
);
QuietSequenceFlow.prototype.constructor = QuietSequenceFlow;
QuietSequenceFlow.prototype.discard = function discard(this: Record<symbol, { discard: number }>) {
  this[kCounters]!.discard += 1;
};

/** Element types that replace bpmn-elements' own; pass them to every Engine that recovers a state too. */
export const elementOverrides = { SequenceFlow: QuietSequenceFlow };

/** A diagram that cannot run; the message names the element and the fix. */
export class DefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DefinitionError';
  }
}

/** A service task and the implementation it names. */
export interface BoundServiceTask {
  id: string;
  name: string;
  implementation: string;
}

/** A parsed, checked diagram. */
export interface ProcessDefinition {
  /** Where it came from, for logs. */
  name: string;
  /** bpmn-engine's serialized context: parsed once, given to every Engine. */
  sourceContext: ReturnType<typeof serializer>;
  serviceTasks: BoundServiceTask[];
  /** Id of the start event a message run starts at (the first message start event), if any. */
  messageStartId: string | undefined;
  /** Ids of the message start events by the name of their message (`bpmn:message` name, else id). */
  messageStarts: ReadonlyMap<string, string>;
  /** Id of the start event a periodic run starts at (the first timer start event), if any. */
  timerStartId: string | undefined;
  /** Ids of all start events. */
  startIds: string[];
  /** The cycle of the first timer start event, as written in the diagram. */
  timerCycle: Cycle | undefined;
}

const serviceExpression = /^\$\{\s*environment\.services\.([A-Za-z_$][\w$]*)\s*\}$/;

/** The implementation name of a service task's expression, or undefined when it names none. */
export function implementationName(behaviour: Record<string, unknown>): string | undefined {
  const expression = behaviour.expression ?? behaviour.implementation;
  if (typeof expression !== 'string') return undefined;
  return serviceExpression.exec(expression.trim())?.[1];
}

interface Element {
  id: string;
  type: string;
  name?: string;
  behaviour: Record<string, unknown> & {
    eventDefinitions?: { type: string; behaviour?: Record<string, unknown> }[];
  };
}

/** Parses and checks a diagram against the names of the implementations available. */
export async function loadDefinition(
  xml: string,
  name: string,
  implementations: ReadonlySet<string>,
): Promise<ProcessDefinition> {
  const moddle = new BpmnModdle(moddleOptions);
  let parsed: Awaited<ReturnType<typeof moddle.fromXML>>;
  try {
    parsed = await moddle.fromXML(xml);
  } catch (error) {
    throw new DefinitionError(`${name}: not a BPMN 2.0 diagram (${(error as Error).message})`);
  }
  for (const warning of (parsed.warnings ?? []) as unknown as { message: string }[]) {
    if (/unresolved reference|unparsable content/i.test(warning.message)) {
      throw new DefinitionError(`${name}: ${warning.message}`);
    }
  }
  const sourceContext = serializer(
    parsed,
    TypeResolver({ ...Elements, ...elementOverrides } as unknown as typeof Elements),
  );
  if (sourceContext.getExecutableProcesses().length !== 1) {
    throw new DefinitionError(`${name}: expected exactly one executable process (isExecutable="true")`);
  }
  const activities = sourceContext.getActivities() as unknown as Element[];
  const serviceTasks: BoundServiceTask[] = [];
  const available = [...implementations].sort().join(', ');
  for (const activity of activities) {
    if (activity.type !== 'bpmn:ServiceTask') continue;
    const implementation = implementationName(activity.behaviour);
    const label = `service task "${activity.name ?? activity.id}" (id ${activity.id})`;
    if (implementation === undefined) {
      throw new DefinitionError(
        `${name}: ${label} has no implementation: set its expression to \${environment.services.<name>} with one of ${available}`,
      );
    }
    if (!implementations.has(implementation)) {
      throw new DefinitionError(
        `${name}: ${label} names implementation "${implementation}", which tasks/ does not provide (available: ${available})`,
      );
    }
    serviceTasks.push({ id: activity.id, name: activity.name ?? activity.id, implementation });
  }
  for (const activity of activities) {
    if (activity.type !== 'bpmn:ParallelGateway' && activity.type !== 'bpmn:InclusiveGateway') continue;
    const incoming = sourceContext.getInboundSequenceFlows(activity.id).length;
    if (incoming > 1) {
      throw new DefinitionError(
        `${name}: gateway "${activity.name ?? activity.id}" (id ${activity.id}) joins ${incoming} flows: joining parallel or inclusive gateways are not supported (see docs/architecture.md); use an exclusive gateway to merge`,
      );
    }
  }
  const startEvents = activities.filter((activity) => activity.type === 'bpmn:StartEvent');
  const hasDefinition = (event: Element, type: string) =>
    (event.behaviour.eventDefinitions ?? []).some((definition) => definition.type === type);
  const messageStartId = startEvents.find((event) => hasDefinition(event, 'bpmn:MessageEventDefinition'))?.id;
  const messageStarts = new Map<string, string>();
  for (const event of startEvents) {
    for (const definition of event.behaviour.eventDefinitions ?? []) {
      const message = definition.behaviour?.messageRef as { id?: string; name?: string } | undefined;
      const messageName = message?.name ?? message?.id;
      if (definition.type === 'bpmn:MessageEventDefinition' && messageName !== undefined) {
        if (!messageStarts.has(messageName)) messageStarts.set(messageName, event.id);
      }
    }
  }
  const timerStartId = startEvents.find((event) => hasDefinition(event, 'bpmn:TimerEventDefinition'))?.id;
  const timer = sourceContext
    .getTimers()
    .find((candidate) => candidate.parent?.id === timerStartId && candidate.timer.timerType === 'timeCycle');
  let timerCycle: Cycle | undefined;
  if (timer !== undefined) {
    timerCycle = parseCycle(String(timer.timer.value));
    if (timerCycle === undefined) {
      throw new DefinitionError(
        `${name}: timer start event ${timer.parent?.id} has cycle "${timer.timer.value}": expected an ISO 8601 cycle such as R/PT1H`,
      );
    }
  }
  return {
    name,
    sourceContext,
    serviceTasks,
    messageStartId,
    messageStarts,
    timerStartId,
    startIds: startEvents.map((event) => event.id),
    timerCycle,
  };
}
