/**
 * The issuance Job's work: one run of processes/issue-certificate.bpmn for the order in the environment.
 * Kept apart from main.ts so tests can run it in-process with their own stores.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { STEP_FIELD, type IssuanceOrder } from '../src/issuance/job-contract.ts';
import type { Logger } from '../src/log.ts';
import { loadDefinition } from '../src/process/definition.ts';
import { ProcessRunner, type RunResult } from '../src/process/runner.ts';
import { issuanceTasks } from '../tasks/issuance/index.ts';
import type { IssuanceServices, IssuanceToken } from '../tasks/issuance/services.ts';

/** The shipped issue-certificate diagram. */
export const ISSUE_CERTIFICATE_BPMN = fileURLToPath(
  new URL('../processes/issue-certificate.bpmn', import.meta.url),
);

/** Runs the issue-certificate process once; never rejects (failures end at "failed"). */
export async function issueCertificate(
  order: IssuanceOrder,
  services: IssuanceServices,
  log: Logger,
  diagramPath = ISSUE_CERTIFICATE_BPMN,
): Promise<RunResult> {
  const definition = await loadDefinition(
    await readFile(diagramPath, 'utf8'),
    'issue-certificate',
    new Set(Object.keys(issuanceTasks)),
  );
  // Each element the token enters is logged as the Job's step: the operator's process view reads the
  // last one from the pod's log (src/kube/issuance-steps.ts) to show where a running Job stands.
  const runner = new ProcessRunner<IssuanceServices, IssuanceToken>(
    definition,
    issuanceTasks,
    services,
    log,
    {
      onActivity: ({ element, type, phase }) => {
        // A boundary event is entered as its task starts, to listen: the step is the task.
        if (phase === 'enter' && type !== 'bpmn:BoundaryEvent') {
          log.info({ [STEP_FIELD]: element }, `step ${element}`);
        }
      },
    },
  );
  return runner.run({ start: 'none', token: order, key: `${order.namespace}/${order.secretName}` });
}
