/**
 * Backend `bolt`: embedded, persistent, one process. Named after the Go hub's
 * BoltDB transport (same options, same role) but stored with node:sqlite,
 * chosen by measurement (bench/store-choice.ts, 100k updates, 2 vCPU): one
 * commit per publish does ~40k/s raw and ~25–40k/s through the whole
 * transport (trimming or not); lmdb did ~61k/s only with fsync off, ~2.8k/s
 * with it on, and replays (~0.6–0.9M rows/s) were alike. WAL with
 * synchronous=NORMAL: a commit survives a process crash, not a power cut.
 * Publishes of one event-loop turn share one commit (group commit, #commit).
 *
 * Schema, one table per bucket (the Go hub's bbolt bucket):
 *
 *   CREATE TABLE "<bucket_name>" (
 *     seq     INTEGER PRIMARY KEY,  -- stream position, strictly increasing
 *     id      TEXT    NOT NULL,     -- update ID; not unique, the oldest is the anchor
 *     topics  TEXT    NOT NULL,     -- JSON array, canonical topic first
 *     data    TEXT    NOT NULL,
 *     private INTEGER NOT NULL,     -- 0 or 1
 *     type    TEXT,                 -- NULL: no `event:` field
 *     retry   INTEGER               -- NULL: no `retry:` field
 *   );
 *   CREATE INDEX "<bucket_name>.id" ON "<bucket_name>" (id);
 *
 * Idempotent publish: an update whose ID is already in the table is not
 * inserted again (publish() resolves 'duplicate'); the check is an index probe
 * inside the group commit's transaction, and one process owns the file, so no
 * other writer can slip in between. Tables written before this may hold
 * repeated IDs; the oldest one stays the history anchor.
 *
 * A Last-Event-ID is found through the index in O(log n), then history is
 * read by seq range, so a replay from any retained ID works (the Go hub gives
 * up after scanning the 10,000 oldest records).
 *
 * Trimming. The Go hub trims only when `cleanup_frequency` ≠ 0, and then runs
 * with probability 1 − f (inverted from its docs), so `size` alone never trims.
 * We fix both: with `size` > 0 the history is always trimmed to the newest
 * `size` updates, deterministically every ⌈1/f⌉-th publish (f = 0 or 1: every
 * publish), so it holds at most size + ⌈1/f⌉ − 1 rows between trims. A group
 * commit trims once, at its end, when it reaches or passes that count.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { QsError } from '../../host/errors.ts';
import type { Backend, BackendSink, HistoryResult, PublishOutcome, Update } from '../core/contract.ts';
import { decodeBytes, encodeString } from '../core/byte-string.ts';

/** Options of the bolt backend (the module config, camel-cased). */
export interface BoltOptions {
  /** Database file; parent directories are created (0700), the file too (0600). */
  path: string;
  /** Table name (the Go hub's bucket). Default `updates`. */
  bucketName?: string;
  /** Updates to keep; 0 keeps everything. */
  size?: number;
  /** Fraction of publishes followed by a trim (see above). */
  cleanupFrequency?: number;
}

/** Rows read per query during replays; the event loop gets a turn between pages. */
const PAGE = 1000;
const COLUMNS = 'seq, id, topics, data, private, type, retry';
type Row = [number, string | Uint8Array, string, string, number, string | null, number | Uint8Array | null];

/**
 * An ID as stored: text, or, when it holds bytes that are not UTF-8
 * (byte-string.ts), those bytes as a BLOB; SQLite would turn them into U+FFFD
 * as text. A BLOB never equals a TEXT, so lookups stay exact.
 */
function idParam(id: string): string | Uint8Array {
  return id.isWellFormed() ? id : encodeString(id);
}

function idValue(v: string | Uint8Array): string {
  return typeof v === 'string' ? v : decodeBytes(v);
}

/** A retry as stored: an INTEGER, or above 2^53 its decimal digits as a BLOB (an INTEGER column would round or overflow). */
function retryParam(retry: number | bigint | undefined): number | Uint8Array | null {
  if (!retry) return null;
  return typeof retry === 'bigint' ? Buffer.from(retry.toString(), 'latin1') : retry;
}

