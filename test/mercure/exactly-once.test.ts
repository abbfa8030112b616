/**
 * A publish is never both refused and stored. 16 publishers send updates with
 * their own IDs through the real hub (HTTP) and retry each one, with the same
 * ID, until it is answered 200, while the backend is killed and restarted
 * twice (Redis with AOF fsync always: kill -9; PostgreSQL with synchronous
 * commits: immediate shutdown, then crash recovery). Then the answers are
 * compared with the store: no ID stored twice, none answered 200 and missing.
 * Killing a server loses an answer only when the kill lands between the
 * commit and the reply, so the same check runs again with a proxy that drops
 * answers the server did send (and cuts those connections): there, every
 * lost answer is an update stored and refused, and without idempotent
 * publish each one would be stored twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseConfig, publish, pubToken, startHub, type TestHub } from './harness.ts';
import { redisSkipReason, startRedis, streamName, type RedisServer } from '../helpers/redis-server.ts';
import { postgresSkip, startPostgres } from '../helpers/postgres-server.ts';
import { ensureModules } from '../helpers/module-context.ts';
import { startCutProxy } from '../helpers/cut-proxy.ts';
import { redisTransportModule } from '../../src/transports/redis/module.ts';
import { postgresTransportModule } from '../../src/transports/postgres/module.ts';

ensureModules([redisTransportModule, postgresTransportModule]);

const PUBLISHERS = 16;
const PER_PUBLISHER = 30;

interface Run { answered200: Set<string>; refused: number; retries: number }

/**
 * Runs the publishers; `outage(acked)` is awaited by the first publisher that
 * sees the acked count cross each threshold (it kills and restarts the backend).
 */
async function publishers(h: TestHub, thresholds: number[], outage: () => Promise<void>): Promise<Run> {
  const token = await pubToken();
  const run: Run = { answered200: new Set(), refused: 0, retries: 0 };
  let acked = 0;
  const outages: Promise<void>[] = [];
  const pending = [...thresholds];
  const one = async (p: number) => {
    for (let i = 0; i < PER_PUBLISHER; i++) {
      const id = `urn:test:p${p}:u${i}`;
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) run.retries++;
        let status = 0;
        let body = '';
        try {
          const r = await publish(h.url, token, [['topic', 'https://example.com/x'], ['id', id], ['data', `from ${p}`]]);
          status = r.status;
          body = r.body;
        } catch { /* the hub itself never goes away; count as refused */ }
        if (status === 200) {
          assert.equal(body, id, 'a 200 answers with the stored update ID');
          run.answered200.add(id);
          break;
        }
        assert.ok(status === 503 || status === 0, `unexpected status ${status}: ${body}`);
        run.refused++;
        // A publisher's back-off before retrying (its own behaviour, not a test wait).
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
      }
      acked++;
      if (pending.length && acked >= pending[0]!) { pending.shift(); outages.push(outage()); }
    }
  };
  await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => one(p)));
  await Promise.all(outages);
  return run;
}

function check(run: Run, stored: string[]): void {
  const counts = new Map<string, number>();
  for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  const missing = [...run.answered200].filter((id) => !counts.has(id));
  assert.deepEqual(twice, [], 'no update stored twice');
  assert.deepEqual(missing, [], 'no update answered 200 and missing');
  assert.equal(run.answered200.size, PUBLISHERS * PER_PUBLISHER);
  assert.ok(run.refused > 0, 'the outages did refuse publishes (the test exercised retries)');
}

test('Redis (AOF, fsync always) killed -9 twice under 16 publishers: every update stored exactly once', { skip: redisSkipReason() }, async (t) => {
  const server: RedisServer = await startRedis({ persistent: true });
  t.after(() => server.destroy());
  const stream = streamName('exactly-once');
  const h = await startHub(baseConfig({ transport: { name: 'redis', addresses: [server.address], stream } as never }));
  t.after(() => h.close());
  const outage = async () => {
    const pid = Number(/process_id:(\d+)/.exec(await server.cli('info', 'server'))![1]);
    process.kill(pid, 'SIGKILL');
    await server.stop(); // reaps the watchdog
    await server.start();
  };
  const run = await publishers(h, [100, 300], outage);
  const raw = await server.cli('--no-raw', 'xrange', stream, '-', '+');
  const stored = [...raw.matchAll(/"ID\\":\\"(urn:test:[^\\"]+)\\"/g)].map((m) => m[1]!);
  t.diagnostic(`refused ${run.refused}, retries ${run.retries}, stored ${stored.length}`);
  check(run, stored);
});

