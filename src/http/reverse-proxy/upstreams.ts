/**
 * Upstreams and their health. An upstream's state (in-flight requests,
 * passive failures, active health) lives in the usage pool keyed by its dial
 * address, so it survives reloads and is shared by every handler that
 * proxies to it (as in Caddy). States are also listed in the app registry
 * under `reverse_proxy.upstreams` (for the admin API), and emit 'health'
 * when their health changes.
 */
import { EventEmitter } from 'node:events';
import type { ModuleContext } from '../../host/module.ts';

/** `{ dial: "host:port" | "unix//path.sock", max_requests? }` */
export interface UpstreamConfig { dial: string; max_requests?: number }

/** Shared per-address state. */
export class Upstream extends EventEmitter {
  readonly dial: string;
  numRequests = 0;
  fails = 0;
  activeHealthy = true;
  passes = 0;
  failsInRow = 0;
  #timers = new Set<NodeJS.Timeout>();

  constructor(dial: string) {
    super();
    this.dial = dial;
  }

  /** host:port form of the address ('' host → localhost). */
  get hostport(): string {
    if (this.dial.startsWith('unix/')) return 'localhost';
    return this.dial.startsWith(':') ? 'localhost' + this.dial : this.dial;
  }

  /** Records a passive failure that expires after ms. */
  countFail(ms: number): void {
    this.fails++;
    const t = setTimeout(() => { this.#timers.delete(t); this.fails--; this.emit('health'); }, ms);
    t.unref();
    this.#timers.add(t);
    this.emit('health');
  }

  setActive(healthy: boolean): void {
    if (healthy === this.activeHealthy) return;
    this.activeHealthy = healthy;
    this.emit('health');
  }

  destruct(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}

/** Expands `host:8001-8003` port ranges into single addresses. */
export function expandDial(dial: string): string[] {
  const m = /^(.*):(\d+)-(\d+)$/.exec(dial);
  if (!m) return [dial];
  const out: string[] = [];
  for (let p = Number(m[2]); p <= Number(m[3]); p++) out.push(`${m[1]}:${p}`);
  return out;
}

const key = (dial: string) => `reverse_proxy.upstream:${dial}`;

/** Takes references to the shared states of dials. */
export async function acquireUpstreams(ctx: ModuleContext, dials: string[]): Promise<Upstream[]> {
  let reg = ctx.app.registry.get('reverse_proxy.upstreams') as Map<string, Upstream> | undefined;
  if (!reg) { reg = new Map(); ctx.app.registry.set('reverse_proxy.upstreams', reg); }
  const out: Upstream[] = [];
  for (const d of dials) {
    const u = await ctx.pool.loadOrNew(key(d), () => new Upstream(d));
    reg.set(d, u);
    out.push(u);
  }
  return out;
}

/** Drops the references taken by acquireUpstreams. */
export async function releaseUpstreams(ctx: ModuleContext, ups: Upstream[]): Promise<void> {
  for (const u of ups) await ctx.pool.release(key(u.dial));
}
