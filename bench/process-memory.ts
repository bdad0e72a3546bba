/**
 * Resident memory of the sandbox's pods, whose containers are processes of this machine: read from
 * /proc/<pid>/status, sampled while a benchmark runs.
 */
import { readFile } from 'node:fs/promises';

/** A process's resident set now (`VmRSS`) and its peak so far (`VmHWM`), in bytes; undefined once it is gone. */
export async function residentMemory(pid: number): Promise<{ rss: number; peak: number } | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (status === undefined) return undefined;
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
}

/** The highest value seen per key. */
export class Peaks {
  readonly #peaks = new Map<string, number>();

  see(key: string, value: number): void {
    if (value > (this.#peaks.get(key) ?? 0)) this.#peaks.set(key, value);
  }

  values(): number[] {
    return [...this.#peaks.values()];
  }

  get(key: string): number | undefined {
    return this.#peaks.get(key);
  }
}

/** Bytes as MiB with one decimal. */
export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
