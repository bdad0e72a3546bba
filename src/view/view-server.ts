/**
 * The live process view: a read-only web page (on `LEGO_VIEW_PORT`, bound to the pod's IP) that shows the
 * lifecycle diagram rendered by bpmn-js (served from node_modules, no CDN) with where the runs stand, the
 * issue-certificate diagram with where the running Jobs stand, and the certificates table.
 *
 * Routes (all GET):
 * - `/`: the page (src/view/page/); `/assets/...`: its script and bpmn-js's viewer, styles and font;
 * - `/api/diagrams/<name>`: the BPMN XML of `certificate-lifecycle` (as loaded) or `issue-certificate`;
 * - `/api/process`: where runs and Jobs stand ({@link ViewState});
 * - `/api/certificates`: every managed certificate's status (src/view/certificate-status.ts);
 * - `/api/stream`: the same two as Server-Sent Events (`update`), every `pushMs`.
 *
 * Nothing here writes, and nothing holds key material or account details.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IssuanceSteps, RunningIssuance } from '../kube/issuance-steps.ts';
import type { Logger } from '../log.ts';
import type { CertificateStatus } from './certificate-status.ts';
import type { OperatorView } from './operator-view.ts';
import type { ProcessSnapshot } from './process-activity.ts';

/** What `/api/process` answers. */
export interface ViewState {
  /** Whether this replica leads (a standby's view is empty: it names the leader to look at instead). */
  leading: boolean;
  /** The leader's identity, when known. */
  leader?: string;
  lifecycle: ProcessSnapshot;
  /** The running issuance Jobs and their steps on the issue-certificate diagram. */
  issuance: RunningIssuance[];
}

/** What the view is built from. */
export interface ViewSources {
  view: OperatorView;
  /** The lifecycle diagram's XML, as the operator loaded it. */
  lifecycleXml: string;
  /** The issue-certificate diagram's XML. */
  issuanceXml: string;
  /** The running Jobs' steps; read at most every `stepsEveryMs`. */
  issuanceSteps: IssuanceSteps;
  leading(): boolean;
  leader(): string | undefined;
  log: Logger;
  /** How often `/api/stream` pushes (1 s). */
  pushMs?: number;
  /** How long the Jobs' steps are reused before being read again (2 s). */
  stepsEveryMs?: number;
}

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const BPMN_JS_DIST = join(dirname(createRequire(import.meta.url).resolve('bpmn-js/package.json')), 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.svg': 'image/svg+xml',
};

/** The file under `root` that `relative` names; undefined when it would leave `root`. */
function within(root: string, relative: string): string | undefined {
  const path = normalize(join(root, relative));
  return path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`) ? path : undefined;
}

/** Where `/assets/<name>` is read from: the page's own script, or bpmn-js's dist. */
function assetPath(name: string): string | undefined {
  if (name === 'view.js' || name === 'view.css') return join(PAGE_DIR, name);
  if (name === 'bpmn-viewer.js') return join(BPMN_JS_DIST, 'bpmn-viewer.production.min.js');
  return within(join(BPMN_JS_DIST, 'assets'), name);
}

/** Starts the view on `host:port`; resolves once it listens. */
export async function startViewServer(port: number, host: string, sources: ViewSources): Promise<Server> {
  const pushMs = sources.pushMs ?? 1000;
  const stepsEveryMs = sources.stepsEveryMs ?? 2000;
  let steps: { at: number; value: Promise<RunningIssuance[]> } | undefined;
  const issuance = (): Promise<RunningIssuance[]> => {
    if (!sources.leading()) return Promise.resolve([]);
    const now = Date.now();
    if (steps === undefined || now - steps.at >= stepsEveryMs) {
      steps = {
        at: now,
        value: sources.issuanceSteps().catch((error: unknown) => {
          sources.log.debug({ error: (error as Error).message }, 'process view: could not read the Jobs');
          return [];
        }),
      };
    }
    return steps.value;
  };
  const state = async (): Promise<ViewState> => {
    const leader = sources.leader();
    return {
      leading: sources.leading(),
      ...(leader !== undefined && { leader }),
      lifecycle: sources.view.lifecycle.snapshot(),
      issuance: await issuance(),
    };
  };
  const certificates = (): CertificateStatus[] => sources.view.certificates.list();

  const send = (response: ServerResponse, status: number, type: string, body: string | Buffer) => {
    response.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    response.end(body);
  };
  const json = (response: ServerResponse, value: unknown) =>
    send(response, 200, 'application/json; charset=utf-8', JSON.stringify(value));

  const stream = (request: IncomingMessage, response: ServerResponse) => {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const push = async () => {
      const data = JSON.stringify({ process: await state(), certificates: certificates() });
      if (!response.writableEnded) response.write(`event: update\ndata: ${data}\n\n`);
    };
    void push();
    const timer = setInterval(() => void push(), pushMs);
    request.on('close', () => clearInterval(timer));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://view');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain; charset=utf-8', 'read-only: GET only\n');
      return;
    }
    const path = url.pathname;
    if (path === '/') {
      send(response, 200, TYPES['.html']!, await readFile(join(PAGE_DIR, 'index.html')));
    } else if (path.startsWith('/assets/')) {
      const file = assetPath(decodeURIComponent(path.slice('/assets/'.length)));
      const body = file === undefined ? undefined : await readFile(file).catch(() => undefined);
      if (body === undefined) send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
      else send(response, 200, TYPES[extname(file!)] ?? 'application/octet-stream', body);
    } else if (path === '/api/diagrams/certificate-lifecycle') {
      send(response, 200, 'application/xml; charset=utf-8', sources.lifecycleXml);
    } else if (path === '/api/diagrams/issue-certificate') {
      send(response, 200, 'application/xml; charset=utf-8', sources.issuanceXml);
    } else if (path === '/api/process') {
      json(response, await state());
    } else if (path === '/api/certificates') {
      json(response, certificates());
    } else if (path === '/api/stream') {
      stream(request, response);
    } else {
      send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sources.log.warn({ error: (error as Error).message, url: request.url }, 'process view: request failed');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
