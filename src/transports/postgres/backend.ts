/**
 * PostgreSQL transport backend: the updates table is the shared stream and the
 * source of truth; LISTEN/NOTIFY only says "look again".
 *
 * Schema (created and migrated on start; see postgres-schema.ts):
 *
 *   mercure_updates(                         -- one row per update, oldest first
 *     seq        bigserial PRIMARY KEY,        -- stream position
 *     id         text NOT NULL,                -- Mercure event ID (custom IDs may repeat)
 *     topics     text[] NOT NULL,              -- topics[1] = canonical topic, then alternates
 *     data       text NOT NULL,
 *     private    boolean NOT NULL DEFAULT false,
 *     type       text,                         -- SSE event type, NULL = none
 *     retry      integer,                      -- SSE retry, NULL = none
 *     created_at timestamptz NOT NULL DEFAULT now())
 *     indexes: (id, seq) btree; created_at BRIN; topics GIN
 *   mercure_nodes(node_id text PRIMARY KEY, started_at timestamptz, heartbeat_at timestamptz)
 *   mercure_subscribers(node_id → mercure_nodes ON DELETE CASCADE, id text, topics text[],
 *     payload jsonb, joined_at timestamptz, PRIMARY KEY (node_id, id))
 *   mercure_schema_version(version integer, applied_at timestamptz)
 *   mercure_publish_once(id, topics, data, private, type, retry) → (seq, stored)  -- what the hub calls
 *   mercure_publish(id, topics, data, private, type, retry) → seq   -- the same for other writers
 *     Both are idempotent: an ID already retained is not inserted again (the
 *     retained row's seq is returned, stored = false). Index mercure_updates_id_once
 *     (unique on id, rows written since schema version 2) backs this up.
 *   NOTIFY channel: mercure_updates, payload = the new seq as text
 *
 * Example queries:
 *
 *   -- The last 20 updates of one topic (canonical or alternate):
 *   SELECT id, data, created_at FROM mercure_updates
 *   WHERE topics @> ARRAY['https://example.com/books/1'] ORDER BY seq DESC LIMIT 20;
 *
 *   -- Updates per hour over the last day, public vs private:
 *   SELECT date_trunc('hour', created_at) AS hour, private, count(*) FROM mercure_updates
 *   WHERE created_at > now() - interval '1 day' GROUP BY 1, 2 ORDER BY 1, 2;
 *
 *   -- Everything after a given event ID (what a reconnecting subscriber gets, before filtering):
 *   SELECT * FROM mercure_updates
 *   WHERE seq > (SELECT min(seq) FROM mercure_updates WHERE id = 'urn:uuid:…') ORDER BY seq;
 *
 *   -- Who is connected right now, on any node (15 s = presence_ttl):
 *   SELECT s.* FROM mercure_subscribers s JOIN mercure_nodes n USING (node_id)
 *   WHERE n.heartbeat_at > now() - interval '15 seconds';
 *
 * Why inserts are serialised. Listeners read `seq > last_seen ORDER BY seq`.
 * A bigserial value is taken at INSERT time but becomes visible at COMMIT, so
 * without care seq 11 can commit before seq 10: a listener would read 11, move
 * last_seen past 10, and lose 10 for good. mercure_publish() takes a
 * transaction-level advisory lock before drawing the seq and holds it until
 * its commit, so rows become visible in seq order and every snapshot holds a
 * prefix of the stream: reading `seq > last_seen` never skips a row. Gaps
 * (rolled-back inserts) are harmless, as nothing expects seq + 1. The cost is
 * one commit at a time per database, which NOTIFY's own commit-time lock
 * mostly imposes already; tracking in-flight gaps instead would need a
 * timeout to tell a slow insert from a rolled-back one.
 *
 * Measured: 3,000 concurrent publishes through 3 nodes with the lock removed
 * left each listener ~10% short; with it, none, at the same throughput.
 * Consequence for other writers: publish with `SELECT mercure_publish(…)`,
 * never a bare INSERT, or listeners may skip the row (and get no NOTIFY).
 *
 * NOTIFY carries only the seq, so the 8,000-byte payload limit never applies
 * (reading and reconnection: postgres-listener.ts; presence: postgres-presence.ts).
 * Several independent streams can share one database, one schema each, chosen
 * with the libpq `options` parameter: `?options=-c%20search_path%3Dhub2`
 * (they share the NOTIFY channel and the publish lock, which costs only spurious reads).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { QsError } from '../../host/errors.ts';
import { StreamListener } from './listener.ts';
import { PostgresPresence, type PgLog } from './presence.ts';
import { BATCH, COLUMNS, migrate, toUpdate, type Row } from './schema.ts';
import { pgConfigFromUrl, redact } from './url.ts';
import type { Backend, BackendSink, HistoryResult, PublishOutcome, Update } from '../core/contract.ts';

/** Programmatic options (the module turns PostgresConfig into these). Times in milliseconds. */
export interface PostgresOptions {
  /** A URL accepted by validatePostgresUrl(). */
  url: string;
  /** Keep at most this many newest updates; 0 or absent = no limit. */
  retentionMaxRows?: number;
  /** Delete updates older than this; 0 or absent = no limit. */
  retentionMaxAgeMs?: number;
  /** How often the retention sweep runs. Default 60 000. */
  retentionIntervalMs?: number;
  /** Presence heartbeat period (also a safety re-read of the stream). Default 5 000. */
  heartbeatMs?: number;
  /** A node silent for this long drops out of presence. Default 15 000; must exceed heartbeatMs. */
  presenceTtlMs?: number;
  /** Listener reconnection backoff, doubling from min to max. Defaults 100 and 5 000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Stable name of this node in mercure_nodes. Default: a random UUID per start. */
  nodeId?: string;
  log?: PgLog;
}

