/**
 * `caddy.storage.redis`: CertMagic-style storage in Redis, laid out exactly as
 * pberkel/caddy-storage-redis lays it out (caddy.md §7.2):
 *   - each value is a STRING at `<prefix>/<key>` holding the JSON envelope (envelope.ts);
 *   - each parent directory is a ZSET at `<prefix>/<dir>` of child base names
 *     (directories end in `/`), scored by modification time in Unix seconds;
 *   - locks live at `<prefix>/locks/<name>` (locks.ts).
 * The live client is exposed through `client()` and the provisioned instance is
 * registered in `ctx.app.registry` under `caddy.storage.redis`, so the Mercure
 * Redis transport's `address caddy-storage-redis.alt` reuses these connections.
 */
import { posix } from 'node:path';
import type { CleanerUpper, ModuleContext, Provisioner, Storage } from '../host/module.ts';
import type { UsagePool } from '../host/usage-pool.ts';
import { QsError } from '../host/errors.ts';
import { REDIS_STORAGE_SERVICE } from '../host/services.ts';
import { type RedisStorageConfig, type ResolvedRedisConfig, ignoredOptions, resolveConfig } from './config.ts';
import { type RedisConnection, type StorageClient, openConnection, poolKey } from './connection.ts';
import { open, parseEnvelope, seal } from './envelope.ts';
import { RedisLocker } from './locks.ts';


/** What `stat()` reports, as CertMagic's KeyInfo. */
export interface KeyInfo { key: string; modified: Date; size: number; isTerminal: boolean }

const SECRET_FIELDS = ['password', 'sentinel_password', 'encryption_key'] as const;

/** Wraps a Redis failure as ERR_STORAGE with the plugin's wording. */
function failed(what: string, e: unknown): QsError {
  return new QsError('ERR_STORAGE', `${what}: ${(e as Error).message}`, { cause: e });
}

export class RedisStorage implements Storage, Provisioner, CleanerUpper {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly config: RedisStorageConfig;
  #settings: ResolvedRedisConfig | undefined;
  #conn: RedisConnection | undefined;
  #pool: UsagePool | undefined;
  #poolKey: string | undefined;
  #locker: RedisLocker | undefined;
  #registry: Map<string, unknown> | undefined;

  constructor(config: RedisStorageConfig) {
    this.config = config;
  }

  async provision(ctx: ModuleContext): Promise<void> {
    const settings = await resolveConfig(this.config);
    this.#settings = settings;
    for (const note of ignoredOptions(this.config, settings.connection)) ctx.log.warn(`redis storage option ignored: ${note}`);
    const key = poolKey(settings.connection);
    this.#pool = ctx.pool;
    this.#conn = await ctx.pool.loadOrNew(key, () => openConnection(settings.connection));
    this.#poolKey = key;
    this.#locker = new RedisLocker(this.#conn.client);
    // The first Redis storage of a config (the global `storage`, provisioned before the apps) is the one to share.
    if (!ctx.app.registry.has(REDIS_STORAGE_SERVICE)) {
      ctx.app.registry.set(REDIS_STORAGE_SERVICE, this);
      this.#registry = ctx.app.registry;
    }
    ctx.log.info({ client_type: settings.connection.clientType, address: settings.connection.addresses, key_prefix: settings.keyPrefix },
      'provisioned Redis storage');
  }

