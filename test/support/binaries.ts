/**
 * Builds the Go programs the tests run (Pebble, etcd, kube-apiserver, kube-controller-manager, Traefik) from the
 * Go modules under test/tools, on demand, into a cache outside the repository:
 * `${KUBE_LEGO_BIN_CACHE:-${XDG_CACHE_HOME:-~/.cache}/kube-lego/bin}/<version>/<name>`, where <version>
 * is the version of the module the program comes from (as test/tools/<module>/go.mod requires it).
 *
 * Cold builds are slow (measured on 2 cores: Pebble 40 s, etcd 1.3 min, kube-apiserver with
 * kube-controller-manager 15 min and about 4 GB of memory, Traefik 9.5 min and 3.2 GB), so progress goes
 * to stderr, and a lock
 * file per version directory makes concurrent test processes wait for one build instead of repeating it.
 *
 * CLI, to prebuild: `node test/support/binaries.ts pebble pebble-challtestsrv etcd kube-apiserver kube-controller-manager`
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import {
  access,
  chmod,
  copyFile,
  cp,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory holding one Go module per source of binaries. */
const TOOLS_DIR = fileURLToPath(new URL('../tools/', import.meta.url));

/** How a Go module under test/tools is built. */
interface ModuleSpec {
  /** The required module whose version names the cache directory. */
  readonly versionOf: string;
  /** Linker flags that stamp `version` into the binaries. */
  readonly stamp: (version: string) => string[];
  /** Makes what the module's go.mod replaces with local directories that are not in the repository. */
  readonly prepare?: (moduleDir: string) => Promise<void>;
}

/** Version variables of Kubernetes' binaries; client-go has its own twin of component-base's. */
function kubernetesStamp(version: string): string[] {
  const [major = '', minor = ''] = version.replace(/^v/, '').split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
}

/**
 * Traefik's lego with DNS-01 left out (test/tools/traefik/go.mod says why): lego's own module, from the
 * module cache, copied to build/lego with its generated list of DNS providers replaced by our stub. Made
 * once per lego version (a marker file names it).
 */
async function prepareTraefik(moduleDir: string): Promise<void> {
  const legoPath = 'github.com/go-acme/lego/v5';
  const goMod = JSON.parse(await runGo(['mod', 'edit', '-json'], moduleDir)) as {
    Require?: { Path: string; Version: string }[];
  };
  const version = goMod.Require?.find((r) => r.Path === legoPath)?.Version;
  if (!version) throw new Error(`test/tools/traefik/go.mod does not require ${legoPath}`);
  const target = join(moduleDir, 'build', 'lego');
  const marker = join(target, '.kube-lego-prepared');
  if ((await readFile(marker, 'utf8').catch(() => '')) === version) return;
  progress(`preparing ${legoPath}@${version} without its DNS providers for Traefik`);
  // Outside any module, so that go.mod's replace of lego does not apply to the download.
  const { Dir } = JSON.parse(
    await runGo(['mod', 'download', '-json', `${legoPath}@${version}`], tmpdir()),
  ) as {
    Dir: string;
  };
  await rm(target, { recursive: true, force: true });
  await cp(Dir, target, { recursive: true });
  await chmodTree(target);
  await rm(join(target, 'providers', 'dns', 'zz_gen_dns_providers.go'));
  await copyFile(
    join(moduleDir, 'stubs', 'lego-dns', 'dns_providers.go'),
    join(target, 'providers', 'dns', 'dns_providers.go'),
  );
  await writeFile(marker, version);
}

/** Makes a copy from the read-only module cache writable, so that it can be changed and removed. */
async function chmodTree(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chmodTree(path);
    else await chmod(path, 0o644);
  }
}

const MODULES = {
  pebble: { versionOf: 'github.com/letsencrypt/pebble/v2', stamp: (v) => [`-X main.version=${v}`] },
  etcd: { versionOf: 'go.etcd.io/etcd/server/v3', stamp: () => [] },
  kubernetes: { versionOf: 'k8s.io/kubernetes', stamp: kubernetesStamp },
  traefik: {
    versionOf: 'github.com/traefik/traefik/v3',
    stamp: (v) => [`-X github.com/traefik/traefik/v3/pkg/version.Version=${v}`],
    prepare: prepareTraefik,
  },
} as const satisfies Record<string, ModuleSpec>;