const NOOP_LOG: PgLog = { warn() {}, info() {} };

/**
 * Wraps a driver error as the transport error the hub answers 503 to. Any
 * failure counts: refused or cut connections, a server starting up or shutting
 * down (57P0x), a read-only standby after failover (25006), too many clients (53300).
 */
export function unavailable(err: unknown, what: string): Error {
  if (err instanceof QsError) return err;
  // Data PostgreSQL can never store (a NUL byte in text: SQLSTATE 22021/22P05)
  // is not an outage: retrying cannot help, so it must not become a 503.
  const code = (err as { code?: string }).code;
  if (code === '22021' || code === '22P05') return new Error(`PostgreSQL ${what}: ${(err as Error).message}`, { cause: err });
  return new QsError('ERR_TRANSPORT_UNAVAILABLE', `PostgreSQL ${what}: ${(err as Error).message}`, { cause: err });
}

/** The PostgreSQL Backend. See the file comment for the storage model. */
export class PostgresBackend implements Backend {
  readonly presence: PostgresPresence;
  /** Idempotent publish: mercure_publish_once() checks and inserts under the publish lock. */
  readonly dedupe = 'atomic';
  #opts: PostgresOptions;
  #log: PgLog;
  #pool: pg.Pool;
  #listener: StreamListener | undefined;
  #timers: NodeJS.Timeout[] = [];
  #closed: Promise<void> | undefined;

