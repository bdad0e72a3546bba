/**
 * `npm run build`: bundles the issuance Job's two programs, `jobs/main.ts` → `dist/issue.mjs` and
 * `jobs/respond.ts` → `dist/respond.mjs`, which the Job's containers run. A bundle is plain JavaScript in
 * one file: the Job's Node neither strips types from its TypeScript files nor resolves them one by one
 * (measured in docs/architecture.md: a Job starts in 0.17 s of CPU instead of 0.26 s). The operator, which
 * starts once, runs its sources: bundled, its watches delivered events about a second late (measured, not
 * explained; docs/decisions.md). Every dependency is in it, so the Job resolves
 * no package at run time, and each package once: axios, which acme-client `require`s (its CommonJS build)
 * and src/acme/transport.ts `import`s (its ES module build), is the CommonJS build for both.
 *
 * The tests build before they start a Job (a sandbox, the Job harness), so a bundle is never older than
 * the sources; the build writes each file beside its target and renames it, so test files building at once
 * never leave a Job a half-written program. A process builds once (the sources do not change under a
 * running test), then stops esbuild's service process: a test that counts its children finds none left.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build, stop, type Plugin } from 'esbuild';

/** The project's root directory. */
const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Where the bundles go; one level below the root, as `jobs/` is, so `../processes/` still finds the diagrams. */
export const PROGRAM_DIR = fileURLToPath(new URL('../dist/', import.meta.url));

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
    entryPoints: { issue: 'jobs/main.ts', respond: 'jobs/respond.ts' },
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
  await mkdir(PROGRAM_DIR, { recursive: true });
  for (const file of result.outputFiles) {
    const partial = `${file.path}.${randomBytes(4).toString('hex')}.partial`;
    await writeFile(partial, file.contents);
    await rename(partial, file.path);
  }
}

if (import.meta.main) {
  const started = performance.now();
  await buildPrograms();
  console.log(`built dist/issue.mjs and dist/respond.mjs in ${Math.round(performance.now() - started)} ms`);
}
