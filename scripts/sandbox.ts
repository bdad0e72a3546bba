/**
 * `npm run sandbox -- up|down|status`: the local cluster (see test/support/sandbox.ts) as a background
 * service, for trying kube-lego by hand with kubectl. `up` starts it (kube-lego installed from
 * manifests/install.yml, pointed at Pebble) and prints the kubeconfig; `status` says what runs; `down`
 * stops it. State is kept in .sandbox/ (ignored by git).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const STATE_DIR = fileURLToPath(new URL('../.sandbox/', import.meta.url));
const STATE_FILE = `${STATE_DIR}state.json`;

/** What `up` leaves for `status` and `down`. */
interface SandboxState {
  pid: number;
  kubeconfig: string;
  directoryUrl: string;
  routerUrl: string;
  logDir: string;
  startedAt: string;
}

async function readState(): Promise<SandboxState | undefined> {
  try {
    return JSON.parse(await readFile(STATE_FILE, 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the sandbox in this process until SIGTERM (what `up` starts in the background). */
async function serve(): Promise<void> {
  const { installKubeLego, startSandbox } = await import('../test/support/sandbox.ts');
  const sandbox = await startSandbox();
  await installKubeLego(sandbox);
  const state: SandboxState = {
    pid: process.pid,
    kubeconfig: sandbox.controlPlane.kubeconfigPath,
    directoryUrl: sandbox.pebble.directoryUrl,
    routerUrl: sandbox.router.url,
    logDir: sandbox.logDir,
    startedAt: new Date().toISOString(),
  };
  await writeFile(STATE_FILE, JSON.stringify(state, null, 2));
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await sandbox.stop();
  await rm(STATE_FILE, { force: true });
}

async function up(): Promise<void> {
  const running = await readState();
  if (running && alive(running.pid)) {
    console.log(`already up (pid ${running.pid}); KUBECONFIG=${running.kubeconfig}`);
    return;
  }
  await mkdir(STATE_DIR, { recursive: true });
  await rm(STATE_FILE, { force: true });
  const log = openSync(`${STATE_DIR}sandbox.log`, 'w');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  console.log(`starting (pid ${child.pid}); log: .sandbox/sandbox.log`);
  const deadline = Date.now() + 30 * 60_000;
  while (Date.now() < deadline) {
    const state = await readState();
    if (state) {
      console.log(`up: export KUBECONFIG=${state.kubeconfig}`);
      console.log(`ACME directory (Pebble): ${state.directoryUrl}; ingress router: ${state.routerUrl}`);
      return;
    }
    if (child.exitCode !== null || !alive(child.pid!)) {
      throw new Error(`the sandbox exited while starting: see .sandbox/sandbox.log`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the sandbox did not come up within 30 minutes: see .sandbox/sandbox.log');
}

async function down(): Promise<void> {
  const state = await readState();
  if (!state || !alive(state.pid)) {
    console.log('not running');
    await rm(STATE_FILE, { force: true });
    return;
  }
  process.kill(state.pid, 'SIGTERM');
  while (alive(state.pid)) await new Promise((resolve) => setTimeout(resolve, 200));
  console.log('stopped');
}

async function status(): Promise<void> {
  const state = await readState();
  if (!state || !alive(state.pid)) {
    console.log('not running');
    process.exitCode = 3;
    return;
  }
  const { KubeConfig, CoreV1Api } = await import('@kubernetes/client-node');
  const kube = new KubeConfig();
  kube.loadFromFile(state.kubeconfig);
  const pods = await kube.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'kube-lego' });
  console.log(`up since ${state.startedAt} (pid ${state.pid}); KUBECONFIG=${state.kubeconfig}`);
  for (const pod of pods.items) console.log(`  pod kube-lego/${pod.metadata?.name}: ${pod.status?.phase}`);
}

const commands: Record<string, () => Promise<void>> = { up, down, status, serve };
const command = commands[process.argv[2] ?? ''];
if (command === undefined) {
  console.error('usage: npm run sandbox -- up|down|status');
  process.exit(2);
}
await command();
