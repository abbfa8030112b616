/**
 * Samples the hub processes' RSS and CPU from /proc once a second (into the
 * timeline) and at the phase marks the report needs: the idle baseline,
 * after connecting, and around the load phase.
 */
import { performance } from 'node:perf_hooks';
import { readCpuSeconds, readRss } from './proc.ts';
import type { Timeline } from './timeline.ts';

/** One reading of one process. */
export interface Reading {
  rssBytes?: number;
  cpuSeconds?: number;
}

/** Samples a fixed set of PIDs. */
export class Sampler {
  readonly pids: readonly number[];
  /** Highest RSS seen per PID. */
  readonly peakRss: number[];
  #timer: NodeJS.Timeout | undefined;
  #lastCpu: (number | undefined)[];

  constructor(pids: readonly number[]) {
    this.pids = pids;
    this.peakRss = pids.map(() => 0);
    this.#lastCpu = pids.map((p) => readCpuSeconds(p));
  }

  /** Reads every PID now (and updates the peaks). */
  read(): Reading[] {
    return this.pids.map((pid, i) => {
      const r: Reading = { rssBytes: readRss(pid), cpuSeconds: readCpuSeconds(pid) };
      if (r.rssBytes !== undefined && r.rssBytes > this.peakRss[i]!) this.peakRss[i] = r.rssBytes;
      return r;
    });
  }

  /** Starts the once-a-second sampling into `timeline`. */
  start(timeline: Timeline, intervalMs = 1000): void {
    if (this.pids.length === 0 || this.#timer) return;
    this.#timer = setInterval(() => {
      const readings = this.read();
      let rss = 0;
      let cpu = 0;
      readings.forEach((r, i) => {
        rss += r.rssBytes ?? 0;
        const last = this.#lastCpu[i];
        if (r.cpuSeconds !== undefined && last !== undefined) cpu += r.cpuSeconds - last;
        this.#lastCpu[i] = r.cpuSeconds;
      });
      timeline.sample(performance.now(), rss || undefined, cpu);
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** `b - a` when both are known. */
export function delta(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : b - a;
}
