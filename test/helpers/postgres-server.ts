/**
 * A real, throw-away PostgreSQL for tests: initdb in a temp dir, a free port on
 * 127.0.0.1, trust auth, no Unix socket. Uses Debian's binaries
 * (/usr/lib/postgresql/<v>/bin, highest version) or $PG_BINDIR. PostgreSQL
 * refuses to run as root, so under root every command runs as `nobody`.
 * `stop()`/`start()` keep the data and the port, for outage tests.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The directory holding initdb/pg_ctl, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(): string | undefined {
  if (process.env.PG_BINDIR && existsSync(join(process.env.PG_BINDIR, 'initdb'))) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** Why PostgreSQL tests must be skipped, or false when they can run. For `test(name, { skip })`. */
export function postgresSkip(): string | false {
  return findPostgresBin() ? false : 'PostgreSQL is not installed (apt-get install postgresql, or set PG_BINDIR)';
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export interface PostgresServer {
  readonly port: number;
  /** A URL for database `db` as the superuser `postgres`. */
  url(db?: string): string;
  /** Creates a fresh database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Runs one statement as superuser on database `db`. */
  sql(text: string, values?: unknown[], db?: string): Promise<pg.QueryResult>;
  /** Fast shutdown (connections are cut), data kept. */
  stop(): Promise<void>;
  /** Starts again on the same port; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Immediate shutdown (as after a crash: no checkpoint, crash recovery at the next start), data kept. */
  crash(): Promise<void>;
  /** Stops and deletes everything. Idempotent. */
  destroy(): Promise<void>;
}

let dbCounter = 0;

/** Creates and starts a PostgreSQL cluster. Call destroy() in t.after / after(). */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const dir = mkdtempSync(join(tmpdir(), 'qs-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, 65534, 65534); // nobody:nogroup on Debian
  const exec = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'nobody', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args);

  await exec('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  appendFileSync(data + '/postgresql.conf', [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = ''`,
    // Durability is irrelevant for a throw-away cluster; speed is not.
    'fsync = off', 'synchronous_commit = off', 'full_page_writes = off',
    'max_connections = 200',
  ].join('\n') + '\n');

  let running = false;
  const start = async () => {
    try {
      await exec('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
    } catch (err) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : '';
      throw new Error(`pg_ctl start failed: ${(err as Error).message}\n${log}`);
    }
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    running = false;
    await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  const url = (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`;
  const sql = async (text: string, values?: unknown[], db?: string) => {
    const c = new pg.Client({ connectionString: url(db) });
    await c.connect();
    try { return await c.query(text, values); } finally { await c.end(); }
  };

  await start();
  let destroyed = false;
  const crash = async () => {
    if (!running) return;
    running = false;
    await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  return {
    port, url, sql, stop, start, crash,
    async createDatabase(name = `qs_test_${process.pid}_${++dbCounter}`) {
      await sql(`CREATE DATABASE "${name}"`);
      return url(name);
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try { await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One delivered update, as a backend sink saw it. */
export interface Seen { update: import('../../src/transports/core/contract.ts').Update; seq: bigint }

/**
 * A BackendSink that records what it gets and lets a test await a condition
 * on it (re-checked on every delivery or connection change, never by sleeping).
 */
export class RecordingSink {
  readonly seen: Seen[] = [];
  readonly connections: boolean[] = [];
  #waiters = new Set<() => void>();

  deliver(update: Seen['update'], seq: bigint): void { this.seen.push({ update, seq }); this.#notify(); }
  connection(up: boolean): void { this.connections.push(up); this.#notify(); }

  /** Resolves once pred() holds; rejects after timeoutMs with what was seen. */
  until(pred: () => boolean, what = 'condition', timeoutMs = 15_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => { if (pred()) { clearTimeout(timer); this.#waiters.delete(check); resolve(); } };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; seen ${this.seen.length} updates, connections ${JSON.stringify(this.connections)}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Waits for n deliveries in total. */
  count(n: number): Promise<void> { return this.until(() => this.seen.length >= n, `${n} updates`); }

  #notify(): void { for (const w of [...this.#waiters]) w(); }
}

/** Retries an async assertion until it passes (for state only observable by querying, such as presence expiry). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { return await fn(); } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}
