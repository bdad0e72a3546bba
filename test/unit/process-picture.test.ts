/** The README's process picture is rendered from the diagram and kept in step with it. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { renderDiagram } from '../../scripts/render-diagram.ts';

it('docs/certificate-lifecycle.svg is the current rendering of the diagram (npm run diagram)', async () => {
  const xml = await readFile(new URL('../../processes/certificate-lifecycle.bpmn', import.meta.url), 'utf8');
  const committed = await readFile(new URL('../../docs/certificate-lifecycle.svg', import.meta.url), 'utf8');
  const rendered = await renderDiagram(xml);
  assert.ok(rendered.includes('Deduplicate') && rendered.includes('Certificate valid?'));
  assert.equal(committed, rendered, 'the picture is stale: run npm run diagram');
});
