/**
 * `http.handlers.rate_limit` (mholt/caddy-ratelimit, caddy.md §6). For each
 * zone whose matchers match, the zone key is expanded (ReplaceAll), optionally
 * masked to a subnet, and checked against that key's sliding window; the first
 * zone that refuses ends the request with a 429 *error* (so `handle_errors 429`
 * can shape the answer) after setting `Retry-After`. Zones are checked most
 * permissive first (events ÷ window, descending), as the plugin sorts them;
 * zones checked before a refusal keep their reservation (no rollback).
 */
import type { Logger } from 'pino';
import type { CleanerUpper, Module, ModuleContext, Provisioner, Storage } from '../../host/module.ts';
import type { UsagePool } from '../../host/usage-pool.ts';
import { HttpError, QsError } from '../../host/errors.ts';
import { formatDuration, toMs } from '../../host/duration.ts';
import { getModule } from '../../host/module.ts';
import { REDIS_STORAGE_SERVICE as STORAGE_REGISTRY_KEY } from '../../host/services.ts';
import type { HttpContext, HttpHandler, Next, RequestMatcher } from '../handler.ts';
import { setPlaceholder } from '../replacer.ts';
import { loadMatcherSets, matchesAny } from '../routes.ts';
import type { RateLimitConfig, ZoneConfig } from './config.ts';
import { DistributedSync, instanceId } from './distributed.ts';
import { type RateLimitMetrics, rateLimitMetrics } from './metrics.ts';
import type { SlidingWindow } from './sliding-window.ts';
import { type Zone, type ZoneRegistry, acquireRegistry, acquireZone, maskKey, releaseRegistry, releaseZone } from './zones.ts';

/** Test seams: the clock (ms) and the jitter's random source. */
export interface RateLimitOptions {
  now?: () => number;
  random?: () => number;
}

interface ActiveZone {
  name: string;
  key: string;
  ipv4: number;
  ipv6: number;
  sets: RequestMatcher[][];
  state: Zone;
  permissiveness: number;
}

interface ZoneSpec { name: string; config: ZoneConfig; windowMs: number; maxEvents: number; ipv4: number; ipv6: number }

const bad = (message: string) => new QsError('ERR_CFG_VALUE', message);

/**
 * Retry-After in whole seconds as the plugin writes it: `wait + 0.5 s` printed
 * with no decimals by Go, which rounds exact halves to even (so an exact whole
 * number of seconds N gives N when N is even and N + 1 when N is odd).
 */
export function retryAfterSeconds(waitMs: number): string {
  const x = Math.max(0, waitMs) / 1000 + 0.5;
  const floor = Math.floor(x);
  const rounded = x - floor === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(x);
  return String(rounded);
}

const HANDLER_FIELDS = new Set(['handler', '@span', 'rate_limits', 'jitter', 'sweep_interval', 'distributed', 'storage', 'log_key', 'disable_metrics']);
const ZONE_FIELDS = new Set(['match', 'key', 'window', 'max_events', 'ipv4_prefix', 'ipv6_prefix']);
const DISTRIBUTED_FIELDS = new Set(['read_interval', 'write_interval', 'purge_age']);

/** Caddy decodes module JSON strictly; so do we, so a typo is an error rather than a limit that silently never applies. */
function strict(obj: object | undefined, known: Set<string>, where: string): void {
  for (const k of Object.keys(obj ?? {})) if (!known.has(k)) throw new QsError('ERR_CFG_JSON', `unknown field "${k}" in ${where}`);
}

function zoneSpec(name: string, z: ZoneConfig): ZoneSpec {
  const fail = (m: string) => bad(`setting up rate limit ${name}: ${m}`);
  strict(z, ZONE_FIELDS, `rate limit zone ${name}`);
  let windowMs: number;
  try { windowMs = toMs(z.window, 0); } catch (e) { throw fail((e as Error).message); }
  if (!(windowMs > 0)) throw fail('window must be greater than zero');
  const maxEvents = z.max_events ?? 0;
  if (!Number.isInteger(maxEvents) || maxEvents < 0) throw fail('max_events must be at least zero');
  const ipv4 = z.ipv4_prefix ?? 0;
  const ipv6 = z.ipv6_prefix ?? 0;
  if (!Number.isInteger(ipv4) || ipv4 < 0 || ipv4 > 32) throw fail('ipv4_prefix must be between 0 and 32');
  if (!Number.isInteger(ipv6) || ipv6 < 0 || ipv6 > 128) throw fail('ipv6_prefix must be between 0 and 128');
  return { name, config: z, windowMs, maxEvents, ipv4, ipv6 };
}

