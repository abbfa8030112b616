import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ModuleContext } from '../../src/host/module.ts';
import { UsagePool } from '../../src/host/usage-pool.ts';
import { boltTransportModule, localTransportModule, parseTransportUrl, registerPubsubModules } from '../../src/transports/bolt/module.ts';
import { Recorder, update } from './recorder.ts';
import { testModuleContext } from '../helpers/module-context.ts';

const dir = mkdtempSync(join(tmpdir(), 'qs-modules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function context(pool: UsagePool, dataDir = dir): ModuleContext {
  return testModuleContext({ pool, dataDir }).ctx;
}

test('registerPubsubModules lists local and bolt', () => {
  const ids: string[] = [];
  registerPubsubModules((info) => ids.push(info.id));
  assert.deepEqual(ids, ['mercure.transports.local', 'mercure.transports.bolt']);
});

test('bolt: create has no side effects, provision opens the default <dataDir>/mercure.db, cleanup closes', async () => {
  const dataDir = join(dir, 'data-default');
  const m = boltTransportModule.create({});
  assert.equal(existsSync(dataDir), false);
  assert.throws(() => m.transport, /not provisioned/);
  const pool = new UsagePool();
  await m.provision(context(pool, dataDir));
  assert.ok(existsSync(join(dataDir, 'mercure.db')));
  const t = m.transport;
  await t.dispatch(update('x', 'https://example.com/1'));
  assert.equal(await t.lastEventId(), 'x');
  await m.cleanup();
  await assert.rejects(t.dispatch(update('y', 'https://example.com/1')), { code: 'ERR_TRANSPORT_CLOSED' });
  await m.cleanup(); // twice is fine
});

test('identical configs share one transport across a reload; a different config gets its own', async () => {
  const pool = new UsagePool();
  const path = join(dir, 'shared.db');
  const first = boltTransportModule.create({ path, '@span': 'Caddyfile:3:5' });
  await first.provision(context(pool));
  const sub = new Recorder(['https://example.com/1']);
  await first.transport.subscribe(sub);
  // Reload: the new config is provisioned before the old one is cleaned up.
  const second = boltTransportModule.create({ path, bucket_name: 'updates', size: 0, '@span': 'Caddyfile:9:5' });
  await second.provision(context(pool));
  assert.equal(second.transport, first.transport);
  await first.cleanup();
  await second.transport.dispatch(update('kept', 'https://example.com/1'));
  await sub.waitForId('kept');
  assert.equal(sub.closedWith, undefined, 'the subscriber survived the reload');
  const other = boltTransportModule.create({ path, bucket_name: 'other' });
  await other.provision(context(pool));
  assert.notEqual(other.transport, second.transport);
  await other.cleanup();
  await second.cleanup();
  await sub.waitClosed();

  const l1 = localTransportModule.create({}), l2 = localTransportModule.create({ '@span': 'x:1:1' });
  await l1.provision(context(pool));
  await l2.provision(context(pool));
  const local = l1.transport;
  assert.equal(l2.transport, local);
  await l1.cleanup();
  await local.dispatch(update('still-open', 'a'));
  await l2.cleanup();
  await assert.rejects(local.dispatch(update('z', 'a')), { code: 'ERR_TRANSPORT_CLOSED' });
  assert.throws(() => l1.transport, /not provisioned/);
});

test('cleanup works after a failed provision', async () => {
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, '');
  const m = boltTransportModule.create({ path: join(blocker, 'sub', 'mercure.db') });
  const pool = new UsagePool();
  await assert.rejects(m.provision(context(pool)));
  await m.cleanup();
  assert.throws(() => m.transport, /not provisioned/);
});

test('bolt config is checked at create time with the span', () => {
  const rows: [Record<string, unknown>, RegExp][] = [
    [{ size: -1 }, /invalid size -1; expected an integer ≥ 0/],
    [{ size: 1.5 }, /invalid size 1.5/],
    [{ cleanup_frequency: 2 }, /invalid cleanup_frequency 2; expected a number between 0 and 1/],
    [{ bucket_name: '' }, /invalid bucket_name ""/],
    [{ path: 3 }, /invalid path 3/],
  ];
  for (const [cfg, message] of rows) {
    assert.throws(() => boltTransportModule.create({ ...cfg, '@span': 'Caddyfile:4:2' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_CFG_VALUE');
      assert.match(err.message, /^Caddyfile:4:2: transport bolt: /);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('§5.3 legacy transport URLs', () => {
  assert.deepEqual(parseTransportUrl('local://local'), { name: 'local', config: {} });
  assert.deepEqual(parseTransportUrl('bolt:///var/lib/mercure.db'),
    { name: 'bolt', config: { path: '/var/lib/mercure.db', bucket_name: 'updates', size: 0, cleanup_frequency: 0.3 } });
  assert.deepEqual(parseTransportUrl('bolt://database.db?bucket_name=demo&size=1000&cleanup_frequency=0.5'),
    { name: 'bolt', config: { path: 'database.db', bucket_name: 'demo', size: 1000, cleanup_frequency: 0.5 } });
  assert.deepEqual(parseTransportUrl('bolt://test.db?size=&cleanup_frequency=1e-1&subscriptions=1&write_timeout=10s'),
    { name: 'bolt', config: { path: 'test.db', bucket_name: 'updates', size: 0, cleanup_frequency: 0.1 } });
  const errors: [string, string][] = [
    ['bolt://x.db?size=abc', '"bolt://x.db?size=abc": invalid "size" parameter "abc": invalid transport: strconv.ParseUint: parsing "abc": invalid syntax'],
    ['bolt://x.db?size=-1', '"bolt://x.db?size=-1": invalid "size" parameter "-1": invalid transport: strconv.ParseUint: parsing "-1": invalid syntax'],
    ['bolt://x.db?cleanup_frequency=often', '"bolt://x.db?cleanup_frequency=often": invalid "cleanup_frequency" parameter "often": invalid transport: strconv.ParseFloat: parsing "often": invalid syntax'],
    ['bolt://', '"bolt://": invalid transport: missing path'],
    ['redis://localhost:6379/stream', '"redis://localhost:6379/stream": invalid transport: no such transport available'],
    ['nonsense', '"nonsense": invalid transport: parse "nonsense": invalid URL'],
  ];
  for (const [url, message] of errors) {
    assert.throws(() => parseTransportUrl(url, { file: 'Caddyfile', line: 2, column: 3 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_CFG_VALUE');
      assert.equal(err.message, `Caddyfile:2:3: ${message}`);
      return true;
    });
  }
});
