/**
 * `mercure.transports.bolt` as a host module: the shared module conformance
 * suite, plus bolt's own default file, config checks and legacy URL errors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsagePool } from '../../../src/host/usage-pool.ts';
import { boltTransport } from '../../../src/transports/bolt/index.ts';
import { boltTransportModule } from '../../../src/transports/bolt/module.ts';
import { parseBoltUrl } from '../../../src/transports/bolt/url.ts';
import { resolveTransportUrl } from '../../../src/mercure/transport-loader.ts';
import { registerStandardModules } from '../../../src/runtime/standard.ts';
import { update } from '../recorder.ts';
import { testModuleContext } from '../../helpers/module-context.ts';
import { moduleConformance } from '../module-conformance.ts';

const dir = mkdtempSync(join(tmpdir(), 'qs-bolt-module-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

moduleConformance({
  descriptor: boltTransport,
  config: async () => ({ path: join(dir, `db-${++n}.db`) }),
  different: (c) => ({ ...c, bucket_name: 'other' }),
  unreachable: async () => {
    const blocker = join(dir, `a-file-${++n}`);
    writeFileSync(blocker, '');
    return { path: join(blocker, 'sub', 'mercure.db') };
  },
  unreachableCode: 'ENOTDIR',
  invalid: { size: -1 },
  legacy: ['bolt:///var/lib/mercure.db', { path: '/var/lib/mercure.db', bucket_name: 'updates', size: 0, cleanup_frequency: 0.3 }],
  dataDir: dir,
});

test('bolt: provision opens the default <dataDir>/mercure.db', async () => {
  const dataDir = join(dir, 'data-default');
  const m = boltTransportModule.create({});
  assert.equal(existsSync(dataDir), false);
  await m.provision(testModuleContext({ pool: new UsagePool(), dataDir }).ctx);
  assert.ok(existsSync(join(dataDir, 'mercure.db')));
  await m.transport.dispatch(update('x', 'https://example.com/1'));
  assert.equal(await m.transport.lastEventId(), 'x');
  await m.cleanup();
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
  registerStandardModules();
  assert.deepEqual(resolveTransportUrl('local://local'), { name: 'local', config: {} });
  assert.deepEqual(parseBoltUrl('bolt:///var/lib/mercure.db'),
    { path: '/var/lib/mercure.db', bucket_name: 'updates', size: 0, cleanup_frequency: 0.3 });
  assert.deepEqual(parseBoltUrl('bolt://database.db?bucket_name=demo&size=1000&cleanup_frequency=0.5'),
    { path: 'database.db', bucket_name: 'demo', size: 1000, cleanup_frequency: 0.5 });
  assert.deepEqual(parseBoltUrl('bolt://test.db?size=&cleanup_frequency=1e-1&subscriptions=1&write_timeout=10s'),
    { path: 'test.db', bucket_name: 'updates', size: 0, cleanup_frequency: 0.1 });
  const errors: [string, string][] = [
    ['bolt://x.db?size=abc', '"bolt://x.db?size=abc": invalid "size" parameter "abc": invalid transport: strconv.ParseUint: parsing "abc": invalid syntax'],
    ['bolt://x.db?size=-1', '"bolt://x.db?size=-1": invalid "size" parameter "-1": invalid transport: strconv.ParseUint: parsing "-1": invalid syntax'],
    ['bolt://x.db?cleanup_frequency=often', '"bolt://x.db?cleanup_frequency=often": invalid "cleanup_frequency" parameter "often": invalid transport: strconv.ParseFloat: parsing "often": invalid syntax'],
    ['bolt://', '"bolt://": invalid transport: missing path'],
    ['nats://localhost:4222/stream', '"nats://localhost:4222/stream": invalid transport: no such transport available'],
    ['nonsense', '"nonsense": invalid transport: parse "nonsense": invalid URL'],
  ];
  for (const [url, message] of errors) {
    assert.throws(() => resolveTransportUrl(url, { file: 'Caddyfile', line: 2, column: 3 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_CFG_VALUE');
      assert.equal(err.message, `Caddyfile:2:3: ${message}`);
      return true;
    });
  }
});
