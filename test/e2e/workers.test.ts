/**
 * The `workers` global option end to end, with real processes on one port
 * (SO_REUSEPORT): the main process and a forked worker share one bolt stream
 * through the main process's backend host. Every subscriber gets every update
 * once and in one order whichever process it landed on, replay works from
 * any process, /metrics sums the group, a killed worker is restarted and its
 * clients resume with Last-Event-ID losing nothing, a reload reaches every
 * worker, and SIGTERM stops them all.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { mintToken } from '../../src/mercure/token.ts';
import { freePort, startHub, type HubProcess } from '../helpers/hub-process.ts';
import { SseClient } from '../helpers/sse.ts';

const KEY = 'workers-test-key-that-is-long-enough-!!';
const OTHER_KEY = 'another-workers-key-that-is-long-enough';

function caddyfile(port: number, admin: number, key = KEY): string {
  return `{\n\tworkers 2\n\tadmin 127.0.0.1:${admin}\n}\n:${port} {\n\tmercure {\n\t\tpublisher_jwt ${key}\n\t\tsubscriber_jwt ${key}\n\t\tanonymous\n\t\twrite_timeout 0s\n\t\ttransport bolt {\n\t\t\tpath mercure.db\n\t\t}\n\t}\n}\n`;
}

/** PIDs whose parent is pid (the forked workers). */
function children(pid: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try { return Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid; } catch { return false; }
  });
}

/** Open sockets of a process. */
function sockets(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:'); } catch { return false; } }).length;
}

