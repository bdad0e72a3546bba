/**
 * Pins k8s.io/kubernetes in this Go module at a version: `node test/tools/kubernetes/pin.ts v1.37.2`.
 *
 * k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, ...) at v0.0.0 and replaces
 * them with ./staging directories that exist only in its own repository. So this module replaces every
 * `k8s.io/X v0.0.0` that the published go.mod requires with the published `k8s.io/X v0.<minor>.<patch>`,
 * reading the list from that go.mod, then lets `go mod tidy` settle the rest.
 */
import { fileURLToPath } from 'node:url';
import { runGo } from '../../support/binaries.ts';

/** A go.mod as `go mod edit -json` prints it, reduced to what is read here. */
interface GoModJson {
  Require?: { Path: string; Version: string }[];
  Replace?: { Old: { Path: string } }[];
}

const moduleDir = fileURLToPath(new URL('.', import.meta.url));
const version = process.argv[2] ?? '';
if (!/^v1\.\d+\.\d+$/.test(version)) {
  process.stderr.write('usage: node test/tools/kubernetes/pin.ts v1.MINOR.PATCH\n');
  process.exit(2);
}
const stagingVersion = version.replace(/^v1\./, 'v0.');

process.stderr.write(`downloading k8s.io/kubernetes@${version}\n`);
const download = JSON.parse(
  await runGo(['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], moduleDir),
) as {
  GoMod: string;
};
const published = JSON.parse(await runGo(['mod', 'edit', '-json', download.GoMod], moduleDir)) as GoModJson;
const staging = (published.Require ?? [])
  .filter((r) => r.Path.startsWith('k8s.io/') && r.Version === 'v0.0.0')
  .map((r) => r.Path);

const current = JSON.parse(await runGo(['mod', 'edit', '-json'], moduleDir)) as GoModJson;
const stale = (current.Replace ?? []).map((r) => r.Old.Path).filter((path) => path.startsWith('k8s.io/'));
await runGo(
  [
    'mod',
    'edit',
    `-require=k8s.io/kubernetes@${version}`,
    ...stale.map((path) => `-dropreplace=${path}`),
    ...staging.map((path) => `-replace=${path}=${path}@${stagingVersion}`),
  ],
  moduleDir,
);
process.stderr.write(
  `replaced ${staging.length} staging modules with ${stagingVersion}; running go mod tidy\n`,
);
await runGo(['mod', 'tidy'], moduleDir);
