/**
 * The channel transport (what workers use for a single-node transport)
 * through the shared conformance suite: a Fanout over a ChannelBackend whose
 * stream lives in a BackendHost, over bolt (history) and local (none). Two
 * Fanouts on one host are two processes of one group: one order, presence
 * across both. The suite runs again with the link's IPC form (IpcHostLink ↔
 * serveIpc, batched JSON over a port pair that serialises as Node's advanced
 * IPC does), so every message a worker exchanges with the host goes through
 * the wire format; test/e2e/workers.test.ts covers real processes.
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
import { IpcHostLink, serveIpc, type IpcPort } from '../../../src/transports/channel/ipc.ts';
import type { HostLink } from '../../../src/transports/channel/link.ts';
import { EventEmitter } from 'node:events';
import { deserialize, serialize } from 'node:v8';
import { Fanout } from '../../../src/transports/core/fanout.ts';
import { transportConformance } from '../conformance.ts';
import { fence, Recorder, update } from '../recorder.ts';

registerStandardModules();
const dir = mkdtempSync(join(tmpdir(), 'qs-channel-'));
const host = new BackendHost({ log: pino({ level: 'silent' }), dataDir: dir });
after(async () => { await host.close(); rmSync(dir, { recursive: true, force: true }); });
let n = 0;

async function open(process: string, name: string, config: Record<string, unknown>, link: HostLink = host.linkFor(process)): Promise<Fanout> {
  const f = new Fanout(new ChannelBackend(link, name, config));
  await f.start();
  return f;
}

/** One end of an in-process IPC pair: what one side sends, the other receives a turn later, serialised as Node's advanced IPC does. */
class End extends EventEmitter implements IpcPort {
  peer!: End;
  send(message: unknown): boolean {
    const bytes = serialize(message);
    setImmediate(() => this.peer.emit('message', deserialize(bytes)));
    return true;
  }
}

/** A worker's link to the host through the IPC wire format. */
function ipcLink(process: string): HostLink {
  const worker = new End(), main = new End();
  worker.peer = main;
  main.peer = worker;
  serveIpc(host, process, main);
  return new IpcHostLink(worker);
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

transportConformance('channel over bolt through the IPC wire format', async () => {
  const name = `ipc-${++n}`;
  const transport = await open(name, 'bolt', { path: join(dir, `db-${n}.db`) }, ipcLink(name));
  return { transport, cleanup: () => transport.close() };
}, { history: true, presence: 'shared' });

test('through the IPC wire format, a retry above 2^53 and the seqs stay exact, live and in history', async () => {
  const name = `ipc-${++n}`;
  const config = { path: join(dir, `db-${n}.db`) };
  const t = await open(name, 'bolt', config, ipcLink(name));
  const r = new Recorder(['https://example.com/big']);
  await t.subscribe(r);
  const retry = 2n ** 64n - 1n;
  await t.dispatch(update('big-0', 'https://example.com/big', { retry }));
  await t.dispatch(update('big-1', 'https://example.com/big', { retry: 7 }));
  await fence(t, r);
  assert.deepEqual(r.received.filter((x) => x.update.id.startsWith('big-')).map((x) => x.update.retry), [retry, 7]);
  const replay = new Recorder(['https://example.com/big']);
  await t.subscribe(replay, 'earliest');
  await fence(t, replay);
  assert.deepEqual(replay.received.filter((x) => x.update.id.startsWith('big-')).map((x) => x.update.retry), [retry, 7]);
  await t.close();
});

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
