/**
 * Renders a BPMN diagram's own layout (its BPMN DI) to SVG, for the README: `npm run diagram`.
 * It draws what Camunda Modeler draws in outline: events, tasks, gateways, flows and labels.
 *
 * Usage: `node scripts/render-diagram.ts` renders every processes/<name>.bpmn to docs/<name>.svg.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import BpmnModdle from 'bpmn-moddle';
import { moddleOptions } from '../src/process/definition.ts';

interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Element {
  $type: string;
  id: string;
  name?: string;
  eventDefinitions?: { $type: string }[];
  default?: { id: string };
  sourceRef?: Element;
}
interface DiElement {
  $type: string;
  bpmnElement: Element;
  bounds?: Bounds;
  waypoint?: { x: number; y: number }[];
  label?: { bounds?: Bounds };
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function text(x: number, y: number, content: string, anchor = 'middle'): string {
  return `<text x="${x}" y="${y}" text-anchor="${anchor}" font-family="Arial, sans-serif" font-size="12">${escape(content)}</text>`;
}

/** Word-wraps a task name into the box, centred. */
function taskLabel(bounds: Bounds, name: string): string {
  const words = name.split(' ');
  const lines: string[] = [];
  for (const word of words) {
    const last = lines.at(-1);
    if (last !== undefined && (last + ' ' + word).length <= 14) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  const top = bounds.y + bounds.height / 2 - ((lines.length - 1) * 14) / 2 + 4;
  return lines.map((line, index) => text(bounds.x + bounds.width / 2, top + index * 14, line)).join('');
}

function eventIcon(cx: number, cy: number, definition: string | undefined): string {
  if (definition === 'bpmn:MessageEventDefinition') {
    return `<rect x="${cx - 9}" y="${cy - 6}" width="18" height="12" fill="none" stroke="#222"/><polyline points="${cx - 9},${cy - 6} ${cx},${cy + 1} ${cx + 9},${cy - 6}" fill="none" stroke="#222"/>`;
  }
  if (definition === 'bpmn:TimerEventDefinition') {
    return `<circle cx="${cx}" cy="${cy}" r="10" fill="none" stroke="#222"/><polyline points="${cx},${cy - 7} ${cx},${cy} ${cx + 5},${cy + 3}" fill="none" stroke="#222"/>`;
  }
  if (definition === 'bpmn:ErrorEventDefinition') {
    return `<polygon points="${cx - 7},${cy + 8} ${cx - 3},${cy - 7} ${cx + 1},${cy + 1} ${cx + 7},${cy - 8} ${cx + 3},${cy + 7} ${cx - 1},${cy - 1}" fill="none" stroke="#222"/>`;
  }
  return '';
}

function shape(di: DiElement): string {
  const element = di.bpmnElement;
  const b = di.bounds!;
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  const label = (fallback: string) =>
    element.name
      ? di.label?.bounds
        ? text(di.label.bounds.x + di.label.bounds.width / 2, di.label.bounds.y + 11, element.name)
        : fallback
      : '';
  const definition = element.eventDefinitions?.[0]?.$type;
  switch (element.$type) {
    case 'bpmn:StartEvent':
      return `<circle cx="${cx}" cy="${cy}" r="18" fill="#fff" stroke="#222" stroke-width="2"/>${eventIcon(cx, cy, definition)}${label(text(cx, b.y + b.height + 16, element.name ?? ''))}`;
    case 'bpmn:EndEvent':
      return `<circle cx="${cx}" cy="${cy}" r="17" fill="#fff" stroke="#222" stroke-width="4"/>${label(text(cx, b.y + b.height + 16, element.name ?? ''))}`;
    case 'bpmn:BoundaryEvent':
      return `<circle cx="${cx}" cy="${cy}" r="18" fill="#fff" stroke="#222" stroke-width="1.5"/><circle cx="${cx}" cy="${cy}" r="15" fill="none" stroke="#222" stroke-width="1.5"/>${eventIcon(cx, cy, definition)}`;
    case 'bpmn:ExclusiveGateway':
      return `<polygon points="${cx},${b.y} ${b.x + b.width},${cy} ${cx},${b.y + b.height} ${b.x},${cy}" fill="#fff" stroke="#222" stroke-width="2"/><path d="M${cx - 8},${cy - 8} L${cx + 8},${cy + 8} M${cx + 8},${cy - 8} L${cx - 8},${cy + 8}" stroke="#222" stroke-width="3"/>${label(text(cx, b.y - 8, element.name ?? ''))}`;
    default:
      return `<rect x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" rx="10" fill="#fff" stroke="#222" stroke-width="2"/>${element.$type === 'bpmn:ServiceTask' ? `<circle cx="${b.x + 13}" cy="${b.y + 13}" r="6" fill="none" stroke="#222"/><circle cx="${b.x + 13}" cy="${b.y + 13}" r="2" fill="#222"/>` : ''}${taskLabel(b, element.name ?? element.id)}`;
  }
}

function edge(di: DiElement): string {
  const points = di.waypoint ?? [];
  const flow = di.bpmnElement;
  const path = points.map((point) => `${point.x},${point.y}`).join(' ');
  const [first, second] = points;
  const isDefault = flow.sourceRef?.default?.id === flow.id && first !== undefined && second !== undefined;
  let marker = '';
  if (isDefault) {
    const angle = Math.atan2(second.y - first.y, second.x - first.x);
    const mx = first.x + Math.cos(angle) * 10;
    const my = first.y + Math.sin(angle) * 10;
    marker = `<line x1="${mx - 5}" y1="${my + 5}" x2="${mx + 5}" y2="${my - 5}" stroke="#222" stroke-width="1.5"/>`;
  }
  const label =
    flow.name && di.label?.bounds
      ? text(di.label.bounds.x + di.label.bounds.width / 2, di.label.bounds.y + 11, flow.name)
      : '';
  return `<polyline points="${path}" fill="none" stroke="#222" stroke-width="1.5" marker-end="url(#arrow)"/>${marker}${label}`;
}

/** The SVG of a diagram's first plane. */
export async function renderDiagram(xml: string): Promise<string> {
  const { rootElement } = await new BpmnModdle(moddleOptions).fromXML(xml);
  const plane = (rootElement as unknown as { diagrams: { plane: { planeElement: DiElement[] } }[] })
    .diagrams[0]!.plane;
  const elements = plane.planeElement;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const di of elements) {
    for (const point of [
      ...(di.waypoint ?? []),
      ...(di.bounds
        ? [di.bounds, { x: di.bounds.x + di.bounds.width, y: di.bounds.y + di.bounds.height }]
        : []),
      ...(di.label?.bounds
        ? [di.label.bounds, { x: di.label.bounds.x + di.label.bounds.width, y: di.label.bounds.y + 20 }]
        : []),
    ]) {
      xs.push(point.x);
      ys.push(point.y);
    }
  }
  const minX = Math.min(...xs) - 20;
  const minY = Math.min(...ys) - 20;
  const width = Math.max(...xs) - minX + 20;
  const height = Math.max(...ys) - minY + 20;
  const edges = elements.filter((di) => di.$type === 'bpmndi:BPMNEdge').map(edge);
  const shapes = elements
    .filter((di) => di.$type === 'bpmndi:BPMNShape')
    .sort(
      (a, b) =>
        Number(a.bpmnElement.$type === 'bpmn:BoundaryEvent') -
        Number(b.bpmnElement.$type === 'bpmn:BoundaryEvent'),
    )
    .map(shape);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${minX} ${minY} ${width} ${height}" width="${width}" height="${height}">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker></defs>`,
    `<rect x="${minX}" y="${minY}" width="${width}" height="${height}" fill="#fff"/>`,
    ...edges,
    ...shapes,
    '</svg>',
    '',
  ].join('\n');
}

/** The diagrams shipped, and where their pictures go. */
export async function shippedDiagrams(): Promise<{ bpmn: URL; svg: URL }[]> {
  const processes = new URL('../processes/', import.meta.url);
  const names = (await readdir(processes)).filter((name) => name.endsWith('.bpmn')).sort();
  return names.map((name) => ({
    bpmn: new URL(name, processes),
    svg: new URL(`../docs/${name.replace(/\.bpmn$/, '.svg')}`, import.meta.url),
  }));
}

if (import.meta.main) {
  for (const { bpmn, svg } of await shippedDiagrams()) {
    await writeFile(svg, await renderDiagram(await readFile(bpmn, 'utf8')));
    process.stdout.write(`${svg.pathname} written\n`);
  }
}
