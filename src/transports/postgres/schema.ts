/**
 * The PostgreSQL transport's schema and its migrations (the schema itself is
 * documented at the top of postgres.ts). Migrations are numbered, applied in
 * order, once, under an advisory lock, so several nodes starting together
 * against an empty database do not race. Never edit a shipped migration: add one.
 */
import type pg from 'pg';
import type { Update } from '../core/contract.ts';

/** LISTEN/NOTIFY channel. The payload is the new row's seq, never the update (8,000-byte limit). */
export const CHANNEL = 'mercure_updates';

/** A mercure_updates row as node-postgres returns it (bigint as text). */
export interface Row { seq: string; id: string; topics: string[]; data: string; private: boolean; type: string | null; retry: number | null }
export const COLUMNS = 'seq, id, topics, data, private, type, retry';
/** Rows per read. Small, because a row may hold a multi-megabyte update. */
export const BATCH = 100;

/** A row back into the update that was published (NULL type/retry = the field was absent). */
export function toUpdate(r: Row): Update {
  const u: Update = { id: r.id, topics: r.topics, data: r.data, private: r.private };
  if (r.type !== null) u.type = r.type;
  if (r.retry !== null) u.retry = r.retry;
  return u;
}

/**
 * Advisory lock keys (two-int form, class 0x4d657263 = "Merc"), so they stay
 * clear of single-bigint keys an application may use in the same database.
 */
const LOCK_CLASS = 0x4d657263;
const MIGRATION_LOCK = 1;
/** Taken by mercure_publish(); see postgres.ts on why inserts are serialised. */
const PUBLISH_LOCK = 2;

const MIGRATIONS: readonly string[] = [
  // 1: updates, presence, and the publish function.
  `CREATE TABLE mercure_updates (
     seq        bigserial PRIMARY KEY,
     id         text NOT NULL,
     topics     text[] NOT NULL,
     data       text NOT NULL,
     private    boolean NOT NULL DEFAULT false,
     type       text,
     retry      integer,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   -- (id, seq): "oldest row with this ID" is one index probe; IDs may repeat (custom IDs).
   CREATE INDEX mercure_updates_id ON mercure_updates (id, seq);
   -- Rows arrive in time order, so a tiny BRIN index serves retention and time-range queries.
   CREATE INDEX mercure_updates_created_at ON mercure_updates USING brin (created_at);
   -- For SQL queries by topic (topics @> ARRAY['…']); the hub itself never needs it.
   CREATE INDEX mercure_updates_topics ON mercure_updates USING gin (topics);

   CREATE TABLE mercure_nodes (
     node_id      text PRIMARY KEY,
     started_at   timestamptz NOT NULL DEFAULT now(),
     heartbeat_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE mercure_subscribers (
     node_id   text NOT NULL REFERENCES mercure_nodes ON DELETE CASCADE,
     id        text NOT NULL,
     topics    text[] NOT NULL,
     payload   jsonb,
     joined_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (node_id, id)
   );

   CREATE FUNCTION mercure_publish(p_id text, p_topics text[], p_data text, p_private boolean, p_type text, p_retry integer)
   RETURNS bigint LANGUAGE plpgsql AS $$
   DECLARE s bigint;
   BEGIN
     PERFORM pg_advisory_xact_lock(${LOCK_CLASS}, ${PUBLISH_LOCK});
     INSERT INTO mercure_updates (id, topics, data, private, type, retry)
       VALUES (p_id, p_topics, p_data, p_private, p_type, p_retry) RETURNING seq INTO s;
     PERFORM pg_notify('${CHANNEL}', s::text);
     RETURN s;
   END $$;`,
  // 2: idempotent publish. An update whose ID is already retained is not
  // inserted again: the check runs under the publish lock, which every insert
  // takes, so it is race-free across nodes; a unique index on the rows written
  // from now on backs it against bare INSERTs (older rows may repeat an ID).
  // mercure_publish() keeps its signature and returns the retained row's seq
  // for a duplicate; mercure_publish_once() also says whether it stored.
  `DO $$ BEGIN
     EXECUTE format('CREATE UNIQUE INDEX mercure_updates_id_once ON mercure_updates (id) WHERE seq > %s',
       (SELECT coalesce(max(seq), 0) FROM mercure_updates));
   END $$;

   CREATE FUNCTION mercure_publish_once(p_id text, p_topics text[], p_data text, p_private boolean, p_type text, p_retry integer,
     OUT out_seq bigint, OUT out_stored boolean)
   LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_advisory_xact_lock(${LOCK_CLASS}, ${PUBLISH_LOCK});
     SELECT u.seq INTO out_seq FROM mercure_updates u WHERE u.id = p_id ORDER BY u.seq LIMIT 1;
     IF FOUND THEN
       out_stored := false;
       RETURN;
     END IF;
     INSERT INTO mercure_updates (id, topics, data, private, type, retry)
       VALUES (p_id, p_topics, p_data, p_private, p_type, p_retry) RETURNING seq INTO out_seq;
     PERFORM pg_notify('${CHANNEL}', out_seq::text);
     out_stored := true;
   END $$;

   CREATE OR REPLACE FUNCTION mercure_publish(p_id text, p_topics text[], p_data text, p_private boolean, p_type text, p_retry integer)
   RETURNS bigint LANGUAGE sql AS $$
     SELECT out_seq FROM mercure_publish_once(p_id, p_topics, p_data, p_private, p_type, p_retry)
   $$;`,
];

/** The schema version this code expects. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Runs fn inside BEGIN … COMMIT on one pooled connection (ROLLBACK on error).
 * A checked-out client has no pool error listener, and node-postgres emits
 * 'error' on it when the server goes away, which would be an uncaught
 * exception: hold a listener for the whole checkout, and discard the
 * connection after any failure.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let failure: Error | undefined;
  const onError = (err: Error) => { failure ??= err; };
  c.on('error', onError);
  try {
    await c.query('BEGIN');
    const result = await fn(c);
    await c.query('COMMIT');
    return result;
  } catch (err) {
    failure ??= err as Error;
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.removeListener('error', onError);
    c.release(failure);
  }
}

/**
 * Brings the database to SCHEMA_VERSION in one transaction. Refuses a database
 * migrated by a newer Quicksilver rather than guessing at its schema.
 */
export function migrate(pool: pg.Pool): Promise<void> {
  return inTransaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, MIGRATION_LOCK]);
    await c.query('CREATE TABLE IF NOT EXISTS mercure_schema_version (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM mercure_schema_version');
    const current = rows[0]?.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`database schema version ${current} is newer than this Quicksilver supports (${SCHEMA_VERSION})`);
    }
    for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
      await c.query(MIGRATIONS[v - 1]!);
      await c.query('INSERT INTO mercure_schema_version (version) VALUES ($1)', [v]);
    }
  });
}