export class RateLimitHandler implements HttpHandler, Provisioner, CleanerUpper {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly config: RateLimitConfig;
  /** The clock, in milliseconds. */
  readonly now: () => number;
  #random: () => number;
  #zones: ActiveZone[] = [];
  #held: string[] = [];
  #pool: UsagePool | undefined;
  #registry: ZoneRegistry | undefined;
  #timers: NodeJS.Timeout[] = [];
  #log: Logger | undefined;
  #metrics: RateLimitMetrics | undefined;
  #distributed: DistributedSync | undefined;

  constructor(config: RateLimitConfig, options: RateLimitOptions = {}) {
    this.config = config;
    this.now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  async provision(ctx: ModuleContext): Promise<void> {
    const cfg = this.config;
    this.#log = ctx.log;
    this.#pool = ctx.pool;
    strict(cfg, HANDLER_FIELDS, 'http.handlers.rate_limit');
    strict(cfg.distributed, DISTRIBUTED_FIELDS, 'rate_limit distributed');
    if ((cfg.jitter ?? 0) < 0) throw bad('jitter must be at least zero');
    const specs = Object.entries(cfg.rate_limits ?? {}).map(([name, z]) => zoneSpec(name, z));
    this.#registry = await acquireRegistry(ctx.pool);
    for (const s of specs) {
      let sets: RequestMatcher[][];
      try { sets = await loadMatcherSets(ctx, s.config.match); } catch (e) {
        throw new QsError('ERR_CFG_VALUE', `setting up rate limit ${s.name}: ${(e as Error).message}`, { cause: e });
      }
      const state = await acquireZone(ctx.pool, s.name, this.#registry);
      this.#held.push(s.name);
      state.configure(s.maxEvents, s.windowMs);
      this.#zones.push({ name: s.name, key: s.config.key ?? '', ipv4: s.ipv4, ipv6: s.ipv6, sets, state, permissiveness: s.maxEvents / s.windowMs });
    }
    // Most permissive first (issue #10); names break ties so the order is stable.
    this.#zones.sort((a, b) => b.permissiveness - a.permissiveness || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    if (!cfg.disable_metrics) {
      this.#metrics = rateLimitMetrics(ctx.app.metrics);
      for (const s of specs) this.#metrics.config.labels(s.name, String(s.maxEvents), formatDuration(s.windowMs), String(s.ipv4), String(s.ipv6)).inc();
    }
    if (cfg.distributed) await this.#startDistributed(ctx, await this.#storage(ctx));
    else if (cfg.storage) await this.#storage(ctx);

    const sweepMs = toMs(cfg.sweep_interval, 60_000) || 60_000;
    this.#every(sweepMs, async () => this.sweep());
  }

  /** The `storage` override, else the global storage, else the file system storage under dataDir (Caddy's default). */
  async #storage(ctx: ModuleContext): Promise<Storage> {
    const own = this.config.storage;
    if (own) {
      const s = await ctx.load<Storage & Module>(`caddy.storage.${own.module}`, own);
      // `caddy-storage-redis.alt` means the configured (global) storage; a rate limiter's own Redis must not stand in for it.
      if (ctx.app.registry.get(STORAGE_REGISTRY_KEY) === s) ctx.app.registry.delete(STORAGE_REGISTRY_KEY);
      return s;
    }
    const global = ctx.storage();
    if (global) return global;
    if (getModule('caddy.storage.file_system')) return ctx.load<Storage & Module>('caddy.storage.file_system', { root: ctx.dataDir });
    throw bad('distributed rate limiting needs a storage: set the global `storage` option or `storage` inside rate_limit');
  }

