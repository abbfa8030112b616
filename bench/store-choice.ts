/**
 * Store choice for the `bolt` transport: node:sqlite vs lmdb.
 *
 *   node bench/store-choice.ts [count]
 *   LMDB_MODULE=/tmp/lmdbbench/node_modules/lmdb/dist/index.cjs node bench/store-choice.ts
 *
 * lmdb is not a dependency; it is measured only when LMDB_MODULE points at an
 * install made outside the repo. Each store persists the same rows (seq, id,
 * topics, data, private, type, retry) plus an index id → seq, then:
 *  - publish/s: one commit per publish (what a lone publisher sees), and
 *    commits grouped per event-loop turn (what concurrent publishers see);
 *  - replay: find an ID `count` events back through the index, read every row after it.
 */
import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const count = Number(process.argv[2] ?? 100_000);
const batch = 64;

interface Row { id: string; topics: string[]; data: string; private: boolean; type: string; retry: number }
const rows: Row[] = Array.from({ length: count }, (_, i) => ({
  id: `urn:uuid:0190d4a2-7b3c-7def-8abc-${String(i).padStart(12, '0')}`,
  topics: [`https://example.com/books/${i % 1000}`],
  data: JSON.stringify({ title: 'The Book', n: i, text: 'x'.repeat(60) }),
  private: i % 7 === 0,
  type: '',
  retry: 0,
}));

function rate(n: number, ms: number): string { return `${Math.round(n / (ms / 1000)).toLocaleString('en')}/s`; }

function sqlite(dir: string, grouped: boolean): void {
  const db = new DatabaseSync(join(dir, grouped ? 'g.db' : 's.db'));
  db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;');
  db.exec('CREATE TABLE updates (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, topics TEXT NOT NULL, data TEXT NOT NULL, private INTEGER NOT NULL, type TEXT, retry INTEGER)');
  db.exec('CREATE INDEX updates_id ON updates (id, seq)');
  const ins = db.prepare('INSERT INTO updates VALUES (?, ?, ?, ?, ?, ?, ?)');
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  let t = performance.now();
  for (let i = 0; i < count; i++) {
    const r = rows[i]!;
    if (grouped && i % batch === 0) begin.run();
    ins.run(i + 1, r.id, JSON.stringify(r.topics), r.data, r.private ? 1 : 0, r.type, r.retry);
    if (grouped && (i % batch === batch - 1 || i === count - 1)) commit.run();
  }
  const pub = performance.now() - t;
  const find = db.prepare('SELECT seq FROM updates WHERE id = ? ORDER BY seq LIMIT 1');
  const read = db.prepare('SELECT seq, id, topics, data, private, type, retry FROM updates WHERE seq > ? ORDER BY seq');
  t = performance.now();
  const anchor = (find.get(rows[0]!.id) as { seq: number }).seq;
  const lookup = performance.now() - t;
  let n = 0;
  for (const row of read.iterate(anchor) as Iterable<Record<string, unknown>>) {
    JSON.parse(row.topics as string);
    n++;
  }
  const replay = performance.now() - t;
  db.close();
  console.log(`sqlite ${grouped ? `grouped x${batch}` : 'one commit/publish'}: publish ${rate(count, pub)}; ` +
    `replay of ${n.toLocaleString('en')} rows ${replay.toFixed(0)} ms (${rate(n, replay)}), lookup ${lookup.toFixed(2)} ms`);
}

async function lmdb(dir: string, path: string, grouped: boolean, noSync: boolean): Promise<void> {
  const { open } = (await import(path)) as { open: (o: object) => any };
  const env = open({ path: join(dir, `l-${grouped}-${noSync}`), noSync });
  const updates = env.openDB({ name: 'updates', keyEncoding: 'uint32' });
  const ids = env.openDB({ name: 'ids' });
  let t = performance.now();
  if (grouped) {
    for (let i = 0; i < count; i += batch) {
      const work: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        const r = rows[j]!;
        work.push(updates.put(j + 1, r), ids.put(r.id, j + 1));
      }
      await Promise.all(work);
    }
  } else {
    for (let i = 0; i < count; i++) {
      const r = rows[i]!;
      env.transactionSync(() => { updates.putSync(i + 1, r); ids.putSync(r.id, i + 1); });
    }
  }
  const pub = performance.now() - t;
  t = performance.now();
  const anchor = ids.get(rows[0]!.id) as number;
  const lookup = performance.now() - t;
  let n = 0;
  for (const { value } of updates.getRange({ start: anchor + 1 })) { if (value) n++; }
  const replay = performance.now() - t;
  await env.close();
  console.log(`lmdb ${grouped ? `async-batched x${batch}` : 'one txn/publish'}${noSync ? ' noSync' : ''}: publish ${rate(count, pub)}; ` +
    `replay of ${n.toLocaleString('en')} rows ${replay.toFixed(0)} ms (${rate(n, replay)}), lookup ${lookup.toFixed(2)} ms`);
}

const dir = mkdtempSync(join(tmpdir(), 'qs-store-'));
try {
  console.log(`${count.toLocaleString('en')} publishes, node ${process.version}`);
  sqlite(dir, false);
  sqlite(dir, true);
  const path = process.env.LMDB_MODULE;
  if (path) {
    await lmdb(dir, path, false, false);
    await lmdb(dir, path, false, true);
    await lmdb(dir, path, true, false);
    await lmdb(dir, path, true, true);
  } else {
    console.log('lmdb: skipped (set LMDB_MODULE to an lmdb install outside the repo)');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
