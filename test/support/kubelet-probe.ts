/**
 * Readiness probes of the process kubelet: httpGet (to the pod's loopback address unless `host` says
 * otherwise), tcpSocket and exec, one attempt each; only addresses in 127.0.0.0/8 are ever dialled (a
 * `host` in the pod network is translated, see kubelet-network.ts).
 */
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { loopbackOf } from './kubelet-network.ts';

/** How a probe runs a command for `exec`: the container's environment and working directory. */
export interface ProbeTarget {
  /** The pod's loopback address. */
  readonly podIP: string;
  readonly container: V1Container;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

/** A named port (`http`) of the container, or the number itself. */
function resolvePort(port: number | string, container: V1Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^[0-9]+$/.test(port)) return Number(port);
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

/** One attempt of `probe`; true on success. Never throws. */
export function probeOnce(probe: V1Probe, target: ProbeTarget): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const get = probe.httpGet;
    const host = get.host ? loopbackOf(get.host) : target.podIP;
    const port = resolvePort(get.port as number | string, target.container);
    if (port === undefined || host === undefined) return Promise.resolve(false);
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.37' };
    for (const header of get.httpHeaders ?? []) headers[header.name] = header.value;
    const https = get.scheme?.toUpperCase() === 'HTTPS';
    return new Promise((resolve) => {
      const request = (https ? httpsRequest : httpRequest)(
        {
          host,
          port,
          path: get.path || '/',
          method: 'GET',
          headers,
          timeout: timeoutMs,
          rejectUnauthorized: false,
        },
        (response) => {
          response.resume();
          const status = response.statusCode ?? 0;
          resolve(status >= 200 && status < 400);
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', () => resolve(false));
      request.end();
    });
  }
  if (probe.tcpSocket) {
    const host = probe.tcpSocket.host ? loopbackOf(probe.tcpSocket.host) : target.podIP;
    const port = resolvePort(probe.tcpSocket.port as number | string, target.container);
    if (port === undefined || host === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const socket = connect({ host, port, timeout: timeoutMs });
      socket.on('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('timeout', () => socket.destroy(new Error('timeout')));
      socket.on('error', () => resolve(false));
    });
  }
  if (probe.exec?.command?.length) {
    const [command, ...args] = probe.exec.command as [string, ...string[]];
    return new Promise((resolve) => {
      const child = spawn(command, args, { cwd: target.cwd, env: { ...target.env }, stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', () => resolve(false));
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    });
  }
  return Promise.resolve(true);
}
