/**
 * Zone state: per zone, one SlidingWindow per key. Zones are pooled by NAME in
 * the usage pool (as caddy-ratelimit pools them by name), so their windows
 * survive a config reload and two handlers naming the same zone share it. A
 * pooled ZoneRegistry lists the live zones of this process, because distributed
 * mode writes a snapshot of every zone, not just the writer's own.
 */
import type { Destructor, UsagePool } from '../../host/usage-pool.ts';
import { ipToBig } from '../ip.ts';
import { SlidingWindow } from './sliding-window.ts';

/** One key's share of a snapshot: events in the window and the oldest of them. */
export interface KeyCount { count: number; oldest: number }

/** Every zone alive in this process (one per usage pool). */
export class ZoneRegistry implements Destructor {
  readonly zones = new Set<Zone>();
  destruct(): void { this.zones.clear(); }
}

/** The limiters of one zone, by key. Settings follow the latest provisioned config. */
export class Zone implements Destructor {
  readonly name: string;
  readonly limiters = new Map<string, SlidingWindow>();
  #registry: ZoneRegistry;
  maxEvents = 0;
  windowMs = 0;

  constructor(name: string, registry: ZoneRegistry) {
    this.name = name;
    this.#registry = registry;
    registry.zones.add(this);
  }

  /** Applies a (re)loaded config; existing rings are resized (shrinking keeps the newest events). */
  configure(maxEvents: number, windowMs: number): void {
    this.maxEvents = maxEvents;
    this.windowMs = windowMs;
    for (const l of this.limiters.values()) { l.setMaxEvents(maxEvents); l.setWindow(windowMs); }
  }

  /** The key's limiter, created with the zone's current settings. */
  limiter(key: string): SlidingWindow {
    let l = this.limiters.get(key);
    if (!l) { l = new SlidingWindow(this.maxEvents, this.windowMs); this.limiters.set(key, l); }
    return l;
  }

  /** Drops keys whose newest event left the window; returns how many keys remain. */
  sweep(now: number): number {
    for (const [key, l] of this.limiters) if (l.newest() + l.window < now) this.limiters.delete(key);
    return this.limiters.size;
  }

  /** Counts in the window per key, for the distributed snapshot (keys with no event in the window are left out). */
  snapshot(now: number): Map<string, KeyCount> {
    const out = new Map<string, KeyCount>();
    for (const [key, l] of this.limiters) {
      const oldest = l.oldestInWindow(now);
      if (oldest !== undefined) out.set(key, { count: l.count(now), oldest });
    }
    return out;
  }

  destruct(): void { this.#registry.zones.delete(this); }
}

const REGISTRY_KEY = 'http.handlers.rate_limit.zones';
const zoneKey = (name: string) => `http.handlers.rate_limit.zone:${name}`;

/** Takes a reference on the process's zone registry. Release with releaseRegistry(). */
export function acquireRegistry(pool: UsagePool): Promise<ZoneRegistry> {
  return pool.loadOrNew(REGISTRY_KEY, () => new ZoneRegistry());
}

export function releaseRegistry(pool: UsagePool): Promise<boolean> {
  return pool.release(REGISTRY_KEY);
}

/** Takes a reference on zone `name`, creating it in registry when new. */
export function acquireZone(pool: UsagePool, name: string, registry: ZoneRegistry): Promise<Zone> {
  return pool.loadOrNew(zoneKey(name), () => new Zone(name, registry));
}

export function releaseZone(pool: UsagePool, name: string): Promise<boolean> {
  return pool.release(zoneKey(name));
}

/**
 * Groups IP keys by subnet: with a prefix set (non-zero) and a key that is an
 * IPv4 (or IPv4-mapped) / IPv6 address, returns the masked CIDR (`10.1.2.0/24`,
 * `2001:db8::/64`, formatted like Go's netip.Prefix). Other keys pass unchanged.
 */
export function maskKey(key: string, ipv4Prefix = 0, ipv6Prefix = 0): string {
  if (!ipv4Prefix && !ipv6Prefix) return key;
  const parsed = ipToBig(key);
  if (!parsed) return key;
  const [v6, value] = parsed;
  const prefix = v6 ? ipv6Prefix : ipv4Prefix;
  if (!prefix) return key;
  const bits = v6 ? 128 : 32;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  const masked = value & mask;
  return `${v6 ? formatV6(masked) : formatV4(masked)}/${prefix}`;
}

function formatV4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

/** RFC 5952: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function formatV6(v: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1; let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
