/**
 * `kube-lego status [namespace/secret | namespace] [-o json] [--operator-namespace NS]`: the managed
 * certificates of the cluster of the current kubeconfig context, as a table (coloured on a TTY) or JSON.
 * Exit status 0, or 1 when a named certificate is not managed, 2 for bad arguments.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { formatTable } from '../view/certificate-table.ts';
import { parseArguments } from './arguments.ts';
import { certificateStatuses } from './certificate-statuses.ts';

const USAGE = `usage: kube-lego status [namespace/secret | namespace] [-o json|table] [--operator-namespace NS]
  Shows the certificates kube-lego manages: hosts, expiry, renewal time, state, Ingress, last Event.
`;

async function main(): Promise<number> {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === 'string') {
    process.stderr.write(`kube-lego: ${parsed}\n${USAGE}`);
    return 2;
  }
  if (parsed.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const kube = new KubeConfig();
  kube.loadFromDefault();
  const [namespace, secret] = parsed.target?.split('/') ?? [];
  const rows = (
    await certificateStatuses(kube, {
      operatorNamespace: parsed.operatorNamespace,
      ...(namespace !== undefined && { namespace }),
    })
  ).filter((row) => secret === undefined || row.secret === secret);
  if (parsed.output === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else process.stdout.write(formatTable(rows, { colour: process.stdout.isTTY === true }));
  if (secret !== undefined && rows.length === 0) {
    process.stderr.write(`kube-lego: no annotated Ingress claims Secret ${parsed.target}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`kube-lego: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