  async #startDistributed(ctx: ModuleContext, storage: Storage): Promise<void> {
    const d = this.config.distributed!;
    const purge = d.purge_age === undefined ? undefined : toMs(d.purge_age, 0) || undefined;
    this.#distributed = new DistributedSync({
      storage, instanceId: await instanceId(ctx.dataDir), registry: this.#registry!, log: ctx.log, now: this.now,
      ...(purge !== undefined ? { purgeAgeMs: purge } : {}),
    });
    // Gather the other instances' states right away, so the first decisions already count them.
    await this.#distributed.read().catch((err) => ctx.log.error({ err }, 'gathering initial rate limiter states'));
    this.#every(toMs(d.read_interval, 5_000) || 5_000, () => this.#distributed!.read(), 'syncing distributed limiter states');
    this.#every(toMs(d.write_interval, 5_000) || 5_000, () => this.#distributed!.write(), 'distributing internal state');
  }

  /** A repeating task that never overlaps itself and logs its failures. */
  #every(ms: number, task: () => Promise<unknown>, what = 'rate limiter housekeeping'): void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      task().catch((err) => this.#log?.error({ err }, what)).finally(() => { running = false; });
    }, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /** The distributed sync (for tests and diagnostics); undefined when not distributed. */
  get distributed(): DistributedSync | undefined { return this.#distributed; }

  /** Drops expired keys of this handler's zones and updates the key gauge. */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const z of this.#zones) {
      const left = z.state.sweep(now);
      this.#metrics?.keys.labels(z.name).set(left);
    }
  }

  async serveHTTP(c: HttpContext, next: Next): Promise<void> {
    for (const z of this.#zones) {
      if (!matchesAny(z.sets, c)) continue;
      const start = performance.now();
      const key = maskKey(c.replace(z.key, true), z.ipv4, z.ipv6);
      const limiter = z.state.limiter(key);
      const now = this.now();
      const wait = this.#distributed ? this.#decideDistributed(z.name, key, limiter, now) : this.#decideLocal(limiter, now);
      const m = this.#metrics;
      if (m) {
        m.requests.labels(z.name, '').inc(); m.requests.labels(z.name, key).inc();
        const secs = (performance.now() - start) / 1000;
        m.processTime.labels(z.name, '').observe(secs); m.processTime.labels(z.name, key).observe(secs);
        if (wait !== undefined) { m.declined.labels(z.name, '').inc(); m.declined.labels(z.name, key).inc(); }
      }
      if (wait !== undefined) this.#exceeded(c, z.name, key, wait);
    }
    return next();
  }

  /** undefined = admitted (and reserved); a number = refused, with the wait in ms. */
  #decideLocal(limiter: SlidingWindow, now: number): number | undefined {
    const r = limiter.take(now);
    return r.allowed ? undefined : r.wait;
  }

  /**
   * Other instances' recent counts first (refuse when they alone reach the
   * maximum), then the local count; reserve locally only when the total stays
   * under the maximum. The wait runs until the oldest event in the window leaves it.
   */
  #decideDistributed(zone: string, key: string, limiter: SlidingWindow, now: number): number | undefined {
    const max = limiter.maxEvents;
    const window = limiter.window;
    const others = this.#distributed!.othersCount(zone, key, now, window);
    if (others.count < max && others.count + limiter.count(now) < max) {
      limiter.reserve(now);
      return undefined;
    }
    const local = limiter.oldestInWindow(now);
    const oldest = others.oldest === undefined ? local : local === undefined ? others.oldest : Math.min(local, others.oldest);
    return oldest === undefined ? 0 : Math.max(0, oldest + window - now);
  }

  #exceeded(c: HttpContext, zone: string, key: string, waitMs: number): never {
    const jitter = this.config.jitter ?? 0;
    if (jitter > 0) waitMs += this.#random() * waitMs * jitter;
    // Set on the response, as the plugin does, so `handle_errors 429 { header -Retry-After }` can still remove it.
    c.res.setHeader('Retry-After', retryAfterSeconds(waitMs));
    const fields: Record<string, unknown> = { zone, wait: waitMs / 1000, remote_ip: c.remoteAddr };
    if (this.config.log_key) fields.key = key;
    this.#log?.info(fields, 'rate limit exceeded');
    setPlaceholder(c, 'http.rate_limit.exceeded.name', zone);
    throw new HttpError(429);
  }

  /** Stops timers and gives back the zones. Safe after a failed provision and when called twice. */
  async cleanup(): Promise<void> {
    for (const t of this.#timers.splice(0)) clearInterval(t);
    const pool = this.#pool;
    if (!pool) return;
    for (const name of this.#held.splice(0)) await releaseZone(pool, name);
    if (this.#registry) { this.#registry = undefined; await releaseRegistry(pool); }
    this.#zones = [];
    this.#distributed = undefined;
  }
}
