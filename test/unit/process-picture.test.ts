/** The README's process pictures are rendered from the diagrams and kept in step with them. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { renderDiagram, shippedDiagrams } from '../../scripts/render-diagram.ts';

it('docs/<name>.svg is the current rendering of each processes/<name>.bpmn (npm run diagram)', async () => {
  const diagrams = await shippedDiagrams();
  assert.deepEqual(
    diagrams.map(({ svg }) => svg.pathname.split('/').pop()),
    ['certificate-lifecycle.svg', 'issue-certificate.svg'],
  );
  for (const { bpmn, svg } of diagrams) {
    const rendered = await renderDiagram(await readFile(bpmn, 'utf8'));
    assert.match(rendered, /<polyline/);
    assert.equal(await readFile(svg, 'utf8'), rendered, `${svg.pathname} is stale: run npm run diagram`);
  }
});
