/**
 * The PostgreSQL transport's stream reader: one dedicated connection per node
 * that LISTENs on mercure_updates and reads new rows by seq. NOTIFY carries
 * only the seq, so its 8,000-byte payload limit never applies; a notification
 * just means "read again". Rows are read on this same connection, so a node
 * reads the stream at one place and pool traffic (publishes, replays) never
 * delays it.
 *
 * After a lost connection it reconnects with backoff, LISTENs again, then
 * reads from the last seq it delivered: no gap, no duplicate (rows deleted by
 * retention meanwhile excepted). Reading `seq > last` is gap-free only because
 * inserts are serialised; see postgres.ts.
 */
import pg from 'pg';
import type { PgLog } from './presence.ts';
import { BATCH, CHANNEL, COLUMNS, toUpdate, type Row } from './schema.ts';
import { pgConfigFromUrl } from './url.ts';
import type { BackendSink } from '../core/contract.ts';

export interface StreamListenerOptions {
  url: string;
  /** Reconnection backoff, doubling from min to max (ms). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  log: PgLog;
}

export class StreamListener {
  #opts: StreamListenerOptions;
  #sink: BackendSink;
  #client: pg.Client | undefined;
  #up = false;
  #error: unknown;
  /** Highest seq handed to the sink. */
  #lastSeq = 0n;
  /** The starting point is taken once; reconnections resume from #lastSeq. */
  #headTaken = false;
  #pulling = false;
  #pullAgain = false;
  #backoff: number;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: StreamListenerOptions, sink: BackendSink) {
    this.#opts = opts;
    this.#sink = sink;
    this.#backoff = opts.reconnectMinMs;
  }

  /** Whether the connection is up; when not, why. */
  get up(): boolean { return this.#up; }
  get error(): unknown { return this.#error; }

  /** Connects, LISTENs, and takes the current head as the starting point. Rejects when the first connection fails. */
  start(): Promise<void> { return this.#connect(); }

  /**
   * Reads every row after the last delivered seq, in order. Calls while a read
   * runs coalesce into one more pass. Also called periodically as a safety net.
   */
  pull(): void {
    if (this.#pulling) { this.#pullAgain = true; return; }
    const client = this.#client;
    if (!client || !this.#up || this.#closed) return;
    this.#pulling = true;
    const run = async () => {
      do {
        this.#pullAgain = false;
        for (;;) {
          const { rows } = await client.query<Row>(
            `SELECT ${COLUMNS} FROM mercure_updates WHERE seq > $1 ORDER BY seq LIMIT ${BATCH}`, [this.#lastSeq.toString()]);
          for (const r of rows) {
            const seq = BigInt(r.seq);
            if (seq <= this.#lastSeq || this.#closed) continue;
            this.#lastSeq = seq;
            this.#sink.deliver(toUpdate(r), seq);
          }
          if (rows.length < BATCH) break;
        }
      } while (this.#pullAgain && !this.#closed);
    };
    // A failed read almost always means a lost connection, whose reconnection reads again from #lastSeq.
    run().catch((err: unknown) => { if (client === this.#client) this.#opts.log.warn({ err }, 'PostgreSQL stream read failed'); })
      .finally(() => { this.#pulling = false; if (this.#pullAgain) this.pull(); });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#up = false;
    clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(pgConfigFromUrl(this.#opts.url));
    // Until LISTEN succeeds, failures surface through connect()/query(); #lost ignores this client.
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL) return;
      const p = n.payload ?? '';
      if (!/^\d+$/.test(p) || BigInt(p) > this.#lastSeq) this.pull();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (!this.#headTaken) {
        // LISTEN before reading the head: a publish in between is then both above the head and notified.
        const { rows } = await client.query<{ head: string }>('SELECT coalesce(max(seq), 0) AS head FROM mercure_updates');
        this.#lastSeq = BigInt(rows[0]!.head);
        this.#headTaken = true;
      }
      if (this.#closed) throw new Error('closed');
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      throw err;
    }
    this.#client = client;
    this.#up = true;
    this.pull();
  }

  #lost(client: pg.Client, err: unknown): void {
    if (client !== this.#client || this.#closed) return;
    this.#client = undefined;
    this.#up = false;
    this.#error = err;
    client.removeAllListeners('end');
    client.end().catch(() => {});
    this.#opts.log.warn({ err }, 'PostgreSQL listener connection lost; reconnecting');
    this.#sink.connection(false, err);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer) return;
    const delay = this.#backoff;
    this.#backoff = Math.min(delay * 2, this.#opts.reconnectMaxMs);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect().then(() => {
        this.#backoff = this.#opts.reconnectMinMs;
        this.#opts.log.info({}, 'PostgreSQL listener reconnected');
        this.#sink.connection(true);
      }, (err: unknown) => {
        if (this.#closed) return;
        this.#error = err;
        this.#scheduleReconnect();
      });
    }, delay);
  }
}
