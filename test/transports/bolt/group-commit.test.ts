/**
 * bolt group commit (issue 7): concurrent publishes share one transaction,
 * keep stream order = storage order, trim once per commit, and fail together.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { BoltBackend, type BoltOptions } from '../../../src/transports/bolt/backend.ts';
import { Fanout } from '../../../src/transports/core/fanout.ts';
import { fence, Recorder, update } from '../recorder.ts';

const dir = mkdtempSync(join(tmpdir(), 'qs-bolt-gc-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function open(options: Omit<BoltOptions, 'path'> = {}): Promise<{ t: Fanout; path: string }> {
  const path = join(dir, `db-${++files}.db`);
  const t = new Fanout(new BoltBackend({ path, ...options }));
  await t.start();
  return { t, path };
}

test('bolt: concurrent publishes are delivered in storage order, each once', async () => {
  const { t, path } = await open();
  const sub = new Recorder(['https://example.com/1']);
  await t.subscribe(sub);
  const ids = Array.from({ length: 50 }, (_, i) => `g${i}`);
  await Promise.all(ids.map((id) => t.dispatch(update(id, 'https://example.com/1'))));
  await fence(t, sub);
  const db = new DatabaseSync(path, { readOnly: true });
  const stored = (db.prepare('SELECT id FROM updates ORDER BY seq').all() as { id: string }[]).map((r) => r.id).filter((id) => ids.includes(id));
  db.close();
  assert.deepEqual(sub.ids(), stored);
  assert.deepEqual([...stored].sort(), [...ids].sort());
  const late = new Recorder(['https://example.com/1']);
  assert.equal(await t.subscribe(late, stored[9]!), stored[9]);
  assert.deepEqual(late.ids(), stored.slice(10));
  await t.close();
});

test('bolt: a group commit trims to size once, at its end', async () => {
  const { t, path } = await open({ size: 5, cleanupFrequency: 1 });
  await Promise.all(Array.from({ length: 12 }, (_, i) => t.dispatch(update(`u${i}`, 'https://example.com/1'))));
  const db = new DatabaseSync(path, { readOnly: true });
  assert.equal((db.prepare('SELECT count(*) AS n FROM updates').get() as { n: number }).n, 5);
  db.close();
  await t.close();
});

test('bolt: publishes pending when the transport closes are refused', async () => {
  const { t } = await open();
  const pending = t.dispatch(update('x', 'https://example.com/1'));
  await t.close();
  await assert.rejects(pending, /closed/);
});
