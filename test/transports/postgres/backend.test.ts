/**
 * PostgresBackend against a real PostgreSQL: the stream (ordering, large
 * updates, catch-up after a lost listener, restart), history, retention.
 * Presence lives in postgres-presence.test.ts, the shared contract in postgres.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PostgresBackend, type PostgresOptions } from '../../../src/transports/postgres/backend.ts';
import type { Update } from '../../../src/transports/core/contract.ts';
import { eventually, postgresSkip, RecordingSink, startPostgres, type PostgresServer } from '../../helpers/postgres-server.ts';

const skip = postgresSkip();

describe('PostgresBackend', { skip }, () => {
  let server: PostgresServer;
  const backends: PostgresBackend[] = [];
  before(async () => { server = await startPostgres(); });
  after(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await server?.destroy();
  });

  const fast = { reconnectMinMs: 20, reconnectMaxMs: 200, heartbeatMs: 200, presenceTtlMs: 1_000 };
  async function node(url: string, opts: Partial<PostgresOptions> = {}): Promise<{ b: PostgresBackend; sink: RecordingSink }> {
    const b = new PostgresBackend({ url, ...fast, ...opts });
    backends.push(b);
    const sink = new RecordingSink();
    await b.start(sink);
    return { b, sink };
  }
  const upd = (i: number | string, extra: Partial<Update> = {}): Update => ({ id: `id-${i}`, topics: [`https://example.com/t/${i}`], data: `data ${i}`, private: false, ...extra });
  const ids = (sink: RecordingSink) => sink.seen.map((s) => s.update.id);
  const assertStream = (sink: RecordingSink, expected: string[]) => {
    assert.deepEqual(ids(sink), expected);
    for (let i = 1; i < sink.seen.length; i++) assert.ok(sink.seen[i]!.seq > sink.seen[i - 1]!.seq, 'seq strictly increases');
  };

  test('start migrates an empty database and twice-started nodes share one schema', async () => {
    const url = await server.createDatabase();
    await Promise.all([node(url), node(url)]);
    const { rows } = await server.sql('SELECT version FROM mercure_schema_version', [], url.split('/').pop());
    assert.deepEqual(rows, [{ version: 1 }, { version: 2 }]);
  });

  test('updates reach every node once, in one order, with every field intact', async () => {
    const url = await server.createDatabase();
    const nodes = [await node(url), await node(url), await node(url)];
    const full: Update = { id: 'x', topics: ['https://a', 'https://b'], data: 'line1\nline2 é ✓', private: true, type: 'evt', retry: 3000 };
    await nodes[0]!.b.publish(full);
    // 600 concurrent publishes over 30 connections: without serialised inserts, a
    // row committing after a higher seq would be skipped by some listener.
    const n = 600;
    await Promise.all(Array.from({ length: n }, (_, i) => nodes[i % 3]!.b.publish(upd(i))));
    for (const { sink } of nodes) await sink.count(n + 1);
    assert.deepEqual(nodes[0]!.sink.seen[0]!.update, full);
    for (const { sink } of nodes) assertStream(sink, ids(nodes[0]!.sink));
    assert.equal(new Set(ids(nodes[0]!.sink)).size, n + 1);
  });

  test('a 1 MB update crosses nodes (NOTIFY carries only the seq)', async () => {
    const url = await server.createDatabase();
    const a = await node(url);
    const b = await node(url);
    const data = 'x'.repeat(1024 * 1024 - 3) + 'end';
    await a.b.publish(upd('big', { data }));
    await b.sink.count(1);
    await a.sink.count(1);
    assert.equal(b.sink.seen[0]!.update.data, data);
    assert.equal(a.sink.seen[0]!.update.data.length, data.length);
  });

  test('history: earliest, by ID, unknown ID, up to the head; a retained ID is not stored twice', async () => {
    const url = await server.createDatabase();
    const a = await node(url);
    assert.equal(await a.b.lastEventId(), undefined);
    assert.deepEqual(await a.b.history('earliest', () => assert.fail('empty')), { found: true, lastSeq: 0n });
    const outcomes: unknown[] = [];
    for (const id of ['a', 'dup', 'b', 'dup', 'c']) outcomes.push(await a.b.publish(upd(id, { id })));
    assert.deepEqual(outcomes, ['stored', 'stored', 'stored', 'duplicate', 'stored']);
    await a.sink.count(4);
    const seqs = a.sink.seen.map((s) => s.seq);
    const visit = async (from: string) => {
      const got: string[] = [];
      const r = await a.b.history(from, (u, seq) => { got.push(`${u.id}@${seq}`); });
      return { got, ...r };
    };
    const all = await visit('earliest');
    assert.deepEqual(all.got, ['a', 'dup', 'b', 'c'].map((id, i) => `${id}@${seqs[i]}`));
    assert.equal(all.lastSeq, seqs[3]);
    assert.deepEqual((await visit('dup')).got.map((s) => s.split('@')[0]), ['b', 'c']);
    assert.deepEqual(await visit('c'), { got: [], found: true, lastSeq: seqs[3] });
    assert.deepEqual(await visit('nope'), { got: [], found: false, lastSeq: seqs[3] });
    // Other writers going through mercure_publish() get the same rule; a bare INSERT hits the unique index.
    const db = url.split('/').pop();
    const { rows } = await server.sql("SELECT mercure_publish('dup', ARRAY['t'], 'd', false, NULL, NULL) AS seq", [], db);
    assert.equal(BigInt(rows[0].seq), seqs[1]);
    await assert.rejects(server.sql("INSERT INTO mercure_updates (id, topics, data) VALUES ('c', ARRAY['t'], 'd')", [], db), { code: '23505' });
    assert.equal(await a.b.lastEventId(), 'c');
  });

  test('a listener cut off catches up on every row inserted meanwhile, without duplicates', async () => {
    await server.sql('CREATE ROLE qs_cut LOGIN');
    const db = 'qs_cut_db';
    await server.sql(`CREATE DATABASE ${db} OWNER qs_cut`);
    const logged: string[] = [];
    const log = { warn: (_: object, msg: string) => { logged.push(msg); }, info: (_: object, msg: string) => { logged.push(msg); } };
    const a = await node(`postgres://qs_cut@127.0.0.1:${server.port}/${db}`, { log });
    const b = await node(server.url(db));
    await b.b.publish(upd(0));
    await a.sink.count(1);
    // Forbid qs_cut to log in, then cut its sessions: a cannot reconnect until allowed again.
    await server.sql('ALTER ROLE qs_cut NOLOGIN');
    await server.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'qs_cut'");
    await a.sink.until(() => a.sink.connections.includes(false), 'connection lost');
    await assert.rejects(a.b.health(), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
    for (let i = 1; i <= 20; i++) await b.b.publish(upd(i));
    await b.sink.count(21);
    assert.equal(a.sink.seen.length, 1, 'nothing arrives while cut off');
    await server.sql('ALTER ROLE qs_cut LOGIN');
    await a.sink.count(21);
    await a.sink.until(() => a.sink.connections.at(-1) === true, 'reconnected');
    await b.b.publish(upd(21));
    await a.sink.count(22);
    await b.sink.count(22);
    assertStream(a.sink, Array.from({ length: 22 }, (_, i) => `id-${i}`));
    assert.deepEqual(a.sink.seen.map((s) => s.seq), b.sink.seen.map((s) => s.seq));
    await a.b.health();
    assert.ok(logged.includes('PostgreSQL listener connection lost; reconnecting'), JSON.stringify(logged));
    assert.ok(logged.includes('PostgreSQL listener reconnected'));
  });

  test('PostgreSQL restarted mid-stream: publish fails with ERR_TRANSPORT_UNAVAILABLE, then both nodes resume with no gap', async () => {
    const url = await server.createDatabase();
    const a = await node(url);
    const b = await node(url);
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) { await (i % 2 ? a : b).b.publish(upd(i)); sent.push(`id-${i}`); }
    await a.sink.count(10);
    await server.stop();
    await assert.rejects(a.b.publish(upd('down')), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
    await assert.rejects(b.b.health(), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
    await a.sink.until(() => a.sink.connections.includes(false), 'a sees the outage');
    await server.start();
    await a.sink.until(() => a.sink.connections.at(-1) === true, 'a reconnected');
    await b.sink.until(() => b.sink.connections.at(-1) === true, 'b reconnected');
    for (let i = 10; i < 20; i++) {
      await (i % 2 ? a : b).b.publish(upd(i));
      sent.push(`id-${i}`);
    }
    await a.sink.count(20);
    await b.sink.count(20);
    assertStream(a.sink, sent);
    assertStream(b.sink, sent);
    await a.b.health();
    await b.b.health();
  });

  test('retention keeps the newest max_rows and drops rows older than max_age', async () => {
    const url = await server.createDatabase();
    const db = url.split('/').pop();
    const a = await node(url, { retentionMaxRows: 5 });
    for (let i = 0; i < 12; i++) await a.b.publish(upd(i));
    assert.equal(await a.b.sweep(), 7);
    const kept: string[] = [];
    await a.b.history('earliest', (u) => { kept.push(u.id); });
    assert.deepEqual(kept, ['id-7', 'id-8', 'id-9', 'id-10', 'id-11']);
    assert.equal((await a.b.history('id-3', () => {})).found, false);

    const byAge = await node(url, { retentionMaxAgeMs: 3600_000, retentionIntervalMs: 50 });
    await server.sql("UPDATE mercure_updates SET created_at = now() - interval '2 hours' WHERE id IN ('id-7', 'id-8')", [], db);
    // The periodic sweep (every 50 ms here) does it on its own.
    await eventually(async () => {
      const { rows } = await server.sql('SELECT id FROM mercure_updates ORDER BY seq', [], db);
      assert.deepEqual(rows.map((r) => r.id), ['id-9', 'id-10', 'id-11']);
    });
    await byAge.b.close();
  });

  test('close is idempotent and publish after close is ERR_TRANSPORT_CLOSED', async () => {
    const url = await server.createDatabase();
    const a = await node(url);
    await Promise.all([a.b.close(), a.b.close()]);
    await assert.rejects(a.b.publish(upd(1)), { code: 'ERR_TRANSPORT_CLOSED' });
    await assert.rejects(a.b.health(), { code: 'ERR_TRANSPORT_CLOSED' });
  });

  test('start fails cleanly when the database cannot be reached, and close still works', async () => {
    const b = new PostgresBackend({ url: `postgres://postgres@127.0.0.1:${server.port}/no_such_db?connect_timeout=2` });
    await assert.rejects(b.start(new RecordingSink()), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
    await b.close();
  });
});
