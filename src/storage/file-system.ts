/**
 * `caddy.storage.file_system`: Caddy's default storage, files under a root
 * directory (default: the data dir). Keys are slash-separated paths. Writes are
 * atomic (temp file + rename). Locks are lock files refreshed while held and
 * taken over when stale, so a crashed holder cannot block others forever.
 */
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile, open } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../host/errors.ts';
import type { Module, ModuleConfig, ModuleContext, Storage } from '../host/module.ts';

export interface FileSystemStorageConfig extends ModuleConfig { root?: string }

/** A lock file untouched for this long is stale (its holder died). */
const STALE_MS = 10_000;
const REFRESH_MS = 3_000;
const POLL_MS = 250;

export class FileSystemStorage implements Storage, Module {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly config: FileSystemStorageConfig;
  #root = '';
  #held = new Map<string, NodeJS.Timeout>();

  constructor(config: FileSystemStorageConfig) {
    if (config.root !== undefined && (typeof config.root !== 'string' || config.root === '')) {
      throw new ConfigError('ERR_CFG_VALUE', undefined, 'storage file_system: root must be a non-empty path');
    }
    this.config = config;
  }

  async provision(ctx: ModuleContext): Promise<void> {
    this.#root = this.config.root ?? ctx.dataDir;
    await mkdir(this.#root, { recursive: true, mode: 0o700 });
  }

  #path(key: string): string {
    const p = join(this.#root, ...key.split('/').filter((s) => s && s !== '..' && s !== '.'));
    if (p !== this.#root && !p.startsWith(this.#root + sep)) throw new Error(`storage key outside the root: ${key}`);
    return p;
  }

  async store(key: string, value: Uint8Array): Promise<void> {
    const p = this.#path(key);
    await mkdir(dirname(p), { recursive: true, mode: 0o700 });
    const tmp = `${p}.${randomUUID()}.tmp`;
    await writeFile(tmp, value, { mode: 0o600 });
    await rename(tmp, p);
  }

  async load(key: string): Promise<Uint8Array | undefined> {
    try { return await readFile(this.#path(key)); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { recursive: true, force: true });
  }

  /** Every stored key under prefix, recursively. */
  async list(prefix: string): Promise<string[]> {
    const base = this.#path(prefix);
    let entries: string[];
    try { entries = await readdir(base, { recursive: true }); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const keys: string[] = [];
    for (const e of entries) {
      const full = join(base, e);
      if (e.endsWith('.tmp') || full.startsWith(join(this.#root, 'locks') + sep)) continue;
      if ((await stat(full)).isFile()) keys.push(relative(this.#root, full).split(sep).join('/'));
    }
    return keys.sort();
  }

  /** Waits until the lock is ours; a stale lock file is taken over. */
  async lock(name: string): Promise<void> {
    const p = join(this.#root, 'locks', `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
    await mkdir(dirname(p), { recursive: true, mode: 0o700 });
    for (;;) {
      try {
        const fh = await open(p, 'wx', 0o600);
        await fh.writeFile(JSON.stringify({ pid: process.pid, created: new Date().toISOString() }));
        await fh.close();
        this.#held.set(name, setInterval(() => { const t = new Date(); utimes(p, t, t).catch(() => {}); }, REFRESH_MS).unref());
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const age = await stat(p).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_MS) { await rm(p, { force: true }); continue; }
      await delay(POLL_MS);
    }
  }

  async unlock(name: string): Promise<void> {
    clearInterval(this.#held.get(name));
    this.#held.delete(name);
    await rm(join(this.#root, 'locks', `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`), { force: true });
  }

  async cleanup(): Promise<void> {
    for (const name of [...this.#held.keys()]) await this.unlock(name);
  }
}
