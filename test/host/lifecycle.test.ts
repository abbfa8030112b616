import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Instance } from '../../src/host/instance.ts';
import { registerModule, type App, type ModuleContext } from '../../src/host/module.ts';
import { UsagePool, stableKey } from '../../src/host/usage-pool.ts';
import { QsError } from '../../src/host/errors.ts';
import { Runtime } from '../../src/runtime/runtime.ts';

const events: string[] = [];

/** A test app: provisions a child module, optionally fails, records its lifecycle. */
class TestApp implements App {
  cfg: Record<string, unknown>;
  constructor(cfg: Record<string, unknown>) { this.cfg = cfg; }
  async provision(ctx: ModuleContext) {
    events.push(`provision ${this.cfg.name}`);
    await ctx.load('test.child', { name: `${this.cfg.name}.child` });
    if (this.cfg.fail === 'provision') throw new Error('boom');
  }
  validate() { if (this.cfg.fail === 'validate') throw new Error('invalid'); }
  async start() { events.push(`start ${this.cfg.name}`); }
  async stop() { events.push(`stop ${this.cfg.name}`); }
  cleanup() { events.push(`cleanup ${this.cfg.name}`); }
}
registerModule({ id: 'apps.testapp', create: (c) => new TestApp(c) });
registerModule({
  id: 'test.child',
  create: (c) => ({ provision() { events.push(`provision ${c.name}`); }, validate() {}, cleanup() { events.push(`cleanup ${c.name}`); } }),
});

const log = pino({ level: 'silent' });
const deps = () => ({ log, pool: new UsagePool(), dataDir: '/tmp' });

test('a module whose provision fails is cleaned up, with everything provisioned before it', async () => {
  events.length = 0;
  const inst = new Instance({ apps: { testapp: { name: 'a', fail: 'provision', '@span': 'Caddyfile:3:2' } } }, deps());
  await assert.rejects(inst.provision(), (e: unknown) => {
    assert.ok(e instanceof QsError);
    assert.equal(e.code, 'ERR_MODULE_PROVISION');
    assert.match(e.message, /provision apps\.testapp: boom \(Caddyfile:3:2\)/);
    return true;
  });
  assert.deepEqual(events, ['provision a', 'provision a.child', 'cleanup a', 'cleanup a.child']);
});

test('a module that fails validation is cleaned up', async () => {
  events.length = 0;
  const inst = new Instance({ apps: { testapp: { name: 'v', fail: 'validate' } } }, deps());
  await assert.rejects(inst.provision(), /invalid/);
  assert.deepEqual(events, ['provision v', 'provision v.child', 'cleanup v', 'cleanup v.child']);
});

test('an unknown module is a typed error naming the span', async () => {
  const inst = new Instance({ apps: { nope: { '@span': 'Caddyfile:1:1' } } }, deps());
  await assert.rejects(inst.provision(), (e: unknown) => {
    assert.ok(e instanceof QsError);
    assert.equal(e.code, 'ERR_MODULE_UNKNOWN');
    assert.match(e.message, /^Caddyfile:1:1: unknown module 'apps\.nope'/);
    return true;
  });
});

test('cleanup runs in reverse order of provisioning and is idempotent', async () => {
  events.length = 0;
  const inst = new Instance({ apps: { testapp: { name: 'ok' } } }, deps());
  await inst.provision();
  await inst.start();
  await inst.stop(0);
  await inst.cleanup();
  await inst.cleanup();
  // A parent is cleaned up before the child module it loaded.
  assert.deepEqual(events.filter((e) => / ok/.test(e)), ['provision ok', 'provision ok.child', 'start ok', 'stop ok', 'cleanup ok', 'cleanup ok.child']);
});

test('a reload that fails keeps the old config running', async () => {
  events.length = 0;
  const rt = new Runtime({ log, dataDir: '/tmp' });
  const good = { admin: { disabled: true }, apps: { testapp: { name: 'old' } } };
  await rt.load(good);
  await assert.rejects(rt.load({ admin: { disabled: true }, apps: { testapp: { name: 'new', fail: 'provision' } } }), /boom/);
  assert.equal(rt.instance?.config, good);
  assert.ok(!events.includes('stop old'), 'old config must not be stopped');
  await rt.load(good); // unchanged: nothing happens
  assert.equal(events.filter((e) => e === 'provision old').length, 1);
  await rt.stop();
  assert.deepEqual(events.slice(-3), ['stop old', 'cleanup old', 'cleanup old.child']);
});

test('the usage pool shares one value per key and destructs it with the last reference', async () => {
  const pool = new UsagePool();
  let made = 0;
  let destructed = 0;
  const make = () => { made++; return { destruct() { destructed++; } }; };
  const key = stableKey({ b: 1, a: [1, 2] });
  assert.equal(key, stableKey({ a: [1, 2], b: 1 }));
  const v1 = await pool.loadOrNew(key, make);
  const v2 = await pool.loadOrNew(key, make);
  assert.equal(v1, v2);
  assert.equal(made, 1);
  assert.equal(await pool.release(key), false);
  assert.equal(destructed, 0);
  assert.equal(await pool.release(key), true);
  assert.equal(destructed, 1);
  assert.equal(pool.references(key), 0);
});

test('a failed constructor does not poison the pool', async () => {
  const pool = new UsagePool();
  await assert.rejects(pool.loadOrNew('k', () => { throw new Error('no'); }), /no/);
  const v = await pool.loadOrNew('k', () => ({ destruct() {}, ok: true }));
  assert.equal(v.ok, true);
});
