/**
 * The workload of the process kubelet's tests, run as the image `test/workload` (`node workload.ts <mode> ...`).
 * Results go back through the termination message (`$KUBELET_TERMINATION_LOG`), which the kubelet reports
 * in the pod status, so a test reads them from the API as it would from a real cluster.
 *
 * Modes:
 * - `complete <message>`: writes the message, exits 0.
 * - `fail <code> <line>`: prints the line to stderr and exits with the code (the message stays empty).
 * - `env <NAME>...`: writes `{ NAME: value }` of the named variables as JSON, exits 0.
 * - `read <env var> <file>`: writes the content of `$<env var>/<file>`, exits 0.
 * - `whoami <cluster|default>`: asks the API server who it is (SelfSubjectReview), with in-cluster config
 *   from `$KUBELET_ROOT` or the default loading (KUBECONFIG), and writes the username.
 * - `flaky <dir env var>`: fails the first time (leaving a marker in that directory), succeeds the next.
 * - `serve <port>`: HTTP on `$POD_IP:<port>`, answering `<pod name> <method> <path>` (and /healthz), until
 *   SIGTERM.
 * - `sleep`: prints its pid and waits for ever.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [mode = '', ...args] = process.argv.slice(2);

function terminate(message: string, code = 0): never {
  writeFileSync(process.env.KUBELET_TERMINATION_LOG ?? '/dev/null', message);
  process.exit(code);
}

switch (mode) {
  case 'complete':
    console.log(`completing with ${args[0]}`);
    terminate(args[0] ?? '');
    break;
  case 'fail':
    console.error(args[1] ?? 'failing');
    process.exit(Number(args[0] ?? 1));
    break;
  case 'env':
    terminate(JSON.stringify(Object.fromEntries(args.map((name) => [name, process.env[name] ?? null]))));
    break;
  case 'read':
    terminate(readFileSync(join(process.env[args[0] ?? ''] ?? '/nonexistent', args[1] ?? ''), 'utf8'));
    break;
  case 'whoami': {
    // Imported here only: loading the client takes a while, and only this mode needs it.
    const { AuthenticationV1Api, KubeConfig } = await import('@kubernetes/client-node');
    const config = new KubeConfig();
    if (args[0] === 'cluster') config.loadFromCluster(process.env.KUBELET_ROOT);
    else config.loadFromDefault();
    const review = await config.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    terminate(review.status?.userInfo?.username ?? '');
    break;
  }
  case 'flaky': {
    const marker = join(process.env[args[0] ?? ''] ?? '/nonexistent', 'tried');
    if (existsSync(marker)) terminate('second time lucky');
    writeFileSync(marker, 'x');
    terminate('first attempt fails', 1);
    break;
  }
  case 'serve': {
    const ip = process.env.POD_IP ?? '127.0.0.1';
    const server = createServer((request, response) => {
      response.end(`${process.env.POD_NAME} ${request.method} ${request.url}`);
    });
    server.listen(Number(args[0] ?? 8080), ip, () => console.log(`listening on ${ip}:${args[0]}`));
    process.on('SIGTERM', () => process.exit(0));
    break;
  }
  case 'sleep':
    console.log(`pid ${process.pid}`);
    setInterval(() => {}, 1 << 30);
    break;
  default:
    terminate(`unknown mode ${mode}`, 2);
}
