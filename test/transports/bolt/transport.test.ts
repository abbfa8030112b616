import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { BoltBackend, type BoltOptions } from '../../../src/transports/bolt/backend.ts';
import { Fanout } from '../../../src/transports/core/fanout.ts';
import { transportConformance } from '../conformance.ts';
import { fence, Recorder, update } from '../recorder.ts';

const dir = mkdtempSync(join(tmpdir(), 'qs-bolt-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => join(dir, `nested/dir-${++files}/mercure.db`);

async function open(options: BoltOptions): Promise<Fanout> {
  const transport = new Fanout(new BoltBackend(options));
  await transport.start();
  return transport;
}

transportConformance('bolt', async () => {
  const transport = await open({ path: freshPath() });
  return { transport, cleanup: () => transport.close() };
}, { history: true });

test('bolt: creates the file 0600 in 0700 directories', async () => {
  const path = freshPath();
  const t = await open({ path });
  await t.close();
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
});

test('bolt: history and the last event ID survive a restart', async () => {
  const path = freshPath();
  let t = await open({ path, bucketName: 'demo' });
  for (const id of ['a', 'b', 'c']) await t.dispatch(update(id, 'https://example.com/1', { type: id === 'b' ? 'typed' : '', retry: id === 'c' ? 3 : 0 }));
  await t.close();
  t = await open({ path, bucketName: 'demo' });
  assert.equal(await t.lastEventId(), 'c');
  const sub = new Recorder(['https://example.com/1']);
  assert.equal(await t.subscribe(sub, 'a'), 'a');
  assert.deepEqual(sub.ids(), ['b', 'c']);
  assert.equal(sub.received[0]!.bytes, 'event: typed\nid: b\ndata: data of b\n\n');
  assert.equal(sub.received[1]!.bytes, 'retry: 3\nid: c\ndata: data of c\n\n');
  await t.dispatch(update('d', 'https://example.com/1'));
  await fence(t, sub);
  assert.deepEqual(sub.ids(), ['b', 'c', 'd'], 'seq continues after the restart');
  await t.close();
  const other = await open({ path, bucketName: 'other' });
  assert.equal(await other.lastEventId(), 'earliest', 'buckets are separate');
  await other.close();
});

test('bolt: size trims to the newest updates (size 5, cleanup_frequency 1, 12 publishes → 5 rows)', async () => {
  const path = freshPath();
  const t = await open({ path, size: 5, cleanupFrequency: 1 });
  for (let i = 1; i <= 12; i++) await t.dispatch(update(`u${i}`, 'https://example.com/1'));
  const rows = (db: DatabaseSync): string[] => (db.prepare('SELECT id FROM updates ORDER BY seq').all() as { id: string }[]).map((r) => r.id);
  const db = new DatabaseSync(path, { readOnly: true });
  assert.deepEqual(rows(db), ['u8', 'u9', 'u10', 'u11', 'u12']);
  db.close();
  const sub = new Recorder(['https://example.com/1']);
  assert.equal(await t.subscribe(sub, 'u3'), 'u12', 'a trimmed ID is unknown');
  assert.equal(await t.subscribe(new Recorder(['https://example.com/1']), 'u8'), 'u8');
  await t.close();
});

test('bolt: size alone trims too, and cleanup_frequency 0.25 trims every 4th publish', async () => {
  for (const [cleanupFrequency, max] of [[0, 5], [0.25, 8]] as const) {
    const path = freshPath();
    const t = await open({ path, size: 5, cleanupFrequency });
    const db = new DatabaseSync(path, { readOnly: true });
    const count = (): number => (db.prepare('SELECT count(*) AS n FROM updates').get() as { n: number }).n;
    let most = 0;
    for (let i = 1; i <= 40; i++) {
      await t.dispatch(update(`u${i}`, 'https://example.com/1'));
      most = Math.max(most, count());
    }
    assert.equal(most, max, `cleanup_frequency ${cleanupFrequency}`);
    db.close();
    await t.close();
  }
});

test('bolt: replays from an ID 100,000 events back through the index', async () => {
  const path = freshPath();
  // Seed the file directly (one transaction), then reopen it as a transport.
  const seed = await open({ path });
  await seed.close();
  const db = new DatabaseSync(path);
  const insert = db.prepare('INSERT INTO updates (seq, id, topics, data, private) VALUES (?, ?, ?, ?, 0)');
  db.exec('BEGIN');
  for (let i = 0; i <= 100_000; i++) insert.run(i + 1, `e${i}`, '["https://example.com/1"]', `d${i}`);
  db.exec('COMMIT');
  db.close();
  const t = await open({ path });
  assert.equal(await t.lastEventId(), 'e100000');
  const sub = new Recorder(['https://example.com/1']);
  assert.equal(await t.subscribe(sub, 'e0'), 'e0');
  const ids = sub.ids();
  assert.equal(ids.length, 100_000);
  assert.equal(ids[0], 'e1');
  assert.equal(ids.at(-1), 'e100000');
  assert.ok(ids.every((id, i) => id === `e${i + 1}`), 'in order, no gap');
  await t.close();
});