  /** The live ioredis client (go-redis's GetClient()). Owned by the storage: do not quit it. */
  client(): StorageClient {
    if (!this.#conn) throw new QsError('ERR_STORAGE', 'redis storage is not provisioned');
    return this.#conn.client;
  }

  /** The key prefix in use (after placeholders and trimming). */
  get keyPrefix(): string { return this.#ready().keyPrefix; }

  #ready(): ResolvedRedisConfig {
    if (!this.#settings || !this.#conn) throw new QsError('ERR_STORAGE', 'redis storage is not provisioned');
    return this.#settings;
  }

  /** `<prefix>/<key>`, cleaned like Go's path.Join. */
  prefixKey(key: string): string { return posix.join(this.#ready().keyPrefix, key); }

  async store(key: string, value: Uint8Array): Promise<void> {
    const s = this.#ready();
    const envelope = seal(value, s);
    const full = this.prefixKey(key);
    try {
      await this.#indexAdd(full, Math.floor(Date.parse(envelope.modified) / 1000), false);
      await this.client().set(full, JSON.stringify(envelope));
    } catch (e) { throw failed(`Unable to set value for ${key}`, e); }
  }

  /** The value's bytes, or undefined when the key does not exist (CertMagic's fs.ErrNotExist). */
  async load(key: string): Promise<Uint8Array | undefined> {
    const raw = await this.#raw(key);
    if (raw === undefined) return undefined;
    try { return open(parseEnvelope(raw), this.#ready()); } catch (e) { throw failed(`Unable to decode value for ${key}`, e); }
  }

  async #raw(key: string): Promise<Buffer | undefined> {
    try { return (await this.client().getBuffer(this.prefixKey(key))) ?? undefined; } catch (e) { throw failed(`Unable to get data for ${key}`, e); }
  }

  async delete(key: string): Promise<void> {
    const full = this.prefixKey(key);
    try {
      await this.#indexRemove(full, false);
      await this.client().del(full);
    } catch (e) { throw failed(`Unable to delete key ${key}`, e); }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.client().exists(this.prefixKey(key))) > 0;
  }

  /** Size and modification time from the envelope; undefined when missing. */
  async stat(key: string): Promise<KeyInfo | undefined> {
    const raw = await this.#raw(key);
    if (raw === undefined) return undefined;
    const e = parseEnvelope(raw);
    return { key, modified: new Date(e.modified), size: e.size, isTerminal: true };
  }

  /** CertMagic's List(dir, recursive): children of dir from its ZSET index; directories recurse when asked. */
  async listDir(dir: string, recursive: boolean): Promise<string[]> {
    let members: string[];
    try { members = await this.client().zrange(this.prefixKey(dir), 0, '-1'); } catch (e) { throw failed(`Unable to get range on sorted set '${this.prefixKey(dir)}'`, e); }
    const out: string[] = [];
    for (const m of members) {
      const name = m.endsWith('/') ? m.slice(0, -1) : m;
      const full = posix.join(dir, name);
      if (recursive && name !== m) out.push(...await this.listDir(full, true));
      else out.push(full);
    }
    return out;
  }

  /** Every stored key under the directory `prefix` (recursive), e.g. `rate_limit/instances` → its `.rlstate` files. */
  list(prefix: string): Promise<string[]> { return this.listDir(prefix, true); }

  /** Takes `<prefix>/locks/<name>`, polling every second while another holder has it. */
  async lock(name: string, signal?: AbortSignal): Promise<void> {
    this.#ready();
    try { await this.#locker!.lock(this.prefixKey(posix.join('locks', name)), signal); } catch (e) {
      if (e instanceof Error && e.name === 'AbortError') throw e;
      throw failed(`Unable to obtain lock for ${name}`, e);
    }
  }

  async unlock(name: string): Promise<void> {
    this.#ready();
    try { await this.#locker!.unlock(this.prefixKey(posix.join('locks', name))); } catch (e) { throw failed(`Unable to release lock for ${name}`, e); }
  }

  /** Adds base to its parent's ZSET and, when that entry is new, the parent to its own parent, up to the top. */
  async #indexAdd(key: string, score: number, isDir: boolean): Promise<void> {
    const dir = posix.dirname(key);
    if (dir === '.' || dir === '/') return;
    const added = await this.client().zadd(dir, String(score), posix.basename(key) + (isDir ? '/' : ''));
    if (Number(added) > 0) await this.#indexAdd(dir, score, true);
  }

  /** Removes base from its parent's ZSET, pruning parents that became empty. */
  async #indexRemove(key: string, isDir: boolean): Promise<void> {
    const dir = posix.dirname(key);
    if (dir === '.' || dir === '/') return;
    await this.client().zrem(dir, posix.basename(key) + (isDir ? '/' : ''));
    if ((await this.client().exists(dir)) === 0) await this.#indexRemove(dir, true);
  }

  /** Works after a failed or partial provision: each step checks what exists. */
  async cleanup(): Promise<void> {
    await this.#locker?.close();
    this.#locker = undefined;
    if (this.#registry?.get(REDIS_STORAGE_SERVICE) === this) this.#registry.delete(REDIS_STORAGE_SERVICE);
    this.#registry = undefined;
    const key = this.#poolKey;
    this.#poolKey = undefined;
    this.#conn = undefined;
    if (key) await this.#pool?.release(key);
  }

  /** The config with secrets masked (the plugin's String()). */
  toJSON(): RedisStorageConfig {
    const out: RedisStorageConfig = { ...this.config };
    for (const f of SECRET_FIELDS) if (out[f]) out[f] = 'REDACTED';
    return out;
  }

  toString(): string { return JSON.stringify(this.toJSON()); }
}
