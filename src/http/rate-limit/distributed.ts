/**
 * Distributed rate limiting through storage (caddy.md §6.4). Every instance
 * writes a snapshot of all its zones to `rate_limit/instances/<id>.rlstate`
 * and reads everyone else's; decisions add the others' recent counts to the
 * local one. Approximate and eventually consistent by design: the error grows
 * with the number of instances times the events admitted per sync interval.
 *
 * The snapshot keeps the plugin's structure (Timestamp; zone → key → Count and
 * OldestEvent) but is JSON, not Go gob: Go and Node instances cannot share state.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Storage } from '../../host/module.ts';
import type { ZoneRegistry } from './zones.ts';

/** Storage directory of the state files (the Redis key is `<key_prefix>/rate_limit/instances/<id>.rlstate`). */
export const STORAGE_PREFIX = 'rate_limit/instances';

/** The stored document. */
export interface StoredState {
  Timestamp: string;
  Zones: Record<string, Record<string, { Count: number; OldestEvent: string }>>;
}

interface OtherState { timestamp: number; zones: StoredState['Zones'] }

/**
 * Caddy's instance ID: the UUID in `<dataDir>/instance.uuid`, created on first
 * use. Replicas cloned from one data volume share it and so ignore each other.
 */
export async function instanceId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'instance.uuid');
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (/^[0-9a-f-]{36}$/i.test(text)) return text;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const id = randomUUID();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, id, { mode: 0o600 });
  return id;
}

export interface DistributedOptions {
  storage: Storage;
  instanceId: string;
  registry: ZoneRegistry;
  log: Logger;
  now: () => number;
  /** Other instances' files older than this are deleted on read; undefined = never. */
  purgeAgeMs?: number;
}

export class DistributedSync {
  readonly instanceId: string;
  #o: DistributedOptions;
  #others: OtherState[] = [];

  constructor(o: DistributedOptions) {
    this.#o = o;
    this.instanceId = o.instanceId;
  }

  /** This instance's file name inside STORAGE_PREFIX. */
  get file(): string { return `${this.instanceId}.rlstate`; }

  /** Stores a snapshot of every zone of this process. */
  async write(): Promise<void> {
    const now = this.#o.now();
    const state: StoredState = { Timestamp: new Date(now).toISOString(), Zones: {} };
    for (const zone of this.#o.registry.zones) {
      const keys: StoredState['Zones'][string] = {};
      for (const [key, kc] of zone.snapshot(now)) keys[key] = { Count: kc.count, OldestEvent: new Date(kc.oldest).toISOString() };
      state.Zones[zone.name] = keys;
    }
    await this.#o.storage.store(`${STORAGE_PREFIX}/${this.file}`, Buffer.from(JSON.stringify(state)));
  }

  /** Replaces the cached states of the other instances; purges stale files when purge_age is set. */
  async read(): Promise<void> {
    const { storage, log } = this.#o;
    const files = await storage.list(STORAGE_PREFIX);
    const others: OtherState[] = [];
    const now = this.#o.now();
    for (const file of files) {
      if (file.endsWith(this.file)) continue;
      let state: StoredState;
      try {
        const raw = await storage.load(file);
        if (!raw) continue;
        state = JSON.parse(Buffer.from(raw).toString('utf8')) as StoredState;
        if (typeof state?.Timestamp !== 'string' || typeof state.Zones !== 'object') throw new Error('not a rate limiter state');
      } catch (err) {
        log.error({ key: file, err }, 'corrupted rate limiter state file');
        continue;
      }
      const timestamp = Date.parse(state.Timestamp);
      if (this.#o.purgeAgeMs !== undefined && now - timestamp > this.#o.purgeAgeMs) {
        await storage.delete(file).catch((err) => log.error({ key: file, err }, 'purging stale rate limiter state'));
        continue;
      }
      others.push({ timestamp, zones: state.Zones ?? {} });
    }
    this.#others = others;
  }

  /** How many other instances' states are cached. */
  get peers(): number { return this.#others.length; }

  /**
   * The other instances' events for zone/key: the sum of their counts, from
   * snapshots younger than the window (older ones say nothing about it), and
   * the oldest event among them.
   */
  othersCount(zone: string, key: string, now: number, windowMs: number): { count: number; oldest: number | undefined } {
    let count = 0;
    let oldest: number | undefined;
    for (const s of this.#others) {
      if (s.timestamp < now - windowMs) continue;
      const k = s.zones[zone]?.[key];
      if (!k) continue;
      count += k.Count;
      const t = Date.parse(k.OldestEvent);
      if (Number.isFinite(t) && (oldest === undefined || t < oldest)) oldest = t;
    }
    return { count, oldest };
  }
}
