/**
 * The PostgreSQL transport through the core (Fanout): the shared conformance
 * suite, then what only a multi-node database transport must do: a 1 MB update
 * across nodes, and a restart of PostgreSQL mid-stream.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Fanout } from '../../../src/transports/core/fanout.ts';
import { PostgresBackend, type PostgresOptions } from '../../../src/transports/postgres/backend.ts';
import { eventually, postgresSkip, startPostgres, type PostgresServer } from '../../helpers/postgres-server.ts';
import { transportConformance } from '../conformance.ts';
import { fence, Recorder, update } from '../recorder.ts';

const skip = postgresSkip() || undefined;
let serverP: Promise<PostgresServer> | undefined;
const server = (): Promise<PostgresServer> => (serverP ??= startPostgres());
after(async () => { if (serverP) await (await serverP).destroy(); });

const fast = { reconnectMinMs: 20, reconnectMaxMs: 200, heartbeatMs: 200, presenceTtlMs: 1_000 };
async function open(url: string, opts: Partial<PostgresOptions> = {}): Promise<Fanout> {
  const t = new Fanout(new PostgresBackend({ url, ...fast, ...opts }));
  await t.start();
  return t;
}

let schemas = 0;
/**
 * Each conformance test gets its own schema in one database, selected with the
 * libpq `options` parameter: a fresh stream per test, and a check that the
 * transport works under any search_path.
 */
transportConformance('postgres', async () => {
  const s = await server();
  const schema = `conf_${++schemas}`;
  await s.sql(`CREATE SCHEMA ${schema}`);
  const transport = await open(`${s.url()}?options=${encodeURIComponent(`-c search_path=${schema}`)}&application_name=conformance`);
  return { transport, cleanup: () => transport.close() };
}, { history: true, presence: 'shared', skip });

describe('postgres transport across nodes', { skip }, () => {
  const BOOK = 'https://example.com/books/1';

  test('a 1 MB update is delivered through two Fanout instances on the same database', async () => {
    const url = await (await server()).createDatabase();
    const a = await open(url), b = await open(url);
    try {
      const onA = new Recorder([BOOK]), onB = new Recorder([BOOK]);
      await a.subscribe(onA);
      await b.subscribe(onB);
      const data = 'é'.repeat(512 * 1024); // 1 MiB of UTF-8, far beyond NOTIFY's 8,000 bytes
      await a.dispatch(update('big', BOOK, { data }));
      await Promise.all([onA.waitFor(1), onB.waitFor(1)]);
      assert.equal(onB.received[0]!.update.data, data);
      assert.equal(onB.received[0]!.bytes, onA.received[0]!.bytes);
      assert.equal(onB.received[0]!.bytes, `id: big\ndata: ${data}\n\n`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('PostgreSQL restarted mid-stream: 503s while down, then every update exactly once, in order, on both nodes', async () => {
    const s = await server();
    const url = await s.createDatabase();
    const a = await open(url), b = await open(url);
    try {
      const onA = new Recorder(['*']), onB = new Recorder(['*']);
      await a.subscribe(onA);
      await b.subscribe(onB);
      const sent: string[] = [];
      const send = async (i: number) => { await (i % 2 ? a : b).dispatch(update(`u${i}`, BOOK)); sent.push(`u${i}`); };
      for (let i = 0; i < 10; i++) await send(i);

      await s.stop();
      await assert.rejects(a.dispatch(update('lost', BOOK)), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
      await assert.rejects(b.dispatch(update('lost', BOOK)), { code: 'ERR_TRANSPORT_UNAVAILABLE' });
      assert.equal((await a.health()).ready, false);
      await assert.rejects(b.subscribe(new Recorder([BOOK]), 'u1'), { code: 'ERR_TRANSPORT_UNAVAILABLE' });

      await s.start();
      // Recovery happens on its own; health is the observable signal.
      for (const t of [a, b]) await eventually(async () => assert.deepEqual(await t.health(), { ready: true, live: true }));
      for (let i = 10; i < 20; i++) await send(i);
      await fence(a, onA, onB);
      assert.deepEqual(onA.ids(), sent);
      assert.deepEqual(onB.ids(), sent);
      // History saw the same stream.
      const late = new Recorder(['*']);
      assert.equal(await b.subscribe(late, 'u4'), 'u4');
      assert.deepEqual(late.ids().filter((id) => id.startsWith('u')), sent.slice(5));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