/** A publish on a fresh connection, so the kernel picks the process again each time. */
function publish(port: number, token: string, topic: string, data: string, id?: string): Promise<{ status: number; id: string }> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams({ topic, data, ...(id ? { id } : {}) }).toString();
    const req = request({ port, host: '127.0.0.1', path: '/.well-known/mercure', method: 'POST', agent: false, headers: {
      Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body),
    } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c) => { text += c; }).on('end', () => resolve({ status: res.statusCode!, id: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Group { hub: HubProcess; port: number; admin: number; worker: number }

async function startGroup(t: TestContext): Promise<Group> {
  const port = await freePort(), admin = await freePort();
  const hub = await startHub(caddyfile(port, admin));
  t.after(() => { for (const p of children(hub.pid)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } } hub.kill(); });
  const kids = children(hub.pid);
  assert.equal(kids.length, 1, 'workers 2 = the main process and one forked worker');
  return { hub, port, admin, worker: kids[0]! };
}

const sub = (g: Group, topic: string, lastEventId?: string) =>
  SseClient.open(`http://127.0.0.1:${g.port}/.well-known/mercure?topic=${encodeURIComponent(topic)}`, lastEventId ? { 'Last-Event-ID': lastEventId } : {});

test('workers 2: one stream for both processes, one order, replay from either, metrics summed', async (t) => {
  const g = await startGroup(t);
  const before = { main: sockets(g.hub.pid), worker: sockets(g.worker) };
  const topic = 'https://example.com/workers/shared';
  const subs = await Promise.all(Array.from({ length: 16 }, () => sub(g, topic)));
  t.after(() => { for (const s of subs) s.close(); });
  assert.ok(sockets(g.hub.pid) > before.main && sockets(g.worker) > before.worker, 'the kernel spread the subscribers over both processes');
  const token = await mintToken({ key: KEY, alg: 'HS256', publish: ['*'] });
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await publish(g.port, token, topic, `u${i}`);
    assert.equal(r.status, 200);
    ids.push(r.id);
  }
  for (const s of subs) {
    await s.count(20);
    assert.deepEqual(s.events.map((e) => e.id), ids, 'every update once, in publish order, on every process');
  }
  for (let i = 0; i < 6; i++) {
    const r = await sub(g, topic, ids[4]);
    t.after(() => r.close());
    await r.count(15);
    assert.deepEqual(r.events.map((e) => e.id), ids.slice(5), 'replay from the shared history');
  }
  const metrics = await (await fetch(`http://127.0.0.1:${g.admin}/metrics`)).text();
  assert.match(metrics, /^mercure_subscribers_connected 22$/m, 'the admin endpoint sums both processes');
});

test('kill -9 of a worker while updates flow: it is restarted and its clients resume with nothing lost or duplicated', async (t) => {
  const g = await startGroup(t);
  const topic = 'https://example.com/workers/failover';
  const subs = await Promise.all(Array.from({ length: 12 }, () => sub(g, topic)));
  const token = await mintToken({ key: KEY, alg: 'HS256', publish: ['*'] });
  const published: string[] = [];
  const total = 100;
  const publisher = (async () => {
    for (let i = 0; i < total; i++) {
      // A publish that reached the killed worker may fail after it was stored: the publisher retries with
      // the same ID on a new connection (bounded), and the idempotent publish answers it without a copy.
      for (let attempt = 0; ; attempt++) {
        const r = await publish(g.port, token, topic, `n${i}`, `urn:test:failover:${i}`).catch(() => undefined);
        if (r?.status === 200) { published.push(r.id); break; }
        if (attempt === 50) throw new Error(`publish ${i} failed 50 times`);
      }
    }
  })();
  await Promise.all(subs.map((s) => s.count(20)));
  process.kill(g.worker, 'SIGKILL');
  // A client of the killed worker sees its stream end and resumes with its last ID (on whichever process the kernel picks).
  const results = await Promise.all(subs.map(async (s) => {
    const outcome = await s.count(total, 60_000).then(() => 'complete', (err: Error) => { if (!s.ended) throw err; return 'closed'; });
    const got = s.events.map((e) => e.id!);
    if (outcome === 'complete') { s.close(); return { moved: false, ids: got }; }
    // As an EventSource does, retry a connection the dying worker's accept queue reset (bounded).
    let again: SseClient | undefined;
    for (let attempt = 0; !again; attempt++) {
      again = await sub(g, topic, got.at(-1)).catch((err: NodeJS.ErrnoException) => {
        if (attempt === 20 || (err.code !== 'ECONNRESET' && err.code !== 'ECONNREFUSED')) throw err;
        return undefined;
      });
    }
    t.after(() => again.close());
    await again.waitFor(() => got.length + again.events.length >= total, 60_000);
    return { moved: true, ids: [...got, ...again.events.map((e) => e.id!)] };
  }));
  await publisher;
  for (const r of results) assert.deepEqual(r.ids, published, 'every update exactly once, in order');
  assert.ok(results.some((r) => r.moved), 'some clients were on the killed worker');
  // The supervisor restarts the worker.
  let kids: number[] = [];
  for (let i = 0; i < 200 && !(kids = children(g.hub.pid)).some((p) => p !== g.worker); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(kids.length, 1);
  assert.notEqual(kids[0], g.worker, 'a new worker replaced the killed one');
});

test('a reload reaches every worker; SIGTERM stops them all', async (t) => {
  const g = await startGroup(t);
  const oldToken = await mintToken({ key: KEY, alg: 'HS256', publish: ['*'] });
  const statuses = async () => Promise.all(Array.from({ length: 12 }, () => publish(g.port, oldToken, 'urn:x', 'x').then((r) => r.status)));
  assert.deepEqual(new Set(await statuses()), new Set([200]));
  writeFileSync(join(g.hub.dir, 'Caddyfile'), caddyfile(g.port, g.admin, OTHER_KEY));
  g.hub.kill('SIGHUP');
  let seen: number[] = [];
  for (let i = 0; i < 200; i++) {
    seen = await statuses();
    if (seen.every((s) => s === 401)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(new Set(seen), new Set([401]), 'the old key is refused on every process');
  const worker = children(g.hub.pid)[0]!;
  assert.equal(await g.hub.stop(), 0);
  assert.equal(existsSync(`/proc/${worker}`), false, 'the worker stopped with the main process');
});
