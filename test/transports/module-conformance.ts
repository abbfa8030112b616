/**
 * The one module conformance suite, beside the transport conformance suite:
 * every transport descriptor, as a host module against its real service, must
 * register the same way, have a side-effect-free create, share one pooled
 * transport between identical configs across a reload (the subscriber
 * survives), give a different config its own transport, close on the last
 * cleanup, reject a bad config at create with its span, fail a provision
 * against an unreachable service cleanly (cleanup still works, twice), and
 * resolve its legacy `transport_url`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModuleConfig, ModuleContext } from '../../src/host/module.ts';
import { UsagePool } from '../../src/host/usage-pool.ts';
import { resolveTransportUrl } from '../../src/mercure/transport-loader.ts';
import { transportDescriptor, type TransportDescriptor } from '../../src/transports/core/descriptor.ts';
import { registerStandardModules } from '../../src/runtime/standard.ts';
import { Recorder, update } from './recorder.ts';
import { testModuleContext } from '../helpers/module-context.ts';

export interface ModuleConformanceSetup<C extends ModuleConfig> {
  descriptor: TransportDescriptor<C>;
  /** A valid config over a fresh stream (called once per test). */
  config(): Promise<NoInfer<C>>;
  /** A config that differs in something that matters (must get its own transport); omit when every config shares one. */
  different?(config: C): C;
  /** A config whose provision fails (nothing listening, unknown database …); omit when there is no service. */
  unreachable?(): Promise<C>;
  /** The error a failed provision rejects with (default ERR_TRANSPORT_UNAVAILABLE). */
  unreachableCode?: string;
  /** A config create() refuses with ERR_CFG_VALUE; omit when the transport takes no options. */
  invalid?: C;
  /** A legacy URL and the config it must resolve to. */
  legacy: [url: string, config: ModuleConfig];
  /** The data directory modules get (bolt's default file lives there). */
  dataDir?: string;
  skip?: string;
}

const BOOK = 'https://example.com/books/1';

export function moduleConformance<C extends ModuleConfig>(setup: ModuleConformanceSetup<C>): void {
  const d = setup.descriptor;
  const context = (pool: UsagePool): ModuleContext => {
    const tc = testModuleContext({ pool, ...(setup.dataDir ? { dataDir: setup.dataDir } : {}) });
    return tc.ctx;
  };

  describe(`module conformance: ${d.module.id}`, { skip: setup.skip }, () => {
    test('the standard list registers it under its name, module ID and legacy schemes', () => {
      registerStandardModules();
      assert.equal(transportDescriptor(d.name), d);
      assert.equal(d.module.id, `mercure.transports.${d.name}`);
      assert.ok(d.schemes.length > 0, 'at least one transport_url scheme');
      const [url, config] = setup.legacy;
      assert.deepEqual(resolveTransportUrl(url), { name: d.name, config });
    });

    test('create has no side effects; identical configs share one transport across a reload; a different one gets its own; the last cleanup closes it', async () => {
      const cfg = await setup.config();
      const pool = new UsagePool();
      const first = d.module.create({ ...cfg, '@span': 'Caddyfile:3:5' });
      assert.throws(() => first.transport, /not provisioned/);
      await first.provision(context(pool));
      const sub = new Recorder([BOOK]);
      await first.transport.subscribe(sub);
      // A reload: the same config at another line, provisioned before the old one is cleaned up.
      const second = d.module.create({ ...cfg, '@span': 'Caddyfile:9:5' });
      await second.provision(context(pool));
      assert.equal(second.transport, first.transport);
      await first.cleanup();
      await second.transport.dispatch(update('kept', BOOK));
      await sub.waitForId('kept');
      assert.equal(sub.closedWith, undefined, 'the subscriber survived the reload');
      if (setup.different) {
        const other = d.module.create(setup.different(cfg));
        await other.provision(context(pool));
        assert.notEqual(other.transport, second.transport);
        await other.cleanup();
      }
      const t = second.transport;
      await second.cleanup();
      await assert.rejects(t.dispatch(update('late', BOOK)), { code: 'ERR_TRANSPORT_CLOSED' });
      await sub.waitClosed();
      assert.equal(sub.closedWith, 'transport closed');
      await second.cleanup(); // twice is fine
      assert.throws(() => second.transport, /not provisioned/);
    });

    test('a bad config fails at create, before any I/O, citing its span', { skip: setup.invalid ? false : 'the transport takes no options' }, () => {
      assert.throws(() => d.module.create({ ...setup.invalid!, '@span': 'Caddyfile:4:2' }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_CFG_VALUE');
        assert.match(err.message, new RegExp(`^Caddyfile:4:2: transport ${d.name}: `));
        return true;
      });
    });

    test('a failed provision holds nothing, and cleanup still works (twice)', { skip: setup.unreachable ? false : 'nothing to be unreachable' }, async () => {
      const pool = new UsagePool();
      const m = d.module.create(await setup.unreachable!());
      await assert.rejects(m.provision(context(pool)), setup.unreachableCode ? { code: setup.unreachableCode } : { code: 'ERR_TRANSPORT_UNAVAILABLE' });
      await m.cleanup();
      await m.cleanup();
      assert.throws(() => m.transport, /not provisioned/);
    });
  });
}
