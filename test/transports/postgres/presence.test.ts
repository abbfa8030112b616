/**
 * Presence across nodes with the PostgreSQL transport: shared list, expiry of
 * a node that stops heartbeating, convergence after it comes back, graceful leave.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PostgresBackend } from '../../../src/transports/postgres/backend.ts';
import { eventually, postgresSkip, RecordingSink, startPostgres, type PostgresServer } from '../../helpers/postgres-server.ts';

describe('PostgreSQL presence', { skip: postgresSkip() }, () => {
  let server: PostgresServer;
  const backends: PostgresBackend[] = [];
  before(async () => { server = await startPostgres(); });
  after(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await server?.destroy();
  });

  const HEARTBEAT = 100, TTL = 600;
  async function node(url: string, nodeId: string): Promise<PostgresBackend> {
    const b = new PostgresBackend({ url, nodeId, heartbeatMs: HEARTBEAT, presenceTtlMs: TTL, reconnectMinMs: 20, reconnectMaxMs: 100 });
    backends.push(b);
    await b.start(new RecordingSink());
    return b;
  }
  const ids = async (b: PostgresBackend) => (await b.presence.list()).map((s) => s.id).sort();

  test('every node lists every live node\'s subscribers, with topics and payload', async () => {
    const url = await server.createDatabase();
    const a = await node(url, 'a'), b = await node(url, 'b');
    a.presence.join({ id: 'a1', topics: ['https://example.com/1', 'https://example.com/1'], payload: { user: 'x', n: [1] } });
    b.presence.join({ id: 'b1', topics: ['*'] });
    // list() on the writing node waits for its own pending writes.
    await b.presence.list();
    const listed = await a.presence.list();
    assert.deepEqual(listed.find((s) => s.id === 'a1'), { id: 'a1', topics: ['https://example.com/1', 'https://example.com/1'], payload: { user: 'x', n: [1] } });
    assert.deepEqual(listed.find((s) => s.id === 'b1'), { id: 'b1', topics: ['*'] });
    assert.deepEqual(await ids(b), ['a1', 'b1']);
    b.presence.leave('b1');
    assert.deepEqual(await ids(b), ['a1']);
    assert.deepEqual(await ids(a), ['a1']);
  });

  test('a node that stops heartbeating drops out within the TTL, its rows are deleted, and it converges when back', async () => {
    await server.sql('CREATE ROLE qs_presence LOGIN');
    await server.sql('CREATE DATABASE qs_presence_db OWNER qs_presence');
    const a = await node(`postgres://qs_presence@127.0.0.1:${server.port}/qs_presence_db`, 'a');
    const b = await node(server.url('qs_presence_db'), 'b');
    a.presence.join({ id: 'a1', topics: ['t'] });
    a.presence.join({ id: 'a2', topics: ['t'] });
    b.presence.join({ id: 'b1', topics: ['t'] });
    await a.presence.list();
    assert.deepEqual(await ids(b), ['a1', 'a2', 'b1']);

    // Node a is cut off: no heartbeat can reach the database any more.
    await server.sql('ALTER ROLE qs_presence NOLOGIN');
    await server.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'qs_presence'");
    const cut = Date.now();
    await eventually(async () => assert.deepEqual(await ids(b), ['b1']), 5_000);
    const gone = Date.now() - cut;
    assert.ok(gone <= TTL + 1_000, `a's subscribers disappear within the TTL (took ${gone} ms)`);
    await eventually(async () => {
      const { rows } = await server.sql("SELECT count(*)::int AS n FROM mercure_subscribers WHERE node_id = 'a'", [], 'qs_presence_db');
      assert.equal(rows[0].n, 0, 'a live node deleted the expired rows');
    }, 5_000);

    // Changes made while cut off are applied when a is back.
    a.presence.leave('a1');
    a.presence.join({ id: 'a3', topics: ['u'], payload: 'p' });
    await server.sql('ALTER ROLE qs_presence LOGIN');
    await eventually(async () => assert.deepEqual(await ids(b), ['a2', 'a3', 'b1']), 5_000);
    assert.deepEqual((await b.presence.list()).find((s) => s.id === 'a3'), { id: 'a3', topics: ['u'], payload: 'p' });
  });

  test('a burst of 2,000 joins and leaves is written in batches, ending in the right state', async () => {
    const url = await server.createDatabase();
    const a = await node(url, 'a'), b = await node(url, 'b');
    for (let i = 0; i < 2000; i++) a.presence.join({ id: `s${i}`, topics: [`t${i}`] });
    for (let i = 0; i < 2000; i += 2) a.presence.leave(`s${i}`);
    a.presence.join({ id: 's0', topics: ['again'] });
    await a.presence.list();
    const listed = await b.presence.list();
    assert.equal(listed.length, 1001);
    assert.deepEqual(listed.find((s) => s.id === 's0'), { id: 's0', topics: ['again'] });
    assert.ok(!listed.some((s) => s.id === 's2'));
  });

  test('close removes the node\'s subscribers at once', async () => {
    const url = await server.createDatabase();
    const a = await node(url, 'a'), b = await node(url, 'b');
    a.presence.join({ id: 'a1', topics: ['t'] });
    await a.presence.list();
    assert.deepEqual(await ids(b), ['a1']);
    await a.close();
    assert.deepEqual(await ids(b), []);
  });
});