function toUpdate(r: Row): Update {
  const u: Update = { id: idValue(r[1]), topics: JSON.parse(r[2]) as string[], data: r[3], private: r[4] === 1 };
  if (r[5] !== null) u.type = r[5];
  if (r[6] !== null) u.retry = typeof r[6] === 'number' ? r[6] : BigInt(Buffer.from(r[6]).toString('latin1'));
  return u;
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

interface Statements {
  begin: StatementSync; commit: StatementSync; rollback: StatementSync;
  insert: StatementSync; trim: StatementSync; find: StatementSync; after: StatementSync; before: StatementSync; ping: StatementSync;
}

/** The persistent single-node stream over one SQLite table. */
export class BoltBackend implements Backend {
  readonly dedupe = 'atomic';
  readonly #path: string;
  readonly #bucket: string;
  readonly #size: number;
  readonly #every: number;
  #db: DatabaseSync | undefined;
  #st: Statements | undefined;
  #sink: BackendSink | undefined;
  #head = 0;
  #lastId: string | undefined;
  #sinceTrim = 0;
  #closed = false;
  /** Publishes waiting for the next group commit. */
  #batch: { update: Update; resolve: (outcome: PublishOutcome) => void; reject: (err: Error) => void }[] = [];

  constructor(options: BoltOptions) {
    this.#path = options.path;
    this.#bucket = options.bucketName || 'updates';
    this.#size = options.size ?? 0;
    const f = options.cleanupFrequency ?? 0;
    this.#every = f > 0 && f < 1 ? Math.ceil(1 / f) : 1;
  }

  /** Opens (and creates) the database, reads the head and the last event ID. */
  async start(sink: BackendSink): Promise<void> {
    if (this.#closed) throw new QsError('ERR_TRANSPORT_CLOSED', 'the Mercure transport is closed');
    mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
    closeSync(openSync(this.#path, 'a', 0o600)); // sqlite gives the -wal/-shm files the same mode
    const db = new DatabaseSync(this.#path, { timeout: 1000 });
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      const t = quote(this.#bucket);
      db.exec(`CREATE TABLE IF NOT EXISTS ${t} (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, topics TEXT NOT NULL, ` +
        `data TEXT NOT NULL, private INTEGER NOT NULL, type TEXT, retry INTEGER);
        CREATE INDEX IF NOT EXISTS ${quote(this.#bucket + '.id')} ON ${t} (id);`);
      this.#st = {
        begin: db.prepare('BEGIN'),
        commit: db.prepare('COMMIT'),
        rollback: db.prepare('ROLLBACK'),
        insert: db.prepare(`INSERT INTO ${t} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
        trim: db.prepare(`DELETE FROM ${t} WHERE seq <= ?`),
        find: db.prepare(`SELECT seq FROM ${t} WHERE id = ? ORDER BY seq LIMIT 1`),
        after: db.prepare(`SELECT ${COLUMNS} FROM ${t} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ${PAGE}`),
        before: db.prepare(`SELECT ${COLUMNS} FROM ${t} WHERE seq <= ? ORDER BY seq DESC LIMIT ${PAGE}`),
        ping: db.prepare('SELECT 1'),
      };
      this.#st.after.setReturnArrays(true);
      this.#st.before.setReturnArrays(true);
      const last = db.prepare(`SELECT seq, id FROM ${t} ORDER BY seq DESC LIMIT 1`).get() as { seq: number; id: string | Uint8Array } | undefined;
      this.#head = last?.seq ?? 0;
      this.#lastId = last ? idValue(last.id) : undefined;
    } catch (err) {
      db.close();
      throw err;
    }
    this.#db = db;
    this.#sink = sink;
  }

  /**
   * Queues the update for the next group commit (see #commit). Resolves once
   * it is committed and handed to the core.
   */
  publish(update: Update): Promise<PublishOutcome> {
    if (this.#closed || !this.#st) return Promise.reject(new QsError('ERR_TRANSPORT_CLOSED', 'the Mercure transport is closed'));
    return new Promise((resolve, reject) => {
      this.#batch.push({ update, resolve, reject });
      if (this.#batch.length === 1) setImmediate(this.#commit);
    });
  }

  /**
   * Group commit: every publish of one event-loop turn goes into one
   * transaction (one WAL append of the touched pages instead of one per
   * update: ~30 → ~17 µs an update at 8 a batch), then to the core in seq
   * order, all synchronously, so stream order = seq order. A failed commit
   * fails every publish of the batch.
   */
  readonly #commit = (): void => {
    const batch = this.#batch;
    this.#batch = [];
    const st = this.#st;
    if (this.#closed || !st) {
      for (const p of batch) p.reject(new QsError('ERR_TRANSPORT_CLOSED', 'the Mercure transport is closed'));
      return;
    }
    /** seq of each publish of the batch; 0 = duplicate of a retained update (not inserted). */
    const seqs = new Array<number>(batch.length).fill(0);
    let last = this.#head;
    let trim = false;
    let since = this.#sinceTrim;
    try {
      st.begin.run();
      const inBatch = new Set<string>();
      for (let i = 0; i < batch.length; i++) {
        const u = batch[i]!.update;
        if (inBatch.has(u.id) || st.find.get(idParam(u.id)) !== undefined) continue;
        inBatch.add(u.id);
        seqs[i] = ++last;
        st.insert.run(last, idParam(u.id), JSON.stringify(u.topics), u.data, u.private ? 1 : 0, u.type || null, retryParam(u.retry));
      }
      since += last - this.#head;
      trim = this.#size > 0 && since >= this.#every && last > this.#size;
      if (trim) st.trim.run(last - this.#size);
      st.commit.run();
    } catch (err) {
      if (this.#db?.isTransaction) st.rollback.run();
      const e = new QsError('ERR_TRANSPORT_UNAVAILABLE', `cannot persist the update in ${this.#path}: ${(err as Error).message}`, { cause: err });
      for (const p of batch) p.reject(e);
      return;
    }
    if (last > this.#head) {
      this.#head = last;
      this.#lastId = batch[seqs.lastIndexOf(last)]!.update.id;
    }
    this.#sinceTrim = trim ? 0 : since;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      if (seqs[i] === 0) { p.resolve('duplicate'); continue; }
      this.#sink!.deliver(p.update, BigInt(seqs[i]!));
      p.resolve('stored');
    }
  };

  async history(afterId: string, visit: (update: Update, seq: bigint) => boolean | void): Promise<HistoryResult> {
    const st = this.#open();
    const head = this.#head;
    let from = 0;
    if (afterId !== 'earliest') {
      const row = st.find.get(idParam(afterId)) as { seq: number } | undefined;
      if (!row) return { found: false, lastSeq: BigInt(head) };
      from = row.seq;
    }
    let last = from;
    for (;;) {
      const rows = st.after.all(last, head) as unknown as Row[];
      for (const r of rows) {
        last = r[0];
        if (visit(toUpdate(r), BigInt(r[0])) === false) return { found: true, lastSeq: BigInt(last) };
      }
      if (rows.length < PAGE) break;
      await yieldToLoop(); // a long replay must not stall publishers and other streams
      if (this.#closed) throw new QsError('ERR_TRANSPORT_CLOSED', 'the Mercure transport is closed');
    }
    return { found: true, lastSeq: BigInt(head) };
  }

  async tail(visit: (update: Update, seq: bigint) => boolean | void): Promise<void> {
    const st = this.#open();
    let before = this.#head;
    for (;;) {
      const rows = st.before.all(before) as unknown as Row[];
      for (const r of rows) {
        if (visit(toUpdate(r), BigInt(r[0])) === true) return;
        before = r[0] - 1;
      }
      if (rows.length < PAGE) return;
      await yieldToLoop();
      if (this.#closed) return;
    }
  }

  async lastEventId(): Promise<string | undefined> {
    return this.#lastId;
  }

  async health(): Promise<void> {
    this.#open().ping.get();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const db = this.#db;
    this.#db = undefined;
    this.#st = undefined;
    db?.close();
  }

  #open(): Statements {
    if (this.#closed || !this.#st) throw new QsError('ERR_TRANSPORT_CLOSED', 'the Mercure transport is closed');
    return this.#st;
  }
}
