/**
 * Presence across nodes for the PostgreSQL transport. Each node owns one row
 * in mercure_nodes (its heartbeat) and one row per local subscriber in
 * mercure_subscribers. The heartbeat is per node rather than per subscriber so
 * that staying alive costs one UPDATE, whatever the subscriber count.
 *
 * Expiry (documented bound): a node that stops heartbeating disappears from
 * list() `ttlMs` after its last heartbeat (default 15 s), whatever the clocks
 * of the nodes say, since every timestamp is the database's now(). Its rows are
 * deleted by the next heartbeat of any live node after that.
 *
 * join/leave are synchronous for the core, so writes go through one ordered
 * queue. A failed write (database down) marks the node dirty, and the next
 * successful heartbeat rewrites the node's rows from the local map, so presence
 * converges after an outage without replaying each join/leave.
 */
import type pg from 'pg';
import { QsError } from '../../host/errors.ts';
import { inTransaction } from './schema.ts';
import type { PresenceBackend, SubscriberInfo } from '../core/contract.ts';

/** Minimal logger (pino's Logger fits). */
export interface PgLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export class PostgresPresence implements PresenceBackend {
  readonly nodeId: string;
  #pool: pg.Pool;
  #ttlMs: number;
  #log: PgLog;
  #local = new Map<string, SubscriberInfo>();
  #queue: Promise<void> = Promise.resolve();
  /** The database may not match #local: rewrite this node's rows at the next heartbeat. */
  #dirty = true;
  #failing = false;
  /**
   * Joins (info) and leaves (null) not yet written, last one per ID. A burst of
   * (re)connections becomes one transaction per round trip instead of one per subscriber.
   */
  #pending = new Map<string, SubscriberInfo | null>();
  #flushQueued = false;
  #beating: Promise<void> | undefined;

  constructor(pool: pg.Pool, nodeId: string, ttlMs: number, log: PgLog) {
    this.#pool = pool;
    this.nodeId = nodeId;
    this.#ttlMs = ttlMs;
    this.#log = log;
  }

  join(info: SubscriberInfo): void {
    const copy = { id: info.id, topics: [...info.topics], payload: info.payload };
    this.#local.set(info.id, copy);
    this.#pending.set(info.id, copy);
    this.#scheduleFlush();
  }

  leave(id: string): void {
    if (!this.#local.delete(id)) return;
    this.#pending.set(id, null);
    this.#scheduleFlush();
  }

  /** Subscribers of every node whose heartbeat is younger than the TTL, this node's pending writes included. */
  async list(): Promise<SubscriberInfo[]> {
    await this.#queue;
    try {
      const { rows } = await this.#pool.query<{ id: string; topics: string[]; payload: unknown }>(
        `SELECT s.id, s.topics, s.payload FROM mercure_subscribers s JOIN mercure_nodes n USING (node_id)
         WHERE n.heartbeat_at > now() - make_interval(secs => $1) ORDER BY s.joined_at, s.node_id, s.id`,
        [this.#ttlMs / 1000]);
      return rows.map((r) => (r.payload === null ? { id: r.id, topics: r.topics } : { id: r.id, topics: r.topics, payload: r.payload }));
    } catch (err) {
      throw new QsError('ERR_TRANSPORT_UNAVAILABLE', `PostgreSQL presence: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Refreshes this node's heartbeat, rewrites its rows when they may be stale
   * (first beat, failed writes, or the row expired while the node was cut
   * off), and deletes expired nodes. Never throws; failures are logged once per outage.
   */
  heartbeat(): Promise<void> {
    // One at a time: while the database hangs, beats must not pile up behind each other.
    if (this.#beating) return this.#beating;
    // Queued with join/leave, so a rewrite never overtakes a pending write.
    const p = this.#queue.then(() => this.#beat()).then(
      () => { if (this.#failing) this.#log.info({ node: this.nodeId }, 'PostgreSQL presence recovered'); this.#failing = false; },
      (err: unknown) => {
        this.#dirty = true;
        if (!this.#failing) this.#log.warn({ err, node: this.nodeId }, 'PostgreSQL presence heartbeat failed');
        this.#failing = true;
      }).finally(() => { this.#beating = undefined; });
    this.#queue = this.#beating = p;
    return p;
  }

  #beat(): Promise<void> {
    return inTransaction(this.#pool, async (c) => {
      const { rows } = await c.query<{ inserted: boolean }>(
        `INSERT INTO mercure_nodes (node_id) VALUES ($1)
         ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = now() RETURNING (xmax = 0) AS inserted`, [this.nodeId]);
      if (rows[0]?.inserted || this.#dirty) {
        const subs = [...this.#local.values()].map((s) => ({ id: s.id, topics: s.topics, payload: s.payload ?? null }));
        await c.query('DELETE FROM mercure_subscribers WHERE node_id = $1', [this.nodeId]);
        await c.query(INSERT_SUBSCRIBERS, [this.nodeId, JSON.stringify(subs)]);
      }
      await c.query('DELETE FROM mercure_nodes WHERE heartbeat_at < now() - make_interval(secs => $1)', [this.#ttlMs / 1000]);
    }).then(() => { this.#dirty = false; });
  }

  /** Removes this node's rows (graceful shutdown). Best effort. */
  async stop(): Promise<void> {
    this.#local.clear();
    await this.#queue;
    await this.#pool.query('DELETE FROM mercure_nodes WHERE node_id = $1', [this.nodeId]).catch(() => {});
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    this.#queue = this.#queue.then(async () => {
      this.#flushQueued = false;
      const batch = this.#pending;
      this.#pending = new Map();
      try {
        // When dirty, rewriting every row from #local (which holds these changes) replaces the batch.
        if (this.#dirty) await this.#beat();
        else await this.#writeBatch(batch);
      } catch {
        this.#dirty = true;
      }
    });
  }

  /** Applies one batch: delete every ID it touches, insert the ones whose last change is a join. */
  #writeBatch(batch: Map<string, SubscriberInfo | null>): Promise<void> {
    const joins = [...batch.values()].filter((s) => s !== null).map((s) => ({ id: s.id, topics: s.topics, payload: s.payload ?? null }));
    return inTransaction(this.#pool, async (c) => {
      await c.query('DELETE FROM mercure_subscribers WHERE node_id = $1 AND id = ANY($2)', [this.nodeId, [...batch.keys()]]);
      if (joins.length) await c.query(INSERT_SUBSCRIBERS, [this.nodeId, JSON.stringify(joins)]);
    });
  }
}

/** Inserts subscribers given as a JSON array; topics travel as JSON because unnest() would flatten text[][]. */
const INSERT_SUBSCRIBERS = `INSERT INTO mercure_subscribers (node_id, id, topics, payload)
  SELECT $1, s.id, ARRAY(SELECT jsonb_array_elements_text(s.topics)), s.payload
  FROM jsonb_to_recordset($2::jsonb) AS s(id text, topics jsonb, payload jsonb)`;