test('PostgreSQL (synchronous commit) crashed twice under 16 publishers: every update stored exactly once', { skip: postgresSkip() || undefined }, async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.destroy());
  const db = await pg.createDatabase();
  const url = `${db}?options=${encodeURIComponent('-c synchronous_commit=on')}`;
  const h = await startHub(baseConfig({ transport: { name: 'postgres', url } as never }));
  t.after(() => h.close());
  const outage = async () => {
    await pg.crash();
    await pg.start();
  };
  const run = await publishers(h, [100, 300], outage);
  const { rows } = await pg.sql('SELECT id FROM mercure_updates ORDER BY seq', [], db.split('/').pop());
  const stored = rows.map((r: { id: string }) => r.id);
  t.diagnostic(`refused ${run.refused}, retries ${run.retries}, stored ${stored.length}`);
  check(run, stored);
});

test('Redis behind a proxy that loses 24 answers under 16 publishers: every update stored exactly once', { skip: redisSkipReason() }, async (t) => {
  const server: RedisServer = await startRedis();
  t.after(() => server.destroy());
  const proxy = await startCutProxy(server.port);
  t.after(() => proxy.close());
  const stream = streamName('exactly-once');
  const h = await startHub(baseConfig({ transport: { name: 'redis', addresses: [`127.0.0.1:${proxy.port}`], stream } as never }));
  t.after(() => h.close());
  const run = await publishers(h, [60, 200], async () => { proxy.cut(12); });
  proxy.cut(0);
  const raw = await server.cli('--no-raw', 'xrange', stream, '-', '+');
  const stored = [...raw.matchAll(/"ID\\":\\"(urn:test:[^\\"]+)\\"/g)].map((m) => m[1]!);
  t.diagnostic(`refused ${run.refused}, retries ${run.retries}, stored ${stored.length}`);
  check(run, stored);
});

test('PostgreSQL behind a proxy that loses 24 answers under 16 publishers: every update stored exactly once', { skip: postgresSkip() || undefined }, async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.destroy());
  const db = await pg.createDatabase();
  const proxy = await startCutProxy(pg.port);
  t.after(() => proxy.close());
  const url = db.replace(`:${pg.port}/`, `:${proxy.port}/`);
  const h = await startHub(baseConfig({ transport: { name: 'postgres', url } as never }));
  t.after(() => h.close());
  const run = await publishers(h, [60, 200], async () => { proxy.cut(12); });
  proxy.cut(0);
  const { rows } = await pg.sql('SELECT id FROM mercure_updates ORDER BY seq', [], db.split('/').pop());
  const stored = rows.map((r: { id: string }) => r.id);
  t.diagnostic(`refused ${run.refused}, retries ${run.retries}, stored ${stored.length}`);
  check(run, stored);
});

test('bolt: the hub process killed -9 twice under 16 publishers: every update stored exactly once', async (t) => {
  const { freePort, startHub: startProcess } = await import('../helpers/hub-process.ts');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { DatabaseSync } = await import('node:sqlite');
  const { P } = await import('./harness.ts');
  const dir = mkdtempSync(join(tmpdir(), 'qs-bolt-once-'));
  const port = await freePort();
  const file = join(dir, 'updates.db');
  const caddyfile = `{\n\tadmin off\n}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt ${P}\n\t\tanonymous\n\t\ttransport bolt {\n\t\t\tpath ${file}\n\t\t}\n\t}\n}\n`;
  let hub = await startProcess(caddyfile, { dir });
  t.after(() => hub.kill());
  // The hub is the backend here: the publishers talk to whatever process listens on the port.
  const h = { url: `http://127.0.0.1:${port}` } as TestHub;
  const run = await publishers(h, [100, 300], async () => {
    hub.kill('SIGKILL');
    await hub.exited;
    hub = await startProcess(caddyfile, { dir });
  });
  hub.kill('SIGKILL');
  await hub.exited;
  const db = new DatabaseSync(file, { readOnly: true });
  const stored = (db.prepare('SELECT id FROM updates ORDER BY seq').all() as { id: string }[]).map((r) => r.id);
  db.close();
  t.diagnostic(`refused ${run.refused}, retries ${run.retries}, stored ${stored.length}`);
  check(run, stored);
});
