/**
 * A node starts while its backend is down: it serves, reports live but not
 * ready, answers 503 to publishes and history reads, keeps subscribers, and
 * connects when the backend comes back (no restart). `validate` (a config
 * that will not serve) still fails fast on an unreachable backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { baseConfig, http, HUB, publish, pubToken, startHub, type TestHub } from './harness.ts';
import { freePort, redisSkipReason, RedisServer, streamName } from '../helpers/redis-server.ts';
import { postgresSkip, startPostgres } from '../helpers/postgres-server.ts';
import { ensureModules } from '../helpers/module-context.ts';
import { redisTransportModule } from '../../src/transports/redis/module.ts';
import { postgresTransportModule } from '../../src/transports/postgres/module.ts';
import { mercureHealthRoute } from '../../src/mercure/health.ts';
import { SseClient } from '../helpers/sse.ts';

ensureModules([redisTransportModule, postgresTransportModule]);

const health = async (h: TestHub, check: string) => (await mercureHealthRoute(`/mercure/health/${check}`, 'GET', h.tc.ctx.app.registry)).status;

/** Polls readiness (the reconnection happens on the transport's own backoff), bounded. */
async function untilReady(h: TestHub): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await health(h, 'ready')) !== 200) {
    if (Date.now() > deadline) throw new Error('the hub never became ready after the backend came back');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function degradedThenConnected(h: TestHub, bringUp: () => Promise<void>): Promise<void> {
  const token = await pubToken();
  assert.equal(await health(h, 'live'), 200, 'live while the backend is down');
  assert.equal(await health(h, 'ready'), 503, 'not ready while the backend is down');
  const refused = await publish(h.url, token, [['topic', 'https://example.com/t'], ['id', 'while-down'], ['data', 'x']]);
  assert.equal(refused.status, 503);
  const history = await http(`${h.url}${HUB}?topic=*`, { headers: { 'Last-Event-ID': 'earliest' } });
  assert.equal(history.status, 503, 'a history read needs the backend');
  // A subscriber without history is served at once and gets the updates published once the backend is back.
  const sub = await SseClient.open(`${h.url}${HUB}?topic=${encodeURIComponent('https://example.com/t')}`);
  try {
    await bringUp();
    await untilReady(h);
    const ok = await publish(h.url, token, [['topic', 'https://example.com/t'], ['id', 'after-up'], ['data', 'hello']]);
    assert.deepEqual([ok.status, ok.body], [200, 'after-up']);
    const events = await sub.count(1);
    assert.equal(events[0]!.id, 'after-up');
  } finally {
    sub.close();
  }
}

test('redis down at start: serves degraded, connects when Redis starts', { skip: redisSkipReason() }, async (t) => {
  const port = await freePort();
  const server = new RedisServer({ port });
  t.after(() => server.destroy());
  const h = await startHub(baseConfig({ anonymous: true, transport: { name: 'redis', addresses: [`127.0.0.1:${port}`], stream: streamName() } as never }), { serving: true });
  t.after(() => h.close());
  await degradedThenConnected(h, async () => { await server.start(); });
});

test('postgres down at start: serves degraded, connects when PostgreSQL starts', { skip: postgresSkip() || undefined }, async (t) => {
  const pg = await startPostgres();
  t.after(() => pg.destroy());
  const url = await pg.createDatabase();
  await pg.stop();
  const h = await startHub(baseConfig({ anonymous: true, transport: { name: 'postgres', url } as never }), { serving: true });
  t.after(() => h.close());
  await degradedThenConnected(h, () => pg.start());
});

test('without serving (validate), an unreachable backend fails provisioning at once', { skip: redisSkipReason() }, async () => {
  const port = await freePort();
  await assert.rejects(
    startHub(baseConfig({ transport: { name: 'redis', addresses: [`127.0.0.1:${port}`], stream: 's' } as never })),
    (err: Error) => /ECONNREFUSED/.test(err.message),
  );
});

test('quicksilver validate fails fast on an unreachable Redis; run serves without it', { skip: redisSkipReason() }, async (t) => {
  const { startHub: startProcess, freePort: freeHubPort } = await import('../helpers/hub-process.ts');
  const dir = mkdtempSync(join(tmpdir(), 'qs-late-'));
  const redisPort = await freePort();
  const port = await freeHubPort();
  const admin = await freeHubPort();
  const caddyfile = `{\n\tadmin localhost:${admin}\n}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt ${'!ChangePublisher!'}\n\t\tanonymous\n\t\ttransport redis {\n\t\t\taddress 127.0.0.1:${redisPort}\n\t\t\tstream s\n\t\t}\n\t}\n}\n`;
  writeFileSync(join(dir, 'Caddyfile'), caddyfile);
  const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
  const started = Date.now();
  const r = await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', main, 'validate', '--config', join(dir, 'Caddyfile')], { cwd: dir })
    .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /ECONNREFUSED/);
  t.diagnostic(`validate failed after ${Date.now() - started} ms`);
  // `run` with the same file: up and live, not ready.
  const hub = await startProcess(caddyfile, { dir });
  t.after(() => hub.kill());
  const live = await fetch(`http://localhost:${admin}/mercure/health/live`);
  assert.equal(live.status, 200);
  const ready = await fetch(`http://localhost:${admin}/mercure/health/ready`);
  assert.equal(ready.status, 503);
});
