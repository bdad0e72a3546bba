/**
 * `npm run build`: bundles the issuance Job's two programs, `jobs/main.ts` → `dist/issue.mjs` and
 * `jobs/respond.ts` → `dist/respond.mjs`, which the Job's containers run. A bundle is plain JavaScript in
 * one file: the Job's Node neither strips types from ~60 TypeScript files nor resolves them one by one
 * (start-up and memory measured in docs/architecture.md). acme-client and axios stay outside it, loaded
 * from node_modules as without a bundle: src/acme/transport.ts takes the HTTP adapter of the very axios
 * acme-client resolves, so there must be one.
 *
 * The tests build before they start a Job (a sandbox, the Job harness), so a bundle is never older than
 * the sources; the build writes each file beside its target and renames it, so test files building at once
 * never leave a Job a half-written program.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The project's root directory. */
const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Where the bundles go; one level below the root, as `jobs/` is, so `../processes/` still finds the diagrams. */
export const JOB_PROGRAM_DIR = fileURLToPath(new URL('../dist/', import.meta.url));

/** Builds both bundles into {@link JOB_PROGRAM_DIR}. */
export async function buildJobPrograms(): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { issue: 'jobs/main.ts', respond: 'jobs/respond.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    outdir: JOB_PROGRAM_DIR,
    outExtension: { '.js': '.mjs' },
    external: ['acme-client', 'axios'],
    // Bundled CommonJS modules call require(): an ES module has none of its own.
    banner: {
      js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);",
    },
    write: false,
    logLevel: 'warning',
  });
  await mkdir(JOB_PROGRAM_DIR, { recursive: true });
  for (const file of result.outputFiles) {
    const partial = `${file.path}.${randomBytes(4).toString('hex')}.partial`;
    await writeFile(partial, file.contents);
    await rename(partial, file.path);
  }
}

if (import.meta.main) {
  const started = performance.now();
  await buildJobPrograms();
  console.log(`built dist/issue.mjs and dist/respond.mjs in ${Math.round(performance.now() - started)} ms`);
}
