// The process view's page: renders both diagrams with bpmn-js's viewer and keeps their overlays and the
// certificates table up to date from /api/stream (Server-Sent Events). Read-only.
/* global BpmnJS */

const lifecycle = new BpmnJS({ container: '#lifecycle' });
const issuance = new BpmnJS({ container: '#issuance' });
let latest;
let selected;

async function load(viewer, name) {
  const xml = await (await fetch(`/api/diagrams/${name}`)).text();
  await viewer.importXML(xml);
  viewer.get('canvas').zoom('fit-viewport');
}

const time = (ms) => (ms === undefined ? '' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function text(tag, value, className) {
  const cell = document.createElement(tag);
  cell.textContent = value ?? '';
  if (className) cell.className = className;
  return cell;
}

function badge(kind, count, title) {
  return `<span class="badge ${kind}" title="${title}">${count}</span>`;
}

/** Entries of an element for the details panel: standing, waiting, then ended. */
function entriesOf(element) {
  return [
    ...element.standing.map((entry) => ({ ...entry, how: 'running' })),
    ...element.waiting.map((entry) => ({ ...entry, how: 'waiting' })),
    ...element.ended.map((entry) => ({ ...entry, how: 'ended' })),
  ];
}

function lifecycleOverlays(snapshot) {
  const overlays = lifecycle.get('overlays');
  const registry = lifecycle.get('elementRegistry');
  overlays.remove({ type: 'kube-lego' });
  for (const [id, element] of Object.entries(snapshot.elements)) {
    if (!registry.get(id)) continue;
    const failed = id.includes('Failed') || id.includes('BackingOff');
    const html = [
      element.standing.length > 0 ? badge('standing', element.standing.length, 'runs there now') : '',
      element.waiting.length > 0 ? badge('waiting', element.waiting.length, 'waiting for their Job') : '',
      element.endedCount > 0
        ? badge(failed ? 'ended failed' : 'ended', element.endedCount, 'ended there in the last hour')
        : '',
    ].join('');
    if (html === '') continue;
    overlays.add(id, 'kube-lego', {
      position: { top: -14, right: 14 },
      html: `<div class="overlay" data-element="${id}" data-standing="${element.standing.length}" data-waiting="${element.waiting.length}" data-ended="${element.endedCount}">${html}</div>`,
    });
  }
}

function issuanceOverlays(jobs) {
  const overlays = issuance.get('overlays');
  const registry = issuance.get('elementRegistry');
  overlays.remove({ type: 'kube-lego' });
  const byStep = new Map();
  for (const job of jobs) {
    if (job.step === undefined || !registry.get(job.step)) continue;
    byStep.set(job.step, [...(byStep.get(job.step) ?? []), job]);
  }
  for (const [step, stepJobs] of byStep) {
    overlays.add(step, 'kube-lego', {
      position: { top: -14, right: 14 },
      html: `<div class="overlay" data-element="${step}" data-standing="${stepJobs.length}">${badge('standing', stepJobs.length, 'Jobs there now')}</div>`,
    });
  }
}

function showDetails() {
  const panel = document.querySelector('#details');
  if (!selected || !latest) {
    panel.hidden = true;
    return;
  }
  const rows = document.querySelector('#details-rows');
  rows.replaceChildren();
  let entries;
  if (selected.diagram === 'lifecycle') {
    const element = latest.process.lifecycle.elements[selected.id];
    entries = element === undefined ? [] : entriesOf(element);
  } else {
    entries = latest.process.issuance
      .filter((job) => job.step === selected.id)
      .map((job) => ({ certificate: job.certificate, at: job.since, reason: job.job, how: 'running' }));
  }
  document.querySelector('#details-title').textContent = `${selected.name}: ${entries.length} certificate(s)`;
  for (const entry of entries) {
    const row = document.createElement('tr');
    row.append(
      text('td', entry.certificate),
      text('td', `${entry.how} ${time(entry.at)}`),
      text('td', entry.reason),
    );
    rows.append(row);
  }
  panel.hidden = false;
}

function certificatesTable(certificates) {
  const body = document.querySelector('#certificates tbody');
  body.replaceChildren();
  for (const status of certificates) {
    const row = document.createElement('tr');
    row.dataset.certificate = status.certificate;
    const event = status.lastEvent
      ? `${status.lastEvent.type} ${status.lastEvent.reason}: ${status.lastEvent.message}`
      : '';
    row.append(
      text('td', status.certificate),
      text('td', status.hosts.join(', ')),
      text('td', time(status.notAfter)),
      text('td', time(status.renewAt)),
      text('td', status.stateText, `state-${status.state}`),
      text('td', status.ingress),
      text('td', event),
    );
    body.append(row);
  }
}

function update(data) {
  latest = data;
  const standby = document.querySelector('#standby');
  standby.hidden = data.process.leading;
  standby.textContent = data.process.leading
    ? ''
    : `This replica is standby and runs nothing. The leader is ${data.process.leader ?? 'not known yet'}: port-forward to its pod.`;
  lifecycleOverlays(data.process.lifecycle);
  issuanceOverlays(data.process.issuance);
  certificatesTable(data.certificates);
  showDetails();
  document.querySelector('#status').textContent = `updated ${time(data.process.lifecycle.at)}`;
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
}

for (const [viewer, diagram] of [
  [lifecycle, 'lifecycle'],
  [issuance, 'issuance'],
]) {
  viewer.get('eventBus').on('element.click', ({ element }) => {
    selected =
      element.type === 'bpmn:Process' || element.type === 'label'
        ? undefined
        : { diagram, id: element.id, name: element.businessObject?.name ?? element.id };
    showDetails();
  });
}

await Promise.all([load(lifecycle, 'certificate-lifecycle'), load(issuance, 'issue-certificate')]);
document.body.dataset.rendered = 'true';
const events = new EventSource('/api/stream');
events.addEventListener('update', (event) => update(JSON.parse(event.data)));
events.addEventListener('error', () => {
  document.querySelector('#status').textContent = 'disconnected: retrying…';
});
