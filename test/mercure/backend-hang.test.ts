/**
 * A backend that hangs (PostgreSQL with the updates table locked, and with
 * the connection pool exhausted by the publishes waiting on that lock):
 * liveness answers at once, readiness answers within its bound (not ready),
 * publishes and history reads are answered 503 after `dispatch_timeout`
 * while the lock is still held, and everything recovers once it is released.
 * No answer here can come from the backend: the lock is held until all of
 * them arrived, so a handler that waited on it would never answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { baseConfig, http, HUB, publish, pubToken, startHub } from './harness.ts';
import { postgresSkip, startPostgres } from '../helpers/postgres-server.ts';
import { ensureModules } from '../helpers/module-context.ts';
import { postgresTransportModule } from '../../src/transports/postgres/module.ts';
import { mercureHealthRoute } from '../../src/mercure/health.ts';

ensureModules([postgresTransportModule]);

/** Fails instead of hanging the suite when a handler waits on the held lock. */
function answered<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer while the lock is held`)), 30_000); });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

test('a locked table: live at once, not ready, 503 after dispatch_timeout for publishes and history reads, then recovery', { skip: postgresSkip() || undefined }, async (t) => {
  const server = await startPostgres();
  t.after(() => server.destroy());
  const url = await server.createDatabase();
  const h = await startHub(baseConfig({ anonymous: true, dispatch_timeout: '300ms', transport: { name: 'postgres', url } as never }));
  t.after(() => h.close());
  const registry = h.tc.ctx.app.registry;
  const health = (check: string) => mercureHealthRoute(`/mercure/health/${check}`, 'GET', registry);
  const token = await pubToken();
  const pub = (id: string) => publish(h.url, token, [['topic', 'https://example.com/t'], ['id', id], ['data', id]]);
  assert.equal((await pub('before')).status, 200);
  assert.equal((await health('ready')).status, 200);

  const locker = new pg.Client({ connectionString: url });
  locker.on('error', () => {}); // the server may go first at teardown
  await locker.connect();
  t.after(() => locker.end().catch(() => {}));
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE mercure_updates IN ACCESS EXCLUSIVE MODE');

  // More publishes than the pool (10) has connections: every connection ends up waiting on the lock.
  const ids = Array.from({ length: 12 }, (_, i) => `locked-${i}`);
  const answers = await answered(Promise.all(ids.map((id) => pub(id))), 'publish');
  assert.deepEqual(answers.map((a) => a.status), ids.map(() => 503));
  assert.equal((await answered(health('live'), 'live')).status, 200, 'live never waits on the backend');
  const ready = await answered(health('ready'), 'ready');
  assert.deepEqual([ready.status, ready.body], [503, '{"status":"error","error":"transport health check failed"}\n']);
  const replay = await answered(http(`${h.url}${HUB}?topic=*`, { headers: { 'Last-Event-ID': 'before' } }), 'history read');
  assert.equal(replay.status, 503, 'a history read gives up after dispatch_timeout');

  await locker.query('COMMIT');
  // The publishes refused while the lock was held complete now; their retries are answered as duplicates.
  for (const id of ids) {
    const r = await pub(id);
    assert.deepEqual([r.status, r.body], [200, id]);
  }
  assert.equal((await health('ready')).status, 200);
  const { rows } = await server.sql('SELECT id, count(*)::int AS n FROM mercure_updates GROUP BY id', [], url.split('/').pop());
  const stored = rows.map((r: { id: string; n: number }) => [r.id, r.n]).sort();
  assert.deepEqual(stored, ['before', ...ids].map((id) => [id, 1]).sort(), 'each update stored once, the refused ones included');
});