type ModuleName = keyof typeof MODULES;

/** Each binary: the module under test/tools that builds it and its package, as `go build` takes it there. */
const BINARIES = {
  pebble: { module: 'pebble', pkg: 'github.com/letsencrypt/pebble/v2/cmd/pebble' },
  'pebble-challtestsrv': {
    module: 'pebble',
    pkg: 'github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv',
  },
  etcd: { module: 'etcd', pkg: '.' },
  'kube-apiserver': { module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver' },
  'kube-controller-manager': { module: 'kubernetes', pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager' },
  traefik: { module: 'traefik', pkg: 'github.com/traefik/traefik/v3/cmd/traefik' },
} as const satisfies Record<string, { module: ModuleName; pkg: string }>;

/** Name of a program ensureBinary can build. */
export type BinaryName = keyof typeof BINARIES;

/** Whether `name` is a program ensureBinary can build. */
function isBinaryName(name: string): name is BinaryName {
  return Object.hasOwn(BINARIES, name);
}

/** Root of the binary cache: KUBE_LEGO_BIN_CACHE, else `${XDG_CACHE_HOME:-~/.cache}/kube-lego/bin`. */
function binaryCacheRoot(): string {
  const override = process.env['KUBE_LEGO_BIN_CACHE'];
  if (override) return override;
  return join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'kube-lego', 'bin');
}

/** Prints one progress line to stderr. */
function progress(message: string): void {
  process.stderr.write(`[binaries] ${message}\n`);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let goPath: Promise<string> | undefined;

/** The go command: `go` on the PATH, else the official install location /usr/local/go/bin/go. */
function goCommand(): Promise<string> {
  goPath ??= (async () => {
    const candidates = (process.env['PATH'] ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'go'));
    for (const candidate of [...candidates, '/usr/local/go/bin/go']) {
      if (await isExecutable(candidate)) return candidate;
    }
    throw new Error('no go command: put Go (1.26 or newer) on the PATH or install it in /usr/local/go');
  })();
  return goPath;
}

/**
 * Runs `go args...` in `cwd` with CGO disabled and resolves with its stdout; `onStderrLine` sees each line of
 * stderr as it comes. Rejects with the command and the tail of stderr when go fails.
 */
export async function runGo(
  args: readonly string[],
  cwd: string,
  onStderrLine?: (line: string) => void,
): Promise<string> {
  const go = await goCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(go, args, {
      cwd,
      env: { ...process.env, CGO_ENABLED: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killChild = (): void => void child.kill('SIGKILL');
    process.once('exit', killChild);
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (onStderrLine) lines.forEach(onStderrLine);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('exit', killChild);
      if (code === 0) return resolve(stdout);
      const tail = stderr.trimEnd().split('\n').slice(-40).join('\n');
      reject(
        new Error(`go ${args.join(' ')} (in ${cwd}) failed with ${signal ?? `exit code ${code}`}:\n${tail}`),
      );
    });
  });
}