  constructor(opts: PostgresOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? NOOP_LOG;
    // The pool is lazy: creating it opens nothing.
    this.#pool = new pg.Pool({ ...pgConfigFromUrl(opts.url), max: 10 });
    // An idle pooled connection dying (server restart) must not crash the process; the next query reconnects.
    this.#pool.on('error', (err) => this.#log.warn({ err }, 'PostgreSQL pooled connection lost'));
    this.presence = new PostgresPresence(this.#pool, opts.nodeId ?? randomUUID(), opts.presenceTtlMs ?? 15_000, this.#log);
  }

  /** Migrates, LISTENs, takes the current head as the starting point, then starts heartbeats and retention. */
  async start(sink: BackendSink): Promise<void> {
    if (this.#closed) throw new QsError('ERR_TRANSPORT_CLOSED', 'transport closed');
    const o = this.#opts;
    this.#listener = new StreamListener({ url: o.url, reconnectMinMs: o.reconnectMinMs ?? 100, reconnectMaxMs: o.reconnectMaxMs ?? 5_000, log: this.#log }, sink);
    try {
      await migrate(this.#pool);
      await this.#listener.start();
    } catch (err) {
      throw unavailable(err, `start (${redact(this.#opts.url)})`);
    }
    await this.presence.heartbeat();
    const every = (ms: number, fn: () => void) => { const t = setInterval(fn, ms); t.unref(); this.#timers.push(t); };
    every(this.#opts.heartbeatMs ?? 5_000, () => { void this.presence.heartbeat(); this.#listener?.pull(); });
    if (this.#opts.retentionMaxRows || this.#opts.retentionMaxAgeMs) {
      every(this.#opts.retentionIntervalMs ?? 60_000, () => { this.sweep().catch((err) => this.#log.warn({ err }, 'PostgreSQL retention sweep failed')); });
    }
  }

  /** Appends one update; it comes back through the sink on every node. */
  async publish(u: Update): Promise<PublishOutcome> {
    if (this.#closed) throw new QsError('ERR_TRANSPORT_CLOSED', 'transport closed');
    try {
      const { rows } = await this.#pool.query<{ out_stored: boolean }>('SELECT out_stored FROM mercure_publish_once($1, $2, $3, $4, $5, $6)',
        [u.id, u.topics, u.data, u.private, u.type ?? null, u.retry ?? null]);
      return rows[0]?.out_stored === false ? 'duplicate' : 'stored';
    } catch (err) {
      throw unavailable(err, 'publish');
    }
  }

  /**
   * Visits updates after afterId ('earliest' = all) up to the head at call
   * time, found by index; stops early when visit returns false.
   */
  async history(afterId: string, visit: (u: Update, seq: bigint) => boolean | void): Promise<HistoryResult> {
    try {
      const { rows } = await this.#pool.query<{ head: string; anchor: string | null }>(
        'SELECT (SELECT coalesce(max(seq), 0) FROM mercure_updates) AS head, (SELECT min(seq) FROM mercure_updates WHERE id = $1) AS anchor',
        [afterId]);
      const head = BigInt(rows[0]!.head);
      const anchor = afterId === 'earliest' ? 0n : rows[0]!.anchor === null ? undefined : BigInt(rows[0]!.anchor);
      if (anchor === undefined) return { found: false, lastSeq: head };
      // Every row <= head committed before head was read (see "Why inserts are serialised"), so paging by seq sees them all.
      let last = anchor;
      for (;;) {
        const page = await this.#pool.query<Row>(
          `SELECT ${COLUMNS} FROM mercure_updates WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT ${BATCH}`, [last.toString(), head.toString()]);
        for (const r of page.rows) {
          last = BigInt(r.seq);
          if (visit(toUpdate(r), last) === false) return { found: true, lastSeq: last };
        }
        if (page.rows.length < BATCH) break;
      }
      return { found: true, lastSeq: head };
    } catch (err) {
      throw unavailable(err, 'history');
    }
  }

  /** Visits updates newest first from the current head until visit returns true (the core's unknown-ID answer). */
  async tail(visit: (u: Update, seq: bigint) => boolean | void): Promise<void> {
    try {
      let before = '9223372036854775807'; // bigint max: start at the head
      for (;;) {
        const page: pg.QueryResult<Row> = await this.#pool.query<Row>(
          `SELECT ${COLUMNS} FROM mercure_updates WHERE seq < $1 ORDER BY seq DESC LIMIT ${BATCH}`, [before]);
        for (const r of page.rows) {
          if (visit(toUpdate(r), BigInt(r.seq)) === true) return;
          before = r.seq;
        }
        if (page.rows.length < BATCH) return;
      }
    } catch (err) {
      throw unavailable(err, 'history');
    }
  }

  /** ID of the newest retained update. */
  async lastEventId(): Promise<string | undefined> {
    try {
      const { rows } = await this.#pool.query<{ id: string }>('SELECT id FROM mercure_updates ORDER BY seq DESC LIMIT 1');
      return rows[0]?.id;
    } catch (err) {
      throw unavailable(err, 'lastEventId');
    }
  }

  /** Fails while the listener is reconnecting or the database does not answer. */
  async health(): Promise<void> {
    if (this.#closed) throw new QsError('ERR_TRANSPORT_CLOSED', 'transport closed');
    if (!this.#listener?.up) throw unavailable(this.#listener?.error ?? new Error('not connected'), 'listener down');
    // Bounded, so a health probe never hangs on a black-holed connection (the pool then discards it).
    try { await this.#pool.query({ text: 'SELECT 1', query_timeout: 5_000 } as pg.QueryConfig); } catch (err) { throw unavailable(err, 'health'); }
  }

  /** Applies the retention limits once (also run every retentionIntervalMs). Resolves with the rows deleted. */
  async sweep(): Promise<number> {
    let deleted = 0;
    const { retentionMaxRows: rows, retentionMaxAgeMs: age } = this.#opts;
    if (rows) {
      // Exactly the newest N rows stay, even across seq gaps.
      const r = await this.#pool.query(
        'DELETE FROM mercure_updates WHERE seq < (SELECT seq FROM mercure_updates ORDER BY seq DESC OFFSET $1 LIMIT 1)', [rows - 1]);
      deleted += r.rowCount ?? 0;
    }
    if (age) {
      const r = await this.#pool.query('DELETE FROM mercure_updates WHERE created_at < now() - make_interval(secs => $1)', [age / 1000]);
      deleted += r.rowCount ?? 0;
    }
    return deleted;
  }

  /** Idempotent: stops timers, removes this node from presence, closes every connection. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const t of this.#timers) clearInterval(t);
      if (this.#listener?.up) await this.presence.stop();
      await this.#listener?.close();
      await this.#pool.end().catch(() => {});
    })();
    return this.#closed;
  }
}
