/**
 * Child processes owned by a test: their output is kept for diagnostics, and they are killed when the test
 * stops them, when this process exits, or when it is told to terminate (SIGINT, SIGTERM, SIGHUP), so no
 * server outlives the test run and holds its ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ExitGuard } from './exit-guard.ts';

/** How a process started by startProcess ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process started by startProcess. */
export interface OwnedProcess {
  /** The name given to startProcess, for messages. */
  readonly name: string;
  /** Settles when the process has exited, however it ended. */
  readonly exited: Promise<Exit>;
  /** Everything the process wrote to stdout and stderr so far, interleaved as it came. */
  output(): string;
  /**
   * Sends SIGTERM, then SIGKILL if the process has not exited within `graceMs`; resolves once it has exited.
   * A paused process is resumed first.
   */
  stop(graceMs?: number): Promise<void>;
  /** Freezes the process (SIGSTOP): it holds its state and its connections, and answers nothing. */
  pause(): void;
  /** Lets a paused process go on (SIGCONT). */
  resume(): void;
}

/** Children alive, killed if this process ends before they do. */
const live = new ExitGuard<ChildProcess>((child) => child.kill('SIGKILL'));

/** Starts `command args...` with `env` (added to this process's environment) as a process owned by the test. */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): OwnedProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const chunks: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  const exited = new Promise<Exit>((resolve) => {
    const settle = (exit: Exit): void => {
      live.delete(child);
      resolve(exit);
    };
    child.on('error', (error) => {
      chunks.push(`${name}: ${error.message}\n`);
      settle({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => settle({ code, signal }));
  });
  return {
    name,
    exited,
    output: () => chunks.join(''),
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
}