/** Version of the module that names the cache directory of `module`, as test/tools/<module>/go.mod requires it. */
async function requiredVersion(module: ModuleName): Promise<string> {
  const { versionOf } = MODULES[module];
  const goMod = JSON.parse(await runGo(['mod', 'edit', '-json'], join(TOOLS_DIR, module))) as {
    Require?: { Path: string; Version: string }[];
  };
  const version = goMod.Require?.find((r) => r.Path === versionOf)?.Version;
  if (!version) throw new Error(`test/tools/${module}/go.mod does not require ${versionOf}`);
  return version;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock file `path` (holding the owner's pid) and resolves with its release. A lock whose owner
 * is gone is taken over. Two waiters that find the same dead owner at the same moment may both take it
 * over; that costs one duplicate build, never a broken binary, since binaries are renamed into place.
 */
async function lock(path: string, what: string): Promise<() => Promise<void>> {
  const mine = `${path}.${process.pid}`;
  await writeFile(mine, String(process.pid));
  let announced = false;
  try {
    for (;;) {
      try {
        await link(mine, path);
        return () => unlink(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number(await readFile(path, 'utf8').catch(() => ''));
      if (owner && !isAlive(owner)) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      if (!announced) progress(`waiting for process ${owner || '?'} to finish its build of ${what}`);
      announced = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    await unlink(mine);
  }
}

function elapsed(since: number): string {
  const seconds = Math.round((Date.now() - since) / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** Builds `names` (all from `module`) in one `go build`, into a temporary directory, then renames them into `dir`. */
async function build(
  module: ModuleName,
  names: readonly BinaryName[],
  version: string,
  dir: string,
): Promise<void> {
  const cwd = join(TOOLS_DIR, module);
  const packages = names.map((name) => BINARIES[name].pkg);
  const what = `${names.join(', ')} ${version}`;
  const started = Date.now();
  let phase = 'downloading modules';
  let compiled = 0;
  let total = 0;
  progress(`building ${what} into ${dir}; a cold build takes minutes (Kubernetes: about 15)`);
  const ticker = setInterval(() => {
    const count = total ? `, ${compiled}/${total} packages compiled` : '';
    progress(`${what}: ${phase}${count}, ${elapsed(started)}`);
  }, 15_000);
  const scratch = await mkdtemp(join(dir, '.build-'));
  try {
    const { prepare } = MODULES[module] as ModuleSpec;
    if (prepare !== undefined) await prepare(cwd);
    total = (await runGo(['list', '-deps', ...packages], cwd)).trimEnd().split('\n').length;
    phase = 'compiling';
    const ldflags = ['-s', '-w', ...MODULES[module].stamp(version)].join(' ');
    await runGo(
      ['build', '-v', '-trimpath', '-ldflags', ldflags, '-o', `${scratch}/`, ...packages],
      cwd,
      () => compiled++,
    );
    for (const name of names) await rename(join(scratch, name), join(dir, name));
    progress(`built ${what} in ${elapsed(started)}`);
  } finally {
    clearInterval(ticker);
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Resolves with the path of each named binary, building the missing ones first (one `go build` per module,
 * under that version's lock). Binaries already in the cache are reused without running go beyond reading
 * the version from go.mod.
 */
export async function ensureBinaries<N extends BinaryName>(names: readonly N[]): Promise<Record<N, string>> {
  const paths = {} as Record<N, string>;
  const modules = new Set<ModuleName>(names.map((name) => BINARIES[name].module));
  for (const module of modules) {
    const wanted = names.filter((name) => BINARIES[name].module === module);
    const version = await requiredVersion(module);
    const dir = join(binaryCacheRoot(), version);
    for (const name of wanted) paths[name] = join(dir, name);
    const missing = async (): Promise<N[]> => {
      const present = await Promise.all(wanted.map((name) => isExecutable(paths[name])));
      return wanted.filter((_, i) => !present[i]);
    };
    if ((await missing()).length === 0) continue;
    await mkdir(dir, { recursive: true });
    const release = await lock(join(dir, '.lock'), `${module} ${version}`);
    try {
      const stillMissing = await missing();
      if (stillMissing.length > 0) await build(module, stillMissing, version, dir);
    } finally {
      await release();
    }
  }
  return paths;
}

/** Resolves with the path of binary `name`, building it first if the cache does not have it yet. */
export async function ensureBinary(name: BinaryName): Promise<string> {
  return (await ensureBinaries([name]))[name];
}

if (import.meta.main) {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !isBinaryName(name));
  if (names.length === 0 || unknown.length > 0) {
    process.stderr.write(
      `usage: node test/support/binaries.ts NAME...\n  NAME: ${Object.keys(BINARIES).join(', ')}\n` +
        (unknown.length ? `unknown: ${unknown.join(', ')}\n` : ''),
    );
    process.exit(2);
  }
  const paths = await ensureBinaries(names.filter(isBinaryName));
  for (const path of Object.values(paths)) process.stdout.write(`${path}\n`);
}
