/**
 * The channel transport (what workers use for a single-node transport)
 * through the shared conformance suite: a Fanout over a ChannelBackend whose
 * stream lives in a BackendHost, over bolt (history) and local (none). Two
 * Fanouts on one host are two processes of one group: one order, presence
 * across both. The IPC form is covered end to end by test/e2e/workers.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { registerStandardModules } from '../../../src/runtime/standard.ts';
import { BackendHost } from '../../../src/transports/channel/host.ts';
import { ChannelBackend } from '../../../src/transports/channel/backend.ts';
import { Fanout } from '../../../src/transports/core/fanout.ts';
import { transportConformance } from '../conformance.ts';
import { fence, Recorder, update } from '../recorder.ts';

registerStandardModules();
const dir = mkdtempSync(join(tmpdir(), 'qs-channel-'));
const host = new BackendHost({ log: pino({ level: 'silent' }), dataDir: dir });
after(async () => { await host.close(); rmSync(dir, { recursive: true, force: true }); });
let n = 0;

async function open(process: string, name: string, config: Record<string, unknown>): Promise<Fanout> {
  const f = new Fanout(new ChannelBackend(host.linkFor(process), name, config));
  await f.start();
  return f;
}

transportConformance('channel over bolt', async () => {
  const transport = await open('p', 'bolt', { path: join(dir, `db-${++n}.db`) });
  return { transport, cleanup: () => transport.close() };
}, { history: true, presence: 'shared' });

transportConformance('channel over local', async () => {
  // Each local config shares one stream; a distinct process name keeps the presence list per test.
  const transport = await open(`p${++n}`, 'local', {});
  return { transport, cleanup: () => transport.close() };
}, { history: false, presence: 'shared' });

test('two processes on one host: every update once per process, in one order; presence spans both', async () => {
  const config = { path: join(dir, `db-${++n}.db`) };
  const a = await open('main', 'bolt', config), b = await open('worker-1', 'bolt', config);
  const ra = new Recorder(['https://example.com/x'], null, { payload: 'a' }), rb = new Recorder(['https://example.com/x'], null, { payload: 'b' });
  await a.subscribe(ra);
  await b.subscribe(rb);
  for (let i = 0; i < 10; i++) await (i % 2 ? a : b).dispatch(update(`u${i}`, 'https://example.com/x'));
  await fence(a, ra);
  await fence(b, rb);
  assert.deepEqual(ra.ids(), rb.ids());
  assert.equal(ra.ids().length, 10);
  const seen = (await a.subscribers()).subscribers.map((s) => s.payload).sort();
  assert.deepEqual(seen, ['a', 'b']);
  await host.drop('worker-1');
  assert.deepEqual((await a.subscribers()).subscribers.map((s) => s.payload), ['a'], 'a dead process leaves the list at once');
  await a.close();
  await b.close();
});
