import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystemStorage } from '../../src/storage/file-system.ts';
import type { ModuleContext } from '../../src/host/module.ts';
import { testModuleContext } from '../helpers/module-context.ts';

function ctx(dataDir: string): ModuleContext {
  return testModuleContext({ dataDir }).ctx;
}

async function open(root?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'qs-fs-'));
  const s = new FileSystemStorage(root ? { root: join(dir, root) } : {});
  await s.provision(ctx(dir));
  return { s, dir };
}

test('file_system storage stores, loads, lists recursively and deletes', async () => {
  const { s, dir } = await open('store');
  assert.equal(await s.load('a/b'), undefined);
  await s.store('rate_limit/instances/one.rlstate', new TextEncoder().encode('1'));
  await s.store('rate_limit/instances/two.rlstate', new TextEncoder().encode('2'));
  await s.store('other/x', new Uint8Array([0, 255]));
  assert.equal(new TextDecoder().decode(await s.load('rate_limit/instances/two.rlstate')), '2');
  assert.deepEqual(await s.list('rate_limit'), ['rate_limit/instances/one.rlstate', 'rate_limit/instances/two.rlstate']);
  assert.deepEqual([...(await s.load('other/x'))!], [0, 255]);
  await s.delete('rate_limit/instances/one.rlstate');
  assert.deepEqual(await s.list('rate_limit'), ['rate_limit/instances/two.rlstate']);
  assert.deepEqual(await s.list('missing'), []);
  assert.ok(existsSync(join(dir, 'store', 'other', 'x')));
  // '..' segments are dropped, never followed: a key cannot leave the root.
  await s.store('../../escape', new Uint8Array([1]));
  assert.ok(existsSync(join(dir, 'store', 'escape')));
  assert.ok(!existsSync(join(dir, '..', 'escape')));
  await s.cleanup();
});

test('file_system locks exclude each other and a stale lock is taken over', async () => {
  const { s: a, dir } = await open();
  const b = new FileSystemStorage({});
  await b.provision(ctx(dir));
  await a.lock('zone');
  let bHas = false;
  const bWaits = b.lock('zone').then(() => { bHas = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(bHas, false, 'the second holder waits');
  await a.unlock('zone');
  await bWaits;
  assert.equal(bHas, true);
  await b.unlock('zone');
  // A holder that died left its lock file behind, no longer refreshed: it goes stale and is taken over.
  mkdirSync(join(dir, 'locks'), { recursive: true });
  const file = join(dir, 'locks', 'crashed.lock');
  writeFileSync(file, '{"pid":1}');
  const old = new Date(Date.now() - 60_000);
  utimesSync(file, old, old);
  await a.lock('crashed');
  await a.unlock('crashed');
  assert.ok(!existsSync(file), 'unlock removes the lock file');
  await a.cleanup();
  await b.cleanup();
});
