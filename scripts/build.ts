/**
 * `npm run build`: bundles the programs the image runs: the operator, `src/main.ts` → `dist/operator.mjs`
 * (with its process view's page files beside it, `dist/page/`), and the issuance Job's two, `jobs/main.ts`
 * → `dist/issue.mjs` and `jobs/respond.ts` → `dist/respond.mjs`. A bundle is plain JavaScript in one file:
 * Node neither strips types from the TypeScript files nor resolves hundreds of modules one by one
 * (start-up and memory measured in docs/architecture.md: a Job starts in 0.17 s of CPU instead of 0.26 s,
 * and `@kubernetes/client-node` costs the operator 35 MB less resident). Every dependency is in it, so the Job resolves
 * no package at run time, and each package once: axios, which acme-client `require`s (its CommonJS build)
 * and src/acme/transport.ts `import`s (its ES module build), is the CommonJS build for both.
 *
 * The tests build before they start a Job (a sandbox, the Job harness), so a bundle is never older than
 * the sources; the build writes each file beside its target and renames it, so test files building at once
 * never leave a Job a half-written program. A process builds once (the sources do not change under a
 * running test), then stops esbuild's service process: a test that counts its children finds none left.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build, stop, type Plugin } from 'esbuild';

/** The project's root directory. */
const ROOT = fileURLToPath(new URL('../', import.meta.url));

/**
 * Where the bundles go; one level below the root, as `src/` and `jobs/` are, so `../processes/` still finds
 * the diagrams.
 */
export const PROGRAM_DIR = fileURLToPath(new URL('../dist/', import.meta.url));

/** The process view's page files (src/view/view-server.ts serves them from `page/` beside itself). */
const PAGE_SOURCE_DIR = fileURLToPath(new URL('../src/view/page/', import.meta.url));
const PAGE_DIR = join(PROGRAM_DIR, 'page');

/** The file acme-client's `require('axios')` loads. */
const ACME_CLIENTS_AXIOS = createRequire(createRequire(import.meta.url).resolve('acme-client')).resolve(
  'axios',
);

/** Resolves every import of axios to {@link ACME_CLIENTS_AXIOS}: one axios in the bundle, not two builds of it. */
const oneAxios: Plugin = {
  name: 'one-axios',
  setup(plugin) {
    plugin.onResolve({ filter: /^axios$/ }, () => ({ path: ACME_CLIENTS_AXIOS }));
  },
};

/** This process's build, once made. */
let built: Promise<void> | undefined;

/** Builds the bundles into {@link PROGRAM_DIR}, once per process. */
export function buildPrograms(): Promise<void> {
  built ??= bundle();
  return built;
}

async function bundle(): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { operator: 'src/main.ts', issue: 'jobs/main.ts', respond: 'jobs/respond.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    outdir: PROGRAM_DIR,
    outExtension: { '.js': '.mjs' },
    plugins: [oneAxios],
    // Bundled CommonJS modules call require(): an ES module has none of its own.
    banner: {
      js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);",
    },
    write: false,
    logLevel: 'warning',
  }).finally(() => stop());
  await mkdir(PAGE_DIR, { recursive: true });
  const files = [
    ...result.outputFiles.map((file) => ({ path: file.path, contents: file.contents })),
    ...(await Promise.all(
      (await readdir(PAGE_SOURCE_DIR)).map(async (name) => ({
        path: join(PAGE_DIR, name),
        contents: await readFile(join(PAGE_SOURCE_DIR, name)),
      })),
    )),
  ];
  for (const file of files) {
    const partial = `${file.path}.${randomBytes(4).toString('hex')}.partial`;
    await writeFile(partial, file.contents);
    await rename(partial, file.path);
  }
}

if (import.meta.main) {
  const started = performance.now();
  await buildPrograms();
  console.log(
    `built dist/operator.mjs, dist/issue.mjs and dist/respond.mjs in ${Math.round(performance.now() - started)} ms`,
  );
}
