/**
 * `mercure.transports.postgres` as a host module: provision connects and
 * migrates, identical configs share one transport through ctx.pool, a failed
 * provision leaves nothing behind and can still be cleaned up, and the legacy
 * URL reaches the module through the transport loader.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ModuleContext } from '../../../src/host/module.ts';
import { UsagePool } from '../../../src/host/usage-pool.ts';
import { resolveTransportUrl } from '../../../src/mercure/transport-loader.ts';
import { postgresTransportModule, type PostgresTransportConfig } from '../../../src/transports/postgres/module.ts';
import { postgresTransport } from '../../../src/transports/postgres/index.ts';
import { registerStandardModules } from '../../../src/runtime/standard.ts';
import { moduleConformance } from '../module-conformance.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../../helpers/postgres-server.ts';
import { fence, Recorder, update } from '../recorder.ts';
import { testModuleContext } from '../../helpers/module-context.ts';

function context(pool: UsagePool): ModuleContext {
  return testModuleContext({ pool, dataDir: '/nonexistent' }).ctx;
}

let server: PostgresServer;
const skip = postgresSkip() || undefined;
before(async () => { if (!skip) server = await startPostgres(); });
after(async () => { await server?.destroy(); });

moduleConformance<PostgresTransportConfig>({
  descriptor: postgresTransport,
  skip,
  config: async () => ({ url: await server.createDatabase() }),
  different: (c) => ({ ...c, retention_max_rows: 10 }),
  unreachable: async () => ({ url: `postgres://postgres@127.0.0.1:${server.port}/no_such_database` }),
  invalid: { url: 'postgres://h/db', retention_max_rows: 1.5 },
  legacy: ['postgresql://u:p@db/mercure?sslmode=disable&retention_max_rows=5', { url: 'postgresql://u:p@db/mercure?sslmode=disable', retention_max_rows: 5 }],
});

describe('mercure.transports.postgres', { skip }, () => {
  test('provision migrates; identical configs share one transport; the last cleanup closes it', async () => {
    const url = await server.createDatabase();
    const pool = new UsagePool();
    const first = postgresTransportModule.create({ url, '@span': 'Caddyfile:3:5' });
    await first.provision(context(pool));
    const { rows } = await server.sql('SELECT max(version) AS v FROM mercure_schema_version', [], url.split('/').pop());
    assert.equal(rows[0].v, 2);
    // A reload with the same config (another span) shares it; a different config does not.
    const second = postgresTransportModule.create({ url, '@span': 'Caddyfile:9:5' });
    await second.provision(context(pool));
    assert.equal(second.transport, first.transport);
    const other = postgresTransportModule.create({ url, retention_max_rows: 10 });
    await other.provision(context(pool));
    assert.notEqual(other.transport, first.transport);

    // Two transports on one database are two nodes of one stream.
    const sub = new Recorder(['https://example.com/1']);
    await other.transport.subscribe(sub);
    await first.transport.dispatch(update('shared', 'https://example.com/1'));
    await fence(first.transport, sub);
    assert.deepEqual(sub.ids(), ['shared']);

    const t = first.transport;
    await first.cleanup();
    await t.dispatch(update('still-open', 'https://example.com/1'));
    await second.cleanup();
    await assert.rejects(t.dispatch(update('closed', 'https://example.com/1')), { code: 'ERR_TRANSPORT_CLOSED' });
    await other.cleanup();
    await other.cleanup(); // twice is fine
  });

  test('a failed provision rejects with ERR_TRANSPORT_UNAVAILABLE, holds nothing, and cleanup still works', async () => {
    const pool = new UsagePool();
    const m = postgresTransportModule.create({ url: `postgres://postgres@127.0.0.1:${server.port}/does_not_exist` });
    await assert.rejects(m.provision(context(pool)), { code: 'ERR_TRANSPORT_UNAVAILABLE', message: /does not exist/ });
    await m.cleanup();
    assert.throws(() => m.transport, /not provisioned/);
    // The pool kept no broken entry: the same config provisions fine once the database exists.
    await server.sql('CREATE DATABASE does_not_exist');
    await m.provision(context(pool));
    await m.transport.dispatch(update('ok', 'https://example.com/1'));
    await m.cleanup();
  });

  test('transport_url postgres://… resolves to this module', () => {
    registerStandardModules();
    assert.deepEqual(resolveTransportUrl('postgresql://u:p@db/mercure?sslmode=disable&retention_max_rows=5'), {
      name: 'postgres', config: { url: 'postgresql://u:p@db/mercure?sslmode=disable', retention_max_rows: 5 },
    });
    assert.throws(() => resolveTransportUrl('postgres://db/mercure?bogus=1'), { code: 'ERR_CFG_VALUE' });
  });
});
