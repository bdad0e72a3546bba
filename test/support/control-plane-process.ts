/**
 * Child processes of the local control plane whose output goes straight to a log file (kube-apiserver
 * logs far more than is worth keeping in memory, and a file outlives the test for a post-mortem). Like
 * test/support/processes.ts, they are killed when this process exits or is told to terminate (SIGINT,
 * SIGTERM, SIGHUP), so no server outlives the test run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, fstatSync, writeSync } from 'node:fs';
import type { Exit } from './processes.ts';
import { ExitGuard } from './exit-guard.ts';

/** A child process started by startLoggedProcess. */
export interface LoggedProcess {
  /** The name given to startLoggedProcess, for messages. */
  readonly name: string;
  /** Its process id (undefined if it could not be spawned at all). */
  readonly pid: number | undefined;
  /** The file its stdout and stderr go to. */
  readonly logFile: string;
  /** Settles when the process has exited, however it ended. */
  readonly exited: Promise<Exit>;
  /** Whether it has exited. */
  hasExited(): boolean;
  /** Its resident set size in bytes (VmRSS from /proc), or undefined once it has exited or off Linux. */
  rssBytes(): number | undefined;
  /** Sends SIGTERM, then SIGKILL if the process has not exited within `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Components alive, killed if this process ends before they do. */
const live = new ExitGuard<ChildProcess>((child) => child.kill('SIGKILL'));

/**
 * Starts `command args...` with its stdout and stderr appended to `logFile` (after a line naming the
 * command), and with `env` as its whole environment.
 */
export function startLoggedProcess(
  name: string,
  command: string,
  args: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv,
): LoggedProcess {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    writeSync(fd, `### ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
    child = spawn(command, args, { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    const settle = (exit: Exit): void => {
      done = true;
      live.delete(child);
      resolve(exit);
    };
    child.on('error', (error) => {
      appendLine(logFile, `${name}: ${error.message}`);
      settle({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => settle({ code, signal }));
  });
  return {
    name,
    pid: child.pid,
    logFile,
    exited,
    hasExited: () => done,
    rssBytes() {
      if (done || child.pid === undefined) return undefined;
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
        return kib === undefined ? undefined : Number(kib) * 1024;
      } catch {
        return undefined;
      }
    },
    async stop(graceMs = 10_000) {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        appendLine(logFile, `### ${name} did not exit within ${graceMs} ms of SIGTERM: SIGKILL`);
        child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function appendLine(file: string, line: string): void {
  try {
    const fd = openSync(file, 'a');
    writeSync(fd, `${line}\n`);
    closeSync(fd);
  } catch {
    // The log is a diagnostic; failing to write it must not hide the original problem.
  }
}

/** The last `maxLines` lines of `file` (reading at most its last 64 KiB), or a note that it is unreadable. */
export function tailOfFile(file: string, maxLines = 40): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').trimEnd().split('\n');
    if (length < size) lines.shift(); // probably cut in the middle
    return lines.slice(-maxLines).join('\n');
  } catch (error) {
    return `(cannot read ${file}: ${(error as Error).message})`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
